"""``manage.py import_map_cdf --district SLUG [--mode strict|skip] PATH [PATH ...]``."""

from data_tracking.models import ImportBatch

from ._import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import an NWEA MAP Growth Comprehensive Data File: AssessmentResults.csv, with "
        "StudentsBySchool.csv to add or update students. Prints what was created, updated, left "
        "unchanged and set aside as duplicate tests, and every problem as file:line column: reason."
    )
    kind = ImportBatch.Kind.MAP_CDF
    paths_help = "The CDF folder, its zip file, or the two CSV files."
