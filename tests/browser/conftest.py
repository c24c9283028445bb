import os
import threading

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

# Chromium on a closed network: no background calls home, no first-run work.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "args": CHROMIUM_ARGS}


@pytest.fixture
def shot(page, request):
    """Save a screenshot when SCREENSHOT_DIR is set, for a person to look at the pages.

    ``shot(name)`` photographs the test's ``page``; ``shot(name, other_page)`` another one, e.g. a
    second person's page opened in their own browser context.
    """
    folder = os.environ.get("SCREENSHOT_DIR")

    def take(name, target=None):
        if folder:
            os.makedirs(folder, exist_ok=True)
            (target or page).screenshot(
                path=os.path.join(folder, f"{request.node.name}-{name}.png"), full_page=True
            )

    return take


@pytest.fixture(autouse=True)
def _live_server_serves_one_request_at_a_time(monkeypatch):
    """On an in-memory SQLite test database, ``live_server`` shares the test's one connection
    with every request thread, so two overlapping requests (an htmx autosave racing a submit)
    interleave their transactions on it and fail with "database table is locked". Serve requests
    one at a time there. A real database server (DATABASE_URL) keeps true concurrency."""
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return
    lock = threading.RLock()  # re-entrant: the static-files handler wraps a WSGIHandler
    serve = WSGIHandler.__call__

    def serve_alone(self, environ, start_response):
        with lock:
            return serve(self, environ, start_response)

    monkeypatch.setattr(WSGIHandler, "__call__", serve_alone)
