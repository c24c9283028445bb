"""Writes to student data. Imports run as ImportBatch rows:

    import_batch_create → pending ─(import_batch_claim)→ running ─(import_batch_run)→ succeeded
                                                                                    └→ failed

An import is all-or-nothing per batch: the importer runs inside one transaction, so a refusal
(strict mode and a bad row, a missing file or column) or a crash leaves the database unchanged.

Nothing an uploader started is lost. The batch and the message that runs it are written in one
transaction (the outbox: outbox/services.py). On PostgreSQL the worker importing a batch holds
its advisory lock from import_batch_claim to import_batch_release, so a batch found running with
its lock free has lost its worker: the next delivery of its message takes it over (running →
running, started again, at most IMPORT_MAX_ATTEMPTS times). import_batches_fail_stale queues
again what waits with no message on its way, and fails what ran past every time limit.
"""

import datetime
import logging
import weakref
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections, transaction
from django.db.models import F
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
    """Store the upload as a pending batch and queue its import in the same transaction (sent
    once it commits; if the broker is down then, as soon as it answers again).
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
            from outbox.services import outbox_enqueue

            from .tasks import run_import

            # In this transaction: the batch is never saved without the message that runs it.
            outbox_enqueue(run_import, batch.pk)
    return batch


# pg_advisory_lock(namespace, batch id), held while a batch imports. "DLPI" as a 32-bit integer
# (the compile's locks use "DLPC": data_tracking/compile.py).
IMPORT_LOCK_NAMESPACE = 0x444C5049
# How long a claim waits for a batch's lock: a dead worker's session lets go of it within moments
# of the death; a live worker holds it until its import ends.
IMPORT_LOCK_WAIT = "1s"
IMPORT_MAX_ATTEMPTS = 3
# A batch pending (or, on PostgreSQL, running with its lock free) this long with no message on
# its way is queued again by the sweep.
IMPORT_LOST_AFTER = datetime.timedelta(minutes=10)


def import_batch_claim(*, batch):
    """Move a pending batch to running, or (PostgreSQL) take over a running one whose worker
    died; False when there is nothing to claim: a live worker has it, or it has finished. On
    PostgreSQL the batch stays locked until import_batch_release (or until ``batch`` is gone)."""
    Status = ImportBatch.Status
    now = timezone.now()
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        # SQLite has no session lock to tell a dead worker from a live one: a batch found running
        # is left alone (the stale sweep fails it once no worker can still be on it).
        claimed = ImportBatch.objects.filter(pk=batch.pk, status=Status.PENDING).update(
            status=Status.RUNNING, started_at=now, attempts=F("attempts") + 1
        )
        if claimed:
            batch.status, batch.started_at, batch.attempts = Status.RUNNING, now, batch.attempts + 1
        return bool(claimed)

    lock = _ImportLock.acquire(batch)
    if lock is None:
        return False  # a live worker is importing it
    claimed = False
    try:
        found = ImportBatch.objects.filter(pk=batch.pk).values("status", "attempts").first()
        status = found["status"] if found else None
        attempts = found["attempts"] + 1 if found else 0
        if status == Status.PENDING:
            claimed = ImportBatch.objects.filter(pk=batch.pk, status=status).update(
                status=Status.RUNNING, started_at=now, attempts=attempts
            )
        elif status == Status.RUNNING:
            # Its worker died (its lock was free): that import was rolled back; start again.
            if attempts > IMPORT_MAX_ATTEMPTS:
                reason = (
                    f"the import was started {IMPORT_MAX_ATTEMPTS} times and its worker stopped "
                    "each time (the file may be too large for the server); nothing was imported"
                )
                _finish(batch, Status.FAILED, _problem(batch, reason))
            else:
                claimed = ImportBatch.objects.filter(pk=batch.pk, status=status).update(
                    started_at=now, rows_done=0, attempts=attempts
                )
                logger.warning("Import batch %s lost its worker: attempt %s", batch.pk, attempts)
    finally:
        if not claimed:
            lock.release()
    if claimed:
        batch.status, batch.started_at, batch._import_lock = Status.RUNNING, now, lock
        batch.attempts, batch.rows_done = attempts, 0
    return bool(claimed)


def import_batch_release(*, batch):
    """Let go of the lock ``import_batch_claim`` took on PostgreSQL, once the import ended."""
    lock = getattr(batch, "_import_lock", None)
    if lock is not None:
        batch._import_lock = None
        lock.release()


class _ImportLock:
    """A batch's advisory lock, held by a session of its own: the import's transaction and its
    progress connection come and go beside it, and when its worker dies the server ends this
    idle session at once, which frees the lock."""

    def __init__(self, batch, connection):
        self.connection = connection
        # A claim nobody releases (a management command, a test) lets go with its batch object.
        self._on_batch_gone = weakref.finalize(batch, connection.connection.close)

    @classmethod
    def acquire(cls, batch):
        """The lock of ``batch``, or None when another session holds it for IMPORT_LOCK_WAIT."""
        connection = connections[DEFAULT_DB_ALIAS].copy()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, false)", [IMPORT_LOCK_WAIT])
                # A worker whose machine vanished without closing the connection is noticed in
                # about a minute, not after the system's two-hour keepalive.
                cursor.execute(
                    "SELECT set_config('tcp_keepalives_idle', '30', false),"
                    " set_config('tcp_keepalives_interval', '10', false),"
                    " set_config('tcp_keepalives_count', '3', false)"
                )
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [IMPORT_LOCK_NAMESPACE, batch.pk])
        except OperationalError:  # lock_timeout: another session holds it
            connection.close()
            return None
        except BaseException:
            connection.close()
            raise
        return cls(batch, connection)

    def release(self):
        self._on_batch_gone.detach()
        self.connection.close()  # the session ends, and its lock with it

    @staticmethod
    def held():
        """Ids of the batches whose lock a session holds."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = %s AND objsubid = 2"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [IMPORT_LOCK_NAMESPACE],
            )
            return {int(row[0]) for row in cursor.fetchall()}


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
            from .tasks import compile_schools_enqueue

            touched = sorted(report.schools_touched)
            # Dashboards follow the data: recompile every school the import changed.
            compile_schools_enqueue(touched)
    finally:
        progress.close()
    return report


