"""Journey 6 in a real browser: the team meets. The facilitator opens the meeting, works the
agenda, takes attendance, records decisions and action items, ticks off what was carried over and
finishes; what was decided shows on the team's page. The note-taker writes the notes but does not
run the meeting; a plain member only reads it."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from teams import services
from teams.models import ActionItem, AgendaItem, Assignment, Attendance, Meeting, TeamRole
from tests.browser.pages import sign_in
from tests.teams.factories import (
    LeadershipTeamFactory,
    SchoolFactory,
    TeamMembershipFactory,
    staff_at,
)

pytestmark = pytest.mark.browser

Position = Assignment.Position

FLUENCY = "Grade 3 fluency data"
FAMILY_NIGHT = "Family math night"
CARRIED = "Share the reading intervention schedule with grade 3"


def local_start(days, hour=15, minute=30):
    """An aware datetime ``days`` from today at ``hour:minute``, school (local) time."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def team_meets(transactional_db):
    """A school's leadership team: a lead who facilitates, a note-taker and two members. Last
    week's meeting (held) raised an action item still open; tomorrow's meeting has two topics and
    the one after it is scheduled a week later."""
    school = SchoolFactory(name="Maple Elementary", slug="maple")
    principal = staff_at(
        school, Position.PRINCIPAL, username="paula", first_name="Paula", last_name="Prince"
    )

    def member(username, first, last, role):
        staff = staff_at(
            school, Position.TEACHER, username=username, first_name=first, last_name=last
        )
        TeamMembershipFactory(team=team, staff=staff, role=role)
        return staff

    team = LeadershipTeamFactory(school=school, name="Instructional Leadership Team")
    lead = member("lena", "Lena", "Lopez", TeamRole.TEAM_LEAD)
    note_taker = member("nate", "Nate", "Nguyen", TeamRole.NOTE_TAKER)
    maya = member("maya", "Maya", "Chen", TeamRole.MEMBER)
    omar = member("omar", "Omar", "Haddad", TeamRole.MEMBER)

    (last_week,) = services.meeting_schedule(
        team=team,
        starts_at=local_start(-7),
        created_by=principal.user,
        facilitator=lead,
        note_taker=note_taker,
    )
    services.meeting_start(meeting=last_week)
    services.action_item_create(
        team=team,
        text=CARRIED,
        created_by=lead.user,
        owner=maya,
        due_date=timezone.localdate() + datetime.timedelta(days=3),
        meeting=last_week,
    )
    services.meeting_finish(meeting=last_week)

    (tomorrow,) = services.meeting_schedule(
        team=team,
        starts_at=local_start(1),
        created_by=lead.user,
        location="Library",
        purpose="Winter data and family engagement",
        facilitator=lead,
        note_taker=note_taker,
    )
    fluency = services.agenda_item_add(
        meeting=tomorrow, title=FLUENCY, created_by=lead.user, minutes=20, owner=maya
    )
    family_night = services.agenda_item_add(
        meeting=tomorrow, title=FAMILY_NIGHT, created_by=lead.user, minutes=15
    )
    (next_week,) = services.meeting_schedule(
        team=team,
        starts_at=local_start(8),
        created_by=lead.user,
        facilitator=lead,
        note_taker=note_taker,
    )
    return SimpleNamespace(
        school=school,
        team=team,
        lead=lead,
        note_taker=note_taker,
        maya=maya,
        omar=omar,
        last_week=last_week,
        meeting=tomorrow,
        next_week=next_week,
        fluency=fluency,
        family_night=family_night,
    )


def meeting_link_name(meeting):
    """How a meeting's link reads in the team page's list of next meetings."""
    starts = timezone.localtime(meeting.starts_at)
    return f"{dateformat.format(starts, 'l, M j')}, {dateformat.format(starts, 'g:i A')}"


def open_next_meeting(page, team, meeting):
    """From the home page, open the team from "Your teams", then its next meeting."""
    your_teams = page.get_by_role("region", name="Your teams")
    your_teams.get_by_role("link", name=team.name, exact=True).click()
    expect(page.get_by_role("heading", name=team.name, exact=True)).to_be_visible()
    next_meetings = page.get_by_role("list", name="Next meetings")
    next_meetings.get_by_role("link", name=meeting_link_name(meeting)).click()
    expect(page.get_by_role("heading", name=re.compile(f"^{team.name} meeting"))).to_be_visible()


