"""``manage.py import_results_csv --district SLUG [--mode strict|skip] FILE [FILE ...]``."""

from data_tracking.models import ImportBatch

from ._import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import assessment results from plain CSV files (columns in docs/imports.md). Several "
        "files import together: all or nothing. Prints what was created, updated and left "
        "unchanged, and every problem as file:line column: reason."
    )
    kind = ImportBatch.Kind.CSV
    paths_help = "CSV files (or a zip of them)."
