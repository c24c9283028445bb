"""The dispatcher: beat runs it every minute (dl_portal/settings.py). It needs the broker only to
be woken; while the broker is down beat cannot publish it, and once the broker is back it sends
whatever waited. `manage.py outbox_dispatch` does the same without the broker's help."""

import datetime

from celery import shared_task

from . import services

# Sent messages are kept this long, to answer "was it sent, and when?".
KEEP_SENT = datetime.timedelta(days=7)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def dispatch_outbox():
    """Publish the messages that are due; delete those sent more than KEEP_SENT ago."""
    dispatched = services.outbox_dispatch()
    services.outbox_prune(older_than=KEEP_SENT)
    return dispatched._asdict()
