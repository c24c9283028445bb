"""Assessment results from a plain CSV: one row per student per assessment.

The columns, accepted spellings and rules are documented in docs/imports.md; the downloadable
template is data_tracking/templates_csv/assessment_results_template.csv. Students must already
exist in the district; an assessment named for the first time is created. Each result is upserted
by (assessment, student), so importing the same file twice changes nothing.
"""

import functools
import operator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from data_tracking.models import Subject, Window
from teams.models import School

from .common import (
    NO_ROWS,
    TYPICAL_GROWTH_FIELDS,
    CsvFormatError,
    ImportRefused,
    ImportReport,
    gc_paused,
    header_key,
    iter_csv,
    parse_decimal,
    parse_grade,
    parse_school_year,
    parse_test_date,
    parse_typical_growth,
    school_year_of,
    score_problem,
)
from .results import (
    WHOLE_DISTRICT_FROM,
    Assessments,
    ResultRow,
    ResultWriter,
    chunked,
    district_students,
    find_students,
    level_for_label,
    level_for_score,
)
from .scope import DISTRICT_WIDE, OTHER_SCHOOL, STUDENT_ELSEWHERE

# Column → the header spellings accepted for it, compared by ``header_key`` (case, spaces,
# hyphens and underscores ignored).
COLUMNS = {
    "student_id": {"studentid", "studentnumber", "localid"},
    "assessment": {"assessment", "assessmentname", "test", "testname"},
    "subject": {"subject"},
    "window": {"window", "testwindow", "season"},
    "school_year": {"schoolyear", "academicyear"},
    "date": {"date", "testdate", "testedon"},
    "score": {"score", "scalescore", "scaledscore"},
    "performance_level": {"performancelevel", "level", "proficiencylevel", "achievementlevel"},
    # Where and in which grade the test was taken; without them, the student's current ones.
    "school": {"school", "schoolname"},
    "grade_at_test": {"gradeattest", "gradetested", "testgrade", "grade"},
    # The growth expected of the student from this test to a later window, one optional column
    # per span (NWEA's spelling, TypicalFallToSpringGrowth, too).
    "typical_fall_to_winter": {
        "typicalfalltowinter",
        "typicalfalltowintergrowth",
        "typicalgrowthfalltowinter",
    },
    "typical_fall_to_spring": {
        "typicalfalltospring",
        "typicalfalltospringgrowth",
        "typicalgrowthfalltospring",
    },
    "typical_winter_to_spring": {
        "typicalwintertospring",
        "typicalwintertospringgrowth",
        "typicalgrowthwintertospring",
    },
    "typical_spring_to_spring": {
        "typicalspringtospring",
        "typicalspringtospringgrowth",
        "typicalgrowthspringtospring",
    },
    "typical_fall_to_fall": {
        "typicalfalltofall",
        "typicalfalltofallgrowth",
        "typicalgrowthfalltofall",
    },
}
assert [*COLUMNS][-len(TYPICAL_GROWTH_FIELDS) :] == list(TYPICAL_GROWTH_FIELDS)  # _parse's order
REQUIRED = ("student_id", "assessment", "subject", "window", "score")

# Accepted values, compared in lower case with runs of spaces collapsed. "ELA" and "English
# language arts" are reading: the portal's reading dashboards are where ELA scores belong.
SUBJECTS = {
    "math": Subject.MATH,
    "maths": Subject.MATH,
    "mathematics": Subject.MATH,
    "reading": Subject.READING,
    "ela": Subject.READING,
    "english language arts": Subject.READING,
    "language arts": Subject.READING,
    "english": Subject.READING,
    "literacy": Subject.READING,
    "language": Subject.LANGUAGE,
    "language usage": Subject.LANGUAGE,
    "writing": Subject.LANGUAGE,
    "science": Subject.SCIENCE,
    "other": Subject.OTHER,
}
WINDOWS = {
    "fall": Window.FALL,
    "autumn": Window.FALL,
    "boy": Window.FALL,
    "beginning of year": Window.FALL,
    "winter": Window.WINTER,
    "moy": Window.WINTER,
    "middle of year": Window.WINTER,
    "spring": Window.SPRING,
    "eoy": Window.SPRING,
    "end of year": Window.SPRING,
}

