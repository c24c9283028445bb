"""Journeys 2 and 3 in a real browser: a teacher leader observes a teacher and shares feedback;
the teacher reads it, acknowledges and reflects; the leader records the follow-up and carries the
focus into the next cycle."""

import datetime
import re
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from observations.models import (
    Domain,
    FollowUp,
    Indicator,
    Observation,
    ObservationCycle,
    RatingLevel,
    Reflection,
    Rubric,
    Status,
)
from teams.models import Assignment
from tests.browser.pages import sign_in
from tests.teams.factories import CaseloadFactory, SchoolFactory, staff_at

pytestmark = pytest.mark.browser

Position = Assignment.Position

EVIDENCE = "\n".join(
    [
        "9:02 T: “Show me on your fingers: how many tens in 47?” 22 of 24 show 4.",
        "9:05 T cold-calls Sam and Ana; both explain regrouping with base-ten blocks.",
        "9:11 Exit ticket: 3 questions. T collects without looking at them.",
    ]
)


@pytest.fixture
def cast(transactional_db):
    """A school with a rubric, a principal, a teacher leader and the teacher in their caseload."""
    school = SchoolFactory(name="Maple Elementary", slug="maple")
    rubric = Rubric.objects.create(
        district=school.district, lineage="portal-practice", name="Portal practice rubric"
    )
    for value, label in enumerate(["Not yet evident", "Emerging", "Proficient", "Exemplary"], 1):
        RatingLevel.objects.create(rubric=rubric, value=value, label=label)
    culture = Domain.objects.create(rubric=rubric, name="Classroom culture", order=1)
    Indicator.objects.create(domain=culture, code="CC1", name="Routines and transitions", order=1)
    understanding = Domain.objects.create(rubric=rubric, name="Checking for understanding", order=2)
    focus = Indicator.objects.create(
        domain=understanding, code="CU1", name="Checking for understanding", order=1
    )
    Indicator.objects.create(
        domain=understanding, code="CU2", name="Acting on what students show", order=2
    )
    staff_at(school, Position.PRINCIPAL, username="paula", first_name="Paula", last_name="Prince")
    leader = staff_at(
        school, Position.TEACHER, username="lena", first_name="Lena", last_name="Lopez"
    )
    teacher = staff_at(
        school,
        Position.TEACHER,
        username="tina",
        first_name="Tina",
        last_name="Tran",
        email="tina.tran@example.org",
    )
    CaseloadFactory(school=school, leader=leader, teacher=teacher)
    return SimpleNamespace(
        leader=leader, teacher=teacher, focus=focus, proficient=rubric.levels.get(value=3)
    )


def open_from_navigation(page, name, person):
    """Follow a link of the main navigation, opening the person's own menu first when the link
    lives there rather than in the bar."""
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        nav.get_by_role("button", name=person, exact=True).click()
    link.click()


def autosaved(response, **fields):
    """Whether ``response`` answers an htmx autosave whose form data held ``fields``."""
    request = response.request
    if request.method != "POST" or request.headers.get("hx-request") != "true":
        return False
    sent = {name: values[-1] for name, values in parse_qs(request.post_data or "").items()}
    return sent.get("autosave") == "1" and all(
        sent.get(name, "").replace("\r\n", "\n") == value for name, value in fields.items()
    )


def status_badge(page):
    """The cycle's status badge beside its heading."""
    return page.get_by_role("main").locator(".badge[class*='status-']").first


