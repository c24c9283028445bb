"""Sharing feedback tells the teacher: an in-app notice at once, an e-mail after the commit."""

import smtplib
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from observations import services, tasks
from observations.models import Feedback, Notification, Status
from observations.tasks import send_feedback_shared_email
from tests.observations.factories import cycle_in, feedback_fields, small_rubric

pytestmark = pytest.mark.django_db


@pytest.fixture
def observed(world):
    small_rubric(world.district)
    return cycle_in("observed", school=world.school, teacher=world.teacher, observer=world.leader)


def share(cycle, by):
    services.feedback_save(cycle=cycle, fields=feedback_fields())
    return services.feedback_share(cycle=cycle, by=by)


def cycle_url(cycle):
    return reverse("observations:cycle_detail", args=[cycle.pk])


@pytest.fixture
def queued():
    """Counts the e-mail tasks queued (the real ``delay`` still runs)."""
    with mock.patch.object(
        send_feedback_shared_email, "delay", wraps=send_feedback_shared_email.delay
    ) as delay:
        yield delay


def assert_shared(cycle):
    cycle.refresh_from_db()
    assert cycle.status == Status.FEEDBACK_SHARED
    feedback = Feedback.objects.get(cycle=cycle)
    assert feedback.is_shared
    assert feedback.action_step == feedback_fields()["action_step"]


def test_the_email_is_queued_once_after_the_commit(
    world, observed, queued, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        share(observed, world.leader)
        # Inside the transaction nothing has gone out yet.
        queued.assert_not_called()
        assert mailoutbox == []

    queued.assert_called_once_with(observed.pk)
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == ["teacher@example.org"]
    assert sent.subject == "New feedback from Lena Lopez"
    assert f"{settings.PORTAL_BASE_URL}{cycle_url(observed)}" in sent.body
    assert "Tina" in sent.body


def test_a_rolled_back_share_sends_nothing(
    world, observed, queued, django_capture_on_commit_callbacks, mailoutbox
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        share(observed, world.leader)
        raise RuntimeError("the request failed after sharing")

    assert callbacks == []
    queued.assert_not_called()
    assert mailoutbox == []
    observed.refresh_from_db()
    assert observed.status == Status.OBSERVED
    assert not Feedback.objects.filter(shared_at__isnull=False).exists()
    assert not Notification.objects.exists()


def test_a_refused_share_sends_nothing(world, observed, django_capture_on_commit_callbacks):
    services.feedback_save(cycle=observed, fields={"glows": "Only glows so far"})
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError),
    ):
        services.feedback_share(cycle=observed, by=world.leader)
    assert callbacks == []
    assert mail.outbox == []


def test_the_teacher_gets_an_in_app_notification(world, observed):
    share(observed, world.leader)
    notice = Notification.objects.get()
    assert notice.recipient == world.teacher
    assert notice.message == "Lena Lopez shared feedback with you."
    assert notice.url == cycle_url(observed)
    assert notice.read_at is None


def test_a_failing_send_is_set_to_retry_and_the_feedback_stays_shared(
    world, observed, django_capture_on_commit_callbacks, mailoutbox
):
    down = mock.patch.object(tasks, "send_mail", side_effect=smtplib.SMTPException("down"))
    # Eager mode with propagation (the suite's default) hands the Retry a worker would
    # schedule back to the caller, here the commit hook.
    with (
        down,
        pytest.raises(Retry) as retried,
        django_capture_on_commit_callbacks(execute=True),
    ):
        share(observed, world.leader)

    assert isinstance(retried.value.exc, smtplib.SMTPException)
    assert 0 <= retried.value.when <= send_feedback_shared_email.retry_backoff
    assert mailoutbox == []
    assert_shared(observed)
    assert Notification.objects.filter(recipient=world.teacher).count() == 1


@pytest.fixture
def like_a_worker():
    """Eager tasks that keep their failures to themselves, as a worker does: a retry runs
    again (at once, eagerly) instead of raising into the caller."""
    from dl_portal.celery import app

    app.conf.task_eager_propagates = False  # the autouse fixture in conftest restores it


def test_a_mail_server_hiccup_is_retried_and_the_mail_arrives(
    world, observed, like_a_worker, django_capture_on_commit_callbacks, mailoutbox
):
    attempts = []

    def fails_once(**kwargs):
        attempts.append(kwargs["recipient_list"])
        if len(attempts) == 1:
            raise smtplib.SMTPServerDisconnected("connection dropped")
        return mail.send_mail(**kwargs)

    with (
        mock.patch.object(tasks, "send_mail", side_effect=fails_once),
        django_capture_on_commit_callbacks(execute=True),
    ):
        share(observed, world.leader)

    assert attempts == [["teacher@example.org"]] * 2
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["teacher@example.org"]
    assert_shared(observed)


def test_a_mail_server_that_stays_down_never_loses_the_feedback(
    world, observed, like_a_worker, django_capture_on_commit_callbacks, mailoutbox
):
    with (
        mock.patch.object(tasks, "send_mail", side_effect=smtplib.SMTPException("down")) as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        share(observed, world.leader)

    # Every retry was spent, then the task gave up; the feedback was never at stake.
    assert send.call_count == send_feedback_shared_email.max_retries + 1
    assert mailoutbox == []
    assert_shared(observed)
    assert Notification.objects.filter(recipient=world.teacher).count() == 1


def test_no_mail_for_a_teacher_without_an_address(world, observed, mailoutbox):
    share(observed, world.leader)
    world.teacher.email = ""
    world.teacher.save(update_fields=["email"])
    assert send_feedback_shared_email.delay(observed.pk).get() is False
    assert mailoutbox == []


def test_no_mail_for_a_cycle_without_shared_feedback(observed, mailoutbox):
    assert send_feedback_shared_email.delay(observed.pk).get() is False
    assert mailoutbox == []
