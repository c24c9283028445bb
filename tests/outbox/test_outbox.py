"""The outbox in-process: a message is written in the caller's transaction, sent after the
commit (in eager mode: run), and kept with its error when the broker is down, never raising into
the caller; the dispatcher sends what is due, with backoff; sent messages are pruned."""

import datetime

import pytest
from celery import shared_task
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from outbox import services
from outbox.models import OutboxMessage
from outbox.services import outbox_dispatch, outbox_enqueue, outbox_prune
from outbox.tasks import dispatch_outbox
from tests.services import require_service
from tests.workers import DOWN_BROKER_URL, celery_app_on

pytestmark = pytest.mark.django_db

CALLS = []


@shared_task
def record(*args):
    CALLS.append(args)


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.fixture
def broker_down():
    with celery_app_on(DOWN_BROKER_URL) as app:
        yield app


def later(**delta):
    return timezone.now() + datetime.timedelta(**delta)


def test_a_message_is_written_with_the_change_and_sent_after_the_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = outbox_enqueue(record, "cycle", 7)
        assert OutboxMessage.objects.filter(pk=message.pk).exists()
        assert CALLS == []  # nothing before the commit

    assert len(callbacks) == 1
    assert CALLS == [("cycle", 7)]
    message.refresh_from_db()
    assert (message.task_name, message.args) == ("tests.outbox.test_outbox.record", ["cycle", 7])
    assert message.sent_at is not None
    assert (message.attempts, message.last_error) == (1, "")


def test_a_rolled_back_change_leaves_no_message_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_enqueue(record, 1)
        raise RuntimeError("the request failed after the change")

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert CALLS == []


def test_arguments_json_cannot_carry_are_refused_in_the_caller():
    with pytest.raises(TypeError):
        outbox_enqueue(record, object())
    assert not OutboxMessage.objects.exists()


