"""My classes' data: a teacher's own classes, and a teacher leader's caseload teachers' classes
beside their observation cycles, read from compiled snapshots."""

import pytest
from django.urls import reverse
from django.utils import timezone

from data_tracking.models import DashboardSnapshot, Subject, Window
from observations.models import Status
from tests.data_tracking.factories import EnrollmentFactory, SectionFactory
from tests.observations.factories import ObservationCycleFactory
from tests.teams.factories import CaseloadFactory, SchoolFactory, staff_at

pytestmark = pytest.mark.django_db
Scope = DashboardSnapshot.Scope
URL = reverse("data_tracking:my_classes")


def snapshot(section, window, percent, *, tested=20, year="2026-2027", at_risk=None):
    return DashboardSnapshot.objects.create(
        school=section.school,
        scope=Scope.SECTION,
        scope_key=str(section.pk),
        subject=section.subject,
        school_year=year,
        window=window,
        metrics={
            "tested": tested,
            "mean_score": 210.5,
            "percent_proficient": percent,
            "students_at_risk": at_risk,
        },
        fingerprint=f"{section.pk}-{window}",
    )


@pytest.fixture
def school():
    return SchoolFactory()


@pytest.fixture
def leader(school):
    return staff_at(school)


def caseload_teacher(school, leader, n_sections=1):
    teacher = staff_at(school)
    CaseloadFactory(school=school, leader=leader, teacher=teacher)
    for n in range(n_sections):
        section = SectionFactory(school=school, teacher=teacher, name=f"{teacher.pk} class {n}")
        EnrollmentFactory(section=section)
        snapshot(section, Window.FALL, 40.0)
        snapshot(section, Window.WINTER, 45.5, at_risk=3)
    return teacher


def test_a_teacher_sees_their_own_classes_with_the_latest_window_and_the_change(client, school):
    teacher = staff_at(school)
    mine = SectionFactory(school=school, teacher=teacher, name="Math 5 · period 2")
    snapshot(mine, Window.FALL, 50.0)
    snapshot(mine, Window.WINTER, 42.5, at_risk=4)
    SectionFactory(school=school, teacher=teacher, name="Science 5", subject=Subject.SCIENCE)
    other = SectionFactory(school=school, teacher=staff_at(school), name="Someone else's class")
    snapshot(other, Window.WINTER, 99.0)

    client.force_login(teacher.user)
    page = client.get(URL).content.decode()

    assert "Math 5 · period 2" in page
    assert "42.5%" in page and "-7.5 pts" in page  # winter, and the change since fall
    assert "Science 5" in page and "No compiled results yet" in page
    assert reverse("data_tracking:section_dashboard", args=[mine.pk]) in page
    assert "Someone else" not in page
    assert "Teachers you develop" not in page


def test_a_leader_sees_caseload_teachers_classes_beside_their_cycle(client, school, leader):
    teacher = caseload_teacher(school, leader)
    ObservationCycleFactory(
        school=school, observer=leader, teacher=teacher, status=Status.FEEDBACK_SHARED
    )
    without_classes = staff_at(school)
    CaseloadFactory(school=school, leader=leader, teacher=without_classes)
    outsider = staff_at(school)
    SectionFactory(school=school, teacher=outsider, name="Outsider class")

    client.force_login(leader.user)
    response = client.get(URL)
    page = response.content.decode()

    rows = response.context["caseload"]
    assert [row["teacher"] for row in rows] == sorted(
        [teacher, without_classes], key=lambda s: (s.user.last_name, s.user.first_name)
    )
    teacher_row = next(row for row in rows if row["teacher"] == teacher)
    assert teacher_row["cycle"].status == Status.FEEDBACK_SHARED
    assert [c["section"].teacher for c in teacher_row["classes"]] == [teacher]
    assert teacher_row["classes"][0]["change"] == 5.5
    assert "Feedback shared" in page
    assert f"No classes of {without_classes.full_name} are on the roster here." in page
    assert "Outsider class" not in page
    # Aggregates only: the students' names are on each class's own page.
    student = teacher_row["classes"][0]["section"].students.get()
    assert student.last_name not in page


def test_an_ended_caseload_drops_its_teacher(client, school, leader):
    teacher = caseload_teacher(school, leader)
    teacher.developed_by.update(closed_at=timezone.now())

    client.force_login(leader.user)
    response = client.get(URL)

    assert response.context["caseload"] == []
    assert f"{teacher.pk} class 0" not in response.content.decode()


def test_the_caseload_summary_shows_the_latest_caseload_snapshot(client, school, leader):
    caseload_teacher(school, leader)
    for window, percent in ((Window.FALL, 30.0), (Window.WINTER, 37.5)):
        DashboardSnapshot.objects.create(
            school=school,
            scope=Scope.CASELOAD,
            scope_key=str(leader.pk),
            subject=Subject.MATH,
            school_year="2026-2027",
            window=window,
            metrics={"tested": 41, "percent_proficient": percent, "students_at_risk": 6},
            fingerprint=window,
        )

    client.force_login(leader.user)
    response = client.get(URL)

    [row] = response.context["caseload_summary"]
    assert (row["snapshot"].window, row["change"]) == (Window.WINTER, 7.5)
    assert "+7.5 pts" in response.content.decode()


def test_someone_without_classes_gets_the_empty_state(client, school):
    principal = staff_at(school, position="principal")
    client.force_login(principal.user)
    assert "No classes are linked to you" in client.get(URL).content.decode()


@pytest.mark.parametrize("teachers", [1, 4])
def test_query_count_does_not_grow_with_the_caseload(
    client, school, leader, teachers, django_assert_num_queries
):
    for _ in range(teachers):
        caseload_teacher(school, leader, n_sections=2)
    SectionFactory(school=school, teacher=leader)
    client.force_login(leader.user)

    # session, user, scope (2), profile, own classes + their snapshots, caseloads, open cycles,
    # last observed, caseload classes + their snapshots, caseload snapshots, unread notifications
    with django_assert_num_queries(14):
        client.get(URL)
