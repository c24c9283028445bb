"""What an import may change: a principal's upload changes the schools they manage and nothing
else, never moves a student between schools, and never touches the uploader's own positions.

The first test is the attack as it was made: a principal uploads a roster that names another
school of the district and lists the principal as a teacher there, then asks for that class's
student CSV.
"""

import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from data_tracking import services
from data_tracking.imports.scope import ImportScope
from data_tracking.models import AssessmentResult, ImportBatch, Section, Student
from data_tracking.permissions import import_scope, import_scope_for_batch
from teams.models import Assignment
from tests.data_tracking.factories import (
    AssessmentFactory,
    EnrollmentFactory,
    SectionFactory,
    StudentFactory,
)
from tests.data_tracking.test_import_map_cdf import RESULTS_HEADER, STUDENTS_HEADER, map_test

Position = Assignment.Position


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def birch_class(world):
    """A class at the other school with two students carrying protected flags."""
    section = SectionFactory(school=world.other_school, name="Birch Math 5", source_id="bk1")
    for local_id, first in (("B-1", "Bea"), ("B-2", "Bo")):
        student = StudentFactory(
            school=world.other_school,
            local_id=local_id,
            first_name=first,
            english_learner=True,
            special_education=True,
        )
        EnrollmentFactory(section=section, student=student)
    return section


