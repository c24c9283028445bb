"""Which file of an NWEA MAP Comprehensive Data File each uploaded file is, told by its header.

Exports arrive renamed (``CombinedAssessmentResults.csv``, ``AssessmentResults_2024.csv``) and
beside files the portal does not use, so a file is recognised by the columns it has; its name
only helps when the header is damaged. docs/imports.md lists the files and their columns.
"""

import re
from dataclasses import dataclass

from .common import header_key


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
    "not used (not a file of the CDF: it has no TestRITScore, StudentFirstName or ClassName "
    "column)"
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
