"""The rules the observation services enforce, and the rows they write."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from observations import services
from observations.models import (
    CycleTransition,
    Feedback,
    FeedbackAmendment,
    FollowUp,
    IndicatorRating,
    Notification,
    Observation,
    ObservationCycle,
    Reflection,
    Status,
)
from tests.observations.factories import (
    RubricFactory,
    cycle_in,
    feedback_fields,
    indicators_of,
    level_of,
    observation_fields,
    small_rubric,
)
from tests.teams.factories import SchoolFactory, staff_at

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def start(world, **kw):
    """A planned cycle: ``leader`` observes ``teacher`` at school A."""
    return services.cycle_start(
        school=world.school,
        teacher=world.teacher.staff,
        observer=world.leader.staff,
        by=world.leader,
        **kw,
    )


@pytest.fixture
def rubric(world):
    return small_rubric(world.district)


# --- cycle_start ---------------------------------------------------------------------------------


def test_cycle_start_opens_a_planned_cycle_on_the_districts_rubric(world, rubric):
    planned_for = TODAY() + datetime.timedelta(days=3)
    cycle = start(world, planned_for=planned_for)

    cycle.refresh_from_db()
    assert cycle.status == Status.PLANNED
    assert (cycle.rubric, cycle.focus, cycle.planned_for) == (rubric, None, planned_for)
    assert cycle.created_by == world.leader
    row = cycle.transitions.get()
    assert (row.from_status, row.to_status, row.by) == ("", Status.PLANNED, world.leader)


def test_cycle_start_uses_the_rubric_of_the_focus_indicator(world, rubric):
    newer = small_rubric(world.district, lineage="other", name="Other rubric")
    focus = indicators_of(newer)[1]
    cycle = start(world, focus=focus)
    assert (cycle.rubric, cycle.focus) == (newer, focus)


def test_cycle_start_refuses_observing_yourself(world, rubric):
    with pytest.raises(ValidationError) as refused:
        services.cycle_start(
            school=world.school,
            teacher=world.leader.staff,
            observer=world.leader.staff,
            by=world.leader,
        )
    assert refused.value.message_dict == {"teacher": ["You cannot observe yourself."]}
    assert not ObservationCycle.objects.exists()


def test_cycle_start_refuses_a_second_open_cycle_for_the_same_pair(world, rubric):
    first = start(world)
    with pytest.raises(ValidationError) as refused:
        start(world)
    assert "already has an open cycle with you" in refused.value.message_dict["teacher"][0]
    assert list(ObservationCycle.objects.all()) == [first]


def test_a_finished_cycle_does_not_block_the_next_one(world, rubric):
    services.cycle_cancel(cycle=start(world), by=world.leader)
    second = start(world)
    assert second.status == Status.PLANNED
    assert ObservationCycle.objects.count() == 2


def test_another_observer_may_open_a_cycle_with_the_same_teacher(world, rubric):
    start(world)
    other = services.cycle_start(
        school=world.school,
        teacher=world.teacher.staff,
        observer=world.principal.staff,
        by=world.principal,
    )
    assert ObservationCycle.objects.filter(teacher=world.teacher.staff).open().count() == 2
    assert other.observer == world.principal.staff


def test_cycle_start_needs_a_rubric(world):
    # A rubric of another district, and an old version of this district's, do not count.
    RubricFactory()
    RubricFactory(district=world.district, is_current=False)
    with pytest.raises(ValidationError, match="No rubric is set up for this school yet"):
        start(world)
    assert not ObservationCycle.objects.exists()
    assert not CycleTransition.objects.exists()


def test_a_schools_own_rubric_wins_over_the_districts(world, rubric):
    own = small_rubric(school=world.school, lineage="maple-own")
    assert start(world).rubric == own
    other_school_cycle = services.cycle_start(
        school=world.other_school,
        teacher=staff_at(world.other_school),
        observer=world.other_principal.staff,
        by=world.other_principal,
    )
    assert other_school_cycle.rubric == rubric


# --- observation_save / observation_complete ------------------------------------------------------


def test_observation_save_round_trips_fields_and_ratings(world, rubric):
    cycle = start(world)
    first, second, *_ = indicators_of(rubric)
    fields = observation_fields()

    services.observation_save(
        cycle=cycle,
        fields=fields,
        ratings={first.pk: level_of(rubric, 2), second.pk: level_of(rubric, 4)},
    )

    observation = Observation.objects.get(cycle=cycle)
    assert {name: getattr(observation, name) for name in fields} == fields
    assert observation.completed_at is None
    assert dict(observation.ratings.values_list("indicator", "level__value")) == {
        first.pk: 2,
        second.pk: 4,
    }
    cycle.refresh_from_db()
    assert cycle.status == Status.PLANNED  # autosave never moves the cycle


def test_saving_twice_updates_and_never_duplicates(world, rubric):
    cycle = start(world)
    indicator = indicators_of(rubric)[0]
    services.observation_save(
        cycle=cycle,
        fields={"evidence": "09:05 Do-now."},
        ratings={indicator.pk: level_of(rubric, 2)},
    )
    services.observation_save(
        cycle=cycle,
        fields={"evidence": "09:05 Do-now.\n09:10 Turn and talk.", "subject": "Science"},
        ratings={indicator.pk: level_of(rubric, 3)},
    )

    observation = Observation.objects.get(cycle=cycle)
    assert observation.evidence == "09:05 Do-now.\n09:10 Turn and talk."
    assert observation.subject == "Science"
    assert IndicatorRating.objects.count() == 1
    assert observation.ratings.get().level.value == 3


def test_a_save_without_ratings_keeps_the_ratings(world, rubric):
    cycle = start(world)
    indicator = indicators_of(rubric)[0]
    services.observation_save(cycle=cycle, fields={}, ratings={indicator.pk: level_of(rubric, 2)})
    services.observation_save(cycle=cycle, fields={"grade": "5"})
    assert IndicatorRating.objects.get().level.value == 2


def test_clearing_a_rating_deletes_it(world, rubric):
    cycle = start(world)
    first, second, *_ = indicators_of(rubric)
    services.observation_save(
        cycle=cycle,
        fields={},
        ratings={first.pk: level_of(rubric, 1), second.pk: level_of(rubric, 2)},
    )
    services.observation_save(cycle=cycle, fields={}, ratings={first.pk: None})
    assert list(IndicatorRating.objects.values_list("indicator", flat=True)) == [second.pk]


def test_a_level_of_another_rubric_is_refused_and_nothing_of_that_save_is_kept(world, rubric):
    cycle = start(world)
    indicator = indicators_of(rubric)[0]
    services.observation_save(cycle=cycle, fields={"evidence": "kept"})
    foreign_level = level_of(small_rubric(world.district, lineage="other"), 4)

    with pytest.raises(ValidationError, match="belongs to another rubric"):
        services.observation_save(
            cycle=cycle, fields={"evidence": "lost"}, ratings={indicator.pk: foreign_level}
        )

    assert Observation.objects.get(cycle=cycle).evidence == "kept"
    assert not IndicatorRating.objects.exists()


def test_an_indicator_of_another_rubric_is_refused(world, rubric):
    cycle = start(world)
    own = indicators_of(rubric)[0]
    foreign_indicator = indicators_of(small_rubric(world.district, lineage="other"))[0]
    with pytest.raises(ValidationError, match="indicator belongs to another rubric"):
        services.observation_save(
            cycle=cycle,
            fields={},
            ratings={own.pk: level_of(rubric, 2), foreign_indicator.pk: level_of(rubric, 3)},
        )
    assert not IndicatorRating.objects.exists()


def test_the_observation_is_frozen_once_feedback_is_shared(world, rubric):
    cycle = cycle_in("feedback_shared", school=world.school, teacher=world.teacher)
    with pytest.raises(ValidationError, match="can no longer change"):
        services.observation_save(cycle=cycle, fields={"evidence": "rewritten"})
    assert Observation.objects.get(cycle=cycle).evidence != "rewritten"


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        (None, "evidence", "Write down what you saw and heard before finishing."),
        ({"evidence": "  \n ", "observed_at": timezone.now()}, "evidence", None),
        ({"evidence": "09:05 Do-now."}, "observed_at", "When did the observation happen?"),
    ],
    ids=["nothing-saved", "blank-evidence", "no-time"],
)
def test_observation_complete_needs_evidence_and_a_time(world, rubric, fields, key, message):
    cycle = start(world)
    if fields is not None:
        services.observation_save(cycle=cycle, fields=fields)

    with pytest.raises(ValidationError) as refused:
        services.observation_complete(cycle=cycle, by=world.leader)

    assert list(refused.value.message_dict) == [key]
    if message:
        assert refused.value.message_dict[key] == [message]
    cycle.refresh_from_db()
    assert cycle.status == Status.PLANNED
    assert not Observation.objects.filter(completed_at__isnull=False).exists()


def test_observation_complete_moves_the_cycle_to_observed(world, rubric):
    cycle = start(world)
    services.observation_save(cycle=cycle, fields=observation_fields())
    services.observation_complete(cycle=cycle, by=world.leader)

    cycle.refresh_from_db()
    assert cycle.status == Status.OBSERVED
    assert cycle.observation.completed_at is not None
    assert cycle.transitions.last().by == world.leader


# --- feedback ------------------------------------------------------------------------------------

REQUIRED_FEEDBACK = {
    "glows": "Name at least one strength (glow).",
    "grow": "Name the one area to grow.",
    "action_step": "Give one bite-sized action step.",
    "practice_by": "By when should the teacher practise the step?",
}


@pytest.fixture
def observed(world, rubric):
    return cycle_in("observed", school=world.school, teacher=world.teacher, observer=world.leader)


def test_sharing_with_no_feedback_names_every_missing_field(world, observed):
    with pytest.raises(ValidationError) as refused:
        services.feedback_share(cycle=observed, by=world.leader)
    assert refused.value.message_dict == {key: [msg] for key, msg in REQUIRED_FEEDBACK.items()}
    observed.refresh_from_db()
    assert observed.status == Status.OBSERVED


@pytest.mark.parametrize("missing", list(REQUIRED_FEEDBACK))
def test_sharing_needs_glows_grow_action_step_and_practice_by(world, observed, missing):
    blank = None if missing == "practice_by" else "   "
    services.feedback_save(cycle=observed, fields=feedback_fields(**{missing: blank}))

    with pytest.raises(ValidationError) as refused:
        services.feedback_share(cycle=observed, by=world.leader)

    assert refused.value.message_dict == {missing: [REQUIRED_FEEDBACK[missing]]}
    feedback = Feedback.objects.get(cycle=observed)
    assert feedback.shared_at is None
    observed.refresh_from_db()
    assert observed.status == Status.OBSERVED
    assert not Notification.objects.exists()


def test_a_draft_can_be_saved_and_reworked_then_shared(world, observed):
    services.feedback_save(cycle=observed, fields={"glows": "First draft"})
    services.feedback_save(cycle=observed, fields=feedback_fields(glows="Second draft"))
    assert Feedback.objects.get().shared_at is None

    before = timezone.now()
    feedback = services.feedback_share(cycle=observed, by=world.leader)

    assert Feedback.objects.count() == 1
    feedback.refresh_from_db()
    assert feedback.glows == "Second draft"
    assert feedback.is_shared and feedback.shared_at >= before
    assert feedback.resource_links == ["https://example.org/turn-and-talk"]
    observed.refresh_from_db()
    assert observed.status == Status.FEEDBACK_SHARED


def test_feedback_cannot_be_shared_before_the_observation_is_complete(world, rubric):
    cycle = start(world)
    services.feedback_save(cycle=cycle, fields=feedback_fields())
    with pytest.raises(ValidationError, match="“planned” cannot become “feedback shared”"):
        services.feedback_share(cycle=cycle, by=world.leader)
    assert Feedback.objects.get().shared_at is None


def test_shared_feedback_cannot_be_edited(world, rubric):
    cycle = cycle_in("feedback_shared", school=world.school, teacher=world.teacher)
    original = Feedback.objects.get(cycle=cycle).action_step

    with pytest.raises(ValidationError, match="add an amendment instead"):
        services.feedback_save(cycle=cycle, fields={"action_step": "Something else"})

    assert Feedback.objects.get(cycle=cycle).action_step == original


def test_an_amendment_is_appended_with_who_and_when(world, rubric):
    cycle = cycle_in("feedback_shared", school=world.school, teacher=world.teacher)
    observer = cycle.observer.user
    original = Feedback.objects.values().get(cycle=cycle)
    before = timezone.now()

    services.feedback_amend(cycle=cycle, text="  The link is fixed now.  ", by=observer)
    services.feedback_amend(cycle=cycle, text="Also try cold call.", by=observer)

    amendments = list(FeedbackAmendment.objects.filter(feedback__cycle=cycle))
    assert [a.text for a in amendments] == ["The link is fixed now.", "Also try cold call."]
    assert all(a.by == observer and a.at >= before for a in amendments)
    assert Feedback.objects.values().get(cycle=cycle) == original


def test_a_draft_takes_no_amendment_and_an_amendment_needs_text(world, observed):
    services.feedback_save(cycle=observed, fields=feedback_fields())
    with pytest.raises(ValidationError, match="Only shared feedback takes amendments"):
        services.feedback_amend(cycle=observed, text="Note", by=world.leader)

    services.feedback_share(cycle=observed, by=world.leader)
    with pytest.raises(ValidationError) as refused:
        services.feedback_amend(cycle=observed, text="   ", by=world.leader)
    assert refused.value.message_dict == {"text": ["Write the amendment."]}
    assert not FeedbackAmendment.objects.exists()


# --- reflection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["planned", "observed", "cancelled"])
def test_nothing_to_acknowledge_before_feedback_is_shared(world, rubric, status):
    cycle = cycle_in(status, school=world.school, teacher=world.teacher)
    with pytest.raises(ValidationError, match="no shared feedback to acknowledge"):
        services.reflection_acknowledge(cycle=cycle)
    assert not Reflection.objects.exists()


def test_acknowledging_records_the_first_time_only(world, rubric):
    cycle = cycle_in("feedback_shared", school=world.school, teacher=world.teacher)
    first = services.reflection_acknowledge(cycle=cycle).acknowledged_at
    assert first is not None
    assert services.reflection_acknowledge(cycle=cycle).acknowledged_at == first
    assert Reflection.objects.get().acknowledged_at == first
    cycle.refresh_from_db()
    assert cycle.status == Status.FEEDBACK_SHARED  # acknowledging is not reflecting


def test_reflection_submit_stores_the_reflection_and_tells_the_observer(world, rubric):
    cycle = cycle_in(
        "feedback_shared", school=world.school, teacher=world.teacher, observer=world.leader
    )
    Notification.objects.all().delete()  # the teacher's "feedback shared" notice

    services.reflection_submit(
        cycle=cycle,
        text="  I tried it in period 2.  ",
        usefulness=3,
        usefulness_reason="  Clear, but I needed an example.  ",
        by=world.teacher,
    )

    reflection = Reflection.objects.get(cycle=cycle)
    assert reflection.text == "I tried it in period 2."
    assert reflection.usefulness == Reflection.Usefulness.USEFUL
    assert reflection.usefulness_reason == "Clear, but I needed an example."
    assert reflection.submitted_at is not None
    assert reflection.acknowledged_at is not None
    cycle.refresh_from_db()
    assert cycle.status == Status.REFLECTED
    assert cycle.transitions.last().by == world.teacher
    notice = Notification.objects.get()
    assert notice.recipient == world.leader
    assert "Tina Tran reflected on your feedback" in notice.message
    assert notice.url == reverse("observations:cycle_detail", args=[cycle.pk])


def test_a_reflection_keeps_an_earlier_acknowledgement(world, rubric):
    cycle = cycle_in("feedback_shared", school=world.school, teacher=world.teacher)
    acknowledged = services.reflection_acknowledge(cycle=cycle).acknowledged_at
    services.reflection_submit(cycle=cycle, text="Noted.", by=world.teacher)
    reflection = Reflection.objects.get()
    assert reflection.acknowledged_at == acknowledged
    assert reflection.usefulness is None


def test_a_reflection_needs_words(world, rubric):
    cycle = cycle_in("feedback_shared", school=world.school, teacher=world.teacher)
    with pytest.raises(ValidationError) as refused:
        services.reflection_submit(cycle=cycle, text=" ", usefulness=4, by=world.teacher)
    assert refused.value.message_dict == {"text": ["Write a few words of reflection."]}
    cycle.refresh_from_db()
    assert cycle.status == Status.FEEDBACK_SHARED


def test_no_reflection_before_feedback_is_shared(world, observed):
    with pytest.raises(ValidationError, match="“observed” cannot become “reflected”"):
        services.reflection_submit(cycle=observed, text="Hmm", by=world.teacher)
    assert not Reflection.objects.exists()
    assert not Notification.objects.exists()


# --- follow-up, close, cancel --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["feedback_shared", "reflected"])
def test_follow_up_is_recorded_with_or_without_a_reflection(world, rubric, status):
    cycle = cycle_in(status, school=world.school, teacher=world.teacher)
    follow_up, next_cycle = services.follow_up_record(
        cycle=cycle,
        visited_on=TODAY(),
        mastery="mastered",
        notes="Every pair talked.",
        by=cycle.observer.user,
    )
    assert next_cycle is None
    stored = FollowUp.objects.get(cycle=cycle)
    assert stored == follow_up
    assert (stored.visited_on, stored.mastery, stored.notes) == (
        TODAY(),
        FollowUp.Mastery.MASTERED,
        "Every pair talked.",
    )
    cycle.refresh_from_db()
    assert cycle.status == Status.FOLLOWED_UP


def test_no_follow_up_before_feedback_is_shared(world, observed):
    with pytest.raises(ValidationError, match="“observed” cannot become “followed up”"):
        services.follow_up_record(
            cycle=observed, visited_on=TODAY(), mastery="partly", by=world.leader
        )
    assert not FollowUp.objects.exists()


def test_open_next_closes_the_cycle_and_carries_the_focus_forward(world, rubric):
    focus = indicators_of(rubric)[2]
    cycle = cycle_in(
        "reflected",
        school=world.school,
        teacher=world.teacher,
        observer=world.leader,
        focus=focus,
    )

    _, next_cycle = services.follow_up_record(
        cycle=cycle, visited_on=TODAY(), mastery="partly", by=world.leader, open_next=True
    )

    cycle.refresh_from_db()
    assert cycle.status == Status.CLOSED
    assert [t.to_status for t in cycle.transitions.all()][-2:] == [
        Status.FOLLOWED_UP,
        Status.CLOSED,
    ]
    next_cycle.refresh_from_db()
    assert next_cycle.status == Status.PLANNED
    assert next_cycle.previous == cycle
    assert cycle.next_cycle == next_cycle
    assert (next_cycle.teacher, next_cycle.observer, next_cycle.school) == (
        world.teacher.staff,
        world.leader.staff,
        world.school,
    )
    assert (next_cycle.focus, next_cycle.rubric) == (focus, rubric)
    assert next_cycle.created_by == world.leader
    assert ObservationCycle.objects.open().get() == next_cycle


def test_a_closed_cycle_stays_closed(world, rubric):
    cycle = cycle_in("closed", school=world.school, teacher=world.teacher)
    with pytest.raises(ValidationError, match="“closed” cannot become “cancelled”"):
        services.cycle_cancel(cycle=cycle, by=cycle.observer.user)


@pytest.mark.parametrize("status", ["planned", "observed"])
def test_a_cycle_can_be_cancelled_before_feedback_is_shared(world, rubric, status):
    cycle = cycle_in(status, school=world.school, teacher=world.teacher)
    services.cycle_cancel(cycle=cycle, by=world.principal)
    cycle.refresh_from_db()
    assert cycle.status == Status.CANCELLED
    last = cycle.transitions.last()
    assert (last.from_status, last.to_status, last.by) == (status, "cancelled", world.principal)


@pytest.mark.parametrize("status", ["feedback_shared", "reflected", "followed_up", "cancelled"])
def test_a_cycle_cannot_be_cancelled_after_feedback_is_shared(world, rubric, status):
    cycle = cycle_in(status, school=world.school, teacher=world.teacher)
    with pytest.raises(ValidationError, match="cannot become “cancelled”"):
        services.cycle_cancel(cycle=cycle, by=cycle.observer.user)
    cycle.refresh_from_db()
    assert cycle.status == status


def test_cycle_in_another_school_gets_its_own_rubric():
    school = SchoolFactory()
    cycle = cycle_in("planned", school=school)
    assert cycle.rubric.district == school.district
