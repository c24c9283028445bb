"""Writing to the outbox and sending what it holds.

    outbox_enqueue (inside the caller's transaction) ─ commit ─→ one quick attempt to publish
        ├→ sent
        └→ waiting: outbox_dispatch (beat every minute, or `manage.py outbox_dispatch`) tries
           again with backoff until the broker takes it

Publishing never makes the caller wait long and never raises into it: the broker gets
``PUBLISH_TIMEOUT`` seconds and no retry loop, and a failure is written on the message. Delivery
is at least once (a message can go out twice if the database fails just after the broker took
it), so tasks must be safe to run twice; the portal's tasks claim their work atomically.

In eager mode (no broker: the embedded portal, the test suite) sending runs the task in-process,
as ``task.delay()`` does there.
"""

import contextlib
import datetime
import functools
import importlib
import json
import logging
import time
from typing import NamedTuple

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# Seconds the broker gets to accept a connection, and then to answer each command.
PUBLISH_TIMEOUT = 1
# A new message is left to the attempt made right after its commit for this long; only then may
# the dispatcher take it (a web process that died before that attempt is covered too).
FIRST_ATTEMPT_GRACE = datetime.timedelta(seconds=30)
# After n failed attempts the next one is due 30 s × 2^(n-1) later, at most 10 minutes.
RETRY_BASE = datetime.timedelta(seconds=30)
RETRY_MAX = datetime.timedelta(minutes=10)
# Messages being published are left alone by other dispatchers this long (publishing a batch
# takes a few seconds at most: one connection, short timeouts, no retries).
PUBLISH_LEASE = datetime.timedelta(minutes=2)
DISPATCH_BATCH = 200
DISPATCH_BUDGET_SECONDS = 30
ERROR_LENGTH = 1000


class Dispatched(NamedTuple):
    sent: int
    failed: int


def outbox_enqueue(task, *args):
    """Queue ``task(*args)`` (a Celery task or its name; JSON arguments) in the current
    transaction; once it commits, one quick attempt publishes it. Returns the OutboxMessage."""
    name = task if isinstance(task, str) else task.name
    json.dumps(args)  # refuse what JSON cannot carry here, in the caller, not in the dispatcher
    message = OutboxMessage.objects.create(
        task_name=name, args=list(args), next_attempt_at=timezone.now() + FIRST_ATTEMPT_GRACE
    )
    transaction.on_commit(functools.partial(_send_now, message.pk))
    return message


def outbox_dispatch(*, now=None, limit=DISPATCH_BATCH):
    """Publish the unsent messages due by ``now``, oldest first, each at most once per call;
    messages another dispatcher holds are skipped. Stops at the first broker failure."""
    now = now or timezone.now()
    deadline = time.monotonic() + DISPATCH_BUDGET_SECONDS
    tried, sent, failed = set(), 0, 0
    while time.monotonic() < deadline:
        due = OutboxMessage.objects.due(now).exclude(pk__in=tried).order_by("next_attempt_at", "pk")
        round_sent, round_failed = _send(due, limit)
        tried.update(round_sent, round_failed)
        sent, failed = sent + len(round_sent), failed + len(round_failed)
        if round_failed or len(round_sent) < limit:
            break
    if sent or failed:
        logger.info("Outbox: %s message(s) sent, %s waiting for the broker", sent, failed)
    return Dispatched(sent, failed)


def outbox_prune(*, older_than):
    """Delete messages sent more than ``older_than`` ago; unsent ones always stay."""
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - older_than).delete()
    return deleted


def _send_now(message_id):
    """The attempt right after the commit. It raises nothing into the request, except what an
    in-process task raises in eager mode with propagation on (the test suite)."""
    # attempts=0: not if a dispatcher got to it first (a commit hook that ran very late).
    message = OutboxMessage.objects.filter(pk=message_id, attempts=0).unsent()
    if current_app.conf.task_always_eager:
        _run_in_process(message)
        return
    try:
        _send(message, 1)
    except Exception:
        logger.exception("Outbox message %s: the attempt after commit failed", message_id)


def _send(queryset, limit):
    """Publish up to ``limit`` messages of ``queryset``; returns (ids sent, ids that failed)."""
    app = current_app
    if app.conf.task_always_eager:
        return _run_in_process(queryset[:limit])
    with transaction.atomic():
        messages = list(queryset.select_for_update(skip_locked=True)[:limit])
        # Leased, and the lease committed before the broker is called: no other dispatcher takes
        # them meanwhile, no transaction stays open on the broker's time, and if this process
        # dies before marking them sent they are due again when the lease ends.
        OutboxMessage.objects.filter(pk__in=[message.pk for message in messages]).update(
            attempts=F("attempts") + 1, next_attempt_at=timezone.now() + PUBLISH_LEASE
        )
    if not messages:
        return [], []
    sent, failures = _publish(app, messages)
    now = timezone.now()
    OutboxMessage.objects.filter(pk__in=sent).update(sent_at=now, last_error="")
    for message, error in failures:
        _record_failure(message, error, now)
    return sent, [message.pk for message, _ in failures]


def _publish(app, messages):
    """Hand ``messages`` to the broker over one short-lived connection with short timeouts and
    no retries: (ids sent, [(message, error)])."""
    sent, failures = [], []
    try:
        with app.connection_for_write(
            connect_timeout=PUBLISH_TIMEOUT,
            transport_options={
                "max_retries": 0,  # kombu's connection retry loop: one attempt only
                "socket_connect_timeout": PUBLISH_TIMEOUT,
                "socket_timeout": PUBLISH_TIMEOUT,
            },
        ) as connection:
            for message in messages:
                task = _task(app, message.task_name)
                if task is None:
                    failures.append((message, f"no task named “{message.task_name}”"))
                    continue
                task.apply_async(message.args, connection=connection, retry=False)
                sent.append(message.pk)
    except Exception as error:
        # The broker is down, slow or refused: every message not handed over yet waits.
        reason = f"{type(error).__name__}: {error}"
        logger.warning("Outbox: the broker did not take the messages (%s); will retry", reason)
        done = set(sent) | {message.pk for message, _ in failures}
        failures += [(message, reason) for message in messages if message.pk not in done]
    return sent, failures


def _run_in_process(queryset):
    """Eager mode: run each message's task here, marking it sent first (it has been handed
    over, as to a broker; what happens then is the task's business)."""
    app = current_app
    sent, failed = [], []
    for message in queryset:
        task = _task(app, message.task_name)
        if task is None:
            _record_failure(message, f"no task named “{message.task_name}”", timezone.now())
            failed.append(message.pk)
            continue
        claimed = OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        if claimed:
            sent.append(message.pk)
            task.delay(*message.args)
    return sent, failed


def _task(app, name):
    """The task registered as ``name``. Outside a worker only the task modules imported so far
    have registered theirs: import its module first if need be."""
    if name not in app.tasks:
        with contextlib.suppress(ImportError):
            importlib.import_module(name.rpartition(".")[0])
    return app.tasks.get(name)


def _record_failure(message, error, now):
    """Note why ``message`` (as read before this attempt) was not sent, and when to try again."""
    attempts = message.attempts + 1
    delay = min(RETRY_BASE * 2 ** min(attempts - 1, 10), RETRY_MAX)
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=attempts, last_error=error[:ERROR_LENGTH], next_attempt_at=now + delay
    )
    if message.attempts == 0 or attempts % 10 == 0:
        logger.warning(
            "Outbox message %s (%s) not sent after %s attempt(s): %s",
            message.pk,
            message.task_name,
            attempts,
            error,
        )
