"""Writes to student data. Imports run as ImportBatch rows:

    import_batch_create → pending ─(import_batch_claim)→ running ─(import_batch_run)→ succeeded
                                                                                    └→ failed

An import is all-or-nothing per batch: the importer runs inside one transaction, so a refusal
(strict mode and a bad row, a missing file or column) or a crash leaves the database unchanged.
"""

import datetime
import logging
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

from .imports.common import ImportRefused, ImportReport, unpack_files
from .imports.map_cdf import import_map_cdf
from .imports.oneroster import import_oneroster
from .imports.results_csv import import_results_csv
from .imports.scope import DISTRICT_WIDE
from .models import DashboardReview, ImportBatch
from .permissions import import_scope_for_batch

logger = logging.getLogger(__name__)

RESULTS_TEMPLATE_PATH = (
    Path(__file__).resolve().parent / "templates_csv" / "assessment_results_template.csv"
)
MAX_STORED_ERRORS = 1000  # the page lists these; counts["problems found"] has the full number


# Each importer takes ``source`` ({file name: bytes}), ``district``, ``mode`` and ``progress``
# (called with rows done and rows expected), runs in its own transaction, returns an ImportReport
# and raises ImportRefused when it wrote nothing.
IMPORTERS = {
    ImportBatch.Kind.CSV: import_results_csv,
    ImportBatch.Kind.MAP_CDF: import_map_cdf,
    ImportBatch.Kind.ONEROSTER: import_oneroster,
}


def import_files(*, district, kind, mode, source, progress=None, scope=DISTRICT_WIDE):
    """Import ``source`` (file name → bytes) into ``district``, changing only what ``scope``
    allows; returns the ImportReport or raises ImportRefused, having written nothing."""
    importer = IMPORTERS[kind]
    with transaction.atomic():
        report = importer(
            source=source, district=district, mode=mode, progress=progress, scope=scope
        )
        if report.errors and mode == ImportBatch.Mode.STRICT:  # every importer should; make sure
            raise ImportRefused(report)
    return report


def import_batch_create(
    *, district, kind, mode, upload, uploaded_by, from_command_line=False, enqueue=True
):
    """Store the upload as a pending batch and queue its import once the transaction commits.
    ``enqueue=False`` leaves the batch for the caller to claim and run (the management commands,
    which pass ``from_command_line``: their imports may change every school of the district)."""
    if kind not in ImportBatch.Kind.values:
        raise ValidationError({"kind": f"“{kind}” is not a kind of import."})
    if mode not in ImportBatch.Mode.values:
        raise ValidationError({"mode": "Choose strict or skip bad rows."})
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            district=district,
            kind=kind,
            mode=mode,
            upload=upload,
            original_name=Path(upload.name).name[:255],
            uploaded_by=uploaded_by,
            from_command_line=from_command_line,
        )
        if enqueue:
            from .tasks import run_import

            run_import.delay_on_commit(batch.pk)
    return batch


def import_batch_claim(*, batch):
    """Move a pending batch to running; False when another worker got there first."""
    now = timezone.now()
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PENDING).update(
        status=ImportBatch.Status.RUNNING, started_at=now
    )
    if claimed:
        batch.status, batch.started_at = ImportBatch.Status.RUNNING, now
    return bool(claimed)


def import_batch_run(*, batch):
    """Import a claimed (running) batch and record the outcome on it; returns the full report.
    A refusal marks the batch failed; an unexpected error does too, then propagates."""
    if batch.status != ImportBatch.Status.RUNNING:
        raise ValueError(f"Import batch {batch.pk} is {batch.status}, not running: claim it first.")
    progress = _ProgressRecorder(batch)
    try:
        source = _read_upload(batch)
        report = import_files(
            district=batch.district,
            kind=batch.kind,
            mode=batch.mode,
            source=source,
            progress=progress,
            scope=import_scope_for_batch(batch),
        )
    except ImportRefused as refused:
        report = refused.report
        _finish(batch, ImportBatch.Status.FAILED, report, counts={})
    except SoftTimeLimitExceeded:
        report = _problem(batch, "the import took too long and was stopped; nothing was imported")
        _finish(batch, ImportBatch.Status.FAILED, report)
    except Exception:
        logger.exception("Import batch %s stopped unexpectedly", batch.pk)
        report = _problem(
            batch,
            "the import stopped because of an unexpected problem; nothing was imported "
            "(the details are in the server log)",
        )
        _finish(batch, ImportBatch.Status.FAILED, report)
        raise
    else:
        _finish(batch, ImportBatch.Status.SUCCEEDED, report)
        if report.schools_touched:
            from .tasks import compile_schools

            touched = sorted(report.schools_touched)
            # Dashboards follow the data: recompile every school the import changed.
            transaction.on_commit(lambda: compile_schools(touched))
    finally:
        progress.close()
    return report


