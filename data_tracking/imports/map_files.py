"""The files of an NWEA MAP Comprehensive Data File: their columns, and which one each uploaded
file is, told by its header.

Exports arrive renamed (``CombinedAssessmentResults.csv``, ``AssessmentResults_2024.csv``) and
beside files the portal does not use, so a file is recognised by the columns it has; its name
only helps when the header is damaged. docs/imports.md lists the files and their columns.
"""

import re
from dataclasses import dataclass

from .common import NAME_LIMIT, TYPICAL_GROWTH_FIELDS, CsvFormatError, header_key, iter_csv, shown
from .map_classes import CLASS_COLUMNS, REQUIRED_CLASS_COLUMNS


@dataclass(frozen=True)
class CdfFile:
    """A kind of file in the CDF: ``signature`` are the columns (compared by ``header_key``) that
    make a file this kind; ``pattern`` a column name pattern it must also have; ``own`` the
    columns no other kind has, which tell a damaged header of this kind."""

    usual_name: str
    what: str
    signature: tuple
    own: tuple = ()
    pattern: str = ""
    other_names: tuple = ()
    used: bool = True

    def matches(self, keys):
        if not all(header_key(column) in keys for column in self.signature):
            return False
        return not self.pattern or any(re.search(self.pattern, key) for key in keys)

    def named_in(self, name):
        stem = header_key(name.rsplit(".", 1)[0])
        return any(header_key(usual.rsplit(".", 1)[0]) in stem for usual in self.names)

    @property
    def names(self):
        return (self.usual_name, *self.other_names)


RESULTS = CdfFile(
    "AssessmentResults.csv",
    "test results",
    signature=("TermName", "StudentID", "TestRITScore"),
    own=(
        "MeasurementScale",
        "Discipline",
        "GrowthMeasureYN",
        "TestType",
        "TestName",
        "TestID",
        "TestStartDate",
        "TestRITScore",
        "TestStandardError",
        "TestPercentile",
    ),
)
STUDENTS = CdfFile(
    "StudentsBySchool.csv",
    "students",
    signature=("StudentFirstName", "Grade"),
    own=(
        "StudentLastName",
        "StudentFirstName",
        "StudentMI",
        "StudentDateOfBirth",
        "StudentEthnicGroup",
        "StudentGender",
        "Grade",
    ),
    other_names=("StudentBySchool.csv",),
)
CLASSES = CdfFile(
    "ClassAssignments.csv",
    "class assignments",
    signature=("StudentID", "ClassName"),
    own=("ClassName", "TeacherName", "TeacherID", "TeacherFirstName", "TeacherLastName"),
)
PROGRAMS = CdfFile(
    "ProgramAssignments.csv",
    "program assignments",
    signature=("StudentID",),
    pattern=r"^program",
    used=False,
)
ACCOMMODATIONS = CdfFile(
    "AccommodationAssignment.csv",
    "test accommodations",
    signature=("StudentID",),
    pattern=r"accommodation",
    other_names=("StudentTestAccommodations.csv",),
    used=False,
)
# In this order: a file with the columns of several kinds (NWEA's single-file Combined Data File
# has the students' columns too) is the first.
KINDS = (RESULTS, STUDENTS, CLASSES, PROGRAMS, ACCOMMODATIONS)
CSV_SUFFIXES = (".csv", ".txt")
UNKNOWN = (
    "not used (not a file of the CDF: it has no TestRITScore, StudentFirstName or ClassName column)"
)


def is_csv(name):
    return name.casefold().endswith(CSV_SUFFIXES)


def kind_by_name(name):
    """The kind a file's name says it is (``AssessmentResults_2024.csv`` is results), or None."""
    return next((kind for kind in KINDS if kind.named_in(name)), None)


def kind_by_header(name, header):
    """The kind of file ``header`` makes ``name``, or None. A header with all of a kind's
    signature is that kind; a damaged one (a required column renamed) is the kind it has at
    least two own columns of, else the kind its name says, so its missing columns are reported
    rather than the file set aside."""
    keys = {header_key(column) for column in header}
    for kind in KINDS:
        if kind.matches(keys):
            return kind
    counted = [(sum(header_key(c) in keys for c in kind.own), kind) for kind in KINDS]
    best, kind = max(counted, key=lambda pair: pair[0])  # the first kind on a tie
    if best >= 2:
        return kind
    return kind_by_name(name)


# The columns the portal reads from each file (compared by ``header_key``).

