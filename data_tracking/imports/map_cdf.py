"""NWEA MAP Growth Comprehensive Data File: test results, students and class assignments.

Each file is recognised by its header, whatever its name (map_files.py). Students are upserted by
StudentID; each test becomes the result of the district's "MAP Growth" assessment for its subject
and term, at the school on its own row, in the grade of that term's StudentsBySchool row, with
its class and teacher of record from ClassAssignments.csv (map_classes.py). A student with
several tests for one subject in one term keeps one, the way NWEA does: the growth-measure test
first, then the lowest standard error. docs/imports.md lists every column used and how values
are mapped.
"""

import functools
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from data_tracking.models import Student, Subject
from teams.models import School

from .common import (
    NO_ROWS,
    TYPICAL_GROWTH_FIELDS,
    CsvFormatError,
    ImportRefused,
    ImportReport,
    foreign_digits,
    foreign_digits_reason,
    gc_paused,
    parse_birth_date,
    parse_bool,
    parse_decimal,
    parse_grade,
    parse_school_year,
    parse_test_date,
    parse_typical_growth,
    score_problem,
)
from .map_classes import ClassesOfRecord
from .map_files import (
    CLASSES,
    GOAL_PARTS,
    GOALS,
    PROJECTION,
    RESULTS,
    STUDENTS,
    TYPICAL_COLUMNS,
    recognise,
)
from .results import (
    CHUNK_SIZE,
    WINDOW_ORDER,
    Assessments,
    ResultRow,
    ResultWriter,
    chunked,
    find_students,
    level_for_score,
)
from .scope import DISTRICT_WIDE, OTHER_SCHOOL, STUDENT_ELSEWHERE, STUDENT_MOVE

ASSESSMENT_NAME = "MAP Growth"
RESULTS_FILE = RESULTS.usual_name
STUDENTS_FILE = STUDENTS.usual_name

DISCIPLINES = {
    "mathematics": Subject.MATH,
    "math": Subject.MATH,
    "reading": Subject.READING,
    "language usage": Subject.LANGUAGE,
    "language": Subject.LANGUAGE,
    "science": Subject.SCIENCE,
    "general science": Subject.SCIENCE,
}
Ethnicity = Student.Ethnicity
# NWEA's ethnic groups (and the spellings districts' own exports use) → Student.Ethnicity.
DISCIPLINE_HINT = "Mathematics, Reading, Language Usage or Science"
ETHNIC_GROUPS = {
    "american indian or alaska native": Ethnicity.AMERICAN_INDIAN,
    "american indian or alaskan native": Ethnicity.AMERICAN_INDIAN,
    "asian": Ethnicity.ASIAN,
    "black or african american": Ethnicity.BLACK,
    "black": Ethnicity.BLACK,
    "hispanic or latino": Ethnicity.HISPANIC,
    "hispanic": Ethnicity.HISPANIC,
    "native hawaiian or other pacific islander": Ethnicity.PACIFIC_ISLANDER,
    "pacific islander": Ethnicity.PACIFIC_ISLANDER,
    "white": Ethnicity.WHITE,
    "multi-ethnic": Ethnicity.MULTIRACIAL,
    "multiethnic": Ethnicity.MULTIRACIAL,
    "multiracial": Ethnicity.MULTIRACIAL,
    "two or more races": Ethnicity.MULTIRACIAL,
    "not specified or other": Ethnicity.UNKNOWN,
    "": Ethnicity.UNKNOWN,
}
GENDERS = {
    "f": Student.Gender.FEMALE,
    "female": Student.Gender.FEMALE,
    "m": Student.Gender.MALE,
    "male": Student.Gender.MALE,
    "x": Student.Gender.NONBINARY,
    "non-binary": Student.Gender.NONBINARY,
    "nonbinary": Student.Gender.NONBINARY,
    "": Student.Gender.UNKNOWN,
}
TERM_PATTERN = re.compile(r"^(fall|winter|spring|summer)\s+(\S.*)$", re.IGNORECASE)
SUMMER = 3  # after spring, in NWEA's order of terms
STUDENT_FIELDS = ["school", "first_name", "last_name", "grade", "birth_date", "gender", "ethnicity"]
STUDENT_ATTRIBUTES = ["school_id", *STUDENT_FIELDS[1:]]
WINDOWS_BY_ORDER = {order: window for window, order in WINDOW_ORDER.items()}
MAX_STUDENT_ID = 64
MAX_NAME = 100
# Bounds of a MAP test (docs/imports.md); the RIT scale's are common.SCALE_RANGES["rit"].
PERCENTILES = (1, 99)  # NWEA's norms give percentiles 1 to 99
MAX_STANDARD_ERROR = Decimal(20)  # RIT; a completed test's is about 3
MAX_GOAL_NAME, MAX_ADJECTIVE, MAX_STUDY, MAX_LEVEL = 120, 40, 120, 60