def test_leader_observes_shares_feedback_teacher_reflects_leader_follows_up(
    page, browser, live_server, cast, shot
):
    leader, teacher, focus = cast.leader, cast.teacher, cast.focus

    # --- Journey 2: the leader starts a cycle from the caseload. ---
    sign_in(page, live_server.url, leader.user, "Lena")
    open_from_navigation(page, "My caseload", "Lena Lopez")
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Tina Tran")
    expect(row).to_contain_text("No open cycle")
    expect(row).to_contain_text("Never")
    shot("1-caseload")
    row.get_by_role("link", name="Start a cycle with Tina Tran").click()

    expect(page.get_by_role("heading", name="Start an observation cycle")).to_be_visible()
    expect(page.get_by_label("Teacher")).to_have_value(str(teacher.pk))
    page.get_by_label("Focus indicator").select_option(label="CU1 · Checking for understanding")
    shot("2-cycle-start")
    page.get_by_role("button", name="Start cycle").click()
    expect(page.get_by_text("Cycle with Tina Tran started.")).to_be_visible()
    expect(status_badge(page)).to_have_text("Planned")
    expect(page.get_by_text("Focus: CU1 Checking for understanding")).to_be_visible()
    cycle = ObservationCycle.objects.get(teacher=teacher, observer=leader)

    # Log the observation; the draft saves itself once typing stops.
    page.get_by_role("link", name="Log the observation").click()
    expect(page.get_by_role("heading", name="Observation of Tina Tran")).to_be_visible()
    observed_at = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(
        hours=1
    )
    page.get_by_label("When").fill(observed_at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Minutes in the room").fill("20")
    page.get_by_label("Subject").fill("Mathematics")
    autosave_status = page.locator("#autosave-status")
    # Once typing stops, the draft saves itself (htmx posts the form in the background).
    evidence = page.get_by_label("Evidence: what you saw and heard")
    with page.expect_response(lambda r: autosaved(r, evidence=EVIDENCE)) as saved:
        evidence.fill(EVIDENCE)
    assert saved.value.ok
    expect(autosave_status).to_contain_text("Draft saved at")
    # Leaving the notes fires "change", which saves once more. Wait for that save before
    # tapping a rating: a tap straight from the notes sends two overlapping autosaves (the
    # first without the rating), and the server may apply them out of order, losing the
    # rating (hx-sync "replace" aborts the first request only in the browser).
    with page.expect_response(lambda r: autosaved(r, evidence=EVIDENCE)):
        evidence.blur()
    # A tap on a rating button (a visually hidden radio behind its label) saves too.
    focus_ratings = page.get_by_role("radiogroup", name=re.compile(r"^CU1 Checking"))
    with page.expect_response(
        lambda r: autosaved(r, **{f"rating_{focus.pk}": str(cast.proficient.pk)})
    ) as saved:
        focus_ratings.get_by_text("3 Proficient").click()
    assert saved.value.ok
    expect(focus_ratings.get_by_label("3 Proficient")).to_be_checked()
    expect(autosave_status).to_contain_text("Draft saved at")
    shot("3-observation-autosaved")

    # Round trip: the server kept the draft. Clear this browser's local copy so the reload can
    # only show what the server saved.
    page.evaluate("localStorage.clear()")
    page.reload()
    expect(evidence).to_have_value(EVIDENCE)
    expect(focus_ratings.get_by_label("3 Proficient")).to_be_checked()
    expect(page.get_by_label("Subject")).to_have_value("Mathematics")
    observation = Observation.objects.get(cycle=cycle)
    assert observation.evidence.replace("\r\n", "\n") == EVIDENCE
    assert observation.completed_at is None
    page.get_by_role("button", name="Finish and write feedback").click()

    # Write and share the feedback.
    expect(page.get_by_role("heading", name="Feedback for Tina Tran")).to_be_visible()
    expect(page.get_by_text("Observation logged. Now write the feedback.")).to_be_visible()
    practise_by = timezone.localdate() + datetime.timedelta(days=7)
    page.get_by_label("Glows").fill(
        "Every student showed an answer at 9:02, so you knew in seconds who had it."
    )
    page.get_by_label("One grow").fill("Use the exit ticket before students leave.")
    page.get_by_label("One action step").fill(
        "Sort exit tickets into got it / not yet while students pack up; start tomorrow with "
        "the not-yet group."
    )
    page.get_by_label("Practise by").fill(practise_by.isoformat())
    shot("4-feedback-form")
    page.get_by_role("button", name="Share with Tina").click()
    expect(
        page.get_by_text("Feedback shared with Tina Tran. They have been notified.")
    ).to_be_visible()
    expect(status_badge(page)).to_have_text("Feedback shared")
    shot("5-cycle-feedback-shared")

    # The teacher got exactly one e-mail (tasks run in-process; live_server shares mail.outbox).
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["tina.tran@example.org"]
    assert f"/cycles/{cycle.pk}/" in mail.outbox[0].body

    # --- Journey 3: the teacher, in a browser of her own, reads and reflects. ---
    teacher_context = browser.new_context()
    tpage = teacher_context.new_page()
    try:
        sign_in(tpage, live_server.url, teacher.user, "Tina")
        tnav = tpage.get_by_role("navigation", name="Main")
        expect(tnav.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
        open_from_navigation(tpage, "My feedback", "Tina Tran")
        card = tpage.get_by_role("article").filter(has_text="From Lena Lopez")
        expect(card.get_by_text("New", exact=True)).to_be_visible()
        expect(card).to_contain_text("Sort exit tickets")
        shot("6-teacher-my-feedback", tpage)
        card.get_by_role("link", name=re.compile("From Lena Lopez")).click()

        expect(tpage.get_by_text("New feedback from Lena Lopez.")).to_be_visible()
        expect(tpage.get_by_text("Sort exit tickets into got it")).to_be_visible()
        shot("7-teacher-cycle", tpage)
        tpage.get_by_role("button", name="Acknowledge").click()
        expect(
            tpage.get_by_text("your observer can see you have read the feedback")
        ).to_be_visible()
        expect(tpage.get_by_text(re.compile(r"^Acknowledged "))).to_be_visible()
        tpage.get_by_role("link", name="Write your reflection").click()

        expect(
            tpage.get_by_role("heading", name="Reflect on Lena Lopez’s feedback")
        ).to_be_visible()
        tpage.get_by_label("Your reflection").fill(
            "I will sort the tickets during pack-up and pull the not-yet group first thing."
        )
        tpage.get_by_label("Very useful").check()
        tpage.get_by_label("Why? (optional)").fill("The step fits into five minutes.")
        shot("8-teacher-reflection-form", tpage)
        tpage.get_by_role("button", name="Share reflection").click()
        expect(tpage.get_by_text("Reflection saved")).to_be_visible()
        expect(status_badge(tpage)).to_have_text("Reflected")
        shot("9-teacher-reflected", tpage)
    finally:
        teacher_context.close()
    reflection = Reflection.objects.get(cycle=cycle)
    assert reflection.usefulness == Reflection.Usefulness.VERY_USEFUL
    assert reflection.acknowledged_at is not None and reflection.submitted_at is not None

    # --- The leader sees the reflection and records the follow-up. ---
    page.reload()
    expect(status_badge(page)).to_have_text("Reflected")
    reflection_card = page.get_by_role("region", name=re.compile("^Reflection"))
    expect(reflection_card).to_contain_text("sort the tickets during pack-up")
    expect(reflection_card).to_contain_text("Usefulness: Very useful")
    expect(reflection_card).to_contain_text("The step fits into five minutes.")
    shot("10-leader-sees-reflection")
    page.get_by_role("link", name="Record the follow-up").click()

    expect(page.get_by_role("heading", name="Follow-up visit with Tina Tran")).to_be_visible()
    page.get_by_label("Partly").check()
    open_next = page.get_by_label("Close this cycle and open the next one with the same focus")
    expect(open_next).to_be_checked()
    shot("11-follow-up-form")
    page.get_by_role("button", name="Record follow-up").click()

    expect(page.get_by_text("The next cycle is open with the same focus.")).to_be_visible()
    next_cycle = ObservationCycle.objects.get(previous=cycle)
    expect(page).to_have_url(re.compile(rf"/cycles/{next_cycle.pk}/$"))
    expect(status_badge(page)).to_have_text("Planned")
    expect(page.get_by_text("Focus: CU1 Checking for understanding")).to_be_visible()
    expect(page.get_by_role("link", name="the previous cycle")).to_be_visible()
    shot("12-next-cycle")

    cycle.refresh_from_db()
    assert cycle.status == Status.CLOSED
    assert cycle.follow_up.mastery == FollowUp.Mastery.PARTLY
    assert next_cycle.status == Status.PLANNED and next_cycle.focus == focus
    assert len(mail.outbox) == 1  # nothing else was mailed to anyone
