"""Team meetings: scheduling, running the agenda, carry-over, and who may write what.

The ``world`` team: ``leader`` is its team lead (runs meetings); tests add a note-taker and a
plain member where they need them.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from teams import services
from teams.models import ActionItem, AgendaItem, Attendance, Decision, Meeting, TeamRole
from tests.teams.factories import MeetingFactory, TeamMembershipFactory, staff_at

pytestmark = pytest.mark.django_db


def tomorrow_at(hour=15, days=1):
    return timezone.now().replace(hour=hour, minute=30, second=0, microsecond=0) + (
        datetime.timedelta(days=days)
    )


def member(world, role=TeamRole.MEMBER, **user):
    staff = staff_at(world.school, **user)
    TeamMembershipFactory(team=world.team, staff=staff, role=role)
    return staff


@pytest.fixture
def meeting(world):
    return MeetingFactory(team=world.team, facilitator=world.leader.staff)


def topic(meeting, title, user, **fields):
    return services.agenda_item_add(meeting=meeting, title=title, created_by=user, **fields)


# ── Scheduling ───────────────────────────────────────────────────────────────────────────────


def test_a_series_repeats_until_the_last_date_and_shares_a_series_id(world):
    start = tomorrow_at()
    until = timezone.localtime(start).date() + datetime.timedelta(days=28)
    meetings = services.meeting_schedule(
        team=world.team,
        starts_at=start,
        created_by=world.principal,
        repeat="biweekly",
        repeat_until=until,
    )
    starts = sorted(m.starts_at for m in meetings)
    assert starts == [start + datetime.timedelta(days=14 * n) for n in range(3)]
    assert len({m.series for m in meetings}) == 1 and meetings[0].series is not None


def test_a_single_meeting_has_no_series(world):
    (meeting,) = services.meeting_schedule(
        team=world.team, starts_at=tomorrow_at(), created_by=world.principal
    )
    assert meeting.series is None and meeting.status == Meeting.Status.SCHEDULED


@pytest.mark.parametrize(
    ("repeat", "until_days", "field"),
    [("weekly", -3, "repeat_until"), ("weekly", 400, "repeat_until"), ("yearly", 10, "repeat")],
)
def test_a_series_that_makes_no_sense_is_refused_and_nothing_is_written(
    world, repeat, until_days, field
):
    start = tomorrow_at()
    with pytest.raises(ValidationError) as refused:
        services.meeting_schedule(
            team=world.team,
            starts_at=start,
            created_by=world.principal,
            repeat=repeat,
            repeat_until=timezone.localtime(start).date() + datetime.timedelta(days=until_days),
        )
    assert field in refused.value.message_dict
    assert not Meeting.objects.exists()


def test_the_facilitator_must_be_on_the_team(world):
    with pytest.raises(ValidationError) as refused:
        services.meeting_schedule(
            team=world.team,
            starts_at=tomorrow_at(),
            created_by=world.principal,
            facilitator=world.teacher.staff,
        )
    assert "facilitator" in refused.value.message_dict


def test_the_schedule_form_keeps_what_was_typed_when_it_is_refused(client, world):
    client.force_login(world.leader)
    response = client.post(
        reverse("teams:meeting_schedule", args=[world.team.pk]),
        {
            "date": "2031-03-04",
            "time": "15:30",
            "duration_minutes": 45,
            "purpose": "Plan the spring data day",
            "repeat": "weekly",
        },
    )
    assert response.status_code == 200
    assertContains(response, "Say until when the meeting repeats.")
    assertContains(response, 'value="Plan the spring data day"')
    assert not Meeting.objects.exists()


def test_the_team_lead_schedules_from_the_team_page(client, world):
    client.force_login(world.leader)
    assertContains(client.get(world.team.get_absolute_url()), "Schedule a meeting")
    response = client.post(
        reverse("teams:meeting_schedule", args=[world.team.pk]),
        {
            "date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
            "time": "15:30",
            "duration_minutes": 45,
            "facilitator": world.leader.staff.pk,
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert meeting.facilitator == world.leader.staff and meeting.created_by == world.leader


# ── The agenda ───────────────────────────────────────────────────────────────────────────────


def test_topics_keep_their_order_and_move(world, meeting):
    first, second, third = (topic(meeting, t, world.leader) for t in ("A", "B", "C"))
    services.agenda_item_move(item=third, direction=-1)
    services.agenda_item_move(item=first, direction=-1)  # already first: stays
    titles = list(meeting.agenda_items.order_by("position").values_list("title", flat=True))
    assert titles == ["A", "C", "B"]


def test_the_page_shows_time_boxes_and_warns_when_the_agenda_is_too_long(client, world, meeting):
    topic(meeting, "Reading data", world.leader, minutes=30)
    topic(meeting, "Homework routine", world.leader, minutes=25)
    client.force_login(world.coach)
    response = client.get(meeting.get_absolute_url())
    assertContains(response, "55 of 45 minutes planned: 10 over the meeting")
    start = timezone.localtime(meeting.starts_at) + datetime.timedelta(minutes=30)
    assertContains(response, f"{start:%-I:%M}")  # the second topic's planned start


def test_a_topic_can_link_a_dashboard_of_the_school_only(world, meeting):
    from data_tracking.models import DashboardSnapshot

    def snapshot(school):
        return DashboardSnapshot.objects.create(
            school=school,
            scope="school",
            subject="math",
            school_year="2026-2027",
            window="fall",
            metrics={"tested": 40, "percent_proficient": 55.0},
            fingerprint=school.slug,
        )

    linked = topic(meeting, "Fall math", world.leader, snapshot=snapshot(world.school))
    assert linked.snapshot.school == world.school
    with pytest.raises(ValidationError):
        topic(meeting, "Birch math", world.leader, snapshot=snapshot(world.other_school))


def test_a_held_meetings_agenda_is_part_of_the_record(world, meeting):
    item = topic(meeting, "A", world.leader)
    services.meeting_finish(meeting=meeting)
    meeting.refresh_from_db()
    with pytest.raises(ValidationError):
        topic(meeting, "Late topic", world.leader)
    services.agenda_item_record(item=AgendaItem.objects.get(pk=item.pk), notes="x", discussed=True)
    item.meeting = meeting
    with pytest.raises(ValidationError):
        services.agenda_item_remove(item=item)


# ── Finishing, cancelling, carry-over ────────────────────────────────────────────────────────


def test_finishing_carries_undiscussed_topics_to_the_next_meeting_and_keeps_the_record(
    client, world, meeting
):
    later = MeetingFactory(team=world.team, starts_at=meeting.starts_at + datetime.timedelta(7))
    done = topic(meeting, "Discussed topic", world.leader)
    left = topic(meeting, "Ran out of time", world.leader, minutes=15, owner=world.leader.staff)
    topic(later, "Already planned", world.leader)
    services.agenda_item_record(item=done, notes="Agreed.", discussed=True)

    _, carried = services.meeting_finish(meeting=meeting)

    assert carried == 1
    assert list(later.agenda_items.values_list("title", flat=True)) == [
        "Already planned",
        "Ran out of time",
    ]
    copy = later.agenda_items.get(title="Ran out of time")
    assert (copy.carried_from, copy.minutes, copy.owner) == (left, 15, world.leader.staff)
    # The held meeting's record still shows both topics, the one it did not reach marked so.
    assert list(meeting.agenda_items.values_list("title", flat=True)) == [
        "Discussed topic",
        "Ran out of time",
    ]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD and meeting.ended_at is not None
    client.force_login(world.coach)
    assertContains(client.get(meeting.get_absolute_url()), "Not reached, carried to the next")
    assertContains(client.get(later.get_absolute_url()), "Carried over from the meeting of")


def test_cancelling_without_a_next_meeting_leaves_topics_waiting_until_one_is_scheduled(
    world, meeting
):
    topic(meeting, "Reading data", world.leader)
    services.meeting_cancel(meeting=meeting)
    waiting = AgendaItem.objects.get()
    assert waiting.meeting is None and waiting.team == world.team

    (next_meeting,) = services.meeting_schedule(
        team=world.team, starts_at=tomorrow_at(days=3), created_by=world.principal
    )
    waiting.refresh_from_db()
    assert waiting.meeting == next_meeting


def test_open_action_items_carry_over_until_done(client, world, meeting):
    raised = services.action_item_create(
        team=world.team, text="Draft the call log", created_by=world.leader, meeting=meeting
    )
    services.meeting_finish(meeting=meeting)
    second = MeetingFactory(team=world.team, starts_at=tomorrow_at(days=7))
    third = MeetingFactory(team=world.team, starts_at=tomorrow_at(days=14))
    client.force_login(world.leader)

    page = client.get(second.get_absolute_url())
    assert [item.pk for item in page.context["carried_over"]] == [raised.pk]
    assert page.context["raised"] == []
    assert [item.pk for item in client.get(meeting.get_absolute_url()).context["raised"]] == [
        raised.pk
    ]

    services.meeting_start(meeting=second)
    services.action_item_set_done(item=raised, done=True)
    # The second meeting began while it was open: its record still lists it, ticked off.
    assert [i.pk for i in client.get(second.get_absolute_url()).context["carried_over"]] == [
        raised.pk
    ]
    assertContains(client.get(second.get_absolute_url()), "<s>Draft the call log</s>", html=True)
    assert client.get(third.get_absolute_url()).context["carried_over"] == []


def test_a_finding_sent_from_a_dashboard_review_lands_on_the_next_agenda(world, meeting):
    from data_tracking import services as data_services
    from data_tracking.models import DashboardSnapshot

    snapshot = DashboardSnapshot.objects.create(
        school=world.school,
        scope="school",
        subject="reading",
        school_year="2026-2027",
        window="fall",
        metrics={"tested": 40},
        fingerprint="x",
    )
    past = MeetingFactory(team=world.team, starts_at=timezone.now() - datetime.timedelta(days=2))
    later = MeetingFactory(team=world.team, starts_at=meeting.starts_at + datetime.timedelta(7))
    _, item = data_services.review_create(
        snapshot=snapshot,
        reviewer=world.principal,
        comment="Grade 4 reading dipped.",
        team=world.team,
        action_text="Look at grade 4 reading groups",
    )
    agenda_item = item.agenda_item
    assert agenda_item.meeting == meeting  # the next one: not the past one, not the later one
    assert agenda_item.snapshot == snapshot and agenda_item.details == "Grade 4 reading dipped."
    assert not past.agenda_items.exists() and not later.agenda_items.exists()
    assert ActionItem.objects.get() == item


# ── Attendance and decisions ─────────────────────────────────────────────────────────────────


def test_attendance_is_taken_for_members_only(world, meeting):
    note_taker = member(world, TeamRole.NOTE_TAKER)
    services.attendance_record(
        meeting=meeting,
        statuses={world.leader.staff.pk: "present", note_taker.pk: "excused"},
    )
    services.attendance_record(meeting=meeting, statuses={note_taker.pk: "absent"})
    assert dict(Attendance.objects.values_list("staff_id", "status")) == {
        world.leader.staff.pk: "present",
        note_taker.pk: "absent",
    }
    with pytest.raises(ValidationError):
        services.attendance_record(meeting=meeting, statuses={world.teacher.staff.pk: "present"})


def test_the_team_page_shows_decisions_newest_first(client, world, meeting):
    later = MeetingFactory(team=world.team, starts_at=meeting.starts_at + datetime.timedelta(7))
    services.decision_record(meeting=meeting, text="Use one planner", recorded_by=world.leader)
    services.decision_record(meeting=later, text="Call home on day two", recorded_by=world.leader)
    client.force_login(world.coach)
    decisions = client.get(world.team.get_absolute_url()).context["decisions"]
    assert [d.text for d in decisions] == ["Call home on day two", "Use one planner"]


def test_an_empty_decision_is_refused_beside_the_field_and_keeps_the_rest(client, world, meeting):
    client.force_login(world.leader)
    first = topic(meeting, "Reading data", world.leader)
    response = client.post(
        reverse("teams:decision_add", args=[meeting.pk]),
        {"decision-text": "", "decision-agenda_item": first.pk},
    )
    assert response.status_code == 400
    assertContains(response, "This field is required.", status_code=400)
    assertContains(response, "Reading data", status_code=400)
    assert not Decision.objects.exists()


# ── Who may write what ───────────────────────────────────────────────────────────────────────


def post_everything(client, meeting, item):
    """One POST to every write of the meeting page; the statuses in order."""
    posts = [
        ("teams:meeting_start", meeting.pk, {}),
        ("teams:agenda_item_add", meeting.pk, {"topic-title": "New topic", "topic-minutes": 5}),
        ("teams:meeting_attendance", meeting.pk, {}),
        ("teams:decision_add", meeting.pk, {"decision-text": "Decided"}),
        ("teams:meeting_action_item_add", meeting.pk, {"action-text": "Do it"}),
        ("teams:agenda_item_move", item.pk, {"direction": "up"}),
        ("teams:meeting_notes", meeting.pk, {"notes": "Notes"}),
        ("teams:agenda_item_record", item.pk, {"notes": "Topic notes", "discussed": "on"}),
    ]
    return [client.post(reverse(name, args=[pk]), data).status_code for name, pk, data in posts]


RUN, NOTES = [302] * 6, [302] * 2


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("leader", RUN + NOTES),  # team lead
        ("principal", RUN + NOTES),
        ("note_taker", [403] * 6 + NOTES),
        ("member", [403] * 8),
        ("coach", [403] * 8),  # reads every team of the school, writes none
        ("district_leader", [403] * 8),
        ("teacher", [404] * 8),  # not on the team
        ("other_principal", [404] * 8),
    ],
)
def test_who_may_write_at_a_meeting(client, world, meeting, person, expected):
    item = topic(meeting, "Reading data", world.leader)
    extra = {
        "note_taker": member(world, TeamRole.NOTE_TAKER, username="nt").user,
        "member": member(world, username="plain").user,
    }
    user = extra.get(person) or getattr(world, person)
    client.force_login(user)
    assert post_everything(client, meeting, item) == expected
    wrote = Decision.objects.exists() or ActionItem.objects.exists()
    assert wrote == (expected[3] == 302)


def test_the_meetings_own_facilitator_runs_it_without_the_team_role(client, world):
    standing_in = member(world, username="standin")
    meeting = MeetingFactory(team=world.team, facilitator=standing_in)
    client.force_login(standing_in.user)
    response = client.post(
        reverse("teams:decision_add", args=[meeting.pk]), {"decision-text": "Go"}
    )
    assert response.status_code == 302
    assert Decision.objects.get().recorded_by == standing_in.user


def test_a_reader_sees_no_forms(client, world, meeting):
    topic(meeting, "Reading data", world.leader)
    client.force_login(world.coach)
    response = client.get(meeting.get_absolute_url())
    for control in ("Start meeting", "Record decision", "Add action item", "Save notes"):
        assertNotContains(response, control)


def test_only_the_leads_and_the_principal_schedule(client, world):
    url = reverse("teams:meeting_schedule", args=[world.team.pk])
    plain = member(world, username="plain").user
    for user, status in ((world.leader, 200), (world.principal, 200), (plain, 403)):
        client.force_login(user)
        assert client.get(url).status_code == status


# ── Queries ──────────────────────────────────────────────────────────────────────────────────


def test_the_meeting_page_answers_in_the_same_number_of_queries_at_any_size(client, world):
    client.force_login(world.leader)
    counts = []
    for size in (2, 12):
        meeting = MeetingFactory(team=world.team, facilitator=world.leader.staff)
        staff = [member(world, username=f"m{size}-{n}") for n in range(size)]
        for n in range(size):
            topic(meeting, f"Topic {n}", world.leader, owner=staff[n])
            services.action_item_create(
                team=world.team, text=f"Item {n}", created_by=world.leader, owner=staff[n]
            )
            services.decision_record(meeting=meeting, text=f"D{n}", recorded_by=world.leader)
        services.attendance_record(
            meeting=meeting, statuses={person.pk: "present" for person in staff}
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(meeting.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_every_field_on_the_meeting_page_has_its_own_id(client, world, meeting):
    """Several forms share the page: each has a prefix, so every label points at its own field."""
    import collections
    import re

    topic(meeting, "Reading data", world.leader)
    client.force_login(world.leader)
    html = client.get(meeting.get_absolute_url()).content.decode()
    ids = collections.Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    for field in ("decision-text", "action-text", "action-owner", "topic-owner", "topic-title"):
        assert f'for="id_{field}"' in html


def test_home_lists_the_next_meeting_of_each_of_my_teams(client, world, meeting):
    from teams import selectors
    from tests.teams.factories import LeadershipTeamFactory

    MeetingFactory(team=world.team, starts_at=meeting.starts_at + datetime.timedelta(days=7))
    plc = LeadershipTeamFactory(school=world.school, name="Math PLC")
    TeamMembershipFactory(team=plc, staff=world.leader.staff)
    plc_meeting = MeetingFactory(team=plc, starts_at=meeting.starts_at + datetime.timedelta(2))
    MeetingFactory(team=world.other_team)  # not theirs
    assert selectors.next_meetings(staff_id=world.leader.staff.pk) == [meeting, plc_meeting]
    client.force_login(world.leader)
    assertContains(client.get("/"), "You facilitate")


def test_the_schedule_form_starts_with_the_teams_facilitator_and_note_taker(client, world):
    note_taker = member(world, TeamRole.NOTE_TAKER, username="nt")
    client.force_login(world.principal)
    form = client.get(reverse("teams:meeting_schedule", args=[world.team.pk])).context["form"]
    # The world team has a lead and no facilitator: the lead facilitates.
    assert form.initial["facilitator"] == world.leader.staff.pk
    assert form.initial["note_taker"] == note_taker.pk


def test_while_the_meeting_runs_the_first_topic_not_discussed_is_marked_now(client, world, meeting):
    first, second = topic(meeting, "Reading data", world.leader), topic(meeting, "B", world.leader)
    client.force_login(world.leader)
    assert client.get(meeting.get_absolute_url()).context["current_topic_id"] is None
    services.meeting_start(meeting=meeting)
    assert client.get(meeting.get_absolute_url()).context["current_topic_id"] == first.pk
    services.agenda_item_record(item=first, notes="", discussed=True)
    response = client.get(meeting.get_absolute_url())
    assert response.context["current_topic_id"] == second.pk
    assertContains(response, 'aria-current="step"', count=1)


def test_only_people_who_see_the_dashboards_may_link_one(client, world, meeting):
    """The team lead is a teacher: no dashboard choice, and a forged one is ignored."""
    from data_tracking.models import DashboardSnapshot

    snapshot = DashboardSnapshot.objects.create(
        school=world.school,
        scope="school",
        subject="math",
        school_year="2026-2027",
        window="fall",
        metrics={"tested": 40},
        fingerprint="x",
    )
    url = reverse("teams:agenda_item_add", args=[meeting.pk])
    data = {"topic-title": "Math", "topic-minutes": 10, "topic-snapshot": snapshot.pk}
    client.force_login(world.leader)
    assertNotContains(client.get(meeting.get_absolute_url()), "Dashboard to look at")
    client.post(url, data)
    assert AgendaItem.objects.get(title="Math").snapshot is None
    client.force_login(world.principal)
    assertContains(client.get(meeting.get_absolute_url()), "Dashboard to look at")
    client.post(url, {**data, "topic-title": "Math again"})
    assert AgendaItem.objects.get(title="Math again").snapshot == snapshot
