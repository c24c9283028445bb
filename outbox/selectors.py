"""Reads of the outbox for other apps."""

from django.db.models import Q

from .models import OutboxMessage


def messages_in_flight(task, *, since):
    """Messages of ``task`` (a Celery task or its name) not sent yet, or sent after ``since``:
    their work may still be waiting in the broker's queue."""
    name = task if isinstance(task, str) else task.name
    return OutboxMessage.objects.for_task(name).filter(
        Q(sent_at__isnull=True) | Q(sent_at__gte=since)
    )
