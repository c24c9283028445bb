"""Celery for the tests that need a broker: apps on the test Redis database with a queue of their
own, a broker that is down, and a real ``celery worker`` in a subprocess (for the in-thread
worker, use ``celery.contrib.testing.worker.start_worker`` with one of these apps)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from dl_portal.celery import app as project_app
from tests.services import require_service

BASE_DIR = Path(__file__).resolve().parent.parent
# Redis database reserved for tests, so their tasks never mix with a development worker's.
TEST_REDIS_DB = 15
# Nothing listens on port 1: a connection is refused at once, as by a Redis that is down.
DOWN_BROKER_URL = "redis://127.0.0.1:1/0"


def redis_test_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        require_service("redis", "REDIS_URL is not set: no Redis to run a real worker against")
    test_url = urlunsplit(urlsplit(url)._replace(path=f"/{TEST_REDIS_DB}"))
    try:
        redis.Redis.from_url(test_url, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        pytest.fail(f"REDIS_URL is set but Redis does not answer at {test_url}: {error}")
    return test_url


def new_queue():
    return f"dl_portal_test_{uuid.uuid4().hex}"


@contextlib.contextmanager
def celery_app_on(broker_url, *, queue=None, **conf):
    """A Celery app configured like the project's, on ``broker_url`` with eager mode off, made
    the current and default app while the block runs: the outbox publishes through the current
    app, from whichever thread sends.

    A fresh app rather than the project's: its connection pool and queues are cached on first
    use, and changing the configuration afterwards would not reach them."""
    queue = queue or new_queue()
    app = Celery("dl_portal_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker_url, task_always_eager=False, task_default_queue=queue, **conf
    )
    app.set_current()
    app.set_default()
    try:
        yield app
    finally:
        project_app.set_current()
        project_app.set_default()
        app.close()
        if broker_url != DOWN_BROKER_URL:
            # kombu keeps a binding per queue name; each test's queue is new, so drop it all.
            redis.Redis.from_url(broker_url).delete(
                queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
            )


def wait_until(condition, *, timeout, what, interval=0.05):
    """Poll ``condition`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(interval)


def test_database_url():
    """The URL of the test database this process uses, for a worker in another process."""
    if connection.vendor != "postgresql":
        require_service(
            "postgresql", "a worker in a subprocess cannot reach SQLite's in-memory test database"
        )
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'])}"


class WorkerProcess:
    """``celery worker`` in a subprocess: prefork pool, one child, on the test database and the
    test Redis database, consuming ``queue`` only. Its output goes to ``log_path``."""

    def __init__(self, *, queue, log_path):
        self.log_path = Path(log_path)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dl_portal.settings_test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_test_url(),
            "CELERY_QUEUE": queue,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        }
        env.pop("CELERY_BROKER_URL", None)
        with self.log_path.open("ab") as log:
            # A session of its own, so that stop() can end the worker and its pool together.
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "dl_portal", "worker"),
                    *("--pool", "prefork", "--concurrency", "1", "--queues", queue),
                    *("--hostname", f"{queue}@%h", "--loglevel", "info"),
                    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                ],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=60):
        def ready():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.log()}")
            return " ready." in self.log() and self.pool_children()

        wait_until(ready, timeout=timeout, what=f"the worker to start:\n{self.log()}")

    def pool_children(self):
        """Pids of the pool's processes (the worker's children)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # pid (comm) state ppid …: comm may hold spaces, so split after its ")".
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def stop(self):
        """End the worker and its pool (their own process group), gently first."""
        if self.process.poll() is not None:
            return
        # Warm shutdown: the task running finishes (or is handed back), then the pool stops.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # Not reaped yet, so the group id is still this worker's.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


@contextlib.contextmanager
def worker_process(*, queue, log_path):
    worker = WorkerProcess(queue=queue, log_path=log_path)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()
