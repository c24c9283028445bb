"""What a principal sees when a form is refused, and what the happy paths write.

Each refusal checks the message on the page, that no row was written and that what was typed is
still in the form.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from teams import services
from teams.models import Caseload, LeadershipTeam, TeamMembership
from tests.teams.factories import TeamMembershipFactory, days_ago, staff_at

pytestmark = pytest.mark.django_db


def iso(day):
    return day.isoformat()


def assert_radio_checked(response, value):
    html = response.content.decode()
    assert re.search(rf'type="radio" name="staff" value="{value}"[^>]*\bchecked\b', html), (
        f"staff {value} is no longer chosen"
    )


def assert_option_selected(response, name, value):
    html = response.content.decode()
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select, f"no <select name={name}> on the page"
    assert re.search(rf'<option value="{value}"\s+selected', select.group(0)), (
        f"{name} {value} is no longer selected"
    )


# --- Assigning a role ----------------------------------------------------------------------------


def assign_url(world):
    return reverse("teams:membership_assign", args=[world.team.pk])


def test_assigning_a_second_role_to_someone_on_the_team_is_refused(principal_client, world):
    start = days_ago(2)
    response = principal_client.post(
        assign_url(world),
        {"staff": world.leader.staff.pk, "role": "data_lead", "start_date": iso(start)},
    )
    assertContains(response, "Lena Lopez already holds the role Team lead")
    assertContains(response, "End that role first.")
    assert TeamMembership.objects.filter(team=world.team).count() == 1
    assert_radio_checked(response, world.leader.staff.pk)
    assertContains(response, f'value="{iso(start)}"')
    assertContains(response, '<option value="data_lead" selected>')


def test_assigning_a_role_that_ends_before_it_starts_is_refused(principal_client, world):
    start, end = days_ago(1), days_ago(10)
    response = principal_client.post(
        assign_url(world),
        {
            "staff": world.teacher.staff.pk,
            "role": "member",
            "start_date": iso(start),
            "end_date": iso(end),
        },
    )
    assertContains(response, "The end date must be on or after the start date")
    assert not TeamMembership.objects.filter(staff=world.teacher.staff).exists()
    assert_radio_checked(response, world.teacher.staff.pk)
    assertContains(response, f'value="{iso(start)}"')
    assertContains(response, f'value="{iso(end)}"')


def test_a_forged_post_cannot_put_someone_from_another_school_on_the_team(principal_client, world):
    response = principal_client.post(
        assign_url(world),
        {"staff": world.other_principal.staff.pk, "role": "member", "start_date": iso(days_ago(0))},
    )
    assertContains(response, "Choose someone who works at this school.")
    assert not TeamMembership.objects.filter(staff=world.other_principal.staff).exists()
    # the other school's principal is not even offered
    assert "Otto Outhwaite" not in response.content.decode()


def test_assigning_a_role_without_choosing_a_person_is_refused(principal_client, world):
    response = principal_client.post(
        assign_url(world), {"role": "note_taker", "start_date": iso(days_ago(0))}
    )
    assertContains(response, "Choose the person who will take this role.")
    assert TeamMembership.objects.count() == 1
    assertContains(response, '<option value="note_taker" selected>')


def test_someone_whose_position_at_the_school_ended_cannot_be_given_a_role(principal_client, world):
    gone = staff_at(world.school, first_name="Gus", last_name="Gone")
    gone.assignments.update(end_date=days_ago(5))
    response = principal_client.post(
        assign_url(world), {"staff": gone.pk, "role": "member", "start_date": iso(days_ago(0))}
    )
    assertContains(response, "Choose someone who works at this school.")
    assert not TeamMembership.objects.filter(staff=gone).exists()


def test_assigning_a_role(principal_client, world):
    page = principal_client.post(
        assign_url(world),
        {"staff": world.teacher.staff.pk, "role": "note_taker", "start_date": iso(days_ago(0))},
        follow=True,
    )
    assertRedirects(page, world.team.get_absolute_url())
    membership = TeamMembership.objects.get(team=world.team, staff=world.teacher.staff)
    assert membership.role == "note_taker"
    assert membership.assigned_by == world.principal
    assert membership.is_active
    assertContains(page, "Tina Tran is now note-taker of Instructional Leadership Team.")
    assert membership in page.context["members"]


# --- Teams ---------------------------------------------------------------------------------------


def test_creating_a_team(principal_client, world):
    response = principal_client.post(
        reverse("teams:team_create", args=[world.school.slug]),
        {"name": "Grade 3 Team", "kind": "grade_level", "focus": "Reading fluency."},
    )
    team = LeadershipTeam.objects.get(school=world.school, name="Grade 3 Team")
    assertRedirects(response, team.get_absolute_url())
    assert team.kind == "grade_level"
    assert team.focus == "Reading fluency."


def test_a_second_team_with_the_same_name_in_the_school_is_refused(principal_client, world):
    response = principal_client.post(
        reverse("teams:team_create", args=[world.school.slug]),
        {"name": "instructional LEADERSHIP team", "kind": "content", "focus": "Typed focus"},
    )
    assertContains(response, "Maple Elementary already has a team called")
    assert LeadershipTeam.objects.filter(school=world.school).count() == 1
    assertContains(response, 'value="instructional LEADERSHIP team"')
    assertContains(response, "Typed focus")


def test_another_school_may_use_the_same_team_name(client, world):
    client.force_login(world.other_principal)
    response = client.post(
        reverse("teams:team_create", args=[world.other_school.slug]),
        {"name": world.team.name, "kind": "ilt", "focus": ""},
    )
    assert response.status_code == 302
    assert LeadershipTeam.objects.filter(name=world.team.name).count() == 2


def test_renaming_a_team_to_another_teams_name_is_refused(principal_client, world):
    other = LeadershipTeam.objects.create(school=world.school, kind="content", name="Math PLC")
    response = principal_client.post(
        reverse("teams:team_edit", args=[other.pk]),
        {"name": "Instructional leadership team", "kind": "content", "focus": ""},
    )
    assertContains(response, "already has a team called")
    other.refresh_from_db()
    assert other.name == "Math PLC"


# --- Caseloads -----------------------------------------------------------------------------------


def caseload_url(world):
    return reverse("teams:caseload_assign", args=[world.school.slug])


def test_a_leader_cannot_be_in_their_own_caseload(principal_client, world):
    response = principal_client.post(
        caseload_url(world),
        {
            "leader": world.teacher.staff.pk,
            "teacher": world.teacher.staff.pk,
            "start_date": iso(days_ago(0)),
        },
    )
    assertContains(response, "cannot be assigned to themselves")
    assert Caseload.objects.count() == 1
    assert_option_selected(response, "leader", world.teacher.staff.pk)


def test_only_a_teacher_of_the_school_can_join_a_caseload(principal_client, world):
    response = principal_client.post(
        caseload_url(world),
        {
            "leader": world.leader.staff.pk,
            "teacher": world.coach.staff.pk,  # works at the school, but as a coach
            "start_date": iso(days_ago(0)),
        },
    )
    assertContains(response, "Choose a teacher who teaches at this school.")
    assert Caseload.objects.count() == 1
    assert_option_selected(response, "leader", world.leader.staff.pk)


def test_adding_a_teacher_to_a_caseload(principal_client, world):
    newcomer = staff_at(world.school, first_name="Nia", last_name="Newman")
    response = principal_client.post(
        caseload_url(world),
        {"leader": world.leader.staff.pk, "teacher": newcomer.pk, "start_date": iso(days_ago(0))},
    )
    assertRedirects(response, reverse("teams:caseload_list", args=[world.school.slug]))
    caseload = Caseload.objects.get(teacher=newcomer)
    assert caseload.leader == world.leader.staff
    assert caseload.assigned_by == world.principal


# --- Ending a role -------------------------------------------------------------------------------


def end_url(membership):
    return reverse("teams:membership_end", args=[membership.pk])


def test_a_role_cannot_end_before_it_started(principal_client, world):
    before_start = world.membership.start_date - datetime.timedelta(days=1)
    response = principal_client.post(end_url(world.membership), {"end_date": iso(before_start)})
    assertContains(response, "The end date must be on or after the start date")
    world.membership.refresh_from_db()
    assert world.membership.end_date is None
    assert world.membership.is_active
    assertContains(response, f'value="{iso(before_start)}"')


def test_ending_a_role_today_keeps_it_in_the_history(principal_client, world):
    today = timezone.localdate()
    page = principal_client.post(end_url(world.membership), {"end_date": iso(today)}, follow=True)
    assertRedirects(page, world.team.get_absolute_url())

    world.membership.refresh_from_db()
    assert world.membership.closed_at is not None
    assert world.membership.end_date == today
    assert world.membership.ended_by == world.principal

    assertContains(page, "It stays in the history.")  # the success message
    assertContains(page, "No one holds a role on this team yet.")
    assert world.membership in page.context["history"].object_list
    assertContains(page, "Lena Lopez")


def test_ending_a_role_later_schedules_it_and_the_nightly_job_closes_it(principal_client, world):
    later = timezone.localdate() + datetime.timedelta(days=14)
    response = principal_client.post(end_url(world.membership), {"end_date": iso(later)})
    assertRedirects(response, world.team.get_absolute_url())

    world.membership.refresh_from_db()
    assert world.membership.end_date == later
    assert world.membership.is_active
    page = principal_client.get(world.team.get_absolute_url())
    assert world.membership in page.context["members"]
    assertContains(page, "scheduled")

    assert services.roles_close_ended(today=later) == 0  # still holds the role on its last day
    assert services.roles_close_ended(today=later + datetime.timedelta(days=1)) == 1
    world.membership.refresh_from_db()
    assert not world.membership.is_active


def test_ending_a_role_that_already_ended_changes_nothing(principal_client, world):
    ended = TeamMembershipFactory(
        team=world.team,
        staff=world.teacher.staff,
        start_date=days_ago(60),
        end_date=days_ago(20),
        closed_at=timezone.now() - datetime.timedelta(days=20),
    )
    before = TeamMembership.objects.values().get(pk=ended.pk)

    response = principal_client.post(end_url(ended), {"end_date": iso(days_ago(0))})

    assertContains(response, "This already ended on")
    assertContains(response, "It stays in the history.")
    assert 'name="end_date"' not in response.content.decode()  # no form to end it again
    assert TeamMembership.objects.values().get(pk=ended.pk) == before


def test_ending_a_caseload_today(principal_client, world):
    page = principal_client.post(
        reverse("teams:caseload_end", args=[world.caseload.pk]),
        {"end_date": iso(timezone.localdate())},
        follow=True,
    )
    assertRedirects(page, reverse("teams:caseload_list", args=[world.school.slug]))
    world.caseload.refresh_from_db()
    assert not world.caseload.is_active
    assertContains(page, "Tina Tran is no longer in Lena Lopez’s caseload.")
    assert page.context["groups"] == []