def import_map_cdf(*, source, district, mode="strict", progress=None, scope=DISTRICT_WIDE):
    """Import a MAP CDF (``source``: file name → bytes, as unpacked from a folder or zip) into
    ``district``; returns the ImportReport. Files are told by their header (map_files.py); those
    the portal does not use are counted as such. Without a students file the students must
    already exist. "strict" writes nothing when any row is wrong; "skip" writes the valid rows.
    A missing file or column raises ImportRefused in either mode. ``scope`` (imports/scope.py)
    limits the schools the import may change."""
    report = ImportReport()
    files = recognise(source, report)
    if report.errors:
        raise ImportRefused(report)

    with transaction.atomic(), gc_paused():
        run = _MapImport(
            district, strict=mode == "strict", report=report, progress=progress, scope=scope
        )
        run.total = sum(file[3] for kind_files in files.values() for file in kind_files)
        for file in files[STUDENTS]:
            run.read_students(*file[:3])
        for file in files[CLASSES]:
            run.read_classes(*file[:3])
        for file in files[RESULTS]:
            run.read_results(*file[:3])
        run.check_and_write()
        if report.errors and mode == "strict":
            raise ImportRefused(report)
    return report


@functools.lru_cache(maxsize=64)
def parse_term(value):
    """ "Fall 2026-2027" as (school year, window order); ValueError otherwise."""
    match = TERM_PATTERN.match(" ".join(value.split()))
    if not match:
        raise ValueError(f"“{value}” is not a MAP term (expected e.g. Fall 2026-2027)")
    season = match[1].lower()
    school_year = parse_school_year(match[2])
    order = SUMMER if season == "summer" else WINDOW_ORDER[season]
    return school_year, order


@functools.lru_cache(maxsize=4096)
def _date(value):
    return parse_test_date(value)


@functools.lru_cache(maxsize=4096)
def _birth_date(value):
    return parse_birth_date(value)


@functools.lru_cache(maxsize=1024)
def _typical_growth(value):
    return parse_typical_growth(value)


def _rit(value):
    """A RIT score: a number within the RIT scale (common.SCALE_RANGES)."""
    score = parse_decimal(value)
    if score is not None and (problem := score_problem(score, "RIT")):
        raise ValueError(problem)
    return score


def _standard_error(value):
    error = parse_decimal(value, max_digits=6)
    if error is not None and not 0 < error <= MAX_STANDARD_ERROR:
        raise ValueError(
            f"“{value}” is not a standard error of a MAP test (above 0, at most "
            f"{MAX_STANDARD_ERROR} RIT)"
        )
    return error


def _subject(discipline, scale):
    """The subject from Discipline, or from MeasurementScale ("Mathematics: Math K-12")."""
    if discipline:
        return DISCIPLINES.get(" ".join(discipline.split()).casefold())
    prefix = scale.split(":", 1)[0].split(" - ", 1)[0]
    for name, subject in DISCIPLINES.items():
        if " ".join(prefix.split()).casefold() == name:
            return subject
    return None


@dataclass(slots=True)
class _StudentRow:
    line: int
    term: tuple | None
    school_id: int
    first_name: str
    last_name: str
    grade: str
    birth_date: object
    gender: str
    ethnicity: str

    def values(self):
        return tuple(getattr(self, name) for name in STUDENT_ATTRIBUTES)


