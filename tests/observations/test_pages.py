"""What people notice on the observation pages, through the test client."""

import datetime

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from observations import services
from observations.models import (
    Feedback,
    FeedbackAmendment,
    Notification,
    Observation,
    ObservationCycle,
    Status,
)
from tests.observations.factories import cycle_in, feedback_fields, small_rubric
from tests.teams.factories import CaseloadFactory, staff_at

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
GLOWS = "Your do-now routine had every student writing within a minute."
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def rubric(world):
    return small_rubric(world.district)


def url(name, cycle):
    return reverse(f"observations:{name}", args=[cycle.pk])


def leader_observes_teacher(world, status):
    return cycle_in(status, school=world.school, teacher=world.teacher, observer=world.leader)


def as_user(client, user):
    client.force_login(user)
    return client


# --- my caseload -------------------------------------------------------------------------------


def test_the_caseload_flags_what_is_overdue_and_offers_to_start(client, world, rubric):
    today = timezone.localdate()
    # Tina: observed five days ago, no feedback yet.
    observed = leader_observes_teacher(world, "observed")
    observed_at = timezone.now() - 5 * DAY
    Observation.objects.filter(cycle=observed).update(observed_at=observed_at)
    feedback_due = timezone.localdate(observed_at) + 3 * DAY
    # Amy: feedback shared, the step was to be practised by yesterday.
    amy = staff_at(world.school, first_name="Amy", last_name="Abbott")
    CaseloadFactory(school=world.school, leader=world.leader.staff, teacher=amy)
    shared = cycle_in("feedback_shared", school=world.school, teacher=amy, observer=world.leader)
    Feedback.objects.filter(cycle=shared).update(practice_by=today - DAY)
    # Ben: his last cycle is closed.
    ben = staff_at(world.school, first_name="Ben", last_name="Burke")
    CaseloadFactory(school=world.school, leader=world.leader.staff, teacher=ben)
    cycle_in("closed", school=world.school, teacher=ben, observer=world.leader)

    response = as_user(client, world.leader).get(reverse("observations:my_caseload"))

    assertContains(response, f"Feedback overdue since {feedback_due:%b %-d}")
    assertContains(response, f"Follow-up overdue since {today - DAY:%b %-d}")
    assertContains(response, "No open cycle", count=1)
    start = f"{reverse('observations:cycle_start')}?school={world.school.pk}&amp;teacher={ben.pk}"
    assertContains(response, f'href="{start}"')
    assertContains(response, "Start a cycle", count=1)
    assertContains(response, 'class="table-warning"', count=2)
    assertContains(response, "Open cycle", count=2 + 1)  # two buttons and the column heading

    # The Start link opens the form with Ben chosen.
    response = client.get(start.replace("&amp;", "&"))
    assert response.status_code == 200
    assert str(response.context["form"]["teacher"].value()) == str(ben.pk)


# --- draft and shared feedback -----------------------------------------------------------------


def test_the_teacher_sees_feedback_only_once_it_is_shared(client, world, rubric):
    cycle = leader_observes_teacher(world, "observed")
    services.feedback_save(cycle=cycle, fields=feedback_fields(glows=GLOWS))

    teacher_view = as_user(client, world.teacher).get(url("cycle_detail", cycle))
    assert teacher_view.status_code == 200
    assertNotContains(teacher_view, GLOWS)
    assertNotContains(teacher_view, feedback_fields()["action_step"])
    assertNotContains(as_user(client, world.principal).get(url("cycle_detail", cycle)), GLOWS)
    observer_view = as_user(client, world.leader).get(url("cycle_detail", cycle))
    assertContains(observer_view, GLOWS)
    assertContains(observer_view, "draft, only you see it")

    services.feedback_share(cycle=cycle, by=world.leader)

    teacher_view = as_user(client, world.teacher).get(url("cycle_detail", cycle))
    assertContains(teacher_view, GLOWS)
    assertContains(teacher_view, feedback_fields()["action_step"])
    assertNotContains(teacher_view, "draft, only you see it")
    assertContains(teacher_view, "Acknowledge")