def topic_card(page, title):
    """The agenda card of one topic (its heading reads "1. Title", maybe with a badge)."""
    heading = page.get_by_role("heading", name=re.compile(rf"^\d+\. {re.escape(title)}"))
    return page.get_by_role("region", name="Agenda").get_by_role("listitem").filter(has=heading)


def mark_done(text):
    """The name of an action item's "Mark done" button: "Mark done: text" on the meeting page
    (aria-label); on the team page Chromium reads its visually hidden ": text" as a separate
    block, so the name there may be "Mark done : text"."""
    return re.compile(rf"^Mark done\s*:\s*{re.escape(text)}$")


def list_after(region, heading_name):
    """The list right after one of a region's sub-headings ("Carried over", …)."""
    heading = region.get_by_role("heading", name=re.compile(rf"^{re.escape(heading_name)}"))
    return heading.locator("xpath=following-sibling::ul[1]")


def test_facilitator_runs_the_meeting_records_decisions_and_action_items(
    page, live_server, team_meets, shot
):
    t = team_meets
    meeting = t.meeting
    due = timezone.localdate() + datetime.timedelta(days=10)

    # 1. The facilitator opens the team from the home page and follows the next meeting.
    sign_in(page, live_server.url, t.lead.user, "Lena")
    open_next_meeting(page, t.team, meeting)
    expect(page.get_by_text("Facilitator: Lena Lopez · Note-taker: Nate Nguyen")).to_be_visible()
    expect(page.get_by_text("35 of 45 minutes planned")).to_be_visible()
    actions = page.get_by_role("region", name="Action items")
    carried = list_after(actions, "Carried over")
    expect(carried.get_by_role("listitem")).to_have_count(1)
    expect(carried).to_contain_text(CARRIED)
    expect(carried).to_contain_text(
        f"from the meeting of {dateformat.format(timezone.localtime(t.last_week.starts_at), 'M j')}"
    )
    shot("1-meeting-scheduled")

    # 2. Start the meeting.
    page.get_by_role("button", name="Start meeting").click()
    heading = page.get_by_role("heading", name=re.compile(f"^{t.team.name} meeting"))
    expect(heading).to_contain_text("In progress")
    expect(page.get_by_role("button", name="Start meeting")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel meeting")).to_have_count(0)

    # 3. Attendance: Omar is absent, everyone else present. From here the page's forms answer
    # in place (htmx): the marker set on the window survives every save below.
    page.evaluate("window.stillTheSamePage = true")
    attendance = page.get_by_role("region", name=re.compile("^Attendance"))
    expect(attendance).to_contain_text("0 present")
    for name in ("Lena Lopez", "Nate Nguyen", "Maya Chen"):
        attendance.get_by_role("group", name=re.compile(f"^{name}")).get_by_label("Present").check()
    attendance.get_by_role("group", name=re.compile("^Omar Haddad")).get_by_label("Absent").check()
    attendance.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status").filter(has_text="Attendance saved.")).to_be_visible()
    expect(attendance.get_by_role("heading", name=re.compile("^Attendance"))).to_contain_text(
        "3 present"
    )
    omar = attendance.get_by_role("group", name=re.compile("^Omar Haddad"))
    expect(omar.get_by_label("Absent")).to_be_checked()

    # 4. Notes on the first topic, ticked as discussed.
    fluency = topic_card(page, FLUENCY)
    fluency.get_by_label(f"Notes on “{FLUENCY}”").fill(
        "Fluency up 6 wcpm since fall; 9 students still below benchmark."
    )
    fluency.get_by_label("Discussed").check()
    fluency.get_by_role("button", name=f"Save notes on {FLUENCY}").click()
    expect(fluency.get_by_role("heading")).to_contain_text("Discussed")
    expect(fluency.get_by_label(f"Notes on “{FLUENCY}”")).to_have_value(
        "Fluency up 6 wcpm since fall; 9 students still below benchmark."
    )
    expect(topic_card(page, FAMILY_NIGHT).get_by_role("heading")).not_to_contain_text("Discussed")
    # The next topic is now the one on the table, and the button pressed keeps the focus.
    expect(topic_card(page, FAMILY_NIGHT).get_by_role("heading")).to_contain_text("Now")
    expect(fluency.get_by_role("button", name=f"Save notes on {FLUENCY}")).to_be_focused()

    # 5. A decision on the first topic.
    decisions = page.get_by_role("region", name="Decisions")
    expect(decisions).to_contain_text("No decisions recorded yet.")
    decision = "Run a six-week fluency block for the nine students below benchmark."
    decisions.get_by_label("Decision").fill(decision)
    decisions.get_by_label("Topic").select_option(label=FLUENCY)
    decisions.get_by_role("button", name="Record decision").click()
    recorded = decisions.get_by_role("listitem").filter(has_text=decision)
    expect(recorded).to_contain_text(f"on “{FLUENCY}”")
    expect(decisions.get_by_label("Decision")).to_have_value("")

    # 6. An action item with an owner and a due date.
    expect(list_after(actions, "Carried over").get_by_role("listitem")).to_have_count(1)
    task = "Send families the fluency practice cards"
    actions.get_by_label("Action item").fill(task)
    actions.get_by_label("Owner").select_option(label="Maya Chen")
    actions.get_by_label("Due").fill(due.isoformat())
    actions.get_by_role("button", name="Add action item").click()
    expect(
        actions.get_by_role("heading", name=re.compile("^Raised at this meeting"))
    ).to_contain_text("1")
    raised = list_after(actions, "Raised at this meeting").get_by_role("listitem")
    expect(raised).to_have_count(1)
    expect(raised).to_contain_text(task)
    expect(raised).to_contain_text(f"Maya Chen · due {dateformat.format(due, 'M j')}")

    # 7. The item carried over from last week is done.
    actions.get_by_role("button", name=mark_done(CARRIED)).click()
    expect(page.get_by_text(f"“{CARRIED}” marked done.")).to_be_visible()
    carried_item = list_after(actions, "Carried over").get_by_role("listitem")
    expect(carried_item.locator("s")).to_have_text(CARRIED)
    expect(carried_item).to_contain_text(f"done {dateformat.format(timezone.localdate(), 'M j')}")
    expect(actions.get_by_role("button", name=mark_done(CARRIED))).to_have_count(0)

    # 8. An empty decision is refused beside the field; what was chosen and recorded stays.
    decisions.get_by_label("Topic").select_option(label=FAMILY_NIGHT)
    with page.expect_response(
        lambda response: (
            response.request.method == "POST"
            and response.url.endswith(f"/meetings/{meeting.pk}/decisions/")
        )
    ) as refused:
        decisions.get_by_role("button", name="Record decision").click()
    assert refused.value.status == 400
    expect(decisions.get_by_text("This field is required.")).to_be_visible()
    expect(decisions.get_by_label("Decision")).to_have_attribute("aria-invalid", "true")
    expect(decisions.get_by_label("Topic")).to_have_value(str(t.family_night.pk))
    expect(decisions.get_by_role("listitem")).to_have_count(1)
    expect(heading).to_contain_text("In progress")
    expect(topic_card(page, FLUENCY).get_by_role("heading")).to_contain_text("Discussed")
    expect(attendance.get_by_role("heading", name=re.compile("^Attendance"))).to_contain_text(
        "3 present"
    )
    expect(list_after(actions, "Raised at this meeting")).to_contain_text(task)
    shot("2-meeting-in-progress-with-error")

    assert page.evaluate("window.stillTheSamePage === true"), "a save reloaded the whole page"

    # 9. Finish: the topic not reached is carried to next week's agenda.
    page.get_by_role("button", name="Finish meeting").click()
    expect(
        page.get_by_role("status").filter(
            has_text="Meeting finished. Open action items carry over to the next meeting. "
            "1 topic(s) not reached carried to the next agenda."
        )
    ).to_be_visible()
    expect(heading).to_contain_text("Held")
    expect(page.get_by_role("button", name="Finish meeting")).to_have_count(0)
    expect(page.get_by_role("button", name="Add action item")).to_be_visible()
    # The record keeps both topics; the one not reached says where it went.
    expect(page.get_by_role("region", name="Agenda").get_by_role("listitem")).to_have_count(2)
    expect(topic_card(page, FAMILY_NIGHT)).to_contain_text("Not reached, carried to the next")
    shot("3-meeting-held")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=t.team.name).click()
    expect(page.get_by_role("heading", name=t.team.name, exact=True)).to_be_visible()
    decided = page.get_by_role("region", name="What the team decided")
    expect(decided.get_by_role("listitem")).to_have_count(1)
    expect(decided.get_by_role("listitem")).to_contain_text(decision)
    expect(decided.get_by_role("listitem")).to_contain_text(f"on “{FLUENCY}”")
    team_actions = page.get_by_role("region", name=re.compile("^Action items"))
    expect(team_actions.get_by_role("heading")).to_contain_text("1 open")
    open_item = team_actions.get_by_role("listitem").filter(has_text=task)
    expect(open_item).to_contain_text(f"Maya Chen · due {dateformat.format(due, 'M j')}")
    expect(open_item.get_by_role("button", name=mark_done(task))).to_be_visible()
    expect(team_actions.locator("s")).to_have_text(CARRIED)
    next_meetings = page.get_by_role("list", name="Next meetings")
    expect(next_meetings.get_by_role("listitem")).to_have_count(1)
    expect(next_meetings).to_contain_text(meeting_link_name(t.next_week))
    expect(next_meetings).to_contain_text("1 topic ·")
    shot("4-team-after-meeting")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert meeting.started_at is not None and meeting.ended_at is not None
    assert dict(meeting.attendance.values_list("staff__user__username", "status")) == {
        "lena": Attendance.Status.PRESENT,
        "nate": Attendance.Status.PRESENT,
        "maya": Attendance.Status.PRESENT,
        "omar": Attendance.Status.ABSENT,
    }
    assert AgendaItem.objects.get(pk=t.family_night.pk).meeting == meeting
    assert AgendaItem.objects.get(carried_from=t.family_night).meeting == t.next_week
    assert AgendaItem.objects.get(pk=t.fluency.pk).discussed_at is not None
    assert list(meeting.decisions.values_list("text", "agenda_item")) == [(decision, t.fluency.pk)]
    new_item = ActionItem.objects.get(text=task)
    assert (new_item.meeting, new_item.owner, new_item.due_date) == (meeting, t.maya, due)
    assert ActionItem.objects.get(text=CARRIED).done_at is not None


