"""The Celery settings the outbox and the workers' recovery rely on."""

import pytest
from django.conf import settings

from data_tracking.tasks import IMPORT_TIME_LIMIT
from dl_portal.celery import app

# Room between a task's hard time limit and the moment Redis gives its message to another worker.
MARGIN_SECONDS = 10 * 60


@pytest.fixture(autouse=True)
def _every_task_registered():
    app.loader.import_default_modules()  # as a worker does: every app's tasks module


def project_tasks():
    return [task for name, task in app.tasks.items() if not name.startswith("celery.")]


def test_redis_never_hands_a_task_still_running_or_waiting_to_a_second_worker():
    """A message a worker took but has not acknowledged goes back to the queue after the
    broker's visibility timeout (acks_late): that must come after the longest hard time limit,
    and after the longest retry countdown (a worker holds a retrying task's message meanwhile)."""
    visibility_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    tasks = project_tasks()
    time_limits = {task.name: task.time_limit or app.conf.task_time_limit for task in tasks}
    countdowns = {task.name: getattr(task, "retry_backoff_max", 0) or 0 for task in tasks}

    assert "data_tracking.tasks.run_import" in time_limits  # every app's tasks are registered
    assert max(time_limits.values()) == time_limits["data_tracking.tasks.run_import"]
    assert visibility_timeout >= IMPORT_TIME_LIMIT + MARGIN_SECONDS
    assert visibility_timeout >= max(time_limits.values()) + MARGIN_SECONDS
    assert visibility_timeout >= max(countdowns.values()) + MARGIN_SECONDS


def test_no_task_result_is_kept():
    assert settings.CELERY_RESULT_BACKEND is None
    assert settings.CELERY_TASK_IGNORE_RESULT is True
    assert all(task.ignore_result for task in project_tasks())


def test_beat_runs_the_outbox_dispatcher_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-outbox"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60
    assert entry["options"]["expires"] < 60  # a run nobody started is dropped, not piled up