def roster_zip(*, school_name, teacher_username, teacher_email, students=("B-1", "B-2")):
    """A OneRoster 1.1 export: the district, one school, one teacher, one class and its students."""
    users = [
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
        f"u-t,active,,true,s9,teacher,{teacher_username},,Pat,Quill,,T-9,{teacher_email},,,,,",
    ]
    enrollments = [
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate",
        "e-t,active,,k9,s9,u-t,teacher,true,,",
    ]
    for n, local_id in enumerate(students):
        users.append(f"u-{n},active,,true,s9,student,s{n},,Kid,{n},,{local_id},,,,,05,")
        enrollments.append(f"e-{n},active,,k9,s9,u-{n},student,false,,")
    files = {
        "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d9,active,,Lakeside District,district,,\n"
        f"s9,active,,{school_name},school,,d9\n",
        "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
        "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
        "k9,active,,Math 5,05,,,scheduled,,s9,,Math,,\n",
        "users.csv": "\n".join(users) + "\n",
        "enrollments.csv": "\n".join(enrollments) + "\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"export/{name}", text)
    return buffer.getvalue()


def upload(client, user, district, data, *, kind="oneroster", mode="strict", name="roster.zip"):
    """Upload through the import page (tasks run in-process) and return the batch."""
    client.force_login(user)
    form = {
        "district": district.pk,
        "kind": kind,
        "mode": mode,
        "upload": SimpleUploadedFile(name, data, content_type="application/zip"),
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("data_tracking:import_list"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportBatch.objects.latest("created_at")


def reasons(batch):
    return [(error["file"], error["line"], error["reason"]) for error in batch.errors]


def positions(user):
    return set(Assignment.objects.filter(staff__user=user).values_list("school__slug", "position"))


# ── The attack ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", ["strict", "skip"])
def test_a_principals_roster_cannot_open_another_schools_class(client, world, birch_class, mode):
    principal = world.principal
    data = roster_zip(
        school_name="Birch Elementary",
        teacher_username=principal.username,
        teacher_email=principal.email,
    )
    before = positions(principal)

    batch = upload(client, principal, world.district, data, mode=mode)

    assert batch.status == (ImportBatch.Status.FAILED if mode == "strict" else "succeeded")
    assert (
        "orgs.csv",
        3,
        "Birch Elementary is not a school you manage: only a district administrator's import "
        "changes its rows (to import your own school's rows from a district-wide file, choose "
        "“skip bad rows”)",
    ) in reasons(batch)
    assert positions(principal) == before  # no teacher position at Birch
    assert not Section.objects.filter(school=world.other_school, source_id="k9").exists()
    assert set(
        Student.objects.filter(local_id__in=["B-1", "B-2"]).values_list("school", flat=True)
    ) == {world.other_school.pk}
    # The class the attack wanted stays out of reach.
    response = client.get(
        reverse("data_tracking:section_dashboard", args=[birch_class.pk]),
        {"format": "csv", "table": "students"},
    )
    assert response.status_code == 404


def test_an_import_never_touches_the_uploaders_own_positions(client, world):
    """Even at the principal's own school: a roster cannot make its uploader a teacher."""
    principal = world.principal
    data = roster_zip(
        school_name="Maple Elementary",
        teacher_username="someone-else",
        teacher_email=principal.email,
        students=(),
    )
    before = positions(principal)

    batch = upload(client, principal, world.district, data, mode="skip")

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert (
        "users.csv",
        2,
        f"this is your own account ({principal.username}): an import never creates, changes or "
        "ends the positions of the person who uploads it",
    ) in reasons(batch)
    assert positions(principal) == before
    section = Section.objects.get(school=world.school, source_id="k9")
    assert section.teacher is None  # the refused teacher row is not the class's teacher


def test_a_principals_roster_may_not_add_a_school(client, world):
    data = roster_zip(
        school_name="Aspen Academy", teacher_username="t9", teacher_email="t9@example.org"
    )

    batch = upload(client, world.principal, world.district, data)

    assert batch.status == ImportBatch.Status.FAILED
    assert (
        "orgs.csv",
        3,
        "“Aspen Academy” is not a school of the district yet: only a district administrator's "
        "import adds a school",
    ) in reasons(batch)
    assert not world.district.schools.filter(name="Aspen Academy").exists()


def test_a_principals_roster_cannot_move_a_student_into_their_school(client, world, birch_class):
    data = roster_zip(
        school_name="Maple Elementary",
        teacher_username="t9",
        teacher_email="t9@example.org",
        students=("B-1",),
    )

    batch = upload(client, world.principal, world.district, data, mode="skip")

    assert (
        "users.csv",
        3,
        "student B-1 is at Birch Elementary; moving a student to another school (Maple "
        "Elementary) needs a district administrator's import",
    ) in reasons(batch)
    assert Student.objects.get(local_id="B-1").school == world.other_school
    section = Section.objects.get(school=world.school, source_id="k9")
    assert not section.enrollments.exists()


def test_a_district_administrators_roster_may_move_a_student(
    client, world, birch_class, admin_user
):
    data = roster_zip(
        school_name="Maple Elementary",
        teacher_username="t9",
        teacher_email="t9@example.org",
        students=("B-1",),
    )

    batch = upload(client, admin_user, world.district, data)

    assert batch.status == ImportBatch.Status.SUCCEEDED, reasons(batch)
    assert Student.objects.get(local_id="B-1").school == world.school


# ── MAP and plain CSV ───────────────────────────────────────────────────────────────────────


def map_zip(students, results):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("StudentsBySchool.csv", STUDENTS_HEADER + students)
        archive.writestr("AssessmentResults.csv", RESULTS_HEADER + results)
    return buffer.getvalue()


def student_row(local_id, school, first="Kid", grade="5"):
    return (
        f"Fall 2026-2027,Lakeside SD,{school},Last,{first},,{local_id},3/14/2016,Asian,F,{grade}\n"
    )


def test_a_principals_map_file_cannot_move_or_add_to_another_school(client, world, birch_class):
    maple_kid = StudentFactory(school=world.school, local_id="M-1")
    data = map_zip(
        student_row("B-1", "Maple Elementary")  # moving a Birch student to Maple: refused
        + student_row("N-1", "Birch Elementary")  # a new student at Birch: refused
        + student_row("M-1", "Maple Elementary", first="Mia"),  # the principal's own: imported
        map_test("B-2", "Mathematics", "TRUE", 201, "3.1", 55, "9/10/2026")  # Birch, no row above
        + map_test("M-1", "Mathematics", "TRUE", 205, "3.0", 60, "9/10/2026"),
    )

    batch = upload(client, world.principal, world.district, data, kind="map_cdf", mode="skip")

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert reasons(batch) == [
        (
            "AssessmentResults.csv",
            2,
            "student B-2 is at Birch Elementary, a school you do not manage",
        ),
        (
            "StudentsBySchool.csv",
            2,
            "student B-1 is at Birch Elementary; moving a student to another school (Maple "
            "Elementary) needs a district administrator's import",
        ),
        (
            "StudentsBySchool.csv",
            3,
            "Birch Elementary is not a school you manage: only a district administrator's import "
            "changes its rows (to import your own school's rows from a district-wide file, "
            "choose “skip bad rows”)",
        ),
    ]
    assert Student.objects.get(local_id="B-1").school == world.other_school
    assert not Student.objects.filter(local_id="N-1").exists()
    maple_kid.refresh_from_db()
    assert maple_kid.first_name == "Mia"
    written = AssessmentResult.objects.values_list("student__local_id", flat=True)
    assert list(written) == ["M-1"]


def test_a_district_administrators_map_file_may_move_a_student(
    client, world, birch_class, admin_user
):
    data = map_zip(
        student_row("B-1", "Maple Elementary"),
        map_test("B-1", "Mathematics", "TRUE", 201, "3.1", 55, "9/10/2026"),
    )

    batch = upload(client, admin_user, world.district, data, kind="map_cdf")

    assert batch.status == ImportBatch.Status.SUCCEEDED, reasons(batch)
    assert Student.objects.get(local_id="B-1").school == world.school


def test_a_principals_results_csv_writes_their_own_students_only(client, world, birch_class):
    StudentFactory(school=world.school, local_id="M-1")
    text = (
        "student_id,assessment,subject,window,school_year,score\n"
        "M-1,Unit test,math,fall,2026-2027,71\n"
        "B-1,Unit test,math,fall,2026-2027,64\n"
    )

    batch = upload(
        client,
        world.principal,
        world.district,
        text.encode(),
        kind="csv",
        mode="skip",
        name="r.csv",
    )

    assert reasons(batch) == [
        ("r.csv", 3, "student B-1 is at Birch Elementary, a school you do not manage")
    ]
    assert list(AssessmentResult.objects.values_list("student__local_id", flat=True)) == ["M-1"]


# ── Whose rights a batch runs with ─────────────────────────────────────────────────────────


def test_the_scope_follows_the_uploaders_rights_when_the_batch_runs(world, admin_user):
    assert import_scope(world.principal) == ImportScope(
        school_ids=frozenset({world.school.pk}), uploader_id=world.principal.pk
    )
    assert import_scope(admin_user).district_wide

    def batch(**fields):
        made = ImportBatch(district=world.district, kind="csv", original_name="r.csv", **fields)
        made.upload.save("r.csv", ContentFile(b"x"), save=True)
        return ImportBatch.objects.select_related("uploaded_by").get(pk=made.pk)

    assert import_scope_for_batch(batch(from_command_line=True)).district_wide
    # An upload whose uploader is gone may change nothing, never everything.
    orphan = import_scope_for_batch(batch(uploaded_by=None))
    assert orphan.school_ids == frozenset() and not orphan.allows(world.school.pk)
    # A principal who has left the school by the time the batch runs may change nothing there.
    uploaded = batch(uploaded_by=world.principal)
    Assignment.objects.filter(staff__user=world.principal).delete()
    assert not import_scope_for_batch(uploaded).allows(world.school.pk)


def test_the_command_line_imports_for_the_whole_district(world, birch_class, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "r.csv"
    path.write_text(
        "student_id,assessment,subject,window,school_year,score\n"
        "B-1,Unit test,math,fall,2026-2027,64\n"
    )

    call_command("import_results_csv", "--district", world.district.slug, str(path))

    assert AssessmentResult.objects.filter(student__local_id="B-1").exists()
    assert ImportBatch.objects.get().from_command_line


def test_results_at_the_uploaders_school_are_still_refused_for_other_districts_students(world):
    """The scope narrows the district, it never widens it: another district stays unknown."""
    StudentFactory(local_id="X-1")  # another district
    assessment = AssessmentFactory(district=world.district)
    report = services.import_files(
        district=world.district,
        kind="csv",
        mode="skip",
        source={
            "r.csv": f"student_id,assessment,subject,window,school_year,score\n"
            f"X-1,{assessment.name},math,fall,2026-2027,64\n".encode()
        },
        scope=import_scope(world.principal),
    )
    assert [error.reason for error in report.errors] == [
        f"no student with id X-1 in {world.district}"
    ]


def test_the_import_page_says_which_schools_an_upload_may_change(client, world, admin_user):
    client.force_login(world.principal)
    page = client.get(reverse("data_tracking:import_list")).content.decode()
    assert "Your imports change" in page
    assert "<strong>Maple Elementary</strong>" in page
    assert "Birch Elementary" not in page

    client.force_login(admin_user)
    assert (
        "Your imports change"
        not in client.get(reverse("data_tracking:import_list")).content.decode()
    )
