"""Who may see a cycle: the teacher, the observer, the school's principals and assistant
principals, and the teacher's current caseload leader. Nobody else."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from observations.permissions import (
    get_cycle_for_observer,
    get_cycle_for_read,
    get_cycle_for_teacher,
    visible_cycles,
)
from teams import services as team_services
from teams.models import Assignment
from tests.observations.factories import cycle_in, small_rubric
from tests.teams.factories import AssignmentFactory, CaseloadFactory, UserFactory, staff_at

pytestmark = pytest.mark.django_db

Position = Assignment.Position


@pytest.fixture
def cast(world):
    """``world`` plus a rubric, one cycle where ``leader`` observes ``teacher`` at school A,
    and the people who must not see it."""
    small_rubric(world.district)
    world.cycle = cycle_in(
        "feedback_shared", school=world.school, teacher=world.teacher, observer=world.leader
    )
    world.assistant_principal = staff_at(
        world.school, Position.ASSISTANT_PRINCIPAL, username="assistant_principal"
    ).user
    world.other_teacher = staff_at(world.school, username="other_teacher").user
    world.other_leader = staff_at(world.school, username="other_leader").user
    CaseloadFactory(
        school=world.school, leader=world.other_leader.staff, teacher=world.other_teacher.staff
    )
    world.admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    world.no_profile = UserFactory(username="no_profile")
    return world


def fresh(user):
    """The user as a new request would load it (the scope is cached on the user object)."""
    return get_user_model().objects.get(pk=user.pk)


SEES = ["teacher", "leader", "principal", "assistant_principal", "admin"]
DOES_NOT_SEE = [
    "coach",
    "district_leader",
    "other_principal",
    "other_teacher",
    "other_leader",
    "no_profile",
]


@pytest.mark.parametrize("who", SEES)
def test_the_people_of_the_cycle_see_it(cast, who):
    user = fresh(getattr(cast, who))
    assert list(visible_cycles(user)) == [cast.cycle]
    assert get_cycle_for_read(user, cast.cycle.pk) == cast.cycle


@pytest.mark.parametrize("who", DOES_NOT_SEE)
def test_nobody_else_sees_it(cast, who):
    user = fresh(getattr(cast, who))
    assert not visible_cycles(user).exists()
    with pytest.raises(Http404):
        get_cycle_for_read(user, cast.cycle.pk)


def test_an_anonymous_visitor_sees_nothing(cast):
    assert not visible_cycles(AnonymousUser()).exists()


def test_a_caseload_leader_loses_sight_when_the_caseload_ends(cast):
    # The principal observes; ``leader`` is only the teacher's caseload leader.
    cycle = cycle_in("observed", school=cast.school, teacher=cast.teacher, observer=cast.principal)
    leader_sees = {c.pk for c in visible_cycles(fresh(cast.leader))}
    assert leader_sees == {cast.cycle.pk, cycle.pk}

    team_services.caseload_end(
        caseload=cast.caseload, end_date=timezone.localdate(), ended_by=cast.principal
    )

    leader = fresh(cast.leader)
    with pytest.raises(Http404):
        get_cycle_for_read(leader, cycle.pk)
    # Still the observer of the first cycle, so that one stays in sight.
    assert list(visible_cycles(leader)) == [cast.cycle]
    # The teacher and the principal are unaffected.
    assert get_cycle_for_read(fresh(cast.teacher), cycle.pk) == cycle
    assert get_cycle_for_read(fresh(cast.principal), cycle.pk) == cycle


def test_a_caseload_at_another_school_does_not_reach_this_schools_cycles(cast):
    # The teacher also works at school B, where someone else develops them.
    AssignmentFactory(staff=cast.teacher.staff, school=cast.other_school)
    leader_b = staff_at(cast.other_school)
    CaseloadFactory(school=cast.other_school, leader=leader_b, teacher=cast.teacher.staff)
    with pytest.raises(Http404):
        get_cycle_for_read(fresh(leader_b.user), cast.cycle.pk)


# --- acting on a cycle ---------------------------------------------------------------------------


def test_only_the_observer_runs_the_cycle(cast):
    pk = cast.cycle.pk
    assert get_cycle_for_observer(fresh(cast.leader), pk) == cast.cycle
    for who in ("teacher", "principal"):
        with pytest.raises(PermissionDenied, match="Only the observer"):
            get_cycle_for_observer(fresh(getattr(cast, who)), pk)
    for who in DOES_NOT_SEE:
        with pytest.raises(Http404):
            get_cycle_for_observer(fresh(getattr(cast, who)), pk)


def test_only_the_observed_teacher_reflects(cast):
    pk = cast.cycle.pk
    assert get_cycle_for_teacher(fresh(cast.teacher), pk) == cast.cycle
    for who in ("leader", "principal"):
        with pytest.raises(PermissionDenied, match="Only the observed teacher"):
            get_cycle_for_teacher(fresh(getattr(cast, who)), pk)
    for who in DOES_NOT_SEE:
        with pytest.raises(Http404):
            get_cycle_for_teacher(fresh(getattr(cast, who)), pk)


def test_a_missing_cycle_is_not_found(cast):
    with pytest.raises(Http404):
        get_cycle_for_read(fresh(cast.admin), cast.cycle.pk + 1000)
