"""Writing a read OneRoster export: schools, staff, students, sections, enrollments, in bulk.

Each kind is read once from the database, compared in memory, then created and updated in
batches, so the number of queries does not grow with the number of rows.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from data_tracking.models import Enrollment, Section, Student
from teams.models import Assignment, School, StaffMember

from .reading import chunks
from .values import FLAG_FIELDS, school_level_for, unique_slug

BATCH_SIZE = 1000


def write_roster(roster):
    """Write what ``roster.read()`` found valid; counts go to ``roster.report``."""
    for kind in ("schools", "staff", "students", "sections", "enrollments"):
        changes = ("created", "unchanged")
        if kind in ("students", "sections"):
            changes = ("created", "updated", "unchanged")
        for change in changes:
            roster.report.add(f"{kind} {change}", 0)
    roster.report.add("enrollments removed", 0)
    roster.report.add("teacher positions created", 0)
    _write_schools(roster)
    _write_staff(roster)
    _write_students(roster)
    sections = _write_sections(roster)
    _write_enrollments(roster, sections)


def _write_schools(roster):
    every_school = list(School.objects.order_by().only("pk", "district_id", "name", "slug"))
    taken = {school.slug for school in every_school}
    existing = {
        school.name.lower(): school
        for school in every_school
        if school.district_id == roster.district.pk
    }
    new = []
    for info in roster.schools.values():
        info.obj = existing.get(info.name.lower())
        if info.obj is None:
            level, lowest, highest = school_level_for(info.grades)
            info.obj = School(
                district=roster.district,
                name=info.name,
                slug=unique_slug(info.name, taken),
                level=level,
                lowest_grade=lowest,
                highest_grade=highest,
            )
            new.append(info.obj)
    School.objects.bulk_create(new, batch_size=BATCH_SIZE)
    roster.report.add("schools created", len(new))
    roster.report.add("schools unchanged", len(roster.schools) - len(new))
    roster.report.schools_touched.update(school.pk for school in new)


def _write_staff(roster):
    new_users = []
    for person in roster.staff.values():
        if person.user is None:
            person.user = get_user_model()(
                username=person.username,
                email=person.email,
                first_name=person.first_name,
                last_name=person.last_name,
                password=make_password(None),
            )
            new_users.append(person.user)
    get_user_model().objects.bulk_create(new_users, batch_size=BATCH_SIZE)
    new_staff = []
    for person in roster.staff.values():
        if person.obj is None:
            person.obj = StaffMember(user=person.user, district=roster.district)
            new_staff.append(person.obj)
    StaffMember.objects.bulk_create(new_staff, batch_size=BATCH_SIZE)
    roster.report.add("staff created", len(new_staff))
    roster.report.add("staff unchanged", len(roster.staff) - len(new_staff))

    current = (
        Assignment.objects.current()
        .filter(district=roster.district)
        .order_by()
        .values_list("staff_id", "school_id", "position")
    )
    placed, teaching = set(), set()
    for staff_id, school_id, position in current:
        placed.add(staff_id)
        if position == Assignment.Position.TEACHER:
            teaching.add((staff_id, school_id))
    positions = []
    for person in roster.staff.values():
        if person.role != "teacher":
            # An administrator may be a principal, a coach or an office manager: a person decides.
            if person.obj.pk not in placed:
                roster.report.add("administrators without a position (give them one by hand)")
            continue
        for school_sid in person.school_sids:
            school = roster.schools[school_sid].obj
            if (person.obj.pk, school.pk) not in teaching:
                teaching.add((person.obj.pk, school.pk))
                positions.append(
                    Assignment(
                        staff=person.obj,
                        district=roster.district,
                        school=school,
                        position=Assignment.Position.TEACHER,
                    )
                )
    Assignment.objects.bulk_create(positions, batch_size=BATCH_SIZE)
    roster.report.add("teacher positions created", len(positions))


def _write_students(roster):
    existing = {
        student.local_id: student
        for student in Student.objects.filter(district=roster.district).order_by()
    }
    new, changed, fields = [], [], set()
    for info in roster.students.values():
        values = {
            "school_id": roster.schools[info.school_sid].obj.pk,
            "first_name": info.first_name,
            "last_name": info.last_name,
            "grade": info.grade,
        }
        values.update(
            {
                flag: info.flags.get(flag, False)
                for flag in FLAG_FIELDS
                if flag in roster.carried_flags
            }
        )
        values.update(info.demographics or {})
        info.obj = existing.get(info.local_id)
        if info.obj is None:
            info.obj = Student(district=roster.district, local_id=info.local_id, **values)
            new.append(info.obj)
            roster.report.schools_touched.add(values["school_id"])
            continue
        differences = [name for name, value in values.items() if getattr(info.obj, name) != value]
        if differences:
            roster.report.schools_touched.update({info.obj.school_id, values["school_id"]})
            for name in differences:
                setattr(info.obj, name, values[name])
            fields.update(differences)
            changed.append(info.obj)
    Student.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if changed:
        fields = sorted("school" if name == "school_id" else name for name in fields)
        Student.objects.bulk_update(changed, fields, batch_size=BATCH_SIZE)
    roster.report.add("students created", len(new))
    roster.report.add("students updated", len(changed))
    roster.report.add("students unchanged", len(roster.students) - len(new) - len(changed))


def _teacher_of(roster, klass):
    """The class's primary teacher; else its only teacher; else None (keep what is stored)."""
    if klass.primary_teacher:
        return roster.staff[klass.primary_teacher[0]].obj
    if len(klass.other_teachers) == 1:
        return roster.staff[next(iter(klass.other_teachers))].obj
    return None