@dataclass(frozen=True)
class _ResultsFile:
    """A results file: its columns, and which of the optional ones it has."""

    name: str
    columns: dict  # column → (index, header as written)
    typical: tuple  # its Typical*Growth columns
    goals: tuple  # n of its Goal{n}… columns
    projections: tuple  # n of its ProjectedProficiency…{n} columns, as written


@dataclass(slots=True)
class _Test:
    line: int
    local_id: str
    term: tuple  # (school year, order of the term), as parse_term gives it
    school_id: int | None  # the school on the test's own row; None when the file has no column
    subject: str
    school_year: str
    window: str
    growth: bool
    score: object
    standard_error: object
    percentile: int | None
    tested_on: object
    source: int = 0  # which results file: _MapImport.result_files[source]
    typical: tuple = ()  # in TYPICAL_GROWTH_FIELDS order
    goals: list = None
    projections: list = None

    def rank(self):
        """Lower is kept: the growth-measure test first, then the lowest standard error."""
        error = math.inf if self.standard_error is None else self.standard_error
        return (not self.growth, error)


class _MapImport:
    def __init__(self, district, *, strict, report, progress, scope=DISTRICT_WIDE):
        self.district = district
        self.scope = scope
        self.strict = strict
        self.report = report
        self.progress = progress
        self.assessments = Assessments(district, scale="RIT")
        self.newest_term = self.assessments.newest_term()  # before this import adds any
        schools = School.objects.filter(district=district).values_list("pk", "name")
        self.school_names = dict(schools)
        self.schools = {name.casefold(): pk for pk, name in self.school_names.items()}
        self.students_file, self.school_column = STUDENTS_FILE, "SchoolName"
        self.students_given = False  # whether the upload has a students file
        self.classes = None  # ClassesOfRecord, when the upload has ClassAssignments.csv
        self.result_files = []  # _ResultsFile of each results file, in the order read
        self.result_fields = set()  # the optional AssessmentResult fields the files supply
        self.students = {}  # local id → _StudentRow to upsert
        self.grades_by_term = {}  # (local id, term) → the grade StudentsBySchool gives
        self.refused_students = set()  # local ids whose StudentsBySchool rows all had problems
        self.tests = {}  # (local id, subject, school year, window) → _Test kept
        self.total = self.done = 0
        report.add("tests set aside as duplicates", 0)

    def _advance(self, rows):
        self.done += rows
        if self.progress:
            self.progress(self.done, max(self.total, self.done))

    def _read(self, name, reader, parse, *, rows_required=True):
        try:
            for chunk in chunked(reader.rows()):
                for line, values in chunk:
                    parse(line, values)
                self._advance(len(chunk))
        except CsvFormatError as exc:
            self.report.error(name, exc.line, exc.column, exc.reason)
            raise ImportRefused(self.report) from exc
        if rows_required and not reader.seen:
            # A header and nothing else: refused, so nobody mistakes it for done.
            self.report.error(name, 0, "", NO_ROWS)
            raise ImportRefused(self.report)

    # StudentsBySchool.csv

    def read_students(self, name, columns, rows):
        if not self.students_given:
            self.students_file, self.school_column = name, columns["SchoolName"][1]
        self.students_given = True
        self._read(name, rows, functools.partial(self._student_row, name, columns))
        self.refused_students -= self.students.keys()

    def _student_row(self, name, columns, line, values):
        errors_before = len(self.report.errors)
        value, fail = self._accessors(name, columns, line, values)

        local_id = value("StudentID")
        if not local_id:
            fail("StudentID", "required, but blank")
        elif len(local_id) > MAX_STUDENT_ID:
            fail("StudentID", f"longer than {MAX_STUDENT_ID} characters")
        school_name = " ".join(value("SchoolName").split())
        school_id = self.schools.get(school_name.casefold())
        if not school_name:
            fail("SchoolName", "required, but blank")
        elif school_id is None:
            fail("SchoolName", self._unknown_school(school_name))
        elif not self.scope.allows(school_id):
            fail("SchoolName", OTHER_SCHOOL.format(school=self.school_names[school_id]))
        names = {}
        for column in ("StudentFirstName", "StudentLastName"):
            names[column] = " ".join(value(column).split())
            if not names[column]:
                fail(column, "required, but blank")
            elif len(names[column]) > MAX_NAME:
                fail(column, f"longer than {MAX_NAME} characters")
        grade = term = birth_date = None
        try:
            grade = parse_grade(value("Grade"), nwea=True)
        except ValueError as exc:
            fail("Grade", str(exc))
        try:
            birth_date = _birth_date(value("StudentDateOfBirth"))
        except ValueError as exc:
            fail("StudentDateOfBirth", str(exc))
        if value("TermName"):
            try:
                term = parse_term(value("TermName"))
            except ValueError as exc:
                fail("TermName", str(exc))
        if len(self.report.errors) > errors_before:
            if local_id:
                self.refused_students.add(local_id)
            return
        ethnicity = ETHNIC_GROUPS.get(" ".join(value("StudentEthnicGroup").split()).casefold())
        if ethnicity is None:
            self.report.add("ethnic groups not recognised (recorded as not reported)")
            ethnicity = Ethnicity.UNKNOWN
        gender = GENDERS.get(value("StudentGender").casefold())
        if gender is None:
            self.report.add("genders not recognised (recorded as not reported)")
            gender = Student.Gender.UNKNOWN
        row = _StudentRow(
            line=line,
            term=term,
            school_id=school_id,
            first_name=names["StudentFirstName"],
            last_name=names["StudentLastName"],
            grade=grade,
            birth_date=birth_date,
            gender=gender,
            ethnicity=ethnicity,
        )
        if row.term:
            # The grade the student was in that term: their tests of the term belong to it.
            self.grades_by_term[local_id, row.term] = row.grade
        current = self.students.get(local_id)
        # A student listed in several terms or schools takes the latest term, then the last line.
        if current is None or (row.term or ("", -1)) >= (current.term or ("", -1)):
            self.students[local_id] = row

    # ClassAssignments.csv

    def read_classes(self, name, columns, rows):
        if self.classes is None:
            self.classes = ClassesOfRecord(self.district, self.schools)

        def class_row(line, values):
            value, fail = self._accessors(name, columns, line, values)
            self.classes.read_row(value, fail, parse_term)

        # A header alone is fine here: NWEA writes one when the district rosters no classes.
        self._read(name, rows, class_row, rows_required=False)

    # AssessmentResults.csv

    def read_results(self, name, columns, rows):
        projections = {
            match[2] for column in columns if (match := PROJECTION.match(column.lower()))
        }
        file = _ResultsFile(
            name,
            columns,
            typical=tuple(column for column in TYPICAL_COLUMNS if column in columns),
            goals=tuple(n for n in GOALS if any(f"Goal{n}{p}" in columns for p in GOAL_PARTS)),
            projections=tuple(sorted(projections, key=int)),
        )
        self.result_files.append(file)
        self.result_fields.update(TYPICAL_COLUMNS[column] for column in file.typical)
        if file.goals:
            self.result_fields.add("goals")
        if file.projections:
            self.result_fields.add("projections")
        source = len(self.result_files) - 1
        self._read(name, rows, functools.partial(self._result_row, file, source))

    def _result_row(self, file, source, line, values):
        errors_before = len(self.report.errors)
        name, columns = file.name, file.columns
        value, fail = self._accessors(name, columns, line, values)

        local_id = value("StudentID")
        if not local_id:
            fail("StudentID", "required, but blank")
        term = None
        try:
            term = parse_term(value("TermName"))
        except ValueError as exc:
            fail("TermName", str(exc))
        subject = _subject(value("Discipline"), value("MeasurementScale"))
        if subject is None:
            column = "Discipline" if "Discipline" in columns else "MeasurementScale"
            shown = value("Discipline") or value("MeasurementScale")
            fail(column, f"“{shown}” is not a MAP subject the portal tracks ({DISCIPLINE_HINT})")
        parsed = {}
        for column, parse in (
            ("GrowthMeasureYN", parse_bool),
            ("TestStartDate", _date),
            ("TestRITScore", _rit),
            ("TestStandardError", _standard_error),
            ("TestPercentile", _percentile),
        ):
            try:
                parsed[column] = parse(value(column))
            except ValueError as exc:
                fail(column, str(exc))
        if "TestRITScore" in parsed and parsed["TestRITScore"] is None:
            fail("TestRITScore", "required, but blank")
        typical = dict.fromkeys(TYPICAL_GROWTH_FIELDS)
        for column in file.typical:
            try:
                typical[TYPICAL_COLUMNS[column]] = _typical_growth(value(column))
            except ValueError as exc:
                fail(column, str(exc))
        goals = _goals(value, fail, file.goals)
        projections = _projections(value, fail, file.projections)
        school_id = None
        if school_name := " ".join(value("SchoolName").split()):
            # A test belongs to the school on its own row, wherever the student is now.
            school_id = self.schools.get(school_name.casefold())
            if school_id is None:
                fail("SchoolName", self._unknown_school(school_name))
            elif not self.scope.allows(school_id):
                fail("SchoolName", OTHER_SCHOOL.format(school=self.school_names[school_id]))

        if len(self.report.errors) > errors_before:
            return
        school_year, order = term
        if order == SUMMER:
            self.report.add("summer-term tests set aside")
            return
        test = _Test(
            line=line,
            local_id=local_id,
            term=term,
            school_id=school_id,
            subject=subject,
            school_year=school_year,
            window=WINDOWS_BY_ORDER[order],
            growth=parsed["GrowthMeasureYN"],
            score=parsed["TestRITScore"],
            standard_error=parsed["TestStandardError"],
            percentile=parsed["TestPercentile"],
            tested_on=parsed["TestStartDate"],
            source=source,
            typical=tuple(typical.values()),
            goals=goals,
            projections=projections,
        )
        key = (local_id, subject, school_year, test.window)
        kept = self.tests.get(key)
        if kept is not None:
            self.report.add("tests set aside as duplicates")
            if test.rank() >= kept.rank():  # a tie keeps the earlier line
                return
        self.tests[key] = test

    def _accessors(self, name, columns, line, values):
        def value(column):
            index = columns[column][0] if column in columns else len(values)
            return values[index] if index < len(values) else ""

        def fail(column, reason):
            written = columns[column][1] if column in columns else column
            self.report.error(name, line, written, reason)

        return value, fail

    # Checking references, then writing

    def check_and_write(self):
        local_ids = self.students.keys() | {key[0] for key in self.tests}
        stored = find_students(self.district, local_ids, fields=("id", *STUDENT_ATTRIBUTES))
        self._refuse_moves(stored)
        known = stored.keys() | self.students.keys()
        tests = sorted(self.tests.values(), key=lambda test: (test.source, test.line))
        refused = set()  # (file, line) of tests not to write
        for test in tests:
            if test.local_id not in known:
                reason = self._unknown_student(test.local_id)
            elif not self.scope.allows(school_id := self._school_of(test.local_id, stored)):
                # Even a test taken at one of the uploader's schools: writing it would put a
                # student of another school, by name, on the uploader's pages.
                reason = STUDENT_ELSEWHERE.format(
                    local_id=test.local_id, school=self.school_names[school_id]
                )
            else:
                continue
            refused.add((test.source, test.line))
            file = self.result_files[test.source]
            self.report.error(file.name, test.line, file.columns["StudentID"][1], reason)
        self.report.rows_total = self.done
        self.report.errors.sort(key=lambda error: (error.file, error.line))
        if self.strict and self.report.errors:
            return

        self._write_students(stored)
        students = find_students(
            self.district, {test.local_id for test in tests}, fields=("id", "school_id", "grade")
        )
        fields = ["score", "level_rank", "percentile", "standard_error", "tested_on"]
        if self.classes is not None:
            fields += ["section_id", "teacher_id"]
            self.classes.load()
        # A column the files lack leaves the stored value alone.
        fields += [field for field in TYPICAL_GROWTH_FIELDS if field in self.result_fields]
        fields += [field for field in ("goals", "projections") if field in self.result_fields]
        writer = ResultWriter(self.report, fields)
        fallbacks = {"school": 0, "grade": 0}
        kept = (
            test
            for test in tests
            if test.local_id in students and (test.source, test.line) not in refused
        )
        for chunk in chunked(kept):
            rows = []
            for test in chunk:
                assessment, levels = self.assessments.get(
                    ASSESSMENT_NAME, test.subject, test.school_year, test.window
                )
                self.assessments.save(assessment, self.report)
                student = students[test.local_id]
                school_id, grade = self._placed(test, student, fallbacks)
                section_id = teacher_id = None
                if self.classes is not None:
                    section_id, teacher_id = self.classes.place(
                        local_id=test.local_id,
                        term=test.term,
                        school_id=school_id,
                        school_year=test.school_year,
                        subject=test.subject,
                    )
                rows.append(
                    ResultRow(
                        line=test.line,
                        assessment=assessment,
                        student_id=student.id,
                        school_id=school_id,
                        grade=grade,
                        score=test.score,
                        level_rank=level_for_score(levels, test.score),
                        percentile=test.percentile,
                        standard_error=test.standard_error,
                        tested_on=test.tested_on,
                        section_id=section_id,
                        teacher_id=teacher_id,
                        goals=test.goals,
                        projections=test.projections,
                        **dict(zip(TYPICAL_GROWTH_FIELDS, test.typical, strict=True)),
                    )
                )
            writer.write(rows)
        writer.finish()
        self.assessments.date_created()
        if fallbacks["school"]:
            label = "results placed at the student's current school (the test row names none)"
            self.report.add(label, fallbacks["school"])
        if fallbacks["grade"]:
            label = (
                f"results given the student's current grade (no {STUDENTS_FILE} row of the term)"
            )
            self.report.add(label, fallbacks["grade"])
        if self.classes is not None:
            self.classes.add_counts(self.report)

    def _unknown_school(self, name):
        return (
            f"no school named “{name}” in {self.district}: import the roster (or add the "
            "school) first, or correct the name"
        )

    def _unknown_student(self, local_id):
        """Why a test's student cannot be found, and what to do about it."""
        reason = f"no student with id {local_id} in {self.district}"
        if local_id in self.refused_students:
            return f"{reason} (their {STUDENTS_FILE} row was not imported)"
        if not self.students_given:
            return (
                f"{reason}: add {STUDENTS_FILE} from the same NWEA export, or import the roster "
                "first"
            )
        return (
            f"{reason}, and {self.students_file} does not list them: export it for the same "
            "terms and schools as the results, or import the roster first"
        )

    def _placed(self, test, student, fallbacks):
        """Where and in which grade the test was taken: the school on the test's own row and the
        grade of that term's StudentsBySchool row; else the student's current ones (counted)."""
        school_id, grade = test.school_id, self.grades_by_term.get((test.local_id, test.term))
        if school_id is None:
            school_id = student.school_id
            fallbacks["school"] += 1
        if grade is None:
            grade = student.grade
            fallbacks["grade"] += 1
        return school_id, grade

    def _school_of(self, local_id, stored):
        """The school the student will be at once this file is written."""
        row = self.students.get(local_id)
        return row.school_id if row is not None else stored[local_id].school_id

    def _refuse_moves(self, stored):
        """A limited import never moves a student who is already at another school."""
        if self.scope.district_wide:
            return
        for local_id, row in list(self.students.items()):
            student = stored.get(local_id)
            if student is None or student.school_id == row.school_id or self._is_older(row):
                continue
            reason = STUDENT_MOVE.format(
                local_id=local_id,
                current=self.school_names[student.school_id],
                new=self.school_names[row.school_id],
            )
            self.report.error(self.students_file, row.line, self.school_column, reason)
            del self.students[local_id]
            self.refused_students.add(local_id)

    def _is_older(self, row):
        """An older term's row never moves or changes the student (see ``_write_students``)."""
        return bool(self.newest_term and row.term and row.term < self.newest_term)

    def _write_students(self, stored):
        counts = dict.fromkeys(("students created", "students updated", "students unchanged"), 0)
        changed = []
        for local_id, row in self.students.items():
            student = stored.get(local_id)
            if student is not None:
                before = tuple(getattr(student, name) for name in STUDENT_ATTRIBUTES)
                if before == row.values():
                    counts["students unchanged"] += 1
                    continue
                if self._is_older(row):
                    # An older term's grade and school would move the student back in time.
                    self.report.add("students not updated (from an older term)")
                    continue
                counts["students updated"] += 1
                self.report.schools_touched.add(student.school_id)
            else:
                counts["students created"] += 1
            self.report.schools_touched.add(row.school_id)
            changed.append(
                Student(
                    district=self.district,
                    local_id=local_id,
                    school_id=row.school_id,
                    first_name=row.first_name,
                    last_name=row.last_name,
                    grade=row.grade,
                    birth_date=row.birth_date,
                    gender=row.gender,
                    ethnicity=row.ethnicity,
                )
            )
        if self.students:
            for label, number in counts.items():
                self.report.add(label, number)
        if changed:
            Student.objects.bulk_create(
                changed,
                batch_size=CHUNK_SIZE,
                update_conflicts=True,
                unique_fields=["district", "local_id"],
                update_fields=STUDENT_FIELDS,
            )


