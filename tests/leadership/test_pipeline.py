"""The talent pipeline: the signals and order on the hand-built Oak school, leadership history,
who is left out, who may open it, and its query count."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from leadership import indicators
from observations.models import FollowUp
from teams.models import Assignment, TeamRole
from tests.leadership.test_map import NOW, oak_school, person
from tests.observations.factories import ObservationCycleFactory, small_rubric
from tests.teams.factories import AssignmentFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def oak(db):
    return oak_school()


def test_signals_and_order(oak):
    pipeline = indicators.talent_pipeline(school=oak.school, now=NOW)
    rows = [(row["teacher"].full_name, row["signals"]) for row in pipeline["emerging"]]
    # Only meetings held count as facilitated: Ann's, Cal's and Ben's are still to come.
    assert rows == [
        # two signals each, the same sum: name order
        ("Ben Brown", {"mastered": 0, "facilitated": 0, "peer_feedback": 1, "lead_roles": 1}),
        ("Dee Diaz", {"mastered": 1, "facilitated": 1, "peer_feedback": 0, "lead_roles": 0}),
        # one signal each; Ann's count is higher
        ("Ann Adams", {"mastered": 0, "facilitated": 0, "peer_feedback": 0, "lead_roles": 2}),
        ("Cal Cruz", {"mastered": 0, "facilitated": 0, "peer_feedback": 0, "lead_roles": 1}),
    ]
    # Eve's facilitator role ended and her meeting was cancelled: no signal now.
    assert pipeline["without_signals"] == 1


def test_history_lists_past_and_present_roles_and_caseloads(oak):
    pipeline = indicators.talent_pipeline(school=oak.school, now=NOW)
    ann = next(r for r in pipeline["emerging"] if r["teacher"] == oak.ann)
    assert sorted(m.get_role_display() for m in ann["roles"]) == ["Grade-level lead", "Team lead"]
    assert (ann["caseloads"]["teachers"], ann["caseloads"]["active"]) == (1, 1)
    # An ended role stays in the history, though it is no longer a signal.
    oak.eve.cycles_as_teacher.update(status="closed")  # her cancelled cycle, now followed up
    FollowUp.objects.create(
        cycle=oak.eve.cycles_as_teacher.get(), visited_on=NOW.date(), mastery="mastered"
    )
    pipeline = indicators.talent_pipeline(school=oak.school, now=NOW)
    eve = next(r for r in pipeline["emerging"] if r["teacher"] == oak.eve)
    assert [(m.get_role_display(), m.team.name, m.is_active) for m in eve["roles"]] == [
        ("Facilitator", "Math PLC", False)
    ]
    assert eve["signals"]["lead_roles"] == 0


def test_principals_and_assistant_principals_are_left_out(oak):
    # Ann becomes assistant principal (while still teaching): she is no longer "emerging".
    AssignmentFactory(
        staff=oak.ann, school=oak.school, position=Assignment.Position.ASSISTANT_PRINCIPAL
    )
    pipeline = indicators.talent_pipeline(school=oak.school, now=NOW)
    assert oak.ann not in [row["teacher"] for row in pipeline["emerging"]]


@pytest.mark.parametrize("person_name", ["teacher", "leader", "coach", "district_leader"])
def test_only_the_schools_managers_see_it(client, world, person_name):
    client.force_login(getattr(world, person_name))
    response = client.get(reverse("leadership:talent_pipeline", args=[world.school.slug]))
    assert response.status_code == 404


def test_page_shows_the_emerging_leaders(client, world):
    client.force_login(world.principal)
    response = client.get(reverse("leadership:talent_pipeline", args=[world.school.slug]))
    assertContains(response, "Lena Lopez")
    assertContains(response, "Team lead, Instructional Leadership Team")
    assertContains(response, "1 other teacher shows none of these signals yet.")


# Session, user, scope (profile, positions), school, notification badge, six row queries.
PIPELINE_QUERIES = 12


@pytest.mark.parametrize("n", [2, 30])
def test_queries_do_not_grow_with_the_school(client, world, django_assert_num_queries, n):
    rubric = small_rubric(world.district)
    for i in range(n):
        teacher = person(world.school, f"Bulk{i}", f"Teacher{i:03}")
        TeamMembershipFactory(team=world.team, staff=teacher, role=TeamRole.FACILITATOR)
        ObservationCycleFactory(
            school=world.school, observer=teacher, teacher=world.teacher.staff, rubric=rubric
        )
    client.force_login(world.principal)
    with django_assert_num_queries(PIPELINE_QUERIES):
        response = client.get(reverse("leadership:talent_pipeline", args=[world.school.slug]))
    assertContains(response, f"Bulk{n - 1} Teacher{n - 1:03}")
