"""Celery tasks of the leadership survey. Thin: each calls one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def finalize_finished_survey_rounds():
    """Every ten minutes (beat): finalize rounds that ended by date or were closed but not yet
    finalized, so their answers become responses apart from the answering."""
    return services.rounds_finalize_finished()
