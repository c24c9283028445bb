"""``manage.py growth_report --district SLUG [--school-year YYYY-YYYY]``: growth as CSV."""

from django.core.management.base import BaseCommand, CommandError

from data_tracking.compile import district_growth, school_metrics
from data_tracking.growth import SPANS
from data_tracking.imports.common import parse_school_year
from data_tracking.models import GRADES, DashboardSnapshot, Section, Subject
from dl_portal.csv_export import csv_writer
from teams.models import District

Scope = DashboardSnapshot.Scope
COLUMNS = [
    "scope",
    "school",
    "grade",
    "section",
    "subject",
    "school_year",
    "span",
    "pairs",
    "not_matched",
    "median_change",
    "mean_change",
    "with_typical",
    "met_typical",
    "percent_met_typical",
]
FIGURES = COLUMNS[7:]
# Rows come district first, then school by school: the school, its grades, its classes.
SCOPE_ORDER = ["district", Scope.SCHOOL, Scope.GRADE, Scope.SECTION]
SPAN_ORDER = [span.name for span in SPANS]


class Command(BaseCommand):
    help = (
        "Write the district's growth table as CSV: one row per scope (the district, each school, "
        "grade and class), subject, school year and span, with the figures the dashboards show "
        "(docs/metrics.md). Computed now, by the compile's own code; a span belongs to the "
        "school year its end result was taken in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, metavar="SLUG", help="The district.")
        parser.add_argument(
            "--school-year",
            metavar="YYYY-YYYY",
            help="Only the spans that end in this school year (e.g. 2026-2027).",
        )

    def handle(self, *args, district, school_year=None, **options):
        found = District.objects.filter(slug=district).first()
        if found is None:
            raise CommandError(f"There is no district with the slug “{district}”.")
        if school_year is not None:
            try:
                school_year = parse_school_year(school_year)
            except ValueError as error:
                raise CommandError(f"--school-year: {error}") from None
        writer = csv_writer(self.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        rows = sorted(_rows(found, school_year), key=lambda keyed: keyed[0])
        writer.writerows(row for _order, row in rows)


def _rows(district, school_year):
    """``(sort key, CSV row)`` for every scope, subject, school year and span."""
    for (subject, year, span), figures in district_growth(
        district=district, school_year=school_year
    ).items():
        yield _row(("", "district", "", "", subject, year, span), figures, (-1, 0, 0, ""))
    for position, school in enumerate(district.schools.order_by("name")):
        computed = {
            key: metrics["growth"]
            for key, metrics in school_metrics(school=school).items()
            if key[0] != Scope.CASELOAD and school_year in (None, key[3]) and metrics["growth"]
        }
        sections = dict(
            Section.objects.filter(
                pk__in=[int(key[1]) for key in computed if key[0] == Scope.SECTION]
            ).values_list("pk", "name")
        )
        for (scope, scope_key, subject, year, _window), growth in computed.items():
            grade = scope_key if scope == Scope.GRADE else ""
            section = sections[int(scope_key)] if scope == Scope.SECTION else ""
            order = (position, SCOPE_ORDER.index(scope), GRADES.index(grade) if grade else 0)
            for span, figures in growth.items():
                yield _row(
                    (school.name, scope, grade, section, subject, year, span),
                    figures,
                    (*order, section),
                )


def _row(where, figures, order):
    school, scope, grade, section, subject, year, span = where
    row = [scope, school, grade, section, subject, year, span]
    row += [figures[name] for name in FIGURES]
    key = (*order, year, Subject.values.index(subject), SPAN_ORDER.index(span), section)
    return key, row
