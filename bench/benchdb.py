"""Pointing Django at the benchmark database, never at the development or test one.

Every bench script imports this first: it sets the environment the settings read (PostgreSQL
``dl_portal_bench`` unless ``BENCH_DATABASE_URL`` says otherwise, tasks in-process, production-like
DEBUG=False with plain static files), creates the database if it is missing, and refuses any
database whose name does not contain "bench".
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dl_portal_bench?conn_max_age=60"


def configure():
    """Set the environment for Django; returns the database URL. Call before ``setup()``."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith("postgres") or "bench" not in name or name.startswith("test_"):
        sys.exit(f"bench: refusing database {name!r}: use a PostgreSQL database named *bench*")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "dl_portal.settings",
            "DEBUG": "false",  # DEBUG would keep every query in memory and skew the figures
            "SECRET_KEY": "bench-only-secret-key-never-used-anywhere-else-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "LOG_LEVEL": "WARNING",
        }
    )
    for name_ in ("REDIS_URL", "CELERY_BROKER_URL"):  # compiles run in this process
        os.environ.pop(name_, None)
    return url


def create_database(url):
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()


def setup(*, migrate=False):
    """Configure, create the database if needed, ``django.setup()``, optionally migrate."""
    url = configure()
    create_database(url)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        drop_hand_made_index()
        call_command("migrate", verbosity=0, interactive=False)
    return url


def drop_hand_made_index():
    """Before data_tracking 0002, ``run.py --index create`` made ``result_by_student`` by hand;
    the migration that now creates it would stop on "already exists". Drop such a leftover."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    if ("data_tracking", "0002_result_by_student") in recorder.applied_migrations():
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS result_by_student")
