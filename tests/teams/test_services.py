"""The rules the services enforce and the ones the database enforces underneath them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from teams import services
from teams.models import Assignment, Caseload, TeamMembership
from tests.teams.factories import (
    AssignmentFactory,
    CaseloadFactory,
    TeamMembershipFactory,
    days_ago,
    staff_at,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


# --- Database constraints ------------------------------------------------------------------------


def test_the_database_allows_one_active_role_per_person_per_team(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembership.objects.create(
            team=world.team, staff=world.leader.staff, role="member", start_date=TODAY()
        )


def test_an_ended_role_does_not_block_a_new_one(world):
    world.membership.end_date, world.membership.closed_at = TODAY(), timezone.now()
    world.membership.save()
    TeamMembership.objects.create(
        team=world.team, staff=world.leader.staff, role="member", start_date=TODAY()
    )
    assert TeamMembership.objects.filter(team=world.team, staff=world.leader.staff).count() == 2


def test_the_same_person_may_hold_roles_on_two_teams(world):
    second = world.team.school.teams.create(kind="content", name="Math PLC")
    TeamMembershipFactory(team=second, staff=world.leader.staff)
    assert TeamMembership.objects.active().filter(staff=world.leader.staff).count() == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda w: TeamMembershipFactory.build(team=w.team, staff=w.teacher.staff),
        lambda w: CaseloadFactory.build(
            school=w.school, leader=w.coach.staff, teacher=w.teacher.staff
        ),
        lambda w: AssignmentFactory.build(staff=w.teacher.staff, school=w.school),
    ],
    ids=["membership", "caseload", "assignment"],
)
def test_the_database_refuses_an_end_date_before_the_start(world, make):
    row = make(world)
    row.start_date, row.end_date = days_ago(1), days_ago(2)
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_the_database_refuses_a_caseload_of_oneself(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Caseload.objects.create(
            school=world.school,
            leader=world.teacher.staff,
            teacher=world.teacher.staff,
            start_date=TODAY(),
        )


def test_the_database_allows_one_active_caseload_per_pair(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Caseload.objects.create(
            school=world.school,
            leader=world.leader.staff,
            teacher=world.teacher.staff,
            start_date=TODAY(),
        )


def test_only_district_leaders_may_have_no_school(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            staff=world.teacher.staff,
            district=world.district,
            school=None,
            position=Assignment.Position.TEACHER,
        )


# --- Services ------------------------------------------------------------------------------------


def test_membership_assign_refuses_a_second_active_role(world):
    with pytest.raises(ValidationError) as refused:
        services.membership_assign(
            team=world.team,
            staff=world.leader.staff,
            role="member",
            start_date=TODAY(),
            assigned_by=world.principal,
        )
    assert "End that role first" in refused.value.message_dict["staff"][0]
    assert TeamMembership.objects.count() == 1


def test_membership_assign_refuses_someone_who_does_not_work_at_the_school(world):
    with pytest.raises(ValidationError) as refused:
        services.membership_assign(
            team=world.team,
            staff=world.other_principal.staff,
            role="member",
            start_date=TODAY(),
            assigned_by=world.principal,
        )
    assert "does not work at Maple Elementary" in refused.value.message_dict["staff"][0]


def test_membership_assign_checks_the_person_works_there_on_the_start_date(world):
    """Someone who joins next month cannot take a role that starts today."""
    newcomer = staff_at(world.school)
    newcomer.assignments.update(start_date=TODAY() + datetime.timedelta(days=30))
    with pytest.raises(ValidationError):
        services.membership_assign(
            team=world.team,
            staff=newcomer,
            role="member",
            start_date=TODAY(),
            assigned_by=world.principal,
        )
    services.membership_assign(
        team=world.team,
        staff=newcomer,
        role="member",
        start_date=TODAY() + datetime.timedelta(days=30),
        assigned_by=world.principal,
    )


def test_membership_end_refuses_a_role_that_already_ended(world):
    services.membership_end(membership=world.membership, end_date=TODAY(), ended_by=None)
    with pytest.raises(ValidationError, match="already ended"):
        services.membership_end(membership=world.membership, end_date=TODAY(), ended_by=None)


def test_caseload_assign_refuses_a_teacher_already_in_the_caseload(world):
    with pytest.raises(ValidationError) as refused:
        services.caseload_assign(
            school=world.school,
            leader=world.leader.staff,
            teacher=world.teacher.staff,
            start_date=TODAY(),
            assigned_by=world.principal,
        )
    assert "already in Lena Lopez’s caseload" in refused.value.message_dict["teacher"][0]


def test_caseload_assign_refuses_a_teacher_of_another_school(world):
    elsewhere = staff_at(world.other_school)
    with pytest.raises(ValidationError) as refused:
        services.caseload_assign(
            school=world.school,
            leader=world.leader.staff,
            teacher=elsewhere,
            start_date=TODAY(),
            assigned_by=world.principal,
        )
    assert "does not teach at Maple Elementary" in refused.value.message_dict["teacher"][0]


def test_caseload_end_today_closes_it(world):
    services.caseload_end(caseload=world.caseload, end_date=TODAY(), ended_by=world.principal)
    world.caseload.refresh_from_db()
    assert world.caseload.closed_at is not None
    assert world.caseload.ended_by == world.principal


# --- The nightly close ---------------------------------------------------------------------------


def test_roles_close_ended_closes_only_what_has_passed_its_end_date(world):
    long_ago = timezone.now() - datetime.timedelta(days=20)
    # due: ended yesterday, still open
    due_role = TeamMembershipFactory(
        team=world.team, staff=world.teacher.staff, end_date=days_ago(1)
    )
    due_caseload = CaseloadFactory(
        school=world.school,
        leader=world.coach.staff,
        teacher=world.teacher.staff,
        end_date=days_ago(1),
    )
    # not due: ends today (still held today), ends later, open-ended, already closed
    ends_today = TeamMembershipFactory(
        team=world.other_team, staff=world.teacher.staff, end_date=TODAY()
    )
    later = TeamMembershipFactory(
        team=world.team, staff=world.coach.staff, end_date=TODAY() + datetime.timedelta(days=3)
    )
    already = TeamMembershipFactory(
        team=world.team,
        staff=world.principal.staff,
        start_date=days_ago(60),
        end_date=days_ago(20),
        closed_at=long_ago,
    )

    assert services.roles_close_ended() == 2

    for row in (
        due_role,
        due_caseload,
        ends_today,
        later,
        already,
        world.membership,
        world.caseload,
    ):
        row.refresh_from_db()
    assert not due_role.is_active
    assert not due_caseload.is_active
    assert ends_today.is_active and later.is_active
    assert world.membership.is_active and world.caseload.is_active
    assert already.closed_at == long_ago
    assert services.roles_close_ended() == 0
