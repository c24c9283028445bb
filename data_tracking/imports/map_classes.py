"""The class and teacher of record of MAP tests, from the CDF's ``ClassAssignments.csv``.

The file lists each student's classes in a term by name and teacher. A test's class is the one
of those classes that is a ``Section`` of the test's school (by name, without case) teaching the
test's subject, or the student's only class that term; its teacher is the district's
``StaffMember`` with the row's e-mail, else the section's teacher, else the only one of that
name. Anything less certain is left blank and counted: a MAP file never creates a class or a
staff member. docs/imports.md describes the rules for users.
"""

from collections import defaultdict
from dataclasses import dataclass

from data_tracking.models import Section
from teams.models import StaffMember

CLASS_COLUMNS = (
    "TermName",
    "StudentID",
    "SchoolName",
    "ClassName",
    "TeacherName",
    "TeacherID",
    "TeacherFirstName",
    "TeacherLastName",
    "TeacherEmail",
)
REQUIRED_CLASS_COLUMNS = ("StudentID", "ClassName")
ANY_SCHOOL = None  # a class row that names no school
UNKNOWN_SCHOOL = -1  # a class row naming a school the district does not have: it matches none

CLASS_FOUND = "results given a class of record"
CLASS_NOT_LISTED = "results without a class of record: no class listed for the student that term"
CLASS_UNKNOWN = "results without a class of record: no class of that name at the test's school"
CLASS_AMBIGUOUS = "results without a class of record: several classes could be it"
TEACHER_FOUND = "results given a teacher of record"
TEACHER_UNKNOWN = "results without a teacher of record: no staff member matches"
TEACHER_AMBIGUOUS = "results without a teacher of record: several staff members could be it"
LABELS = (
    CLASS_FOUND,
    CLASS_NOT_LISTED,
    CLASS_UNKNOWN,
    CLASS_AMBIGUOUS,
    TEACHER_FOUND,
    TEACHER_UNKNOWN,
    TEACHER_AMBIGUOUS,
)
MAX_NAME = 200  # Section.name


def _folded(value):
    return " ".join(value.split()).casefold()


@dataclass(frozen=True, slots=True)
class ClassRow:
    school_id: int | None  # ANY_SCHOOL, UNKNOWN_SCHOOL or the school's pk
    class_name: str  # folded
    teacher_email: str  # folded
    teacher_name: str  # folded, "first last"

    @property
    def teacher(self):
        return self.teacher_email, self.teacher_name


@dataclass(frozen=True, slots=True)
class _Section:
    pk: int
    subject: str
    term: str  # folded
    teacher_id: int | None


