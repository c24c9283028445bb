"""Reading a OneRoster 1.1 export: every file, every row, every reference between files.

Nothing is written here. ``Roster.read`` leaves the valid rows in plain objects and every problem
in the report; the only queries look up the staff accounts the export names.
"""

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from data_tracking.imports.common import (
    CsvFormatError,
    ImportRefused,
    parse_birth_date,
    parse_bool,
    parse_date,
    read_csv,
    read_zip,
)
from data_tracking.imports.scope import (
    DISTRICT_WIDE,
    NEW_SCHOOL,
    OTHER_SCHOOL,
    STUDENT_MOVE,
    UPLOADER,
)
from data_tracking.models import Student
from teams.models import School, StaffMember

from .values import (
    DEMOGRAPHIC_COLUMNS,
    SEX,
    ethnicity_for,
    flag_field,
    normalize_grade,
    subject_for,
)

REQUIRED_FILES = ("orgs.csv", "users.csv", "classes.csv", "enrollments.csv")
# Files that must have a row: nothing can be imported without a school and a person. Other files
# may be a header alone, as exports write a kind they have none of.
FILES_WITH_ROWS = ("orgs.csv", "users.csv")
OPTIONAL_FILES = ("academicSessions.csv", "courses.csv", "demographics.csv", "manifest.csv")
CANONICAL_NAMES = {name.lower(): name for name in REQUIRED_FILES + OPTIONAL_FILES}
REQUIRED_COLUMNS = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "academicSessions.csv": ("sourcedId", "title"),
    "courses.csv": ("sourcedId", "title"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "users.csv": ("sourcedId", "role", "orgSourcedIds", "givenName", "familyName"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
    "demographics.csv": ("sourcedId",),
    "manifest.csv": ("propertyName", "value"),
}
NOUNS = {
    "orgs.csv": "org",
    "academicSessions.csv": "academic session",
    "courses.csv": "course",
    "classes.csv": "class",
    "users.csv": "user",
}

ORG_TYPES = {"department", "school", "district", "local", "state", "national"}
SKIPPED_STATUSES = {"tobedeleted", "inactive"}
STAFF_ROLES = {"teacher", "administrator"}
OTHER_USER_ROLES = {"aide", "guardian", "parent", "proctor", "relative"}
OTHER_ENROLLMENT_ROLES = {"administrator", "proctor", "aide"}

LOOKUP_CHUNK = 5000  # values per IN (...) lookup, well under SQLite's 32,766 parameters


def read_export(source, report):
    """The export's files as {canonical file name: bytes}; files OneRoster does not name, and
    macOS resource forks, are ignored. Raises ImportRefused when the source cannot be read or
    holds a file twice (two exports zipped together)."""

    def wanted(path):
        return "__MACOSX" not in path and PurePosixPath(path).name.lower() in CANONICAL_NAMES

    try:
        if isinstance(source, dict):
            entries = [(str(name), data) for name, data in source.items() if wanted(str(name))]
        elif isinstance(source, str | Path) and Path(source).is_dir():
            paths = sorted(path for path in Path(source).iterdir() if path.is_file())
            entries = [(path.name, path.read_bytes()) for path in paths if wanted(path.name)]
        else:  # expanded a chunk at a time, within the limits every upload has (common.py)
            entries = read_zip(source, wanted, unique_names=False)
    except (OSError, ValueError) as exc:
        name = getattr(source, "name", source)
        report.error(str(name), 0, "", f"cannot be read as a folder or a zip file ({exc})")
        raise ImportRefused(report) from exc

    files = {}
    for path, data in entries:
        name = CANONICAL_NAMES[PurePosixPath(path).name.lower()]
        if name in files:
            report.error(name, 0, "", f"the export holds this file twice ({path})")
        files[name] = data
    if report.errors:
        raise ImportRefused(report)
    return files


def _split(value):
    return [part.strip() for part in value.split(",") if part.strip()]


def _first_grade(value):
    codes = _split(value)
    return normalize_grade(codes[0]) if codes else ""


def chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _School:
    line: int
    name: str
    grades: set = field(default_factory=set)
    obj: School | None = None


@dataclass
class _Course:
    title: str
    subjects: str
    grade: str


@dataclass
class _Class:
    line: int
    title: str
    school_sid: str
    subject: str
    grade: str
    term: str | None  # None: the export has no academicSessions.csv, keep what is stored
    primary_teacher: tuple | None = None  # (user sourcedId, line)
    other_teachers: set = field(default_factory=set)
    students: set = field(default_factory=set)
    incomplete: bool = False  # a rejected enrollment row: do not remove what the file lacks


@dataclass
class _Student:
    line: int
    local_id: str
    first_name: str
    last_name: str
    grade: str
    school_sid: str
    flags: dict = field(default_factory=dict)
    demographics: dict | None = None
    obj: Student | None = None


@dataclass
class _Staff:
    line: int
    role: str
    username: str
    email: str
    first_name: str
    last_name: str
    school_sids: list
    user: object = None
    obj: StaffMember | None = None


class Roster:
    """One export, read and checked; ``write_roster`` (writing.py) then writes what is valid."""

    def __init__(self, files, district, report, progress=None, scope=DISTRICT_WIDE):
        self.district = district
        self.scope = scope  # what this import may change (imports/scope.py)
        self.school_names = {}  # School pk → name, read when the scope is limited
        self.report = report
        self.progress = progress
        self.rows_read = 0
        self.tables = {}  # file name → [(line, {lower-cased column: value})]
        self.headers = {}  # file name → {lower-cased column: column as written}
        self.seen = {name: {} for name in REQUIRED_COLUMNS}  # sourcedId → line of its row
        self.rejected = {name: {} for name in NOUNS}  # sourcedId → line of the rejected row
        self.deleted = {name: set() for name in NOUNS}  # sourcedIds marked tobedeleted
        self.file_modes = {}
        self.orgs = {}  # sourcedId → type
        self.schools = {}
        self.sessions = {}  # sourcedId → title
        self.courses = {}
        self.classes = {}
        self.students = {}
        self.staff = {}
        self.other_users = {}  # sourcedId → role (aides, parents…): known, not imported
        self.carried_flags = set()  # Student flag fields some file has a column for
        self._load(files)

    def _load(self, files):
        unreadable = False  # a file problem; a row the reader left out (a NUL) is a row problem
        for name in REQUIRED_FILES:
            if name not in files:
                self.report.error(name, 0, "", "this required file is missing from the export")
                unreadable = True
        for name, data in files.items():
            try:
                columns, rows = read_csv(
                    data, name, self.report, rows_required=name in FILES_WITH_ROWS
                )
            except CsvFormatError as exc:
                self.report.error(name, exc.line, exc.column, exc.reason)
                unreadable = True
                continue
            self.headers[name] = {column.lower(): column for column in columns}
            for column in REQUIRED_COLUMNS[name]:
                if column.lower() not in self.headers[name]:
                    self.report.error(name, 1, column, "this required column is missing")
                    unreadable = True
            self.tables[name] = [
                (line, {key.lower(): value for key, value in row.items()}) for line, row in rows
            ]
            self.report.rows_total += len(rows)
        if unreadable:  # no row of a file without its columns can be read
            raise ImportRefused(self.report)

    def read(self):
        stages = [
            ("manifest.csv", self._read_manifest),
            ("orgs.csv", self._read_orgs),
            (None, self._scope_schools),
            ("academicSessions.csv", self._read_sessions),
            ("courses.csv", self._read_courses),
            ("classes.csv", self._read_classes),
            ("users.csv", self._read_users),
            (None, self._scope_students),
            (None, self._match_staff),
            ("demographics.csv", self._read_demographics),
            ("enrollments.csv", self._read_enrollments),
        ]
        for name, stage in stages:
            stage()
            if name and self.progress:
                self.rows_read += len(self.tables.get(name, []))
                self.progress(self.rows_read, self.report.rows_total)

    def _reject(self, name, line, column, reason, sid=None):
        self.report.error(name, line, column, reason)
        if sid and name in self.rejected:
            self.rejected[name][sid] = line

    def _rows(self, name):
        """Rows to import from one file: (line, sourcedId, row), each sourcedId once."""
        for line, row in self.tables.get(name, []):
            sid = row.get("sourcedid", "")
            status = row.get("status", "").lower()
            if status in SKIPPED_STATUSES:
                if name in self.deleted:
                    self.deleted[name].add(sid)
                self.report.add("rows marked tobedeleted skipped")
                continue
            if status not in ("", "active"):
                reason = f"status “{status}” is not understood (expected active or tobedeleted)"
                self._reject(name, line, "status", reason, sid)
                continue
            if not sid:
                self._reject(name, line, "sourcedId", "sourcedId is blank")
                continue
            if sid in self.seen[name]:
                first = self.seen[name][sid]
                self._reject(name, line, "sourcedId", f"“{sid}” is also on line {first}")
                continue
            self.seen[name][sid] = line
            yield line, sid, row

    def _missing(self, name, sid, found):
        """Why ``sid`` is not in ``found`` (the valid rows of ``name``), or None if it is."""
        if sid in found:
            return None
        noun = NOUNS[name]
        if sid in self.rejected[name]:
            return f"{noun} “{sid}” was rejected ({name} line {self.rejected[name][sid]})"
        if sid in self.deleted[name]:
            return f"{noun} “{sid}” is marked tobedeleted in {name}"
        return f"no {noun} “{sid}” in {name}"

    def _dates(self, name, line, row, sid, start_column, end_column):
        """Parse two date columns; reject the row (and return False) when either is wrong."""
        parsed = {}
        for column in (start_column, end_column):
            try:
                parsed[column] = parse_date(row.get(column.lower(), ""))
            except ValueError as exc:
                self._reject(name, line, column, str(exc), sid)
                return False
        start, end = parsed[start_column], parsed[end_column]
        if start and end and end < start:
            self._reject(name, line, end_column, f"{end} is before {start_column} {start}", sid)
            return False
        return True

    def _read_manifest(self):
        for line, row in self.tables.get("manifest.csv", []):
            prop, value = row.get("propertyname", ""), row.get("value", "")
            if prop.lower() == "oneroster.version" and not value.startswith(("1.0", "1.1")):
                reason = f"this is a OneRoster {value} export; the portal reads OneRoster 1.1"
                self.report.error("manifest.csv", line, "value", reason)
            elif prop.lower().startswith("file."):
                name = CANONICAL_NAMES.get(prop[5:].lower() + ".csv")
                mode = value.lower()
                if name is None:
                    continue
                if mode not in ("bulk", "delta", "absent"):
                    reason = f"“{value}” is not a file mode (expected bulk, delta or absent)"
                    self.report.error("manifest.csv", line, "value", reason)
                elif mode != "absent" and name not in self.tables:
                    reason = f"{name} is listed as {mode} but is missing from the export"
                    self.report.error("manifest.csv", line, "value", reason)
                self.file_modes[name] = mode
        if self.report.errors:
            raise ImportRefused(self.report)

    def _read_orgs(self):
        names = {}
        for line, sid, row in self._rows("orgs.csv"):
            kind, name = row.get("type", "").lower(), row.get("name", "")
            if kind not in ORG_TYPES:
                expected = ", ".join(sorted(ORG_TYPES))
                reason = f"org type “{kind}” is not understood (expected one of {expected})"
                self._reject("orgs.csv", line, "type", reason, sid)
                continue
            if kind == "school":
                first = names.get(name.lower())
                if not name or len(name) > 200:
                    reason = "a school needs a name of at most 200 characters"
                    self._reject("orgs.csv", line, "name", reason, sid)
                    continue
                if first:
                    reason = f"another school is called “{name}” (line {first})"
                    self._reject("orgs.csv", line, "name", reason, sid)
                    continue
                names[name.lower()] = line
                self.schools[sid] = _School(line, name)
            self.orgs[sid] = kind

    def _scope_schools(self):
        """Refuse the schools a limited import may not change, and with them every class, user
        and enrollment that hangs from them (their rows then name this row as the reason)."""
        if self.scope.district_wide:
            return
        existing = {}
        for school in School.objects.filter(district=self.district).only("pk", "name"):
            existing[school.name.lower()] = school
            self.school_names[school.pk] = school.name
        for sid, info in list(self.schools.items()):
            school = existing.get(info.name.lower())
            if school is None:
                reason = NEW_SCHOOL.format(name=info.name)
            elif not self.scope.allows(school.pk):
                reason = OTHER_SCHOOL.format(school=school.name)
            else:
                info.obj = school
                continue
            del self.schools[sid], self.orgs[sid]
            self._reject("orgs.csv", info.line, "name", reason, sid)

    def _scope_students(self):
        """A limited import never moves a student who is already at another school."""
        if self.scope.district_wide or not self.students:
            return
        stored = {}
        local_ids = [info.local_id for info in self.students.values()]
        for chunk in chunks(local_ids, LOOKUP_CHUNK):
            rows = Student.objects.filter(district=self.district, local_id__in=chunk)
            stored.update(rows.values_list("local_id", "school_id"))
        for sid, info in list(self.students.items()):
            current = stored.get(info.local_id)
            new = self.schools[info.school_sid].obj
            if current is None or current == new.pk:
                continue
            reason = STUDENT_MOVE.format(
                local_id=info.local_id, current=self.school_names[current], new=new.name
            )
            del self.students[sid]
            self._reject("users.csv", info.line, "orgSourcedIds", reason, sid)

    def _read_sessions(self):
        for line, sid, row in self._rows("academicSessions.csv"):
            title = row.get("title", "")
            if not title:
                reason = "an academic session needs a title"
                self._reject("academicSessions.csv", line, "title", reason, sid)
            elif self._dates("academicSessions.csv", line, row, sid, "startDate", "endDate"):
                self.sessions[sid] = title

    def _read_courses(self):
        for line, sid, row in self._rows("courses.csv"):
            column, reason, grade = self._course_problem(row)
            if reason:
                self._reject("courses.csv", line, column, reason, sid)
            else:
                self.courses[sid] = _Course(row["title"], row.get("subjects", ""), grade)

    def _course_problem(self, row):
        """(column, reason, None) for a wrong course row, else (None, None, its grade)."""
        org_sid = row.get("orgsourcedid", "")
        year_sid = row.get("schoolyearsourcedid", "")
        if not row.get("title"):
            return "title", "a course needs a title", None
        if org_sid and (reason := self._missing("orgs.csv", org_sid, self.orgs)):
            return "orgSourcedId", reason, None
        has_sessions = "academicSessions.csv" in self.tables
        if (
            year_sid
            and has_sessions
            and (reason := self._missing("academicSessions.csv", year_sid, self.sessions))
        ):
            return "schoolYearSourcedId", reason, None
        try:
            return None, None, _first_grade(row.get("grades", ""))
        except ValueError as exc:
            return "grades", str(exc), None

    def _read_classes(self):
        for line, sid, row in self._rows("classes.csv"):
            column, reason, course, term = self._class_problem(row)
            if reason:
                self._reject("classes.csv", line, column, reason, sid)
                continue
            try:
                grade = _first_grade(row.get("grades", ""))
            except ValueError as exc:
                self._reject("classes.csv", line, "grades", str(exc), sid)
                continue
            title, school_sid = row["title"], row["schoolsourcedid"]
            grade = grade or (course.grade if course else "")
            subject = subject_for(
                row.get("subjects", ""),
                course.subjects if course else "",
                course.title if course else "",
                title,
            )
            self.classes[sid] = _Class(line, title, school_sid, subject, grade, term)
            if grade:
                self.schools[school_sid].grades.add(grade)

    def _class_problem(self, row):
        """(column, reason, course, term): what is wrong with a class row, if anything."""
        title, school_sid = row.get("title", ""), row.get("schoolsourcedid", "")
        if not title or len(title) > 200:
            return "title", "a class needs a title of at most 200 characters", None, None
        if not school_sid:
            return "schoolSourcedId", "a class needs its school", None, None
        if school_sid in self.orgs and school_sid not in self.schools:
            reason = f"org “{school_sid}” is a {self.orgs[school_sid]}, not a school"
            return "schoolSourcedId", reason, None, None
        if reason := self._missing("orgs.csv", school_sid, self.schools):
            return "schoolSourcedId", reason, None, None
        course = None
        course_sid = row.get("coursesourcedid", "")
        if course_sid and "courses.csv" in self.tables:
            if reason := self._missing("courses.csv", course_sid, self.courses):
                return "courseSourcedId", reason, None, None
            course = self.courses[course_sid]
        term = None
        if "academicSessions.csv" in self.tables:
            titles = []
            for term_sid in _split(row.get("termsourcedids", "")):
                if reason := self._missing("academicSessions.csv", term_sid, self.sessions):
                    return "termSourcedIds", reason, None, None
                titles.append(self.sessions[term_sid])
            term = titles[0][:40] if titles else ""
        return None, None, course, term

    def _flag_columns(self, name):
        """{Student flag field: [columns of ``name`` that carry it]}."""
        found = {}
        for lower in self.headers.get(name, {}):
            if flag := flag_field(lower):
                found.setdefault(flag, []).append(lower)
        self.carried_flags.update(found)
        return found

    def _read_flags(self, name, row, flag_columns, flags):
        """Add the row's flags to ``flags`` (any yes wins); (column, reason) if one is wrong."""
        for flag, columns in flag_columns.items():
            for column in columns:
                try:
                    value = parse_bool(row.get(column, ""))
                except ValueError as exc:
                    return self.headers[name][column], str(exc)
                flags[flag] = flags.get(flag, False) or value
        return None, None

    def _read_users(self):
        has_identifier = "identifier" in self.headers["users.csv"]
        flag_columns = self._flag_columns("users.csv")
        logins, emails, local_ids = {}, {}, {}
        for line, sid, row in self._rows("users.csv"):
            role = row.get("role", "").lower()
            if role in OTHER_USER_ROLES:
                self.other_users[sid] = role
                self.report.add("users of other roles skipped (aides, parents…)")
                continue
            if role != "student" and role not in STAFF_ROLES:
                reason = (
                    f"role “{row.get('role')}” is not understood (expected student, teacher, "
                    "administrator, aide, guardian, parent, proctor or relative)"
                )
                self._reject("users.csv", line, "role", reason, sid)
                continue
            school_sids, reason = [], None
            for org_sid in _split(row.get("orgsourcedids", "")):
                if org_sid in self.schools:
                    school_sids.append(org_sid)
                elif org_sid in self.orgs or org_sid in self.deleted["orgs.csv"]:
                    continue  # the district, or a school the person has left
                else:
                    reason = self._missing("orgs.csv", org_sid, self.orgs)
                    break
            if reason:
                self._reject("users.csv", line, "orgSourcedIds", reason, sid)
            elif role == "student":
                local_id = row.get("identifier", "") if has_identifier else sid
                self._read_student(line, sid, row, local_id, school_sids, flag_columns, local_ids)
            else:
                self._read_staff(line, sid, row, role, school_sids, logins, emails)

    def _read_student(self, line, sid, row, local_id, school_sids, flag_columns, local_ids):
        flags = {}
        column, reason = self._student_problem(row, local_id, school_sids, local_ids)
        if reason is None:
            column, reason = self._read_flags("users.csv", row, flag_columns, flags)
        if reason:
            self._reject("users.csv", line, column, reason, sid)
            return
        grade = _first_grade(row.get("grades", ""))
        school_sid = school_sids[0]
        local_ids[local_id] = line
        self.students[sid] = _Student(
            line, local_id, row["givenname"], row["familyname"], grade, school_sid, flags
        )
        self.schools[school_sid].grades.add(grade)

    def _student_problem(self, row, local_id, school_sids, local_ids):
        """(column, reason) of the first thing wrong with a student row, or (None, None)."""
        if not local_id:
            return "identifier", "a student needs an identifier (the district's student number)"
        if len(local_id) > 64:
            return "identifier", "a student number has at most 64 characters"
        if local_id in local_ids:
            return (
                "identifier",
                f"student number “{local_id}” is also on line {local_ids[local_id]}",
            )
        for column in ("givenName", "familyName"):
            value = row.get(column.lower(), "")
            if not value or len(value) > 100:
                return column, "a student needs a name of at most 100 characters"
        try:
            grade = _first_grade(row.get("grades", ""))
        except ValueError as exc:
            return "grades", str(exc)
        if not grade:
            return "grades", "a student needs a grade the portal keeps (PK, K or 1–12)"
        if not school_sids:
            return "orgSourcedIds", "none of the student's orgs is a school in orgs.csv"
        return None, None

    def _read_staff(self, line, sid, row, role, school_sids, logins, emails):
        email = row.get("email", "")
        login = row.get("username", "") or email or sid
        for column, value, limit in (
            ("username", login, 150),
            ("email", email, 254),
            ("givenName", row.get("givenname", ""), 150),
            ("familyName", row.get("familyname", ""), 150),
        ):
            if len(value) > limit:
                self._reject("users.csv", line, column, f"at most {limit} characters", sid)
                return
        for column, value, seen in (("email", email, emails), ("username", login, logins)):
            if value and value.lower() in seen:
                reason = f"“{value}” is also on line {seen[value.lower()]}"
                self._reject("users.csv", line, column, reason, sid)
                return
        logins[login.lower()] = line
        if email:
            emails[email.lower()] = line
        self.staff[sid] = _Staff(
            line,
            role,
            login,
            email,
            row.get("givenname", ""),
            row.get("familyname", ""),
            school_sids,
        )

    def _match_staff(self):
        """Find each teacher's and administrator's existing account: by e-mail, then username."""
        by_email, by_login = {}, {}
        emails = {person.email.lower() for person in self.staff.values() if person.email}
        logins = {person.username.lower() for person in self.staff.values()}
        users = (
            get_user_model()
            .objects.annotate(email_lower=Lower("email"), username_lower=Lower("username"))
            .select_related("staff")
        )
        lookups = [("email_lower__in", chunk) for chunk in chunks(emails, LOOKUP_CHUNK)]
        lookups += [("username_lower__in", chunk) for chunk in chunks(logins, LOOKUP_CHUNK)]
        for lookup, chunk in lookups:
            for user in users.filter(**{lookup: chunk}):
                if user.email_lower:
                    by_email.setdefault(user.email_lower, user)
                by_login[user.username_lower] = user
        claimed = {}
        for sid, person in list(self.staff.items()):
            user = by_email.get(person.email.lower()) or by_login.get(person.username.lower())
            if user is None:
                continue
            staff = getattr(user, "staff", None)
            column = (
                "email" if person.email and user.email_lower == person.email.lower() else "username"
            )
            if self.scope.is_uploader(user):
                reason = UPLOADER.format(username=user.get_username())
            elif staff is not None and staff.district_id != self.district.pk:
                reason = f"{user.get_username()} is on the staff of another district"
            elif user.pk in claimed:
                reason = f"the same person as users.csv line {claimed[user.pk]}"
            else:
                claimed[user.pk] = person.line
                person.user, person.obj = user, staff
                continue
            del self.staff[sid]
            self._reject("users.csv", person.line, column, reason, sid)

    def _read_demographics(self):
        if "demographics.csv" not in self.tables:
            return
        flag_columns = self._flag_columns("demographics.csv")
        for line, sid, row in self._rows("demographics.csv"):
            if sid in self.staff or sid in self.other_users:
                continue  # demographics are kept for students only
            if reason := self._missing("users.csv", sid, self.students):
                self.report.error("demographics.csv", line, "sourcedId", reason)
                continue
            student = self.students[sid]
            flags = dict(student.flags)
            column, reason = self._read_flags("demographics.csv", row, flag_columns, flags)
            if reason is None:
                column, reason, demographics = self._demographics(row)
            if reason:
                self.report.error("demographics.csv", line, column, reason)
                continue
            student.flags, student.demographics = flags, demographics

    def _demographics(self, row):
        """(column, reason, None) for a wrong row, else (None, None, Student field values)."""
        try:
            birth_date = parse_birth_date(row.get("birthdate", ""))
        except ValueError as exc:
            return "birthDate", str(exc), None
        sex = row.get("sex", "").lower()
        if sex not in SEX and sex:
            return "sex", f"sex “{sex}” is not understood (expected male, female or other)", None
        races = set()
        for column in DEMOGRAPHIC_COLUMNS:
            try:
                if parse_bool(row.get(column.lower(), "")):
                    races.add(column)
            except ValueError as exc:
                return column, str(exc), None
        ethnicity = ethnicity_for(races)
        values = {"birth_date": birth_date, "gender": SEX.get(sex, ""), "ethnicity": ethnicity}
        return None, None, values

    def _read_enrollments(self):
        for line, _sid, row in self._rows("enrollments.csv"):
            role = row.get("role", "").lower()
            class_sid = row.get("classsourcedid", "")
            klass = self.classes.get(class_sid)
            if role in OTHER_ENROLLMENT_ROLES:
                self.report.add("enrollments of other roles skipped (administrators, proctors…)")
                continue
            column, reason, primary = self._enrollment_problem(row, role, class_sid)
            if reason is None and not self._dates(
                "enrollments.csv", line, row, None, "beginDate", "endDate"
            ):
                klass.incomplete = True
                continue
            if reason is None and role == "teacher" and primary and klass.primary_teacher:
                column = "primary"
                reason = (
                    f"the class already has a primary teacher (line {klass.primary_teacher[1]})"
                )
            if reason:
                self.report.error("enrollments.csv", line, column, reason)
                if klass is not None:
                    klass.incomplete = True
                continue
            user_sid = row["usersourcedid"]
            if role == "student":
                klass.students.add(user_sid)
            elif primary:
                klass.primary_teacher = (user_sid, line)
            else:
                klass.other_teachers.add(user_sid)

    def _enrollment_problem(self, row, role, class_sid):
        """(column, reason, primary): what is wrong with an enrollment row, if anything."""
        if role not in ("student", "teacher"):
            reason = f"role “{row.get('role')}” is not understood (expected student or teacher)"
            return "role", reason, False
        if reason := self._missing("classes.csv", class_sid, self.classes):
            return "classSourcedId", reason, False
        user_sid = row.get("usersourcedid", "")
        wanted = self.students if role == "student" else self.staff
        known = user_sid in self.students or user_sid in self.staff or user_sid in self.other_users
        if known and user_sid not in wanted:
            wanted_role = "a student" if role == "student" else "a teacher or administrator"
            reason = f"user “{user_sid}” is not {wanted_role} in users.csv"
            return "userSourcedId", reason, False
        if reason := self._missing("users.csv", user_sid, wanted):
            return "userSourcedId", reason, False
        school_sid = row.get("schoolsourcedid", "")
        if school_sid and (reason := self._missing("orgs.csv", school_sid, self.orgs)):
            return "schoolSourcedId", reason, False
        try:
            primary = parse_bool(row.get("primary", ""))
        except ValueError as exc:
            return "primary", str(exc), False
        return None, None, primary