def import_batches_fail_stale(*, older_than):
    """Mark batches still running after ``older_than`` as failed: their worker died, and the
    transaction it held was rolled back, so nothing of them was imported."""
    now = timezone.now()
    problem = _problem(None, "the import stopped (its worker was lost); nothing was imported")
    return ImportBatch.objects.filter(
        status=ImportBatch.Status.RUNNING, started_at__lt=now - older_than
    ).update(
        status=ImportBatch.Status.FAILED,
        finished_at=now,
        errors=[error.as_dict() for error in problem.errors],
    )


def _read_upload(batch):
    with batch.upload.open("rb") as upload:
        data = upload.read()
    try:
        return unpack_files(batch.original_name, data)
    except ValueError as exc:
        raise ImportRefused(_problem(batch, str(exc))) from exc


def _problem(batch, reason):
    report = ImportReport()
    report.error(batch.original_name if batch else "", 0, "", reason)
    return report


def _finish(batch, status, report, counts=None):
    counts = dict(report.counts if counts is None else counts)
    errors = report.errors
    if errors:
        counts["problems found"] = len(errors)
        if batch.mode == ImportBatch.Mode.SKIP and status == ImportBatch.Status.SUCCEEDED:
            counts["rows skipped"] = len({(error.file, error.line) for error in errors})
    succeeded = status == ImportBatch.Status.SUCCEEDED
    values = {
        "status": status,
        "finished_at": timezone.now(),
        "counts": counts,
        "errors": [_storable(error.as_dict()) for error in errors[:MAX_STORED_ERRORS]],
        "rows_total": report.rows_total,
        "rows_done": report.rows_total if succeeded else 0,
        "schools_touched": sorted(report.schools_touched) if succeeded else [],
        # The report is kept; the uploaded file, with its student rows, is not (below).
        "upload": "",
    }
    ImportBatch.objects.filter(pk=batch.pk).update(**values)
    _upload_delete(batch)
    for name, value in values.items():
        setattr(batch, name, value)


def _storable(error):
    """An error as the database can always store it: PostgreSQL text holds no NUL character."""
    return {
        key: value.replace("\x00", "\N{REPLACEMENT CHARACTER}") if isinstance(value, str) else value
        for key, value in error.items()
    }


def _upload_delete(batch):
    """Delete a finished batch's uploaded file once its outcome is committed: the rows it holds
    are in the database or refused, and the report says which."""
    name, storage = batch.upload.name, batch.upload.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))


class _ProgressRecorder:
    """Stores rows done on the batch while the import's transaction is still open. On PostgreSQL
    it writes through a second connection, so the page sees progress before the import commits;
    on SQLite (one writer at a time) the page sees the outcome only."""

    INTERVAL = datetime.timedelta(seconds=1)

    def __init__(self, batch):
        self.batch_id = batch.pk
        self.connection = None
        self.last = None
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self.connection = connections[DEFAULT_DB_ALIAS].copy()

    def __call__(self, done, total):
        now = timezone.now()
        if self.connection is None or (self.last and now - self.last < self.INTERVAL):
            return
        self.last = now
        table = self.connection.ops.quote_name(ImportBatch._meta.db_table)
        try:
            with self.connection.cursor() as cursor:
                # Never wait for a lock the import itself may hold: skip this update instead.
                cursor.execute("SET lock_timeout = '100ms'")
                cursor.execute(
                    f"UPDATE {table} SET rows_done = %s, rows_total = %s WHERE id = %s",
                    [done, total, self.batch_id],
                )
        except DatabaseError:
            logger.warning("Could not record the progress of import batch %s", self.batch_id)

    def close(self):
        if self.connection is not None:
            self.connection.close()


# ── Dashboard reviews ────────────────────────────────────────────────────────────────────────


def _review_label(snapshot):
    window = snapshot.get_window_display().lower()
    return f"{snapshot.get_subject_display()}, {window} {snapshot.school_year} review"


@transaction.atomic
def review_create(
    *, snapshot, reviewer, comment="", team=None, action_text="", due_date=None, source_url=""
):
    """Record a principal's review. A follow-up for a team becomes that team's action item and a
    topic, with the snapshot linked, on the team's next meeting (or waiting for the next one
    scheduled): the item is ``item.agenda_item``."""
    from teams.services import action_item_create, agenda_item_send

    if team is not None and team.school_id != snapshot.school_id:
        raise ValidationError({"team": "Choose a team of this school."})
    if team is not None and not action_text.strip():
        raise ValidationError({"action_text": "Say what the team should do with this finding."})
    review = DashboardReview.objects.create(
        snapshot=snapshot, reviewer=reviewer, comment=comment.strip()
    )
    item = None
    if team is not None:
        item = action_item_create(
            team=team,
            text=action_text,
            due_date=due_date,
            created_by=reviewer,
            source_label=_review_label(snapshot),
            source_url=source_url,
        )
        item.agenda_item = agenda_item_send(
            team=team,
            title=item.text,
            details=review.comment,
            snapshot=snapshot,
            link_label=_review_label(snapshot),
            link_url=source_url,
            created_by=reviewer,
        )
    return review, item