SUBJECT_HINT = "use math, reading, language, science or other"
BLANK = "required, but blank"
MAX_STUDENT_ID = 64  # Student.local_id
STUDENT_FIELDS = ("id", "school_id", "grade")
MAX_NAME = 120  # Assessment.name


def import_results_csv(*, source, district, mode="strict", progress=None, scope=DISTRICT_WIDE):
    """Import every ``.csv`` in ``source`` (file name → bytes) into ``district``; returns the
    ImportReport. In "strict" mode any bad row means nothing is written; in "skip" mode the valid
    rows are. A missing column or an unreadable file raises ImportRefused in either mode.
    ``progress(done, total)`` is called after each chunk of rows. ``scope`` (imports/scope.py)
    limits the schools whose students' results the import may write."""
    report = ImportReport()
    sources = {name: data for name, data in sorted(source.items()) if name.lower().endswith(".csv")}
    if not sources:
        found = ", ".join(sorted(source)) or "the upload"
        report.error(found, 0, "", "there is no .csv file to import")
        raise ImportRefused(report)

    readers = []
    for name, data in sources.items():
        try:
            reader = iter_csv(data, name, report)
        except CsvFormatError as exc:
            report.error(name, exc.line, exc.column, exc.reason)
            continue
        readers.append((name, _find_columns(name, reader.header, report), reader))
    if report.errors:
        raise ImportRefused(report)
    # A typical-growth column no file has leaves the stored figure alone.
    typical = [f for f in TYPICAL_GROWTH_FIELDS if any(f in columns for _, columns, _ in readers)]

    with transaction.atomic(), gc_paused():
        run = _ResultsImport(
            district,
            strict=mode == "strict",
            report=report,
            progress=progress,
            scope=scope,
            typical_fields=typical,
        )
        run.total = sum(_line_count(data) - 1 for data in sources.values())
        for name, columns, reader in readers:
            run.read(name, columns, reader)
        run.finish()
        if report.errors and mode == "strict":
            raise ImportRefused(report)
    return report


class _Columns(dict):
    """``{column: (index, header as written)}`` for one file, and a getter of every column's
    value from a row in ``COLUMNS`` order (a column the file lacks reads as blank)."""

    def __init__(self, header):
        super().__init__()
        self.width = len(header)

    def ready(self):
        self.getter = operator.itemgetter(*(self[c][0] if c in self else -1 for c in COLUMNS))
        return self

    def written(self, column):
        return self[column][1] if column in self else column


def _find_columns(name, header, report):
    """The file's columns; reports missing and repeated ones."""
    spellings = {spelling: column for column, keys in COLUMNS.items() for spelling in keys}
    columns = _Columns(header)
    for index, written in enumerate(header):
        column = spellings.get(header_key(written))
        if column is None:
            continue  # extra columns are allowed and ignored
        if column in columns:
            report.error(name, 1, written, f"this is a second {column} column")
        else:
            columns[column] = (index, written)
    for column in REQUIRED:
        if column not in columns:
            report.error(name, 1, column, "this required column is missing")
    if not header:
        report.error(name, 0, "", "the file is empty")
    return columns.ready()


@dataclass(slots=True)
class _Parsed:
    line: int
    local_id: str
    assessment: str
    subject: str
    school_year: str
    window: str
    tested_on: object
    score: Decimal
    level_label: str
    school_name: str = ""
    grade: str = ""
    typical: tuple = ()  # in TYPICAL_GROWTH_FIELDS order


@functools.lru_cache(maxsize=512)
def _choice(value, choices):
    return dict(choices).get(" ".join(value.split()).casefold())


@functools.lru_cache(maxsize=1024)
def _collapse(value):
    return " ".join(value.split())


@functools.lru_cache(maxsize=8192)
def _decimal(value):
    return parse_decimal(value)


@functools.lru_cache(maxsize=4096)
def _date(value):
    return parse_test_date(value)


@functools.lru_cache(maxsize=256)
def _school_year(value):
    return parse_school_year(value)


SUBJECT_CHOICES = tuple(SUBJECTS.items())
WINDOW_CHOICES = tuple(WINDOWS.items())


