"""Dashboard compiles through a real Celery worker on Redis (the in-process runs are in
test_compile.py). Set up like tests/teams/test_tasks.py: a fresh Celery app on Redis database 15
with its own queue, an in-thread worker, and committed rows (transactional_db)."""

import time
import uuid

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult

from data_tracking.models import DashboardSnapshot
from data_tracking.tasks import compile_all_schools, compile_school
from dl_portal.celery import app as project_app
from tests.data_tracking.test_compile import YEAR, make_assessment, make_student
from tests.teams.factories import SchoolFactory
from tests.workers import redis_test_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_app():
    """A Celery app configured like the project's, on the test Redis database and its own queue."""
    url = redis_test_url()
    queue = f"dl_portal_test_{uuid.uuid4().hex}"
    app = Celery("dl_portal_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # The project keeps no task results; these tests read what the tasks return, so this app
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
        redis.Redis.from_url(url).delete(
            f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )


def school_with_results(scores):
    """A school whose students took one fall math test, one student per score."""
    school = SchoolFactory()
    fall = make_assessment(school.district, "fall")
    for n, score in enumerate(scores):
        student = make_student(school, f"w{school.pk}-{n}")
        fall.results.create(student=student, school=school, grade=student.grade, score=score)
    return school


def school_snapshot(school):
    return DashboardSnapshot.objects.filter(
        school=school, scope="school", subject="math", school_year=YEAR, window="fall"
    ).first()


def test_a_worker_compiles_a_school(worker_app):
    school = school_with_results([195, 205, 215, 225])
    queue = worker_app.conf.task_default_queue
    with start_worker(worker_app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        result = compile_school.delay(school.pk)
        assert not isinstance(result, EagerResult), "the task ran in-process, not on the worker"
        written = result.get(timeout=30)
        result.forget()
        again = compile_school.delay(school.pk)
        unchanged = again.get(timeout=30)
        again.forget()
    # school + grade 3 (every student of make_student is in grade 3)
    assert written == {"school_id": school.pk, "created": 2, "superseded": 0, "unchanged": 0}
    assert unchanged == {"school_id": school.pk, "created": 0, "superseded": 0, "unchanged": 2}
    metrics = school_snapshot(school).metrics
    assert (metrics["tested"], metrics["mean_score"], metrics["percent_proficient"]) == (
        4,
        210.0,
        50.0,
    )


def test_the_nightly_job_fans_out_to_every_school_on_the_worker(worker_app):
    schools = [school_with_results([200, 230]), school_with_results([219])]
    queue = worker_app.conf.task_default_queue
    with start_worker(worker_app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        result = compile_all_schools.delay()
        queued = result.get(timeout=30)
        result.forget()
        # The group's tasks run after compile_all_schools returns: wait for their snapshots.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(map(school_snapshot, schools)):
            time.sleep(0.2)
    assert set(queued) == {school.pk for school in schools}
    assert [school_snapshot(school).metrics["mean_score"] for school in schools] == [215.0, 219.0]
