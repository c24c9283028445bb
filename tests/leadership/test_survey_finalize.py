"""Answers wait, sealed, until their round is finalized; then they all become responses at once.

Sealing (what a database dump shows of a pending answer), finalizing (by the close, by the beat
task for rounds that end by date, and before any results are shown), and counting pending answers
without opening them. The PostgreSQL proof that nothing links a response to its author is in
test_survey_postgres.py.
"""

import datetime
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from leadership import sealing, selectors, services, tasks
from leadership.models import Answer, Participation, PendingResponse, SurveyResponse, SurveyRound
from leadership.survey_items import ITEMS
from tests.leadership.factories import SurveyRoundFactory, add_pending, add_responses
from tests.teams.factories import staff_at

Group = SurveyResponse.Position
TODAY = timezone.localdate


def days(n):
    return datetime.timedelta(days=n)


def answers(value):
    return {item.key: value for item in ITEMS}


def ended_by_date(school, **fields):
    """A round whose last day was yesterday, which nobody closed (and so nobody finalized)."""
    survey_round = SurveyRoundFactory(school=school, **fields)
    SurveyRound.objects.filter(pk=survey_round.pk).update(closes_on=TODAY() - days(1))
    survey_round.refresh_from_db()
    assert survey_round.is_finished and survey_round.finalized_at is None
    return survey_round


# --- Sealing -------------------------------------------------------------------------------------


def row(position=Group.TEACHER, round_id=1):
    """An unsaved pending row: sealing needs only its round, id and position."""
    return PendingResponse(round_id=round_id, position=position)


def sealed(values, pending):
    pending.sealed_answers = sealing.seal_answers(values, pending=pending)
    return pending


def test_a_sealed_answer_shows_nothing_but_a_token_of_fixed_length():
    mixed = {item.key: 1 + n % 5 for n, item in enumerate(ITEMS)}
    rows = [
        sealed(answers(1), row()),
        sealed(mixed, row()),
        sealed(mixed, row(position=Group.SCHOOL_LEADER, round_id=123456)),
    ]
    tokens = [pending.sealed_answers for pending in rows]
    assert len({len(token) for token in tokens}) == 1, "the length would hint at the answers"
    for token in tokens:
        assert ITEMS[0].key not in token and "{" not in token
    assert len(set(tokens)) == 3, "the same answers never give the same token"
    assert sealing.open_answers(rows[1]) == mixed
    # Fernet tokens carry their creation time in the clear; ours carry zero.
    assert all(sealing._fernet().extract_timestamp(token.encode()) == 0 for token in tokens)


def test_only_the_application_key_opens_a_sealed_answer_and_rotation_keeps_it(settings):
    pending = sealed(answers(2), row())
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-after-rotation"
    with pytest.raises(sealing.SealBroken, match="SECRET_KEY_FALLBACKS"):
        sealing.open_answers(pending)
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert sealing.open_answers(pending) == answers(2)


def test_a_token_opens_only_in_the_row_it_was_sealed_for():
    pending = sealed(answers(3), row())
    copies = [
        row(),  # another row of the same round and group
        PendingResponse(id=pending.pk, round_id=1, position=Group.COACH),  # moved to a group
        PendingResponse(id=pending.pk, round_id=2, position=Group.TEACHER),  # to a round
    ]
    for copy in copies:
        copy.sealed_answers = pending.sealed_answers
        with pytest.raises(sealing.SealBroken, match="another row"):
            sealing.open_answers(copy)
    token = pending.sealed_answers
    pending.sealed_answers = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(sealing.SealBroken, match="cannot be decrypted"):
        sealing.open_answers(pending)


def test_copies_of_one_persons_sealed_answers_are_not_counted_as_a_group(world):
    """Someone who can write to the database copies one person's pending row four times to make
    a group of five whose mean would be that person's answers: finalizing refuses."""
    survey_round = SurveyRoundFactory(school=world.school)
    services.response_submit(survey_round=survey_round, staff=world.coach.staff, answers=answers(5))
    target = PendingResponse.objects.get()
    PendingResponse.objects.bulk_create(
        PendingResponse(
            round=survey_round, position=target.position, sealed_answers=target.sealed_answers
        )
        for _ in range(4)
    )
    SurveyRound.objects.filter(pk=survey_round.pk).update(closed_at=timezone.now())
    with pytest.raises(sealing.SealBroken):
        services.round_finalize(survey_round=survey_round)
    assert not SurveyResponse.objects.exists()
    assert SurveyRound.objects.get(pk=survey_round.pk).finalized_at is None


# --- Answering leaves a sealed pending response --------------------------------------------------


def test_answering_writes_a_participation_and_a_sealed_pending_response_only(world):
    survey_round = SurveyRoundFactory(school=world.school)
    services.response_submit(survey_round=survey_round, staff=world.coach.staff, answers=answers(5))
    pending = PendingResponse.objects.get()
    assert (pending.round, pending.position) == (survey_round, Group.COACH)
    assert sealing.open_answers(pending) == answers(5)
    assert not SurveyResponse.objects.exists() and not Answer.objects.exists()
    assert Participation.objects.filter(round=survey_round, staff=world.coach.staff).exists()


