"""The nightly task, in-process and through a real Celery worker on Redis."""

import uuid

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.utils import timezone

from dl_portal.celery import app as project_app
from teams.tasks import close_ended_roles
from tests.teams.factories import (
    CaseloadFactory,
    LeadershipTeamFactory,
    SchoolFactory,
    TeamMembershipFactory,
    days_ago,
    staff_at,
)
from tests.workers import redis_test_url


def ended_rows():
    """An open role and caseload whose end date was yesterday, and a role that ends today."""
    school = SchoolFactory()
    leader, teacher = staff_at(school), staff_at(school)
    team = LeadershipTeamFactory(school=school)
    due = TeamMembershipFactory(team=team, staff=leader, end_date=days_ago(1))
    caseload = CaseloadFactory(school=school, leader=leader, teacher=teacher, end_date=days_ago(1))
    today = TeamMembershipFactory(team=team, staff=teacher, end_date=timezone.localdate())
    return due, caseload, today


def assert_closed_only_the_ended(due, caseload, today):
    for row in (due, caseload, today):
        row.refresh_from_db()
    assert not due.is_active
    assert not caseload.is_active
    assert today.is_active


@pytest.mark.django_db
def test_close_ended_roles_in_process():
    rows = ended_rows()
    result = close_ended_roles.apply()
    assert result.successful()
    assert result.get() == 2
    assert_closed_only_the_ended(*rows)


@pytest.fixture
def worker_app():
    """A Celery app configured like the project's, on the test Redis database and its own queue.

    A fresh app rather than the project's: its connection pool, queues and result backend are
    cached on first use, and changing the configuration afterwards would not reach them.
    """
    url = redis_test_url()
    queue = f"dl_portal_test_{uuid.uuid4().hex}"
    app = Celery("dl_portal_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # The project keeps no task results; this test reads what the task returns, so this app
    # stores them.
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_ignore_result=False,
        task_always_eager=False,
        task_default_queue=queue,
    )
    app.set_current()
    try:
        yield app
    finally:
        project_app.set_current()
        project_app.set_default()
        app.close()
        # kombu keeps a binding per queue name; each run's queue is new, so drop its bindings.
        redis.Redis.from_url(url).delete(
            f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)  # the worker thread must see committed rows
def test_close_ended_roles_through_a_real_worker(worker_app):
    rows = ended_rows()
    queue = worker_app.conf.task_default_queue
    with start_worker(worker_app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        result = close_ended_roles.delay()
        assert not isinstance(result, EagerResult), "the task ran in-process, not on the worker"
        assert result.get(timeout=30) == 2
        result.forget()
    assert_closed_only_the_ended(*rows)
