"""Production settings refuse to start unsafely; with no environment at all the portal runs
embedded. Each case starts a fresh Python with only the variables it names."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Long and random-looking enough for check --deploy (security.W009).
PRODUCTION_KEY = "k3Jv9-QwZp7rT2mXc8LbN4sYd6FhG1aE5uVo0iWyRtKqPjMnBxCz_lDeSgHf-UoIa"


def run(args, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_seen_with(**env):
    script = (
        "import json\n"
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']),"
        " 'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL,"
        " 'backend': settings.CELERY_RESULT_BACKEND}))\n"
    )
    result = run(["-c", script], DJANGO_SETTINGS_MODULE="dl_portal.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


MISSING_KEY = (
    "Set the SECRET_KEY environment variable: it is required when DEBUG is off. "
    "On a development machine set DEBUG=true instead (make run and make test do)."
)


def test_the_servers_refuse_to_start_without_a_secret_key():
    for entry_point in ("dl_portal.wsgi", "dl_portal.asgi"):
        result = run(["-c", f"import {entry_point}"], DEBUG="false")
        assert result.returncode != 0, entry_point
        assert f"ImproperlyConfigured: {MISSING_KEY}" in result.stderr


def test_the_deployment_checks_refuse_a_missing_secret_key():
    result = run(["manage.py", "check", "--deploy"], DEBUG="false", ALLOWED_HOSTS="a.example.org")
    assert result.returncode == 1
    assert f"(dl_portal.E001) {MISSING_KEY}" in result.stderr


def test_commands_that_sign_nothing_run_without_a_secret_key():
    """makemigrations --check in a bare shell answers about migrations, not about the key."""
    result = run(["manage.py", "makemigrations", "--check", "--dry-run"], DEBUG="false")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "No changes detected"


def test_production_settings_pass_the_deployment_checks():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="portal.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_with_no_environment_the_portal_runs_embedded():
    seen = settings_seen_with(DEBUG="true")
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert Path(seen["name"]) == BASE_DIR / "var" / "dl_portal.sqlite3"
    assert seen["eager"] is True
    assert seen["broker"] == "memory://"


def test_with_redis_tasks_go_to_the_broker():
    seen = settings_seen_with(DEBUG="true", REDIS_URL="redis://redis.example.org:6379/3")
    assert seen["eager"] is False
    assert seen["broker"] == "redis://redis.example.org:6379/3"
    assert seen["backend"] is None  # nothing reads task results: no backend to wait for