def test_a_round_finalized_meanwhile_refuses_an_answer_from_a_stale_copy(world):
    survey_round = SurveyRoundFactory(school=world.school)
    stale = SurveyRound.objects.get(pk=survey_round.pk)
    services.round_close(survey_round=survey_round, closed_by=world.principal)
    services.round_finalize(survey_round=survey_round)
    with pytest.raises(ValidationError, match="not open for answers"):
        services.response_submit(survey_round=stale, staff=world.teacher.staff, answers=answers(1))
    assert not Participation.objects.exists() and not PendingResponse.objects.exists()


# --- Finalizing ----------------------------------------------------------------------------------


def test_finalizing_turns_every_pending_answer_into_a_response_once(world):
    survey_round = SurveyRoundFactory(school=world.school)
    add_pending(survey_round, 6, value=4)
    add_pending(survey_round, 5, position=Group.TEACHER_LEADER, value=2)
    pending_ids = set(PendingResponse.objects.values_list("pk", flat=True))

    assert services.round_finalize(survey_round=survey_round) == 0, "an open round waits"
    assert PendingResponse.objects.count() == 11 and survey_round.finalized_at is None

    SurveyRound.objects.filter(pk=survey_round.pk).update(closed_at=timezone.now())
    assert services.round_finalize(survey_round=survey_round) == 11
    assert survey_round.finalized_at is not None
    assert not PendingResponse.objects.exists()
    responses = SurveyResponse.objects.filter(round=survey_round)
    assert sorted(responses.values_list("position", flat=True)) == sorted(
        [Group.TEACHER] * 6 + [Group.TEACHER_LEADER] * 5
    )
    assert not pending_ids & set(responses.values_list("pk", flat=True)), "fresh keys"
    assert Answer.objects.filter(response__round=survey_round).count() == 11 * len(ITEMS)
    results = selectors.round_results(survey_round=survey_round)
    assert [(row.label, row.n, row.means[0]) for row in results.positions] == [
        ("Teachers", 6, 4.0),
        ("Teacher leaders", 5, 2.0),
    ]

    # Again: nothing more, and answers sealed after finalizing are never added.
    add_pending(survey_round, 5, value=1)
    assert services.round_finalize(survey_round=survey_round) == 0
    assert responses.count() == 11


