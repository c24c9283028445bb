"""OneRoster 1.1 CSV → the schools, staff, students, sections and enrollments of one district.

``import_oneroster`` reads an export (a folder, a zip, or ``{file name: bytes}``), checks every row
and every reference between files, then writes in bulk inside one transaction. What is accepted,
and how each file maps onto the portal, is described in docs/imports-oneroster.md.
"""

from django.db import transaction

from data_tracking.imports.common import ImportRefused, ImportReport
from data_tracking.imports.scope import DISTRICT_WIDE

from .reading import Roster, read_export
from .writing import write_roster

__all__ = ["import_oneroster"]


def import_oneroster(*, source, district, mode="strict", progress=None, scope=DISTRICT_WIDE):
    """Import a OneRoster 1.1 CSV export into ``district``; returns the ImportReport.

    ``mode`` "strict" writes nothing when any row is wrong; "skip" writes the valid rows and the
    rows that do not depend on a wrong one. Either way a missing file or column, or an export this
    importer cannot read, raises ImportRefused with nothing written. ``progress(done, total)``,
    if given, hears how many rows have been read. ``scope`` (imports/scope.py) limits the schools
    the import may change.
    """
    if mode not in ("strict", "skip"):
        raise ValueError(f"mode must be 'strict' or 'skip', not {mode!r}")
    report = ImportReport()
    files = read_export(source, report)
    roster = Roster(files, district, report, progress=progress, scope=scope)
    with transaction.atomic():
        roster.read()
        if report.errors and mode == "strict":
            raise ImportRefused(report)
        write_roster(roster)
    return report
