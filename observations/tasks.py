import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import ObservationCycle

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def send_feedback_shared_email(cycle_id):
    """Tell the teacher new feedback is waiting. The feedback itself is already saved; a mail
    server that is down only delays this message, it never loses the feedback."""
    cycle = (
        ObservationCycle.objects.select_related("teacher__user", "observer__user", "school")
        .filter(pk=cycle_id, feedback__shared_at__isnull=False)
        .first()
    )
    if cycle is None or not cycle.teacher.user.email:
        return False
    context = {"cycle": cycle, "base_url": settings.PORTAL_BASE_URL}
    send_mail(
        subject=f"New feedback from {cycle.observer}",
        message=render_to_string("observations/email/feedback_shared.txt", context),
        from_email=None,
        recipient_list=[cycle.teacher.user.email],
    )
    return True


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def send_daily_digest():
    """Remind observers of overdue follow-ups and teachers of reflections due, once a day."""
    from . import services

    return services.digest_send()