def test_closing_finalizes_once_the_close_has_committed(world, django_capture_on_commit_callbacks):
    survey_round = SurveyRoundFactory(school=world.school)
    add_pending(survey_round, 5, value=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.round_close(survey_round=survey_round, closed_by=world.principal)
    # Not inside the close's transaction: nothing is written until it has committed.
    assert PendingResponse.objects.count() == 5 and not SurveyResponse.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    survey_round.refresh_from_db()
    assert survey_round.finalized_at is not None
    assert SurveyResponse.objects.filter(round=survey_round).count() == 5


def test_opening_a_round_finalizes_the_one_that_ended_by_date(
    world, django_capture_on_commit_callbacks
):
    stale = ended_by_date(world.school)
    add_pending(stale, 5, value=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_open(
            school=world.school,
            title="Next",
            opens_on=TODAY(),
            closes_on=TODAY() + days(7),
            opened_by=None,
        )
    stale.refresh_from_db()
    assert stale.finalized_at is not None and stale.responses.count() == 5


def test_the_beat_task_finalizes_rounds_that_ended_by_date_and_leaves_open_ones(world):
    ended = ended_by_date(world.school)
    add_pending(ended, 5, value=4)
    elsewhere = ended_by_date(world.other_school)  # nobody answered: still made final
    open_now = SurveyRoundFactory(title="Open")  # at a third school
    add_pending(open_now, 2)

    assert tasks.finalize_finished_survey_rounds.delay().get() == 2
    ended.refresh_from_db()
    elsewhere.refresh_from_db()
    assert ended.finalized_at and ended.closed_at and ended.closed_by is None
    assert ended.responses.count() == 5 and not ended.pending_responses.exists()
    assert elsewhere.finalized_at is not None
    open_now.refresh_from_db()
    assert open_now.finalized_at is None and open_now.pending_responses.count() == 2
    assert tasks.finalize_finished_survey_rounds.delay().get() == 0


def test_a_round_whose_key_is_gone_waits_and_the_others_go_ahead(world, settings, caplog):
    broken = ended_by_date(world.school)
    add_pending(broken, 5)
    fine = ended_by_date(world.other_school)
    settings.SECRET_KEY = "rotated-without-a-fallback"
    add_pending(fine, 5)
    assert services.rounds_finalize_finished() == 1
    broken.refresh_from_db()
    assert broken.finalized_at is None and broken.pending_responses.count() == 5
    assert not broken.responses.exists()
    assert "cannot be finalized" in caplog.text
    assert SurveyResponse.objects.filter(round=fine).count() == 5


def test_results_whose_key_is_gone_say_so_instead_of_failing(principal_client, world, settings):
    survey_round = ended_by_date(world.school, title="Fall 2026")
    key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-key-this-server-no-longer-has"
    add_pending(survey_round, 6, value=4)
    settings.SECRET_KEY = key  # and not among the fallbacks

    page = principal_client.get(reverse("leadership:survey_results", args=[survey_round.pk]))
    trend = principal_client.get(reverse("leadership:survey_trend", args=[world.school.slug]))

    assert page.status_code == trend.status_code == 200
    assert "cannot be opened on this server" in page.text
    assert "SECRET_KEY_FALLBACKS" in trend.text
    survey_round.refresh_from_db()
    assert survey_round.finalized_at is None and survey_round.pending_responses.count() == 6


def test_results_of_a_round_that_ended_by_date_are_finalized_before_they_are_shown(
    principal_client, world
):
    survey_round = ended_by_date(world.school, title="Fall 2026")
    add_pending(survey_round, 6, value=4)
    page = principal_client.get(reverse("leadership:survey_results", args=[survey_round.pk]))
    assert "6 responses." in page.text and "4.00" in page.text
    survey_round.refresh_from_db()
    assert survey_round.finalized_at is not None


def test_the_trend_finalizes_finished_rounds_before_showing_them(principal_client, world):
    spring = ended_by_date(world.school, title="Spring", opens_on=TODAY() - days(30))
    add_pending(spring, 5, value=2)
    page = principal_client.get(reverse("leadership:survey_trend", args=[world.school.slug]))
    assert "2.00" in page.text
    assert SurveyRound.objects.get(pk=spring.pk).finalized_at is not None


def test_counts_read_pending_answers_without_opening_them(principal_client, world, monkeypatch):
    survey_round = SurveyRoundFactory(school=world.school, title="Fall 2026")
    add_pending(survey_round, 3)
    closed = SurveyRoundFactory(school=world.school, closed=True, title="Spring")
    add_responses(closed, 4)

    def refuse(pending):
        raise AssertionError("a count must not open sealed answers")

    monkeypatch.setattr(sealing, "open_answers", refuse)
    monkeypatch.setattr(services, "open_answers", refuse)
    counts = dict(
        selectors.school_rounds(school=world.school).values_list("title", "response_count")
    )
    assert counts == {"Fall 2026": 3, "Spring": 4}
    close_page = principal_client.get(
        reverse("leadership:survey_round_close", args=[survey_round.pk])
    )
    assert "3 responses so far" in close_page.text
    results = principal_client.get(reverse("leadership:survey_results", args=[survey_round.pk]))
    assert "3 responses so far" in results.text


def test_the_answers_of_several_staff_survive_sealing_and_finalizing(world):
    survey_round = SurveyRoundFactory(school=world.school)
    people = [staff_at(world.school, username=f"t{i}") for i in range(5)]
    for i, staff in enumerate(people):
        services.response_submit(survey_round=survey_round, staff=staff, answers=answers(1 + i % 5))
    services.round_close(survey_round=survey_round, closed_by=None)
    services.round_finalize(survey_round=survey_round)
    values = sorted(
        SurveyResponse.objects.filter(round=survey_round).values_list("answers__value", flat=True)
    )
    assert values == sorted([1, 2, 3, 4, 5] * len(ITEMS))


# --- Existing data (migration 0003) --------------------------------------------------------------


def test_the_migration_finalizes_finished_rounds_and_rewrites_every_response(world):
    migration = importlib.import_module(
        "leadership.migrations.0003_finalize_and_rewrite_existing_responses"
    )
    closed = SurveyRoundFactory(school=world.school, title="Closed", closed=True)
    SurveyRound.objects.filter(pk=closed.pk).update(finalized_at=None)
    by_date = ended_by_date(world.other_school)
    open_now = SurveyRoundFactory(school=world.school, title="Open")
    add_responses(closed, 3, value=lambda item: 5 if item.element == "trust" else 2)
    add_responses(open_now, 2, position=Group.COACH, value=4)
    before = {
        r.pk: sorted(
            SurveyResponse.objects.filter(round=r).values_list(
                "position", "answers__item", "answers__value"
            )
        )
        for r in (closed, open_now)
    }
    old_ids = set(SurveyResponse.objects.values_list("pk", flat=True))

    migration.finalize_and_rewrite(apps, None)

    assert not old_ids & set(SurveyResponse.objects.values_list("pk", flat=True))
    for r in (closed, open_now):
        after = sorted(
            SurveyResponse.objects.filter(round=r).values_list(
                "position", "answers__item", "answers__value"
            )
        )
        assert after == before[r.pk]
    states = {
        r.title: (r.closed_at is not None, r.finalized_at is not None)
        for r in SurveyRound.objects.all()
    }
    assert states == {"Closed": (True, True), by_date.title: (True, True), "Open": (False, False)}