def import_batches_fail_stale(*, older_than, lost_after=IMPORT_LOST_AFTER):
    """Sweep the imports whose work was lost, so that none waits for ever; returns how many it
    marked failed. A batch pending for ``lost_after`` with no message on its way is queued again
    (its message was lost), and on PostgreSQL so is a running one whose lock is free (its worker
    died). One still running after ``older_than`` (past every time limit) is marked failed: its
    transaction was rolled back, so nothing of it was imported."""
    from outbox.selectors import messages_in_flight
    from outbox.services import outbox_enqueue

    from .tasks import run_import

    now = timezone.now()
    in_flight = {
        args[0]
        for args in messages_in_flight(run_import, since=now - lost_after).values_list(
            "args", flat=True
        )
        if args
    }
    waiting = ImportBatch.objects.exclude(pk__in=in_flight)
    lost = set(
        waiting.filter(
            status=ImportBatch.Status.PENDING, created_at__lt=now - lost_after
        ).values_list("pk", flat=True)
    )
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        running = waiting.filter(status=ImportBatch.Status.RUNNING, started_at__lt=now - lost_after)
        lost |= set(running.values_list("pk", flat=True)) - _ImportLock.held()
    for batch_id in sorted(lost):
        outbox_enqueue(run_import, batch_id)
    if lost:
        logger.warning("Import batches %s had nothing on their way: queued again", sorted(lost))
    problem = _problem(None, "the import stopped (its worker was lost); nothing was imported")
    stale = ImportBatch.objects.filter(
        status=ImportBatch.Status.RUNNING, started_at__lt=now - older_than
    ).exclude(pk__in=lost)
    with transaction.atomic():
        failed = list(stale.select_for_update().only("pk", "upload"))
        stale.filter(pk__in=[batch.pk for batch in failed]).update(
            status=ImportBatch.Status.FAILED,
            finished_at=now,
            errors=[error.as_dict() for error in problem.errors],
            upload="",
        )
        for batch in failed:
            _upload_delete(batch)  # finished, like any other: the report stays, the file goes
    return len(failed)


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