def test_usefulness_is_for_the_observer_and_the_teacher_only(client, world, rubric):
    # The coach observes Tina; Lena is Tina's caseload leader, so she sees the cycle too.
    cycle = cycle_in("reflected", school=world.school, teacher=world.teacher, observer=world.coach)
    reflection = "I will plan the turn-and-talk prompts in advance."

    for who in ["coach", "teacher"]:
        response = as_user(client, getattr(world, who)).get(url("cycle_detail", cycle))
        assertContains(response, reflection)
        assertContains(response, "Usefulness: Very useful")
        assertContains(response, "Concrete and doable tomorrow.")
    for who in ["principal", "leader"]:
        response = as_user(client, getattr(world, who)).get(url("cycle_detail", cycle))
        assert response.status_code == 200
        assertContains(response, reflection)
        assertNotContains(response, "Usefulness")
        assertNotContains(response, "Very useful")
        assertNotContains(response, "Concrete and doable tomorrow.")


def test_coaching_quality_shows_only_my_own_ratings(client, world, rubric):
    amy = staff_at(world.school, first_name="Amy", last_name="Abbott")
    mine = leader_observes_teacher(world, "feedback_shared")
    services.reflection_submit(
        cycle=mine,
        text="Trying it Monday.",
        usefulness=4,
        usefulness_reason="Concrete and doable tomorrow.",
        by=world.teacher,
    )
    theirs = cycle_in("feedback_shared", school=world.school, teacher=amy, observer=world.coach)
    services.reflection_submit(
        cycle=theirs, text="Not sure.", usefulness=1, usefulness_reason="Too vague.", by=amy.user
    )

    response = as_user(client, world.leader).get(reverse("observations:coaching_quality"))
    assertContains(response, "Very useful")
    assertContains(response, "Concrete and doable tomorrow.")
    assertContains(response, "Tina Tran")
    assertContains(response, url("cycle_detail", mine))
    assertContains(response, '<td class="text-end">1</td><td class="text-end">4.0</td>', html=True)
    for other in ["Not useful", "Too vague.", "Amy Abbott", url("cycle_detail", theirs)]:
        assertNotContains(response, other)

    response = as_user(client, world.coach).get(reverse("observations:coaching_quality"))
    assertContains(response, "Too vague.")
    assertContains(response, "Amy Abbott")
    assertNotContains(response, "Concrete and doable tomorrow.")
    assertNotContains(response, "Tina Tran")

    response = as_user(client, world.principal).get(reverse("observations:coaching_quality"))
    assertContains(response, "No ratings yet.")
    assertNotContains(response, "Too vague.")
    assertNotContains(response, "Concrete and doable tomorrow.")


# --- the tablet forms --------------------------------------------------------------------------


def observation_post(**fields):
    return {
        "observed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "25",
        "subject": "Science",
        "grade": "5",
        "section": "",
        "evidence": "09:01 Students enter silently and start the do-now.",
        **fields,
    }


def test_autosave_keeps_the_evidence_and_answers_with_a_status_line(client, world, rubric):
    cycle = leader_observes_teacher(world, "planned")
    as_user(client, world.leader)

    response = client.post(
        url("observation_log", cycle), {**observation_post(), "autosave": "1"}, **HX
    )

    assert response.status_code == 200
    assertContains(response, "Draft saved at")
    assert "<html" not in response.content.decode()  # a fragment for the status line
    observation = Observation.objects.get(cycle=cycle)
    assert observation.evidence == "09:01 Students enter silently and start the do-now."
    assert (observation.duration_minutes, observation.subject) == (25, "Science")
    cycle.refresh_from_db()
    assert cycle.status == Status.PLANNED  # a draft, not a finished observation

    # The next keystrokes add a line; the page reloads with everything typed so far.
    more = "09:01 Students enter silently and start the do-now.\n09:04 T circulates."
    client.post(
        url("observation_log", cycle), {**observation_post(evidence=more), "autosave": "1"}, **HX
    )
    assert Observation.objects.get(cycle=cycle).evidence == more
    assertContains(client.get(url("observation_log", cycle)), "09:04 T circulates.")


