"""The demo district's student data: what `coach` and `principal` find on the dashboards."""

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from data_tracking import demo as data_demo
from data_tracking.compile import school_compile
from data_tracking.models import (
    AssessmentResult,
    DashboardSnapshot,
    Section,
    Student,
    Window,
)
from data_tracking.selectors import snapshots_new_since_review
from teams import permissions as team_permissions
from teams.models import School

MIDDLE = "cedar-ridge-middle"


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())


def user(username):
    return get_user_model().objects.get(username=username)


def test_windows_taken_are_last_year_and_this_year_so_far():
    assert data_demo.windows_taken(date(2026, 11, 23)) == [
        ("2025-2026", Window.FALL),
        ("2025-2026", Window.WINTER),
        ("2025-2026", Window.SPRING),
        ("2026-2027", Window.FALL),
    ]
    assert data_demo.windows_taken(date(2027, 2, 1))[-2:] == [
        ("2026-2027", Window.FALL),
        ("2026-2027", Window.WINTER),
    ]
    assert len(data_demo.windows_taken(date(2026, 8, 20))) == 3


def test_levels_follow_the_percentile():
    assert [data_demo.level_for(p) for p in (1, 24, 25, 44, 45, 79, 80, 99)] == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]


def test_every_school_has_students_classes_results_and_compiled_dashboards(demo):
    for school in School.objects.filter(district__slug="riverbend-usd"):
        students = Student.objects.filter(school=school)
        assert students.count() > 100, school
        assert set(students.values_list("grade", flat=True)) == set(
            data_demo.NORM_GRADES[
                data_demo.NORM_GRADES.index(school.lowest_grade) : data_demo.NORM_GRADES.index(
                    school.highest_grade
                )
                + 1
            ]
        )
        current = DashboardSnapshot.objects.filter(school=school, is_current=True)
        assert set(current.values_list("scope", flat=True)) == set(DashboardSnapshot.Scope.values)
        # Every flagged subgroup exists in numbers large enough to be shown.
        school_fall = current.get(
            scope=DashboardSnapshot.Scope.SCHOOL,
            subject="math",
            school_year="2025-2026",
            window=Window.FALL,
        )
        for group in school_fall.metrics["subgroups"].values():
            assert group["gap"] is not None
            assert group["gap"] < 0  # each subgroup trails the rest


def test_the_compiled_snapshots_are_up_to_date(demo):
    for school in School.objects.filter(district__slug="riverbend-usd"):
        result = school_compile(school=school)
        assert result.created == 0 and result.superseded == 0, school


def test_the_journeys_people_have_classes_and_a_snapshot_to_review(demo):
    leader, teacher = user("leader").staff, user("teacher").staff
    assert {s.subject for s in Section.objects.filter(teacher=leader)} == {"math"}
    assert {s.subject for s in Section.objects.filter(teacher=teacher)} == {"reading"}

    principal = user("principal")
    schools = team_permissions.managed_schools(principal)
    snapshots = list(snapshots_new_since_review(schools=schools, reviewer=principal))
    new = [s for s in snapshots if s.last_reviewed is None or s.compiled_at > s.last_reviewed]
    seen = [s for s in snapshots if s not in new]
    assert new and seen


def test_struggling_classes_fall_behind_this_year(demo):
    section = Section.objects.get(name="Math 7 · period 2", school__slug=MIDDLE)
    peers = Section.objects.filter(school__slug=MIDDLE, name__startswith="Math 7 · ").exclude(
        pk=section.pk
    )
    this_year = data_demo.school_year_of(date.today())
    last_year = f"{int(this_year[:4]) - 1}-{this_year[:4]}"

    def mean_percentile(sections, year):
        scores = AssessmentResult.objects.filter(
            student__sections__in=sections,
            assessment__school_year=year,
            assessment__subject="math",
        ).values_list("percentile", flat=True)
        return sum(scores) / len(scores)

    def drop(sections):
        return mean_percentile(sections, last_year) - mean_percentile(sections, this_year)

    # The same students, measured against the national norm: the struggling class slipped.
    assert drop([section]) > drop(peers) + 5


def test_coach_opens_the_demo_dashboard_and_drills_into_a_class(demo, client):
    client.force_login(user("coach"))
    response = client.get(reverse("data_tracking:school_dashboard", args=[MIDDLE]))
    assert response.status_code == 200
    assert b"MAP Growth" in response.content or b"Mathematics" in response.content

    section = Section.objects.filter(school__slug=MIDDLE, subject="math").first()
    response = client.get(reverse("data_tracking:section_dashboard", args=[section.pk]))
    assert response.status_code == 200
    student = section.students.first()
    assert student.last_name in response.content.decode()