def test_with_the_broker_down_the_message_waits_with_its_error_and_nothing_is_raised(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(record, 1)  # the commit hook must not raise

    message.refresh_from_db()
    assert message.sent_at is None
    assert message.attempts == 1
    assert "OperationalError" in message.last_error
    assert "127.0.0.1:1" in message.last_error
    assert later(seconds=25) < message.next_attempt_at <= later(seconds=30)
    assert CALLS == []


def test_the_dispatcher_retries_due_messages_with_backoff_while_the_broker_is_down(broker_down):
    due = OutboxMessage.objects.create(
        task_name=record.name, args=[1], attempts=2, next_attempt_at=later(seconds=-1)
    )
    not_due = OutboxMessage.objects.create(
        task_name=record.name, args=[2], attempts=1, next_attempt_at=later(minutes=5)
    )

    assert outbox_dispatch() == (0, 1)

    due.refresh_from_db()
    not_due.refresh_from_db()
    assert (due.sent_at, due.attempts) == (None, 3)
    assert "127.0.0.1:1" in due.last_error
    # After a third failure the next attempt waits 30 s × 2².
    assert later(seconds=115) < due.next_attempt_at <= later(seconds=120)
    assert (not_due.attempts, not_due.last_error) == (1, "")


def test_the_backoff_stops_growing_at_ten_minutes(broker_down):
    message = OutboxMessage.objects.create(
        task_name=record.name, args=[1], attempts=40, next_attempt_at=later(seconds=-1)
    )

    outbox_dispatch()

    message.refresh_from_db()
    assert later(minutes=9) < message.next_attempt_at <= later(minutes=10)


def test_the_dispatcher_sends_what_is_due_oldest_first_and_only_once():
    for n, minutes in enumerate([-1, -3, 5, -2]):
        OutboxMessage.objects.create(
            task_name=record.name, args=[n], next_attempt_at=later(minutes=minutes)
        )
    OutboxMessage.objects.create(
        task_name=record.name, args=["sent"], next_attempt_at=later(minutes=-9), sent_at=later()
    )

    assert outbox_dispatch() == (3, 0)
    assert outbox_dispatch() == (0, 0)

    assert CALLS == [(1,), (3,), (0,)]
    assert OutboxMessage.objects.unsent().get().args == [2]


def test_a_message_for_an_unknown_task_waits_with_the_reason():
    message = OutboxMessage.objects.create(
        task_name="gone.tasks.renamed", args=[], next_attempt_at=later(seconds=-1)
    )

    assert outbox_dispatch() == (0, 1)

    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (None, 1)
    assert message.last_error == "no task named “gone.tasks.renamed”"


def test_messages_sent_long_ago_are_pruned_and_unsent_ones_never():
    old = later(days=-8)
    OutboxMessage.objects.create(task_name=record.name, next_attempt_at=old, sent_at=old)
    recent = OutboxMessage.objects.create(
        task_name=record.name, next_attempt_at=old, sent_at=later(days=-6)
    )
    waiting = OutboxMessage.objects.create(task_name=record.name, next_attempt_at=later(hours=1))
    OutboxMessage.objects.filter(pk=waiting.pk).update(created_at=old)

    assert outbox_prune(older_than=datetime.timedelta(days=7)) == 1

    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


def test_the_beat_task_dispatches_and_prunes():
    old = later(days=-30)
    OutboxMessage.objects.create(task_name=record.name, next_attempt_at=old, sent_at=old)
    OutboxMessage.objects.create(task_name=record.name, args=[5], next_attempt_at=old)

    assert dispatch_outbox.apply().get() == {"sent": 1, "failed": 0}

    assert CALLS == [(5,)]
    assert OutboxMessage.objects.get().args == [5]


def test_the_command_sends_everything_waiting_with_all(capsys):
    OutboxMessage.objects.create(task_name=record.name, args=[1], next_attempt_at=later(minutes=4))

    call_command("outbox_dispatch")
    assert CALLS == []
    call_command("outbox_dispatch", "--all")

    assert CALLS == [(1,)]
    assert capsys.readouterr().out.splitlines() == ["0 message(s) sent.", "1 message(s) sent."]


def test_the_command_fails_while_the_broker_is_down(broker_down):
    OutboxMessage.objects.create(task_name=record.name, args=[1], next_attempt_at=later())

    with pytest.raises(CommandError, match="1 message\\(s\\) still waiting"):
        call_command("outbox_dispatch", "--all")


@pytest.mark.django_db(transaction=True)
def test_a_message_another_dispatcher_holds_is_skipped(broker_down):
    """Two dispatchers (or the dispatcher and the attempt after commit) never take one message."""
    if connection.vendor != "postgresql":
        require_service("postgresql", "SQLite has no row locks to skip")
    held = OutboxMessage.objects.create(task_name=record.name, args=[1], next_attempt_at=later())
    free = OutboxMessage.objects.create(task_name=record.name, args=[2], next_attempt_at=later())
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT id FROM outbox_outboxmessage WHERE id = %s FOR UPDATE", [held.pk]
            )
            assert outbox_dispatch(now=later(seconds=1)) == (0, 1)
            cursor.execute("ROLLBACK")
    finally:
        other.close()

    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.attempts, free.attempts) == (0, 1)


def test_publishing_gives_the_broker_a_short_timeout_and_no_retry_loop(monkeypatch):
    """What keeps a request from waiting on a broker that is down (a timed test would be flaky)."""
    seen = {}

    class Refused(Exception):
        pass

    def connection_for_write(**kwargs):
        seen.update(kwargs)
        raise Refused("no broker")

    with celery_app_on(DOWN_BROKER_URL) as app:
        monkeypatch.setattr(app, "connection_for_write", connection_for_write)
        OutboxMessage.objects.create(task_name=record.name, next_attempt_at=later(seconds=-1))
        assert outbox_dispatch() == (0, 1)

    assert seen["connect_timeout"] == services.PUBLISH_TIMEOUT == 1
    assert seen["transport_options"] == {
        "max_retries": 0,
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
    }