def test_an_autosave_with_a_bad_value_saves_nothing(client, world, rubric):
    cycle = leader_observes_teacher(world, "planned")
    as_user(client, world.leader)
    client.post(url("observation_log", cycle), {**observation_post(), "autosave": "1"}, **HX)
    saved = Observation.objects.get(cycle=cycle)

    response = client.post(
        url("observation_log", cycle),
        {
            **observation_post(duration_minutes="abc", evidence="A line that is not saved."),
            "autosave": "1",
        },
        **HX,
    )

    assert response.status_code == 200
    assertContains(response, "Not saved")
    assertNotContains(response, "Draft saved at")
    assert Observation.objects.count() == 1
    observation = Observation.objects.get(cycle=cycle)
    assert observation.evidence == saved.evidence
    assert observation.duration_minutes == 25
    assert observation.updated_at == saved.updated_at


def test_an_autosave_before_any_draft_with_a_bad_value_creates_nothing(client, world, rubric):
    cycle = leader_observes_teacher(world, "planned")
    response = as_user(client, world.leader).post(
        url("observation_log", cycle),
        {**observation_post(duration_minutes="abc"), "autosave": "1"},
        **HX,
    )
    assertContains(response, "Not saved")
    assert not Observation.objects.filter(cycle=cycle).exists()


def test_a_resource_that_is_not_a_link_is_refused_and_the_text_kept(client, world, rubric):
    cycle = leader_observes_teacher(world, "observed")
    typed = "see the binder in room 12\nhttps://example.org/turn-and-talk"
    data = {
        "glows": GLOWS,
        "grow": "More students explaining their reasoning.",
        "action_step": "Use turn-and-talk after each worked example.",
        "practice_by": (timezone.localdate() + 7 * DAY).isoformat(),
        "resources": typed,
        "share": "1",
    }

    response = as_user(client, world.leader).post(url("feedback_write", cycle), data)

    assert response.status_code == 200
    assertContains(response, "“see the binder in room 12” is not a web link.")
    form = response.context["form"]
    assert form["resources"].value() == typed
    assert form["glows"].value() == GLOWS
    assertContains(response, GLOWS)
    assertContains(response, "https://example.org/turn-and-talk")
    cycle.refresh_from_db()
    assert cycle.status == Status.OBSERVED  # nothing shared
    assert not hasattr(cycle, "feedback")  # nor saved


def test_a_link_without_a_scheme_is_stored_as_a_web_link(client, world, rubric):
    """Not a relative link on the teacher's page."""
    cycle = leader_observes_teacher(world, "observed")
    data = {**feedback_fields(resources="www.example.org/turn-and-talk"), "save": "1"}
    data["practice_by"] = data["practice_by"].isoformat()

    as_user(client, world.leader).post(url("feedback_write", cycle), data)

    assert Feedback.objects.get(cycle=cycle).resources == "https://www.example.org/turn-and-talk"
    response = client.get(url("cycle_detail", cycle))
    assertContains(response, 'href="https://www.example.org/turn-and-talk"')


# --- refusals ----------------------------------------------------------------------------------


def test_starting_a_cycle_with_someone_outside_the_caseload_is_refused(client, world, rubric):
    outsider = staff_at(world.school, first_name="Olga", last_name="Outside")
    as_user(client, world.leader)
    form_page = client.get(reverse("observations:cycle_start"))
    assertContains(form_page, "Tina Tran")
    assertNotContains(form_page, "Olga Outside")

    response = client.post(
        reverse("observations:cycle_start"),
        {"teacher": outsider.pk, "focus": "", "planned_for": ""},
    )

    assert response.status_code == 200
    assertContains(response, "Choose a teacher from your caseload.")
    assert not ObservationCycle.objects.exists()

    # The teacher of the caseload is accepted.
    response = client.post(
        reverse("observations:cycle_start"),
        {"teacher": world.teacher.staff.pk, "focus": "", "planned_for": ""},
    )
    cycle = ObservationCycle.objects.get()
    assertRedirects(response, url("cycle_detail", cycle))
    assert (cycle.teacher, cycle.observer) == (world.teacher.staff, world.leader.staff)


