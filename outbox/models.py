"""One table: the tasks to send to the broker, kept until a while after they were sent."""

from django.db import models
from django.db.models import Q


class OutboxMessageQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True)

    def due(self, now):
        return self.unsent().filter(next_attempt_at__lte=now)

    def for_task(self, name):
        return self.filter(task_name=name)


class OutboxMessage(models.Model):
    """A Celery task to publish: ``task_name(*args)``. Written in the same transaction as the
    change that needs it, so the change and its follow-up work commit or roll back together."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts to publish it so far.")
    next_attempt_at = models.DateTimeField(help_text="The dispatcher leaves it alone until then.")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the broker took it.")
    last_error = models.TextField(blank=True, help_text="Why the last attempt failed.")

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The dispatcher's query: unsent messages that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True),
                name="outbox_unsent_due",
            ),
            # Pruning old sent messages.
            models.Index(fields=["sent_at"], name="outbox_sent_at"),
        ]

    def __str__(self):
        state = f"sent {self.sent_at:%Y-%m-%d %H:%M:%S}" if self.sent_at else "waiting"
        return f"{self.task_name}{tuple(self.args)} · {state}"
