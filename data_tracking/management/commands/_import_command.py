"""What the import commands share: read paths into one upload, run it as an ImportBatch in this
process, print the report. (Django skips modules whose name starts with "_" as commands.)"""

import io
import zipfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError

from data_tracking import services
from data_tracking.models import ImportBatch
from teams.models import District


class ImportCommand(BaseCommand):
    kind = None  # an ImportBatch.Kind
    paths_help = ""

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help=self.paths_help)
        parser.add_argument(
            "--district", required=True, metavar="SLUG", help="The district to import into."
        )
        parser.add_argument(
            "--mode",
            choices=ImportBatch.Mode.values,
            default=ImportBatch.Mode.STRICT,
            help="strict (default): import nothing if any row is wrong. skip: import the valid "
            "rows and report the rest.",
        )

    def handle(self, *args, paths, district, mode, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"There is no district with the slug “{district}”.")
        batch = services.import_batch_create(
            district=found,
            kind=self.kind,
            mode=mode,
            upload=self._upload([Path(path) for path in paths]),
            uploaded_by=None,
            from_command_line=True,
            enqueue=False,
        )
        services.import_batch_claim(batch=batch)
        report = services.import_batch_run(batch=batch)

        for error in report.errors:
            self.stdout.write(str(error))
        if batch.status == ImportBatch.Status.FAILED:
            # Skipping helps only when rows are wrong, not a whole file (line 0), its header
            # (line 1) or the manifest that says which version the export is.
            rows_wrong = mode == "strict" and all(
                error.line > 1 and error.file != "manifest.csv" for error in report.errors
            )
            hint = " Use --mode skip to import the valid rows." if rows_wrong else ""
            raise CommandError(
                f"Nothing was imported into {found}: {len(report.errors)} problem(s).{hint}"
            )
        for label, number in batch.counts.items():
            self.stdout.write(f"{label}: {number}")
        if report.errors and not _rows_written(batch.counts):
            raise CommandError(
                f"Nothing was imported into {found}: every row had a problem "
                f"({len(report.errors)} problem(s) above)."
            )
        if report.errors:
            self.stdout.write(
                self.style.WARNING(
                    f"Imported into {found}, skipping the rows with the "
                    f"{len(report.errors)} problem(s) above."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported into {found}."))

    @staticmethod
    def _upload(paths):
        """One file as it is; several files or a folder as one zip, so they import together."""
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist.")
        if len(paths) == 1 and paths[0].is_file():
            return ContentFile(paths[0].read_bytes(), name=paths[0].name)
        files = [
            file
            for path in paths
            for file in (sorted(path.rglob("*")) if path.is_dir() else [path])
            if file.is_file()
        ]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, arcname=file.name)
        name = paths[0].name if len(paths) == 1 else f"{paths[0].stem} and {len(files) - 1} more"
        return ContentFile(buffer.getvalue(), name=f"{name}.zip")


def _rows_written(counts):
    """How many rows the import created, updated or found unchanged ("students created" …)."""
    return sum(
        number
        for label, number in counts.items()
        if label.rsplit(" ", 1)[-1] in ("created", "updated", "unchanged")
    )