def _percentile(value):
    """NWEA's percentile: a whole number from 1 to 99; None for a blank."""
    if not value:
        return None
    if foreign_digits(value):
        raise ValueError(foreign_digits_reason(value))
    low, high = PERCENTILES
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ValueError(f"“{value}” is not a percentile (a whole number from {low} to {high})")
    return int(value)


def _goals(value, fail, numbers):
    """The goal (strand) scores of a test row, in the file's order: [{name, rit, adjective}]."""
    goals = []
    for n in numbers:
        name, rit, adjective = (value(f"Goal{n}{part}") for part in GOAL_PARTS)
        if name or rit or adjective:
            goal, problems = _goal(name, rit, adjective)
            for part, reason in problems:
                fail(f"Goal{n}{part}", reason)
            goals.append(goal)
    return goals


@functools.lru_cache(maxsize=8192)
def _goal(name, rit, adjective):
    """One goal area as stored, and its problems as (column part, reason). Goal areas repeat
    from row to row, so each is read once; the dict is shared, and never changed."""
    problems = []
    name = " ".join(name.split())
    if len(name) > MAX_GOAL_NAME:
        problems.append(("Name", f"longer than {MAX_GOAL_NAME} characters"))
    try:
        rit = _json_number(_rit(rit))
    except ValueError as exc:
        problems.append(("RitScore", str(exc)))
        rit = None
    if len(adjective) > MAX_ADJECTIVE:
        problems.append(("Adjective", f"longer than {MAX_ADJECTIVE} characters"))
    return {"name": name, "rit": rit, "adjective": adjective}, tuple(problems)


def _projections(value, fail, numbers):
    """ProjectedProficiencyStudy{n} and …Level{n}, as the file states them: [{study, level}]."""
    projections = []
    for n in numbers:
        study = " ".join(value(f"ProjectedProficiencyStudy{n}").split())
        level = " ".join(value(f"ProjectedProficiencyLevel{n}").split())
        if not (study or level):
            continue
        if len(study) > MAX_STUDY:
            fail(f"ProjectedProficiencyStudy{n}", f"longer than {MAX_STUDY} characters")
        if len(level) > MAX_LEVEL:
            fail(f"ProjectedProficiencyLevel{n}", f"longer than {MAX_LEVEL} characters")
        projections.append({"study": study, "level": level})
    return projections


def _json_number(number):
    """A Decimal as JSON can hold it: a whole number as int, else a float (two decimals)."""
    if number is None:
        return None
    return int(number) if number == number.to_integral_value() else float(number)
