"""``manage.py rubric_export LINEAGE [--version N] [-o FILE]``."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from observations.models import Rubric
from observations.rubric_io import rubric_export


class Command(BaseCommand):
    help = (
        "Print a rubric as DL Portal rubric JSON (the current version unless --version is "
        "given), or write it to a file with -o."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version here means the rubric's version; it replaces Django's "show the version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("lineage", help="The rubric's lineage (the same for every version).")
        parser.add_argument("--version", type=int, metavar="N", help="Export version N.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE.")

    def handle(self, *args, lineage, version=None, output=None, **options):
        rubrics = Rubric.objects.filter(lineage=lineage)
        if not rubrics.exists():
            raise CommandError(f"There is no rubric with the lineage “{lineage}”.")
        rubric = (
            rubrics.filter(version=version).first()
            if version is not None
            else rubrics.filter(is_current=True).first() or rubrics.order_by("-version").first()
        )
        if rubric is None:
            known = ", ".join(
                str(v) for v in rubrics.order_by("version").values_list("version", flat=True)
            )
            raise CommandError(f"{lineage} has no version {version} (it has {known}).")

        text = json.dumps(rubric_export(rubric=rubric), indent=2, ensure_ascii=False) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {rubric} to {output}.")
        else:
            self.stdout.write(text, ending="")
