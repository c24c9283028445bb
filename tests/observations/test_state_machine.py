"""The cycle's state machine: every (from, to) pair of statuses through ``cycle_transition``."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from observations import services
from observations.models import TRANSITIONS, CycleTransition, ObservationCycle, Status
from tests.observations.factories import PATH, ObservationCycleFactory, cycle_in

pytestmark = pytest.mark.django_db

ALL_PAIRS = list(itertools.product(Status, repeat=2))
LEGAL = [(current, to) for current, to in ALL_PAIRS if to in TRANSITIONS[current]]
ILLEGAL = [(current, to) for current, to in ALL_PAIRS if to not in TRANSITIONS[current]]


def pair_id(pair):
    return f"{pair[0].value}->{pair[1].value}"


def test_the_table_covers_every_status_and_the_expected_moves():
    assert set(TRANSITIONS) == set(Status)
    assert sorted(map(pair_id, LEGAL)) == sorted(
        [
            "planned->observed",
            "planned->cancelled",
            "observed->feedback_shared",
            "observed->cancelled",
            "feedback_shared->reflected",
            "feedback_shared->followed_up",
            "reflected->followed_up",
            "followed_up->closed",
        ]
    )
    assert len(LEGAL) + len(ILLEGAL) == len(Status) ** 2


@pytest.mark.parametrize(("current", "to"), LEGAL, ids=map(pair_id, LEGAL))
def test_a_legal_transition_moves_the_cycle_and_records_who_and_when(current, to):
    cycle = ObservationCycleFactory(status=current)
    by = cycle.observer.user
    before = timezone.now()

    returned = services.cycle_transition(cycle=cycle, to=to, by=by)

    after = timezone.now()
    assert returned.status == to
    cycle.refresh_from_db()
    assert cycle.status == to
    assert before <= cycle.status_changed_at <= after
    row = CycleTransition.objects.get(cycle=cycle)
    assert (row.from_status, row.to_status, row.by) == (current, to, by)
    assert before <= row.at <= after


@pytest.mark.parametrize(("current", "to"), ILLEGAL, ids=map(pair_id, ILLEGAL))
def test_an_illegal_transition_is_refused_with_a_message_naming_both_statuses(current, to):
    cycle = ObservationCycleFactory(status=current)
    changed_at = cycle.status_changed_at

    with pytest.raises(ValidationError) as refused:
        services.cycle_transition(cycle=cycle, to=to, by=cycle.observer.user)

    message = " ".join(refused.value.messages)
    assert f"“{current.label.lower()}”" in message
    assert f"“{to.label.lower()}”" in message
    assert cycle.status == current  # the object in hand is untouched too
    stored = ObservationCycle.objects.get(pk=cycle.pk)
    assert (stored.status, stored.status_changed_at) == (current, changed_at)
    assert not CycleTransition.objects.filter(cycle=cycle).exists()


def test_the_refusal_lists_where_the_cycle_can_go_instead():
    cycle = ObservationCycleFactory(status=Status.FEEDBACK_SHARED)
    with pytest.raises(ValidationError, match="From here it can go to: ") as refused:
        services.cycle_transition(cycle=cycle, to=Status.CLOSED, by=None)
    assert "reflected" in refused.value.messages[0]
    assert "followed up" in refused.value.messages[0]


@pytest.mark.parametrize("terminal", [Status.CLOSED, Status.CANCELLED])
def test_a_finished_cycle_says_it_is_over(terminal):
    cycle = ObservationCycleFactory(status=terminal)
    with pytest.raises(ValidationError, match=r"nothing \(it is over\)"):
        services.cycle_transition(cycle=cycle, to=Status.PLANNED, by=None)


def test_an_unknown_status_is_refused():
    cycle = ObservationCycleFactory()
    with pytest.raises(ValueError):
        services.cycle_transition(cycle=cycle, to="archived", by=None)
    cycle.refresh_from_db()
    assert cycle.status == Status.PLANNED


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_the_services_walk_a_cycle_and_record_every_step(status):
    cycle = cycle_in(status)

    assert cycle.status == status
    path = [Status.PLANNED, Status.CANCELLED] if status == Status.CANCELLED else PATH
    expected = path[: path.index(status) + 1]
    rows = list(cycle.transitions.all())
    assert [row.to_status for row in rows] == expected
    assert [row.from_status for row in rows] == ["", *expected[:-1]]
    assert all(row.at is not None for row in rows)
    # The teacher moves the cycle to "reflected"; the observer makes every other move.
    assert [row.by for row in rows] == [
        cycle.teacher.user if row.to_status == Status.REFLECTED else cycle.observer.user
        for row in rows
    ]
