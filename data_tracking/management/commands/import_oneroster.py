"""``manage.py import_oneroster --district SLUG [--mode strict|skip] PATH``."""

from data_tracking.models import ImportBatch

from ._import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import schools, staff, students, classes and enrollments from a OneRoster 1.1 CSV "
        "export. Prints what was created, updated and left unchanged, and every problem as "
        "file:line column: reason; exits non-zero when nothing was imported."
    )
    kind = ImportBatch.Kind.ONEROSTER
    paths_help = "The OneRoster export: its folder or its zip file (or its CSV files)."
