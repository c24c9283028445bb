"""Nothing a user did is lost while the broker is down: sharing feedback and uploading an import
answer as usual, their follow-up work waits in the outbox, and once the broker is back the
dispatcher hands it to a real worker (in a thread), which sends the e-mail and runs the import."""

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from data_tracking.models import AssessmentResult, DashboardSnapshot, ImportBatch
from observations.models import Feedback, Status
from outbox.models import OutboxMessage
from outbox.services import outbox_dispatch
from tests.data_tracking.factories import StudentFactory
from tests.observations.factories import cycle_in, feedback_fields, small_rubric
from tests.workers import DOWN_BROKER_URL, celery_app_on, redis_test_url, wait_until

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("redis_url"),
]

RESULTS = "student_id,assessment,subject,window,school_year,date,score,performance_level\n" + (
    "".join(f"M-{n},Spring Math,math,spring,2026-2027,,{200 + n},\n" for n in range(5))
)


@pytest.fixture
def redis_url():
    return redis_test_url()  # skip (or fail in CI) before anything runs when Redis is missing


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def assert_waiting_for_the_broker(message, task_name, args):
    assert (message.task_name, message.args) == (task_name, args)
    assert message.sent_at is None
    assert message.attempts == 1
    assert "Connection refused" in message.last_error


def dispatch_to_a_worker(*task_names):
    """With the broker back: the dispatcher sends what waited, then a worker runs it and whatever
    that queues, until each of ``task_names`` has run. (One thing at a time, and waiting on the
    worker's signal rather than on the database: SQLite's shared in-memory test database refuses
    a write while another thread's transaction is open.)"""
    ran = []

    def record(sender, **kwargs):
        ran.append(sender.name)

    with celery_app_on(redis_test_url()) as app:
        # The message waits out its backoff; the dispatcher runs as if that time had passed.
        due = OutboxMessage.objects.unsent().latest("next_attempt_at").next_attempt_at
        assert outbox_dispatch(now=due) == (1, 0)
        task_postrun.connect(record, weak=False)
        try:
            with start_worker(
                app,
                perform_ping_check=False,
                queues=[app.conf.task_default_queue],
                shutdown_timeout=30,
            ):
                wait_until(lambda: set(task_names) <= set(ran), timeout=30, what=str(task_names))
        finally:
            task_postrun.disconnect(record)


def test_feedback_shared_while_the_broker_is_down_is_mailed_once_it_is_back(
    client, world, mailoutbox
):
    small_rubric(world.district)
    cycle = cycle_in("observed", school=world.school, teacher=world.teacher, observer=world.leader)
    data = {**feedback_fields(), "share": "1"}
    data["practice_by"] = data["practice_by"].isoformat()
    client.force_login(world.leader)

    with celery_app_on(DOWN_BROKER_URL):
        response = client.post(reverse("observations:feedback_write", args=[cycle.pk]), data)

    assertRedirects(response, cycle.get_absolute_url(), fetch_redirect_response=False)
    cycle.refresh_from_db()
    assert cycle.status == Status.FEEDBACK_SHARED
    assert Feedback.objects.get(cycle=cycle).is_shared
    message = OutboxMessage.objects.get()
    assert_waiting_for_the_broker(
        message, "observations.tasks.send_feedback_shared_email", [cycle.pk]
    )
    assert mailoutbox == []

    dispatch_to_a_worker("observations.tasks.send_feedback_shared_email")

    assert mailoutbox[0].to == ["teacher@example.org"]
    assert mailoutbox[0].subject == "New feedback from Lena Lopez"
    message.refresh_from_db()
    assert message.sent_at is not None
    assert (message.attempts, message.last_error) == (2, "")


def test_an_import_uploaded_while_the_broker_is_down_runs_once_it_is_back(client, world, media):
    for n in range(5):
        StudentFactory(school=world.school, local_id=f"M-{n}", grade="3")
    upload = SimpleUploadedFile("spring.csv", RESULTS.encode(), content_type="text/csv")
    form = {"district": world.district.pk, "kind": "csv", "mode": "strict", "upload": upload}
    client.force_login(world.principal)

    with celery_app_on(DOWN_BROKER_URL):
        response = client.post(reverse("data_tracking:import_list"), form)

    batch = ImportBatch.objects.get()
    detail = reverse("data_tracking:import_detail", args=[batch.pk])
    assertRedirects(response, detail, fetch_redirect_response=False)
    assert batch.status == ImportBatch.Status.PENDING
    assert_waiting_for_the_broker(
        OutboxMessage.objects.get(), "data_tracking.tasks.run_import", [batch.pk]
    )

    dispatch_to_a_worker("data_tracking.tasks.run_import", "data_tracking.tasks.compile_school")

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.errors
    assert AssessmentResult.objects.count() == 5
    assert DashboardSnapshot.objects.filter(school=world.school, is_current=True).exists()
    # The compile the import queued went through the outbox too, and was sent.
    compile_message = OutboxMessage.objects.get(task_name="data_tracking.tasks.compile_school")
    assert (compile_message.args, compile_message.attempts) == ([world.school.pk], 1)
    assert compile_message.sent_at is not None
    assert not OutboxMessage.objects.unsent().exists()