def test_note_taker_writes_notes_and_a_member_only_reads(page, browser, live_server, team_meets):
    t = team_meets
    notes = "Reviewed the winter screener; Maya shares class lists next week."

    # The note-taker writes notes but does not run the meeting.
    sign_in(page, live_server.url, t.note_taker.user, "Nate")
    open_next_meeting(page, t.team, t.meeting)
    fluency = topic_card(page, FLUENCY)
    fluency.get_by_label(f"Notes on “{FLUENCY}”").fill(notes)
    fluency.get_by_label("Discussed").check()
    fluency.get_by_role("button", name=f"Save notes on {FLUENCY}").click()
    expect(fluency.get_by_role("heading")).to_contain_text("Discussed")
    expect(fluency.get_by_label(f"Notes on “{FLUENCY}”")).to_have_value(notes)
    page.get_by_label("Meeting notes").fill("Started five minutes late.")
    page.get_by_role("button", name="Save notes", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Notes saved.")).to_be_visible()
    for button in (
        "Start meeting",
        "Finish meeting",
        "Record decision",
        "Add action item",
        "Save attendance",
        "Add to the agenda",
    ):
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    expect(page.get_by_role("link", name="Edit details")).to_have_count(0)
    expect(page.get_by_role("region", name="Decisions")).to_contain_text(
        "No decisions recorded yet."
    )
    expect(page.get_by_role("region", name=re.compile("^Attendance"))).to_contain_text(
        "Omar Haddad — not recorded"
    )

    # A plain member reads the same page: the only thing they may do is tick an action item off,
    # as on the team page.
    member_context = browser.new_context()
    mpage = member_context.new_page()
    try:
        sign_in(mpage, live_server.url, t.omar.user, "Omar")
        open_next_meeting(mpage, t.team, t.meeting)
        main = mpage.get_by_role("main")
        expect(main.locator("form")).to_have_count(1)
        expect(main.get_by_role("button")).to_have_count(1)
        expect(main.get_by_role("button", name=mark_done(CARRIED))).to_be_visible()
        expect(main.get_by_role("textbox")).to_have_count(0)
        expect(topic_card(mpage, FLUENCY)).to_contain_text(f"Notes: {notes}")
        expect(topic_card(mpage, FLUENCY).get_by_role("heading")).to_contain_text("Discussed")
        expect(mpage.get_by_role("region", name="Notes", exact=True)).to_contain_text(
            "Started five minutes late."
        )
        expect(
            list_after(mpage.get_by_role("region", name="Action items"), "Carried over")
        ).to_contain_text(CARRIED)
    finally:
        member_context.close()

    t.meeting.refresh_from_db()
    assert t.meeting.status == Meeting.Status.SCHEDULED
    assert t.meeting.notes == "Started five minutes late."
    assert not t.meeting.decisions.exists()
