"""The demo district that `make run` loads: who can sign in, and what they find.

Building the demo takes seconds, so each test here builds it once and checks several things.
"""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from teams import permissions
from teams.models import LeadershipTeam, TeamMembership

DEMO_USERS = ["principal", "leader", "coach", "teacher", "district", "admin"]


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())


def test_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


def test_each_sign_in_works_and_sees_what_their_position_gives_them(demo, client):
    for username in DEMO_USERS:
        assert client.login(username=username, password="demo"), username
        assert client.get("/").status_code == 200
        client.logout()

    users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERS)}
    assert [s.level for s in permissions.managed_schools(users["principal"])] == ["middle"]
    assert permissions.visible_schools(users["coach"]).count() == 2
    assert permissions.visible_schools(users["district"]).count() == 3
    teacher_teams = list(permissions.visible_teams(users["teacher"]))
    assert [t.kind for t in teacher_teams] == [LeadershipTeam.Kind.GRADE_LEVEL]
    leader_caseload = permissions.visible_caseloads(users["leader"]).filter(
        leader=users["leader"].staff
    )
    assert leader_caseload.filter(teacher=users["teacher"].staff).exists()
    # Turnover happened during the year, so team history pages have something to show.
    assert TeamMembership.objects.ended().exists()
    assert TeamMembership.objects.active().count() > 50


def test_if_empty_keeps_a_database_and_a_rerun_asks_for_reset(demo, capsys):
    before = TeamMembership.objects.count()
    call_command("seed_demo", "--if-empty")
    assert "demo data not loaded" in capsys.readouterr().out
    assert TeamMembership.objects.count() == before

    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo")
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert TeamMembership.objects.count() == before


def test_the_grade_6_team_has_met_and_its_leader_finds_the_next_agenda_ready(demo, client):
    """Journey 6 on the demo: the leader opens the next meeting from home, agenda in place, an
    open action item carried over from an earlier meeting. (The demo runs on the real date, so
    this holds from the team's third meeting of the year, early September, onward.)"""
    from django.utils import timezone

    from teams.models import Meeting

    team = LeadershipTeam.objects.get(name="Grade 6 Team")
    held = team.meetings.filter(status=Meeting.Status.HELD)
    upcoming = team.meetings.filter(starts_at__gt=timezone.now()).order_by("starts_at").first()
    if held.count() < 2 or upcoming is None:
        pytest.skip("the demo's school year has not reached its second meeting yet")
    leader = get_user_model().objects.get(username="leader")
    assert upcoming.facilitator == leader.staff
    assert upcoming.agenda_items.count() == 3
    assert held.filter(decisions__isnull=False).count() == 2
    assert held.filter(attendance__isnull=False).distinct().count() == held.count()

    client.force_login(leader)
    assert upcoming.get_absolute_url() in client.get("/").content.decode()
    page = client.get(upcoming.get_absolute_url())
    assert [item.text for item in page.context["carried_over"]] == ["Set up the shared call log"]
    assert page.context["powers"].run