def _write_sections(roster):
    existing = {
        (section.school_id, section.source_id): section
        for section in Section.objects.filter(school__district=roster.district).order_by()
    }
    sections, new, changed, fields = {}, [], [], set()
    for sid, klass in roster.classes.items():
        school = roster.schools[klass.school_sid].obj
        values = {"name": klass.title, "subject": klass.subject, "grade": klass.grade}
        if klass.term is not None:
            values["term"] = klass.term
        teacher = _teacher_of(roster, klass)
        if teacher is not None:
            values["teacher_id"] = teacher.pk
        section = existing.get((school.pk, sid))
        if section is None:
            section = Section(school=school, source_id=sid, **values)
            new.append(section)
            roster.report.schools_touched.add(school.pk)
        else:
            differences = [
                name for name, value in values.items() if getattr(section, name) != value
            ]
            if differences:
                for name in differences:
                    setattr(section, name, values[name])
                fields.update(differences)
                changed.append(section)
                roster.report.schools_touched.add(school.pk)
        sections[sid] = section
    Section.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if changed:
        fields = sorted("teacher" if name == "teacher_id" else name for name in fields)
        Section.objects.bulk_update(changed, fields, batch_size=BATCH_SIZE)
    roster.report.add("sections created", len(new))
    roster.report.add("sections updated", len(changed))
    roster.report.add("sections unchanged", len(roster.classes) - len(new) - len(changed))
    return sections


def _write_enrollments(roster, sections):
    section_ids = {section.pk for section in sections.values()}
    existing = {}  # (section id, student id) → enrollment id, for the imported sections
    rows = Enrollment.objects.filter(section__school__district=roster.district).values_list(
        "pk", "section_id", "student_id"
    )
    for pk, section_id, student_id in rows:
        if section_id in section_ids:
            existing[section_id, student_id] = pk
    wanted, new = set(), []
    for sid, klass in roster.classes.items():
        section = sections[sid]
        for user_sid in klass.students:
            key = (section.pk, roster.students[user_sid].obj.pk)
            wanted.add(key)
            if key not in existing:
                new.append(Enrollment(section_id=key[0], student_id=key[1]))
                roster.report.schools_touched.add(section.school_id)
    Enrollment.objects.bulk_create(new, batch_size=BATCH_SIZE)

    # A bulk enrollments.csv lists every enrollment of its classes: the rest have ended.
    removed = []
    if roster.file_modes.get("enrollments.csv", "bulk") == "bulk":
        complete = {
            sections[sid].pk for sid, klass in roster.classes.items() if not klass.incomplete
        }
        schools = {section.pk: section.school_id for section in sections.values()}
        for key, pk in existing.items():
            if key not in wanted and key[0] in complete:
                removed.append(pk)
                roster.report.schools_touched.add(schools[key[0]])
        for chunk in chunks(removed, BATCH_SIZE):
            Enrollment.objects.filter(pk__in=chunk).delete()
    roster.report.add("enrollments created", len(new))
    roster.report.add("enrollments unchanged", len(wanted) - len(new))
    roster.report.add("enrollments removed", len(removed))
