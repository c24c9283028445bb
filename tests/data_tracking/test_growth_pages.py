"""Growth on the pages: the dashboards' growth table and goal areas read the snapshot, a class
page lists each student's start, end, change and typical growth, the CSVs carry the same
figures, a meeting topic leads with the growth headline, and every dashboard links to how the
figures are worked out.

The class below (Math 5 at Maple, spring of 2026-2027):

    student   fall  winter  spring   typical fall→spring   change fall→spring   met
    Ada       200   204     211      9                     +11                  yes
    Ben       210   —       214      8                     +4                   not yet
    Cleo      —     —       220      —                     (no fall test: not matched)
    Dev       190   195     199      —                     +9                   no figure
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from data_tracking.models import DashboardSnapshot, StudentAccessLog
from teams.models import AgendaItem
from tests.data_tracking.factories import (
    YEAR,
    AssessmentResultFactory,
    EnrollmentFactory,
    SectionFactory,
    StudentFactory,
    benchmark,
)
from tests.data_tracking.reading import csv_rows

pytestmark = pytest.mark.django_db

GROWTH = {
    "fall-spring": {
        "pairs": 3,
        "not_matched": 1,
        "median_change": 9.0,
        "mean_change": 8.0,
        "mean_percentile_change": None,
        "with_typical": 2,
        "met_typical": 1,
        "percent_met_typical": 50.0,
        "subgroups": {
            "english_learner": {
                "group": {"pairs": 1, "median_change": None, "percent_met_typical": None},
                "rest": {"pairs": 2, "median_change": None, "percent_met_typical": None},
            }
        },
    },
    "winter-spring": {
        "pairs": 2,
        "not_matched": 2,
        "median_change": 5.5,
        "mean_change": 5.5,
        "mean_percentile_change": None,
        "with_typical": 0,
        "met_typical": 0,
        "percent_met_typical": None,
        "subgroups": {},
    },
}
GOALS = {
    "areas": [
        {"name": "Geometry", "n": 4, "mean_rit": 203.5},
        {"name": "Number and Operations", "n": 4, "mean_rit": 210.0},
    ],
    "weakest": "Geometry",
}


@pytest.fixture
def spring(world):
    """The class of the module docstring, and its compiled-looking snapshots."""
    school = world.school
    section = SectionFactory(school=school, teacher=world.teacher.staff, name="Math 5", grade="5")
    fall, winter, spring = (benchmark(world.district, w) for w in ("fall", "winter", "spring"))
    rows = {
        "Ada": (200, 204, 211, "9"),
        "Ben": (210, None, 214, "8"),
        "Cleo": (None, None, 220, None),
        "Dev": (190, 195, 199, None),
    }
    for first, (f, w, s, typical) in rows.items():
        student = StudentFactory(school=school, first_name=first, last_name="Pupil", grade="5")
        EnrollmentFactory(section=section, student=student)
        for assessment, score in ((fall, f), (winter, w), (spring, s)):
            if score is not None:
                AssessmentResultFactory(
                    assessment=assessment,
                    student=student,
                    score=score,
                    typical_fall_to_spring=Decimal(typical) if typical else None,
                )
    metrics = {"tested": 4, "mean_score": 211.0, "growth": GROWTH, "goals": GOALS}
    for scope, key in (("school", ""), ("grade", "5"), ("section", str(section.pk))):
        DashboardSnapshot.objects.create(
            school=school,
            scope=scope,
            scope_key=key,
            subject="math",
            school_year=YEAR,
            window="spring",
            metrics=metrics,
            fingerprint="x",
        )
    return section


def test_the_school_dashboard_shows_growth_and_goal_areas(client, world, spring):
    client.force_login(world.principal)
    page = client.get(reverse("data_tracking:school_dashboard", args=[world.school.slug]))

    assertContains(page, "Growth of the same students")
    text = page.content.decode()
    assert "Fall to spring" in text and "Winter to spring" in text
    assert "Spring to spring" not in text  # no pairs: not shown
    assertContains(page, "+9")  # fall to spring median change
    assertContains(page, "50.0%")
    assertContains(page, "(1 of 2)")
    assertContains(page, '<span class="badge text-bg-warning">Weakest</span>', html=True)
    assertContains(page, reverse("data_tracking:metrics_help"))
    chart = page.context["chart_data"]["growth"]
    assert chart == {
        "labels": ["Fall to spring", "Winter to spring"],
        "percent_met": [50.0, None],
        "median": [9.0, 5.5],
    }


def test_the_growth_csv_has_one_row_per_span(client, world, spring):
    client.force_login(world.principal)
    url = reverse("data_tracking:school_dashboard", args=[world.school.slug])

    rows = csv_rows(client.get(url, {"format": "csv", "table": "growth"}))
    goals = csv_rows(client.get(url, {"format": "csv", "table": "goals"}))

    assert rows == [
        [
            "span",
            "pairs",
            "not_matched",
            "median_change",
            "mean_change",
            "mean_percentile_change",
            "with_typical",
            "met_typical",
            "percent_met_typical",
        ],
        ["fall-spring", "3", "1", "9.0", "8.0", "", "2", "1", "50.0"],
        ["winter-spring", "2", "2", "5.5", "5.5", "", "0", "0", ""],
    ]
    assert goals[1:] == [
        ["Geometry", "4", "203.5", "True"],
        ["Number and Operations", "4", "210.0", "False"],
    ]


def test_a_class_page_lists_each_students_growth(client, world, spring):
    client.force_login(world.teacher)
    url = reverse("data_tracking:section_dashboard", args=[spring.pk])

    page = client.get(url)

    growth = dict(page.context["growth"])
    fall_spring = {row["student"].first_name: row for row in growth["Fall to spring"]}
    assert {
        name: (r["start"], r["end"], r["change"], r["typical"], r["met"])
        for name, r in fall_spring.items()
    } == {
        "Ada": (200, 211, 11, 9, True),
        "Ben": (210, 214, 4, 8, False),
        "Dev": (190, 199, 9, None, None),
    }
    assert [r["student"].first_name for r in growth["Winter to spring"]] == ["Ada", "Dev"]
    assert "Spring to spring" in growth and growth["Spring to spring"] == []
    assertContains(page, "Each student's growth")
    assertContains(page, "Not yet")

    rows = csv_rows(client.get(url, {"format": "csv", "table": "student_growth"}))
    assert rows[0] == [
        "span",
        "student_id",
        "last_name",
        "first_name",
        "start",
        "end",
        "change",
        "typical_growth",
        "met_typical",
    ]
    assert [row[3] for row in rows[1:]] == ["Ada", "Ben", "Dev", "Ada", "Dev"]
    assert StudentAccessLog.objects.filter(user=world.teacher).count() == 2  # page and CSV


def test_a_meeting_topic_leads_with_the_growth_headline(client, world, spring):
    from tests.teams.factories import MeetingFactory

    snapshot = DashboardSnapshot.objects.get(scope="school")
    meeting = MeetingFactory(team=world.team)
    AgendaItem.objects.create(
        team=world.team, meeting=meeting, position=1, title="Spring data", snapshot=snapshot
    )
    client.force_login(world.leader)

    page = client.get(meeting.get_absolute_url())

    assertContains(page, "fall to spring: median change +9, 50.0% met typical growth")


def test_how_the_figures_are_worked_out_is_a_page(client, world):
    client.force_login(world.teacher)
    page = client.get(reverse("data_tracking:metrics_help"))
    assertContains(page, "<h1")
    assertContains(page, 'id="growth"')
    assertNotContains(page, "```")
