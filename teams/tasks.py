from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def close_ended_roles():
    """Nightly: close team roles and caseloads whose end date has passed."""
    return services.roles_close_ended()
