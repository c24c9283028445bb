"""``manage.py rubric_import FILE (--district SLUG | --school SLUG) [--lineage SLUG]``."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from observations.rubric_io import rubric_import
from teams.models import District, School


class Command(BaseCommand):
    help = (
        "Import a rubric from a DL Portal rubric JSON file for a district or a school. If the "
        "rubric's lineage already exists there, the file becomes its next version."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the JSON file (see `rubric_export`).")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--district", metavar="SLUG", help="Scope the rubric to this district.")
        scope.add_argument("--school", metavar="SLUG", help="Scope the rubric to this school.")
        parser.add_argument(
            "--lineage",
            metavar="SLUG",
            help="Import under this lineage instead of the file's (to give a second district "
            "its own copy of a rubric).",
        )

    def handle(self, *args, file, district=None, school=None, lineage=None, **options):
        scope = {}
        if district:
            scope["district"] = self._get(District, district, "district")
        else:
            scope["school"] = self._get(School, school, "school")
        data = self._read(Path(file))
        try:
            rubric = rubric_import(data=data, lineage=lineage, **scope)
        except ValidationError as exc:
            problems = "\n".join(f"  - {message}" for message in exc.messages)
            raise CommandError(f"{file} was not imported:\n{problems}") from exc

        indicators = sum(domain.indicators.count() for domain in rubric.domains.all())
        where = rubric.school or rubric.district
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported “{rubric.name}” as version {rubric.version} of {rubric.lineage} for "
                f"{where}: {rubric.levels.count()} levels, {rubric.domains.count()} domains, "
                f"{indicators} indicators."
            )
        )

    @staticmethod
    def _read(path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}."
            ) from exc

    @staticmethod
    def _get(model, slug, what):
        try:
            return model.objects.get(slug=slug)
        except model.DoesNotExist as exc:
            raise CommandError(f"There is no {what} with the slug “{slug}”.") from exc