def test_a_cycle_with_shared_feedback_cannot_be_cancelled(client, world, rubric):
    cycle = leader_observes_teacher(world, "feedback_shared")
    as_user(client, world.leader)
    message = "Only a cycle that is planned or observed can be cancelled."

    for method in (client.get, client.post):
        response = method(url("cycle_cancel", cycle), follow=True)
        assertRedirects(response, url("cycle_detail", cycle))
        assertContains(response, message)
        cycle.refresh_from_db()
        assert cycle.status == Status.FEEDBACK_SHARED
    assertNotContains(response, "Cancel cycle")  # the page no longer offers it


def test_a_planned_cycle_can_be_cancelled(client, world, rubric):
    cycle = leader_observes_teacher(world, "planned")
    response = as_user(client, world.leader).post(url("cycle_cancel", cycle), follow=True)
    assertContains(response, "Cycle cancelled. It stays in the history.")
    cycle.refresh_from_db()
    assert cycle.status == Status.CANCELLED


# --- after sharing -----------------------------------------------------------------------------


def test_an_amendment_shows_on_the_teachers_page_with_who_and_when(client, world, rubric):
    cycle = leader_observes_teacher(world, "feedback_shared")
    text = "Also try three seconds of wait time before cold-calling."

    response = as_user(client, world.leader).post(url("feedback_amend", cycle), {"text": text})
    assertRedirects(response, url("cycle_detail", cycle))

    amendment = FeedbackAmendment.objects.get()
    when = dateformat.format(timezone.localtime(amendment.at), "M j, Y, g:i a")
    response = as_user(client, world.teacher).get(url("cycle_detail", cycle))
    assertContains(response, f"Amended by Lena Lopez on {when}")
    assertContains(response, text)
    assertContains(response, feedback_fields()["action_step"])  # the original stays as it was
    assertNotContains(response, "Add an amendment")  # only the observer amends


def test_the_share_notification_and_mark_all_as_read(client, world, rubric):
    cycle = leader_observes_teacher(world, "observed")
    data = {**feedback_fields(), "share": "1"}
    data["practice_by"] = data["practice_by"].isoformat()
    response = as_user(client, world.leader).post(url("feedback_write", cycle), data)
    assertRedirects(response, url("cycle_detail", cycle))

    badge = (
        '<span class="badge text-bg-warning">1<span class="visually-hidden"> unread</span></span>'
    )
    response = as_user(client, world.teacher).get(reverse("observations:notifications"))
    assertContains(response, "Lena Lopez shared feedback with you.")
    assertContains(response, badge, html=True)
    assertContains(response, "(unread)")

    response = client.post(reverse("observations:notifications_read_all"), follow=True)

    assertRedirects(response, reverse("observations:notifications"))
    assertContains(response, "Lena Lopez shared feedback with you.")  # still listed, now read
    assertNotContains(response, " unread</span>")
    assertNotContains(response, "(unread)")
    assert not Notification.objects.filter(recipient=world.teacher, read_at__isnull=True).exists()


def test_opening_the_cycle_reads_its_notification(client, world, rubric):
    cycle = leader_observes_teacher(world, "feedback_shared")
    unread = Notification.objects.filter(recipient=world.teacher, read_at__isnull=True)
    assert unread.count() == 1
    as_user(client, world.teacher).get(url("cycle_detail", cycle))
    assert not unread.exists()


def test_the_next_cycle_shows_what_was_carried_forward(client, world, rubric):
    cycle = leader_observes_teacher(world, "feedback_shared")
    _, next_cycle = services.follow_up_record(
        cycle=cycle,
        visited_on=timezone.localdate(),
        mastery="partly",
        by=world.leader,
        open_next=True,
    )
    action_step = Feedback.objects.get(cycle=cycle).action_step
    response = as_user(client, world.leader).get(url("cycle_detail", next_cycle))
    assertContains(response, "Carried forward from")
    assertContains(response, action_step)
    assertContains(response, "Partly")


def test_a_teacher_without_cycles_has_a_history_page_for_their_leader_only(client, world, rubric):
    history = reverse("observations:teacher_history", args=[world.teacher.staff.pk])
    response = as_user(client, world.leader).get(history)
    assertContains(response, "No observation cycles yet.")
    assert as_user(client, world.principal).get(history).status_code == 200
    stranger = staff_at(world.school, first_name="Sam", last_name="Stone").user
    assert as_user(client, stranger).get(history).status_code == 404
    assert as_user(client, world.coach).get(history).status_code == 404