# NWEA's typical growth from this test to a later term → AssessmentResult's field.
TYPICAL_COLUMNS = {
    "TypicalFallToWinterGrowth": "typical_fall_to_winter",
    "TypicalFallToSpringGrowth": "typical_fall_to_spring",
    "TypicalWinterToSpringGrowth": "typical_winter_to_spring",
    "TypicalSpringToSpringGrowth": "typical_spring_to_spring",
    "TypicalFallToFallGrowth": "typical_fall_to_fall",
}
assert set(TYPICAL_COLUMNS.values()) == set(TYPICAL_GROWTH_FIELDS)
GOALS = range(1, 9)  # Goal1… to Goal8… (Goal{n}StdErr and Goal{n}Range are not kept)
GOAL_PARTS = ("Name", "RitScore", "Adjective")
GOAL_COLUMNS = tuple(f"Goal{n}{part}" for n in GOALS for part in GOAL_PARTS)
# ProjectedProficiencyStudy{n} and ProjectedProficiencyLevel{n}, however many the file has.
PROJECTION = re.compile(r"^projectedproficiency(study|level)([0-9]{1,2})$")
RESULT_COLUMNS = (
    "TermName",
    "StudentID",
    "SchoolName",
    "Discipline",
    "MeasurementScale",
    "GrowthMeasureYN",
    "TestStartDate",
    "TestRITScore",
    "TestStandardError",
    "TestPercentile",
    *TYPICAL_COLUMNS,
    *GOAL_COLUMNS,
)
REQUIRED_RESULT_COLUMNS = ("TermName", "StudentID", "TestRITScore")  # and a subject column
SUBJECT_COLUMNS = ("Discipline", "MeasurementScale")  # one of them is needed
STUDENT_COLUMNS = (
    "TermName",
    "SchoolName",
    "StudentLastName",
    "StudentFirstName",
    "StudentID",
    "StudentDateOfBirth",
    "StudentEthnicGroup",
    "StudentGender",
    "Grade",
)
REQUIRED_STUDENT_COLUMNS = (
    "SchoolName",
    "StudentLastName",
    "StudentFirstName",
    "StudentID",
    "Grade",
)


COLUMNS = {
    RESULTS: (RESULT_COLUMNS, REQUIRED_RESULT_COLUMNS),
    STUDENTS: (STUDENT_COLUMNS, REQUIRED_STUDENT_COLUMNS),
    CLASSES: (CLASS_COLUMNS, REQUIRED_CLASS_COLUMNS),
}


def recognise(source, report):
    """``{kind: [(name, columns, reader, lines)]}`` for the files the portal reads, each told by
    its header; every other file is counted as not used, every problem with a file it reads
    reported (with line 0 or 1: the import is then refused)."""
    files = {kind: [] for kind in COLUMNS}
    results_seen = False
    for name, data in sorted(source.items()):
        label = shown(name, NAME_LIMIT)
        if not is_csv(name):
            kind = kind_by_name(name)
            hint = ": save it as CSV to import it" if kind is not None and kind.used else ""
            report.add(f"{label}: not used (not a CSV file{hint})")
            continue
        try:
            reader = iter_csv(data, name, report)
        except CsvFormatError as exc:
            kind = kind_by_name(name)
            if kind is None or not kind.used:
                report.add(f"{label}: not used (it cannot be read as CSV)")
            else:
                results_seen |= kind is RESULTS
                report.error(name, exc.line, exc.column, exc.reason)
            continue
        kind = kind_by_header(name, reader.header)
        if kind is None:
            report.add(f"{label}: {UNKNOWN}")
            continue
        if not kind.used:
            report.add(f"{label}: not used ({kind.what})")
            continue
        results_seen |= kind is RESULTS
        wanted, required = COLUMNS[kind]
        if kind is RESULTS:
            wanted = (*wanted, *_projection_columns(reader.header))
        columns = find_columns(name, reader.header, wanted, required, report)
        if kind is RESULTS and not any(column in columns for column in SUBJECT_COLUMNS):
            report.error(name, 1, SUBJECT_COLUMNS[0], "this required column is missing")
        files[kind].append((name, columns, reader, data.count(b"\n")))
    if not results_seen:
        held = ", ".join(sorted(shown(name) for name in source)) or "nothing"
        report.error(
            RESULTS.usual_name,
            0,
            "",
            f"the upload has no test results: no file has the columns TermName, StudentID and "
            f"TestRITScore (it holds: {held}). Add {RESULTS.usual_name} from the same NWEA export, "
            "under any name",
        )
    return files


def _projection_columns(header):
    """ProjectedProficiencyStudy{n} and …Level{n} as NWEA spells them, for each the header has."""
    names = []
    for written in header:
        if match := PROJECTION.match(header_key(written)):
            names.append(f"ProjectedProficiency{match[1].title()}{match[2]}")
    return names


def find_columns(name, header, wanted, required, report):
    keys = {header_key(column): column for column in wanted}
    columns = {}
    for index, written in enumerate(header):
        column = keys.get(header_key(written))
        if column is not None and column not in columns:
            columns[column] = (index, written)
    for column in required:
        if column not in columns:
            report.error(name, 1, column, "this required column is missing")
    return columns