class _ResultsImport:
    def __init__(
        self, district, *, strict, report, progress, scope=DISTRICT_WIDE, typical_fields=()
    ):
        self.district = district
        self.scope = scope
        self.school_names = None  # School pk → name, read with the first student found
        self.school_ids = {}  # school name (casefolded) → pk
        self.strict = strict
        self.report = report
        self.progress = progress
        self.assessments = Assessments(district)
        self.writer = ResultWriter(report, ["score", "level_rank", "tested_on", *typical_fields])
        self.seen = {}  # (assessment key, student id) → line that gave the result
        self.scales = {}  # (assessment, subject, school year, window) as written → its scale
        self.students = None  # every student of the district, read once for a large file
        self.total = 0
        self.done = 0

    @property
    def writing(self):
        return not (self.strict and self.report.errors)

    def read(self, name, columns, reader):
        try:
            for chunk in chunked(reader.rows()):
                self._import_chunk(name, columns, chunk)
        except CsvFormatError as exc:
            self.report.error(name, exc.line, exc.column, exc.reason)
            raise ImportRefused(self.report) from exc
        if not reader.seen:  # a header and nothing else: refused, so nobody mistakes it for done
            self.report.error(name, 0, "", NO_ROWS)
            raise ImportRefused(self.report)

    def finish(self):
        if self.writing:  # a strict import that found a problem is about to roll back anyway
            self.writer.finish()
            self.assessments.date_created()
        self.report.rows_total = self.done
        self.report.errors.sort(key=lambda error: (error.file, error.line))

    def _import_chunk(self, name, columns, chunk):
        parsed = [
            row for line, values in chunk if (row := self._parse(name, columns, line, values))
        ]
        if self.students is None and self.total >= WHOLE_DISTRICT_FROM:
            self.students = district_students(self.district, STUDENT_FIELDS)
        students = self.students or find_students(
            self.district, (r.local_id for r in parsed), STUDENT_FIELDS
        )
        rows = []
        for row in parsed:
            result = self._resolve(name, columns, row, students)
            if result is not None:
                rows.append(result)
        if rows and self.writing:
            for row in rows:
                self.assessments.save(row.assessment, self.report)
            self.writer.write(rows)
        self.done += len(chunk)
        if self.progress:
            self.progress(self.done, max(self.total, self.done))

    def _parse(self, name, columns, line, values):
        """The row's values checked one by one; every problem is reported, None if any."""
        errors_before = len(self.report.errors)
        values.append("")  # what a column missing from the file reads as (index -1)
        if len(values) <= columns.width:
            values.extend([""] * (columns.width - len(values) + 1))
        row = columns.getter(values)  # in COLUMNS order
        (
            local_id,
            assessment,
            subject,
            window,
            school_year,
            tested_on,
            score,
            level_label,
            school_name,
            grade,
            *typical,
        ) = row

        def fail(column, reason):
            self.report.error(name, line, columns.written(column), reason)

        if not local_id:
            fail("student_id", BLANK)
        elif len(local_id) > MAX_STUDENT_ID:
            fail("student_id", f"longer than {MAX_STUDENT_ID} characters")

        assessment = _collapse(assessment)
        if not assessment:
            fail("assessment", BLANK)
        elif len(assessment) > MAX_NAME:
            fail("assessment", f"longer than {MAX_NAME} characters")

        raw, subject = subject, _choice(subject, SUBJECT_CHOICES)
        if subject is None:
            fail("subject", f"“{raw}” is not a subject: {SUBJECT_HINT}" if raw else BLANK)

        raw, window = window, _choice(window, WINDOW_CHOICES)
        if window is None:
            fail("window", f"“{raw}” is not a window: use fall, winter or spring" if raw else BLANK)

        raw_date, raw_year = tested_on, school_year
        try:
            tested_on = _date(raw_date)
        except ValueError as exc:
            tested_on = None
            fail("date", str(exc))
        try:
            school_year = _school_year(raw_year)
        except ValueError as exc:
            school_year = None
            fail("school_year", str(exc))
        if tested_on and school_year and school_year_of(tested_on) != school_year:
            fail(
                "date",
                f"{tested_on:%Y-%m-%d} is in school year {school_year_of(tested_on)}, "
                f"not {school_year}",
            )
        elif tested_on and not school_year:
            school_year = school_year_of(tested_on)
        elif not raw_date and not raw_year:
            fail("school_year", "give the school year (e.g. 2026-2027) or the test date")

        try:
            score = _decimal(score)
        except ValueError as exc:
            fail("score", str(exc))
        else:
            if score is None:
                fail("score", BLANK)
            elif problem := score_problem(score):
                fail("score", problem)

        for index, field in enumerate(TYPICAL_GROWTH_FIELDS):
            try:
                typical[index] = parse_typical_growth(typical[index])
            except ValueError as exc:
                fail(field, str(exc))

        if len(self.report.errors) > errors_before:
            return None
        scale = self._scale(assessment, subject, school_year, window)
        if scale and (problem := score_problem(score, scale)):
            fail("score", problem)
            return None
        if grade:
            try:
                grade = parse_grade(grade)
            except ValueError as exc:
                fail("grade_at_test", str(exc))
                return None
        return _Parsed(
            line=line,
            school_name=_collapse(school_name),
            grade=grade,
            local_id=local_id,
            assessment=assessment,
            subject=subject,
            school_year=school_year,
            window=window,
            tested_on=tested_on,
            score=score,
            level_label=level_label,
            typical=tuple(typical),
        )

    def _scale(self, name, subject, school_year, window):
        """The scale the district's assessment states ("" for none, or a new assessment)."""
        key = (name, subject, school_year, window)
        if key not in self.scales:
            stored = self.assessments.by_key.get(self.assessments.key(*key))
            self.scales[key] = stored.scale if stored is not None else ""
        return self.scales[key]

    def _school_at_test(self, name, columns, row, student):
        """Where the test was taken: the file's school column, else the student's current school.
        None, having reported why, when that school is unknown or out of the import's scope."""
        if self.school_names is None:
            schools = School.objects.filter(district=self.district).values_list("pk", "name")
            self.school_names = dict(schools)
            self.school_ids = {name.casefold(): pk for pk, name in self.school_names.items()}
        if not self.scope.allows(student.school_id):
            # Even for a test taken at one of the uploader's schools: writing it would put a
            # student of another school, by name, on the uploader's pages.
            reason = STUDENT_ELSEWHERE.format(
                local_id=row.local_id, school=self.school_names[student.school_id]
            )
            self.report.error(name, row.line, columns.written("student_id"), reason)
            return None
        if row.school_name:
            school_id = self.school_ids.get(row.school_name.casefold())
            if school_id is None:
                reason = f"no school named “{row.school_name}” in {self.district}"
            elif not self.scope.allows(school_id):
                reason = OTHER_SCHOOL.format(school=self.school_names[school_id])
            else:
                self.report.add("results at the file's school")
                return school_id
            self.report.error(name, row.line, columns.written("school"), reason)
            return None
        self.report.add("results at the student's current school (no school given)")
        return student.school_id

    def _resolve(self, name, columns, row, students):
        """The row tied to its student and assessment, or None after reporting why not."""
        student = students.get(row.local_id)
        if student is None:
            self.report.error(
                name,
                row.line,
                columns.written("student_id"),
                f"no student with id {row.local_id} in {self.district}",
            )
            return None
        school_id = self._school_at_test(name, columns, row, student)
        if school_id is None:
            return None
        grade = row.grade or student.grade
        self.report.add(
            "results in the file's grade_at_test"
            if row.grade
            else "results in the student's current grade (no grade_at_test given)"
        )
        assessment, levels = self.assessments.get(
            row.assessment, row.subject, row.school_year, row.window
        )
        if row.level_label:
            try:
                if not levels:
                    raise ValueError(
                        f"{assessment} has no performance levels to match “{row.level_label}”: "
                        "define its levels and cut scores first, or leave this column blank"
                    )
                level_rank = level_for_label(levels, row.level_label)
            except ValueError as exc:
                self.report.error(name, row.line, columns.written("performance_level"), str(exc))
                return None
        else:
            level_rank = level_for_score(levels, row.score)
        key = (id(assessment), student.id)  # Assessments keeps one object per assessment
        first = self.seen.get(key)
        if first is not None:
            self.report.error(
                name,
                row.line,
                columns.written("student_id"),
                f"student {row.local_id} already has a result for {assessment} "
                f"on line {first[1]} of {first[0]}",
            )
            return None
        self.seen[key] = (name, row.line)
        return ResultRow(
            line=row.line,
            assessment=assessment,
            student_id=student.id,
            school_id=school_id,
            grade=grade,
            score=row.score,
            level_rank=level_rank,
            tested_on=row.tested_on,
            **dict(zip(TYPICAL_GROWTH_FIELDS, row.typical, strict=True)),
        )


def _line_count(data):
    return max(data.count(b"\n" if isinstance(data, bytes) else "\n"), 1)
