"""Load the demo district: ``manage.py seed_demo [--if-empty | --reset]``.

The data itself is built by ``teams.demo``; this command only decides whether to build, clears a
previous demo district on ``--reset`` and prints the sign-ins.
"""

import logging
import time
from contextlib import contextmanager

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import override_settings

from teams import demo
from teams.models import District


class Command(BaseCommand):
    help = (
        "Load a demo district (3 schools, about 60 staff, leadership teams, caseloads, and what "
        "other apps' demo modules add, such as a term of observation cycles). "
        f"Runs only with DEBUG on; every demo account's password is '{demo.PASSWORD}'."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has any user (used by `make run`).",
        )
        group.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo district (its schools, staff, accounts and everything built "
            "on them) and build it again.",
        )

    def handle(self, *args, if_empty=False, reset=False, **options):
        if if_empty and get_user_model().objects.exists():
            self.stdout.write("Database already has users; demo data not loaded.")
            return
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo only runs with DEBUG on: it creates accounts with the password 'demo'."
            )

        started = time.perf_counter()
        with _no_mail(), transaction.atomic():
            existing = District.objects.filter(slug=demo.DISTRICT_SLUG).first()
            if existing is not None:
                if not reset:
                    raise CommandError(
                        f"The demo district “{existing}” is already loaded. Use "
                        "`manage.py seed_demo --reset` to delete it and build it again."
                    )
                demo.clear(existing)
            problems = demo.conflicts()
            if problems:
                raise CommandError("Cannot load the demo district: " + "; ".join(problems) + ".")
            ctx = demo.build()
        elapsed = time.perf_counter() - started

        if options["verbosity"] >= 1:
            self._report(ctx, elapsed, replaced=existing is not None)

    def _report(self, ctx, elapsed, *, replaced):
        verb = "Rebuilt" if replaced else "Loaded"
        self.stdout.write(self.style.SUCCESS(f"{verb} {ctx.district} in {elapsed:.1f} s."))
        self.stdout.write("")
        rows = [("username", "password", "who")]
        rows += [(username, demo.PASSWORD, who) for username, who in demo.sign_ins(ctx)]
        width = max(len(row[0]) for row in rows)
        for username, password, who in rows:
            self.stdout.write(f"  {username:<{width}}  {password:<8}  {who}")
        self.stdout.write("")
        self.stdout.write(
            f"  Every other staff member signs in with their username (e.g. "
            f"{self._example_username(ctx)}) and the password {demo.PASSWORD}."
        )
        self.stdout.write("")
        c = demo.counts(ctx.district)
        schools = ", ".join(str(school) for school in ctx.schools.values())
        self.stdout.write(f"  {c['schools']} schools: {schools}")
        self.stdout.write(
            f"  {c['staff']} staff · {c['teams']} teams · {c['roles']} team roles "
            f"({c['roles_ended']} ended) · {c['caseloads']} caseload assignments"
        )
        self.stdout.write(
            f"  {c['meetings']} team meetings ({c['meetings_held']} held so far), "
            f"{c['decisions']} decisions, {c['action_items']} action items"
        )
        for line in demo.report_lines(ctx.district):
            self.stdout.write(f"  {line}")

    @staticmethod
    def _example_username(ctx):
        slot = next(slot for slot, person in ctx.people.items() if not person.is_named)
        return ctx.staff[slot].user.username


@contextmanager
def _no_mail():
    """Send no e-mail while building: the demo's made-up addresses would get a message for
    every piece of feedback in the demo term. Tasks queued after commit run here, in-process,
    against the dummy mail backend (instead of reaching a worker with a real one), and their
    log lines are held back."""
    saved = current_app.conf.task_always_eager
    loggers = [logging.getLogger(name) for name in ("celery", "kombu")]
    levels = [logger.level for logger in loggers]
    current_app.conf.task_always_eager = True
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            yield
    finally:
        current_app.conf.task_always_eager = saved
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
