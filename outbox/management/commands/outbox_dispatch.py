from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outbox.services import RETRY_MAX, outbox_dispatch


class Command(BaseCommand):
    help = (
        "Publish the outbox's messages that are due, as the beat job does every minute: for "
        "cron, or after the broker came back. Fails if some are still waiting for the broker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="send_all",
            help="Also the messages still waiting out their backoff: try every unsent one now.",
        )

    def handle(self, *args, send_all=False, **options):
        sent, failed = outbox_dispatch(now=timezone.now() + RETRY_MAX if send_all else None)
        self.stdout.write(f"{sent} message(s) sent.")
        if failed:
            raise CommandError(f"{failed} message(s) still waiting: the broker did not take them.")
