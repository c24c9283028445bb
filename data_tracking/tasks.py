"""Celery tasks of data_tracking. Tasks stay thin: ids in, look the row up, call a service.

Sections: imports (below). Add other jobs (dashboard compiles) as their own section.
"""

import datetime

from celery import shared_task

from . import services
from .models import ImportBatch

# ── Imports ─────────────────────────────────────────────────────────────────────────────────
# run_import is queued by services.import_batch_create (delay_on_commit). A million result rows
# take about a minute on PostgreSQL; the limits leave room for a slow database. A worker that
# dies mid-import leaves its batch "running"; fail_stale_imports (beat) marks those failed.

IMPORT_SOFT_TIME_LIMIT = 15 * 60
IMPORT_TIME_LIMIT = IMPORT_SOFT_TIME_LIMIT + 60


@shared_task(acks_late=True, soft_time_limit=IMPORT_SOFT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT)
def run_import(batch_id):
    """Import one pending batch; returns its final status, or None when there was nothing to do
    (the batch is gone, or another worker already claimed it)."""
    batch = ImportBatch.objects.select_related("district").filter(pk=batch_id).first()
    if batch is None or batch.status != ImportBatch.Status.PENDING:
        return None
    if not services.import_batch_claim(batch=batch):
        return None
    services.import_batch_run(batch=batch)
    return batch.status


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def fail_stale_imports():
    """Mark imports whose worker died as failed, so the page stops showing them as running."""
    older_than = datetime.timedelta(seconds=IMPORT_TIME_LIMIT + 5 * 60)
    return services.import_batches_fail_stale(older_than=older_than)


# ── Dashboard compiles ──────────────────────────────────────────────────────────────────────
# One task per school (data_tracking.compile.school_compile). compile_all_schools runs nightly
# from beat; imports call compile_schools(school ids) from transaction.on_commit. A compile
# refused because another one of the same school is running retries with backoff, so the data
# committed meanwhile is compiled too. A worker killed mid-compile rolls the transaction back:
# the last good snapshots stay current, and acks_late hands the task to another worker.
# (Imports are local to each function only because this section was appended to a shared file;
# they can move to the top.)

COMPILE_SOFT_TIME_LIMIT = 5 * 60
COMPILE_TIME_LIMIT = COMPILE_SOFT_TIME_LIMIT + 60
COMPILE_MAX_RETRIES = 6
COMPILE_RETRY_BASE_SECONDS = 15


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=COMPILE_MAX_RETRIES,
    soft_time_limit=COMPILE_SOFT_TIME_LIMIT,
    time_limit=COMPILE_TIME_LIMIT,
)
def compile_school(self, school_id):
    """Compile one school's dashboard snapshots; returns what was written, or None when the
    school is gone."""
    import random

    from django.db import OperationalError

    from teams.models import School

    from .compile import CompileBusy, school_compile

    school = School.objects.filter(pk=school_id).first()
    if school is None:
        return None
    try:
        return school_compile(school=school).as_dict()
    except (CompileBusy, OperationalError) as error:
        # Busy, or a transient database failure (lost connection, SQLite "database is locked"):
        # 15 s, 30 s, 60 s … about 16 minutes in all, with jitter so retries do not bunch up.
        countdown = COMPILE_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(
            exc=error, countdown=countdown + random.uniform(0, countdown / 2)
        ) from error


def compile_schools(school_ids):
    """Queue one compile per school as a Celery group; call it after commit (on_commit)."""
    from celery import group

    school_ids = sorted(set(school_ids))
    if school_ids:
        group(compile_school.s(school_id) for school_id in school_ids).apply_async()
    return school_ids


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def compile_all_schools():
    """Nightly: compile every school's snapshots, one task per school."""
    from teams.models import School

    return compile_schools(School.objects.values_list("pk", flat=True))