class ClassesOfRecord:
    """Class rows by student and term, then each test's class and teacher of record."""

    def __init__(self, district, schools):
        self.district = district
        self.schools = schools  # folded school name → pk
        self.rows = defaultdict(list)  # (local id, term or None) → [ClassRow]
        self.sections = None  # (school pk, folded name) → [_Section], read by ``load``
        self.staff_by_email = self.staff_by_name = None
        self.counts = dict.fromkeys(LABELS, 0)

    def read_row(self, value, fail, term_of):
        """One row of ClassAssignments.csv (``value(column)``, ``fail(column, reason)``, and
        ``term_of(text)`` for TermName): kept, or reported."""
        problems = []

        def problem(column, reason):
            problems.append(column)
            fail(column, reason)

        local_id = value("StudentID")
        if not local_id:
            problem("StudentID", "required, but blank")
        class_name = _folded(value("ClassName"))
        if not class_name:
            problem("ClassName", "required, but blank")
        elif len(class_name) > MAX_NAME:
            problem("ClassName", f"longer than {MAX_NAME} characters")
        term = None
        if value("TermName"):
            try:
                term = term_of(value("TermName"))
            except ValueError as exc:
                problem("TermName", str(exc))
        if problems:
            return
        school_id = ANY_SCHOOL
        if school_name := _folded(value("SchoolName")):
            school_id = self.schools.get(school_name, UNKNOWN_SCHOOL)
        first, last = _folded(value("TeacherFirstName")), _folded(value("TeacherLastName"))
        name = f"{first} {last}".strip() if first or last else _teacher_name(value("TeacherName"))
        row = ClassRow(school_id, class_name, _folded(value("TeacherEmail")), name)
        self.rows[local_id, term].append(row)

    def load(self):
        """The district's sections and staff: two queries, once every row is read."""
        self.sections = defaultdict(list)
        rows = Section.objects.filter(school__district=self.district).values_list(
            "pk", "school_id", "name", "subject", "term", "teacher_id"
        )
        for pk, school_id, name, subject, term, teacher_id in rows.order_by("pk"):
            section = _Section(pk, subject, _folded(term), teacher_id)
            self.sections[school_id, _folded(name)].append(section)
        self.staff_by_email, self.staff_by_name = defaultdict(set), defaultdict(set)
        staff = StaffMember.objects.filter(district=self.district).values_list(
            "pk", "user__email", "user__first_name", "user__last_name"
        )
        for pk, email, first, last in staff:
            if email:
                self.staff_by_email[_folded(email)].add(pk)
            if name := _folded(f"{first} {last}"):
                self.staff_by_name[name].add(pk)

    def place(self, *, local_id, term, school_id, school_year, subject):
        """(section pk, staff pk) of record for one test, either None; counted either way."""
        rows = [
            row
            for row in (*self.rows.get((local_id, term), ()), *self.rows.get((local_id, None), ()))
            if row.school_id in (ANY_SCHOOL, school_id)
        ]
        if not rows:
            self.counts[CLASS_NOT_LISTED] += 1
            return None, None
        found = {}  # section pk → (row, section): a class listed twice is still one class
        for row in rows:
            for section in self.sections.get((school_id, row.class_name), ()):
                found.setdefault(section.pk, (row, section))
        found = list(found.values())
        of_subject = [(row, section) for row, section in found if section.subject == subject]
        # The class of the test's subject; else the student's only class, whatever its subject
        # (a self-contained class teaches every subject).
        candidates = of_subject or (found if len(rows) == 1 else [])
        candidates = _of_year(candidates, school_year)
        row = section = None
        if len(candidates) == 1:
            (row, section), label = candidates[0], CLASS_FOUND
        elif not found:
            label = CLASS_UNKNOWN
        else:
            label = CLASS_AMBIGUOUS
        self.counts[label] += 1
        if row is None and len({row.teacher for row in rows}) == 1:
            row = rows[0]  # several classes, or none known, but one teacher for them all
        teacher_id = self._teacher(row, section)
        return (section.pk if section else None), teacher_id

    def _teacher(self, row, section):
        """The row's e-mail, else the section's teacher, else the only staff member named so."""
        if row is not None and row.teacher_email:
            by_email = self.staff_by_email.get(row.teacher_email, set())
            if len(by_email) == 1:
                self.counts[TEACHER_FOUND] += 1
                return next(iter(by_email))
        if section is not None and section.teacher_id is not None:
            self.counts[TEACHER_FOUND] += 1
            return section.teacher_id
        if row is None:  # several classes with different teachers, none of them certain
            self.counts[TEACHER_AMBIGUOUS] += 1
            return None
        named = self.staff_by_name.get(row.teacher_name, set()) if row.teacher_name else set()
        if len(named) == 1:
            self.counts[TEACHER_FOUND] += 1
            return next(iter(named))
        self.counts[TEACHER_AMBIGUOUS if len(named) > 1 else TEACHER_UNKNOWN] += 1
        return None

    def add_counts(self, report):
        for label, number in self.counts.items():
            if number:
                report.add(label, number)


def _teacher_name(value):
    """NWEA's TeacherName ("Last, First", or "First Last") as folded "first last"."""
    last, comma, first = value.partition(",")
    return _folded(f"{first} {last}" if comma else value)


def _of_year(candidates, school_year):
    """Several sections of one name (a class kept from year to year): those whose roster term
    names the test's school year (2024-2025 or 2024-25), if that leaves any."""
    if len(candidates) < 2:
        return candidates
    start, end = school_year.split("-")
    spellings = (school_year, f"{start}-{end[2:]}", f"{start}/{end}")
    of_year = [
        (row, section)
        for row, section in candidates
        if any(spelling in section.term for spelling in spellings)
    ]
    return of_year or candidates
