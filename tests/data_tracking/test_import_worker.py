"""Imports and compiles survive lost messages and dead workers: the stale sweep queues again what
waits with nothing on its way; a batch whose worker died is taken over at once (PostgreSQL: its
lock is free); and a real worker killed mid-import or mid-compile loses and duplicates nothing."""

import datetime
import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from data_tracking import services
from data_tracking.compile import LOCK_NAMESPACE, school_compile
from data_tracking.models import (
    Assessment,
    AssessmentResult,
    DashboardSnapshot,
    ImportBatch,
    Student,
)
from data_tracking.tasks import compile_schools_enqueue, fail_stale_imports, run_import
from outbox.models import OutboxMessage
from outbox.services import outbox_dispatch
from teams.models import Assignment
from tests.services import require_service
from tests.teams.factories import DistrictFactory, SchoolFactory, staff_at
from tests.workers import (
    DOWN_BROKER_URL,
    celery_app_on,
    new_queue,
    redis_test_url,
    wait_until,
    worker_process,
)

pytestmark = pytest.mark.django_db

Status = ImportBatch.Status
HEADER = "student_id,assessment,subject,window,school_year,date,score,performance_level\n"
# The tests for each subject and window: a student has one result for each.
TESTS = [
    (f"{subject.title()} Benchmark", subject, window)
    for subject in ("math", "reading", "language", "science")
    for window in ("fall", "winter")
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def school_with_students(count):
    school = SchoolFactory(district=DistrictFactory())
    Student.objects.bulk_create(
        (
            Student(
                district=school.district,
                school=school,
                local_id=f"K{n:05d}",
                first_name="Test",
                last_name=f"K{n:05d}",
                grade=("3", "4", "5")[n % 3],
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    return school


def results_csv(count, tests=TESTS):
    rows = (
        f"K{n:05d},{name},{subject},{window},2026-2027,,{180 + (n * 7 + len(name)) % 60},\n"
        for n in range(count)
        for name, subject, window in tests
    )
    return (HEADER + "".join(rows)).encode()


def upload(school, data, *, enqueue=True):
    return services.import_batch_create(
        district=school.district,
        kind=ImportBatch.Kind.CSV,
        mode=ImportBatch.Mode.STRICT,
        upload=SimpleUploadedFile("results.csv", data),
        uploaded_by=staff_at(school, Assignment.Position.PRINCIPAL).user,
        enqueue=enqueue,
    )


def ago(**delta):
    return timezone.now() - datetime.timedelta(**delta)


def on_postgresql(reason):
    if connection.vendor != "postgresql":
        require_service("postgresql", reason)


def sweep():
    return fail_stale_imports.apply().get()


# ── The sweep: a lost message is sent again ──────────────────────────────────────────────────


def lost_batch(school, *, pending_for=20):
    """A batch whose message went out ``pending_for`` minutes ago and never reached a worker (a
    Redis restarted without its data, say)."""
    batch = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=ago(minutes=pending_for))
    sent = ago(minutes=pending_for)
    OutboxMessage.objects.create(
        task_name=run_import.name, args=[batch.pk], attempts=1, next_attempt_at=sent, sent_at=sent
    )
    return batch


def test_a_pending_batch_whose_message_was_lost_is_queued_again_and_imported(
    django_capture_on_commit_callbacks,
):
    school = school_with_students(3)
    batch = lost_batch(school)

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep() == 0  # none failed: it is queued again instead

    batch.refresh_from_db()
    assert batch.status == Status.SUCCEEDED
    assert AssessmentResult.objects.filter(student__school=school).count() == 3
    again = OutboxMessage.objects.filter(task_name=run_import.name).latest("pk")
    assert (again.args, again.attempts) == ([batch.pk], 1)
    assert again.sent_at is not None


def test_one_queued_again_while_the_broker_is_down_goes_out_with_the_dispatcher(
    django_capture_on_commit_callbacks,
):
    school = school_with_students(3)
    batch = lost_batch(school)
    with celery_app_on(DOWN_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        sweep()
    again = OutboxMessage.objects.unsent().get()
    assert (again.task_name, again.args, again.attempts) == (run_import.name, [batch.pk], 1)
    batch.refresh_from_db()
    assert batch.status == Status.PENDING

    # The broker is back (in-process here: the suite's tasks run eagerly).
    assert outbox_dispatch(now=again.next_attempt_at) == (1, 0)

    batch.refresh_from_db()
    assert batch.status == Status.SUCCEEDED
    assert AssessmentResult.objects.filter(student__school=school).count() == 3


def test_a_pending_batch_with_its_message_on_the_way_is_left_alone(
    django_capture_on_commit_callbacks,
):
    school = school_with_students(3)
    # Its message waits in the outbox for the broker.
    with celery_app_on(DOWN_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        waiting = upload(school, results_csv(3, TESTS[:1]))
    ImportBatch.objects.filter(pk=waiting.pk).update(created_at=ago(hours=1))
    # Its message went out lately: it may be in the queue behind other work.
    queued = lost_batch(school)
    OutboxMessage.objects.filter(args=[queued.pk]).update(sent_at=ago(minutes=2))
    # Too young to call lost, whatever happened to its message.
    young = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    ImportBatch.objects.filter(pk=young.pk).update(created_at=ago(minutes=5))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert sweep() == 0

    assert callbacks == []
    assert OutboxMessage.objects.count() == 2  # nothing queued again
    assert set(ImportBatch.objects.values_list("status", flat=True)) == {Status.PENDING}


# ── A batch whose worker died is taken over (PostgreSQL) ─────────────────────────────────────


def hold_lock(batch):
    """Another session holding the batch's lock, as a live worker does."""
    other = connection.copy()
    with other.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_lock(%s, %s)", [services.IMPORT_LOCK_NAMESPACE, batch.pk]
        )
    return other


def test_a_running_batch_whose_worker_died_is_taken_over_and_imported(
    django_capture_on_commit_callbacks,
):
    on_postgresql("a dead worker is told from a live one by its PostgreSQL session lock")
    school = school_with_students(3)
    batch = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    started = ago(minutes=3)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=Status.RUNNING, started_at=started, rows_done=2
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert run_import.apply(args=[batch.pk]).get() == Status.SUCCEEDED

    batch.refresh_from_db()
    assert batch.started_at > started
    assert batch.counts["results created"] == 3
    assert AssessmentResult.objects.filter(student__school=school).count() == 3


def test_taking_over_counts_the_attempts_and_restarts_the_progress():
    on_postgresql("a dead worker is told from a live one by its PostgreSQL session lock")
    school = school_with_students(3)
    batch = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    assert services.import_batch_claim(batch=batch) is True
    services.import_batch_release(batch=batch)  # its worker is gone, the batch still running
    ImportBatch.objects.filter(pk=batch.pk).update(rows_done=2, rows_total=3)

    assert services.import_batch_claim(batch=batch) is True

    services.import_batch_release(batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done, batch.attempts) == (Status.RUNNING, 0, 2)


def test_a_batch_that_keeps_killing_its_worker_fails_after_three_attempts():
    on_postgresql("a dead worker is told from a live one by its PostgreSQL session lock")
    school = school_with_students(3)
    batch = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=Status.RUNNING, started_at=ago(minutes=1), attempts=3
    )

    assert run_import.apply(args=[batch.pk]).get() is None

    batch.refresh_from_db()
    assert batch.status == Status.FAILED
    assert batch.errors[0]["reason"] == (
        "the import was started 3 times and its worker stopped each time (the file may be too "
        "large for the server); nothing was imported"
    )
    assert not AssessmentResult.objects.exists()


def test_a_batch_a_live_worker_holds_is_left_to_it():
    on_postgresql("a dead worker is told from a live one by its PostgreSQL session lock")
    school = school_with_students(3)
    batch = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.RUNNING, started_at=ago(hours=1))
    live_worker = hold_lock(batch)
    try:
        assert run_import.apply(args=[batch.pk]).get() is None
        assert sweep() == 1  # past every time limit: failed, not queued again
    finally:
        live_worker.close()

    batch.refresh_from_db()
    assert batch.status == Status.FAILED
    assert not OutboxMessage.objects.exists()


def test_the_sweep_queues_again_a_running_batch_whose_worker_died(
    django_capture_on_commit_callbacks,
):
    on_postgresql("a dead worker is told from a live one by its PostgreSQL session lock")
    school = school_with_students(3)
    dead = upload(school, results_csv(3, TESTS[:1]), enqueue=False)
    alive = upload(school, results_csv(3, TESTS[1:2]), enqueue=False)
    ImportBatch.objects.filter(pk__in=[dead.pk, alive.pk]).update(
        status=Status.RUNNING, started_at=ago(minutes=15)
    )
    live_worker = hold_lock(alive)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep() == 0
    finally:
        live_worker.close()

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, alive.status) == (Status.SUCCEEDED, Status.RUNNING)
    again = OutboxMessage.objects.filter(task_name=run_import.name)
    assert list(again.values_list("args", flat=True)) == [[dead.pk]]


# ── A real worker killed mid-import and mid-compile (PostgreSQL + Redis) ─────────────────────

STUDENTS = 10_000  # × 8 tests: 80,000 result rows, a few seconds of import


@pytest.fixture
def worker(tmp_path):
    """A `celery worker` subprocess (one pool child) and, in this process, a Celery app that
    publishes to its queue."""
    on_postgresql("a worker in a subprocess needs the test database on PostgreSQL")
    queue = new_queue()
    with (
        celery_app_on(redis_test_url(), queue=queue),
        worker_process(queue=queue, log_path=tmp_path / "worker.log") as process,
    ):
        yield process
    print(process.log())  # shown when the test fails


def kill_the_pool_child(worker):
    [child] = worker.pool_children()
    os.kill(child, signal.SIGKILL)
    return child


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_loses_nothing_and_duplicates_nothing(worker):
    school = school_with_students(STUDENTS)
    expected = STUDENTS * len(TESTS)
    batch = upload(school, results_csv(STUDENTS))

    def importing():
        batch.refresh_from_db()
        assert batch.status in (Status.PENDING, Status.RUNNING), "it ended before the kill"
        return batch.status == Status.RUNNING and batch.rows_done > 0

    wait_until(importing, timeout=60, what="the import to start", interval=0.02)
    first_start = batch.started_at
    killed = kill_the_pool_child(worker)

    def finished():
        batch.refresh_from_db()
        return batch.status in (Status.SUCCEEDED, Status.FAILED)

    wait_until(finished, timeout=120, what="the import to finish")

    assert batch.status == Status.SUCCEEDED, batch.errors
    assert batch.started_at > first_start  # taken over, not left to the stale sweep
    assert f"pid:{killed} exited with 'signal 9 (SIGKILL)'" in worker.log()
    # The killed attempt wrote nothing; the second wrote every row, once.
    assert batch.counts["results created"] == expected
    assert (batch.rows_done, batch.rows_total) == (expected, expected)
    assert AssessmentResult.objects.filter(student__school=school).count() == expected
    assert Assessment.objects.filter(district=school.district).count() == len(TESTS)


def compile_lock_held(school):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2",
            [LOCK_NAMESPACE, school.pk],
        )
        return cursor.fetchone() is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_compile_leaves_the_snapshots_written_once(worker):
    school = school_with_students(STUDENTS)
    services.import_files(
        district=school.district,
        kind=ImportBatch.Kind.CSV,
        mode=ImportBatch.Mode.STRICT,
        source={"results.csv": results_csv(STUDENTS)},
    )

    compile_schools_enqueue([school.pk])
    wait_until(lambda: compile_lock_held(school), timeout=60, what="the compile", interval=0.002)
    kill_the_pool_child(worker)
    # The killed compile committed nothing (a compile writes every snapshot in one transaction).
    assert not DashboardSnapshot.objects.filter(school=school).exists()

    wait_until(
        lambda: DashboardSnapshot.objects.filter(school=school).exists(),
        timeout=90,  # the redelivered compile may find the dying one's lock and retry in 15 s
        what="the compile to run again",
    )

    written = DashboardSnapshot.objects.filter(school=school)
    # Equal to an undisturbed compile: compiling the same data again finds nothing to change.
    again = school_compile(school=school)
    assert (again.created, again.superseded) == (0, 0)
    assert again.unchanged == written.count() == written.filter(is_current=True).count()
    assert written.filter(scope=DashboardSnapshot.Scope.SCHOOL).count() == len(TESTS)
