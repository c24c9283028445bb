"""Pages the principal uses every day run a fixed number of queries, whatever the school's size.

The pins are the counts measured when the pages were written; a change that adds a query per row
(an N+1) fails at the large size, and any new query fails at both.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from teams.models import (
    AgendaItem,
    Assignment,
    Caseload,
    Decision,
    LeadershipTeam,
    Meeting,
    StaffMember,
    TeamMembership,
    TeamRole,
)
from tests.teams.factories import days_ago

# Measured with the principal of the school logged in; the same number at both sizes.
# Each count includes the session, the user, the two scope queries (profile, positions) and
# the unread-notification count in the navigation bar.
QUERY_PINS = {
    # two count the gaps of each school the principal runs; one lists the next meetings of the
    # teams they are on, one the leadership surveys waiting for their answer
    "home": 13,
    "teams:school_detail": 12,
    "teams:staff_list": 10,
    "teams:team_list": 8,
    # two list its action items, two its coming and past meetings; decisions and topics
    # waiting for a meeting one each
    "teams:team_detail": 15,
    "teams:caseload_list": 7,
}

SIZES = [5, 500]


def populate(world, size):
    """Give school A ``size`` more teachers, with teams, roles, role history and caseloads."""
    school, today = world.school, timezone.localdate()
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"bulk{i}", first_name=f"Bulk{i}", last_name=f"Teacher{i:04}", password="!"
        )
        for i in range(size)
    )
    staff = StaffMember.objects.bulk_create(
        StaffMember(
            user=user,
            district=world.district,
            content_areas=["math", "ela"],
            grade_bands=["3_5"],
            expertise="Number talks",
        )
        for user in users
    )
    Assignment.objects.bulk_create(
        Assignment(
            staff=person,
            district=world.district,
            school=school,
            position=Assignment.Position.TEACHER,
            start_date=days_ago(365),
        )
        for person in staff
    )

    # One big team (up to 200 members and size // 5 ended roles), and one more team per 25 staff.
    big = world.team
    teams = [big] + LeadershipTeam.objects.bulk_create(
        LeadershipTeam(school=school, kind="content", name=f"PLC {i}")
        for i in range(max(2, size // 25))
    )
    roles = [TeamRole.TEAM_LEAD, TeamRole.FACILITATOR, TeamRole.DATA_LEAD, TeamRole.MEMBER]
    memberships = [
        TeamMembership(team=big, staff=person, role=roles[min(i, 3)], start_date=days_ago(100))
        for i, person in enumerate(staff[:200])
    ]
    now = timezone.now()
    memberships += [
        TeamMembership(
            team=big,
            staff=person,
            role=TeamRole.MEMBER,
            start_date=days_ago(400 - i),
            end_date=days_ago(300 - i),
            closed_at=now - datetime.timedelta(days=300 - i),
        )
        for i, person in enumerate(staff[-(size // 5) :])
    ]
    principal = world.principal.staff
    for team in teams[1:]:
        memberships.append(
            TeamMembership(team=team, staff=staff[0], role=TeamRole.TEAM_LEAD, start_date=today)
        )
        memberships.append(
            TeamMembership(team=team, staff=principal, role=TeamRole.MEMBER, start_date=today)
        )
    TeamMembership.objects.bulk_create(memberships)

    # Two teacher leaders and the principal share the other teachers as caseloads.
    leaders, teachers = [*staff[:2], principal], staff[2:]
    Caseload.objects.bulk_create(
        Caseload(
            school=school,
            leader=leaders[i % len(leaders)],
            teacher=teacher,
            start_date=days_ago(10),
        )
        for i, teacher in enumerate(teachers)
    )

    # The team has met, and meets again: a meeting, a decision and a waiting topic per ten staff.
    now = timezone.now()
    meetings = Meeting.objects.bulk_create(
        Meeting(
            team=world.team,
            starts_at=now + datetime.timedelta(days=7 * n - size // 20),
            facilitator=staff[n],
            status=Meeting.Status.HELD if n < size // 20 else Meeting.Status.SCHEDULED,
        )
        for n in range(max(1, size // 10))
    )
    Decision.objects.bulk_create(
        Decision(meeting=meeting, text=f"Decision {n}") for n, meeting in enumerate(meetings)
    )
    AgendaItem.objects.bulk_create(
        AgendaItem(team=world.team, title=f"Waiting {n}") for n in range(len(meetings))
    )


# URL arguments, and a text the page shows only if the rows made above reached it.
PAGES = {
    "home": (lambda w: [], "PLC 1"),
    "teams:school_detail": (lambda w: [w.school.slug], "PLC 1"),
    "teams:staff_list": (lambda w: [w.school.slug], "Bulk1 Teacher0001"),
    "teams:team_list": (lambda w: [w.school.slug], "PLC 1"),
    "teams:team_detail": (lambda w: [w.team.pk], "Bulk1 Teacher0001"),
    "teams:caseload_list": (lambda w: [w.school.slug], "Bulk4 Teacher0004"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_page_queries_do_not_grow_with_the_school(
    client, world, django_assert_max_num_queries, name, size
):
    populate(world, size)
    client.force_login(world.principal)
    build_args, shows = PAGES[name]
    url = reverse(name, args=build_args(world))
    with django_assert_max_num_queries(QUERY_PINS[name]):
        response = client.get(url)
    assertContains(response, shows)
