"""Celery tasks of data_tracking. Tasks stay thin: ids in, look the row up, call a service.

Sections: imports, dashboard compiles.
"""

import datetime

from celery import shared_task

from . import services
from .models import ImportBatch

# ── Imports ─────────────────────────────────────────────────────────────────────────────────
# run_import is queued through the outbox by services.import_batch_create, in the upload's own
# transaction. A million result rows take about a minute on PostgreSQL; the limits leave room
# for a slow database. A worker killed mid-import loses nothing: the import's transaction rolls
# back, the broker hands the message back (acks_late, reject_on_worker_lost), and the next
# delivery takes the batch over at once (services.import_batch_claim: on PostgreSQL the lock a
# live worker holds on its batch tells a dead worker's batch from one still running).
# fail_stale_imports (beat) queues again the batches whose message was lost, and marks failed
# those running for longer than any worker may.

IMPORT_SOFT_TIME_LIMIT = 15 * 60
IMPORT_TIME_LIMIT = IMPORT_SOFT_TIME_LIMIT + 60


@shared_task(acks_late=True, soft_time_limit=IMPORT_SOFT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT)
def run_import(batch_id):
    """Import one batch, pending or left running by a dead worker; returns its final status, or
    None when there was nothing to do (the batch is gone or finished, or a live worker has it)."""
    batch = ImportBatch.objects.select_related("district").filter(pk=batch_id).first()
    if batch is None or batch.status not in (
        ImportBatch.Status.PENDING,
        ImportBatch.Status.RUNNING,
    ):
        return None
    if not services.import_batch_claim(batch=batch):
        return None
    try:
        services.import_batch_run(batch=batch)
    finally:
        services.import_batch_release(batch=batch)
    return batch.status


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def fail_stale_imports():
    """Queue again the imports whose message was lost or whose worker died; mark failed those
    still running after any worker's time limit, so the page stops showing them as running."""
    older_than = datetime.timedelta(seconds=IMPORT_TIME_LIMIT + 5 * 60)
    return services.import_batches_fail_stale(older_than=older_than)


# ── Dashboard compiles ──────────────────────────────────────────────────────────────────────
# One task per school (data_tracking.compile.school_compile). compile_all_schools runs nightly
# from beat and publishes at once (it runs on a worker: the broker is there); imports queue their
# compiles through the outbox (compile_schools_enqueue), so a broker outage cannot lose them. A
# compile refused because another one of the same school is running retries with backoff, so the
# data committed meanwhile is compiled too. A worker killed mid-compile rolls the transaction
# back: the last good snapshots stay current, and the broker hands the message back at once
# (acks_late, reject_on_worker_lost) for another worker to compile again.
# (Imports are local to each function only because this section was appended to a shared file;
# they can move to the top.)

COMPILE_SOFT_TIME_LIMIT = 5 * 60
COMPILE_TIME_LIMIT = COMPILE_SOFT_TIME_LIMIT + 60
COMPILE_MAX_RETRIES = 6
COMPILE_RETRY_BASE_SECONDS = 15
# A compile handed back because its worker died usually finds that worker's transaction still
# letting go of the school's lock (the database notices the death once its statement ends).
COMPILE_REDELIVERED_RETRY_SECONDS = 2


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
        if not self.request.retries and (self.request.delivery_info or {}).get("redelivered"):
            countdown = COMPILE_REDELIVERED_RETRY_SECONDS
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


def compile_schools_enqueue(school_ids):
    """Queue one compile per school through the outbox, in the caller's transaction: sent once
    it commits, or later if the broker is down then."""
    from outbox.services import outbox_enqueue

    school_ids = sorted(set(school_ids))
    for school_id in school_ids:
        outbox_enqueue(compile_school, school_id)
    return school_ids


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def compile_all_schools():
    """Nightly: compile every school's snapshots, one task per school."""
    from teams.models import School

    return compile_schools(School.objects.values_list("pk", flat=True))
