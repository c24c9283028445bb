"""Writes of the leadership survey: opening, changing, closing and finalizing rounds, and
recording an answer.

A round's life: scheduled → open → finished (closed by hand, or past its last day) → finalized.
Answers are taken only while it is open; they wait, sealed, as ``PendingResponse`` rows and
become ``SurveyResponse`` rows only in ``round_finalize``, all of a round's at once. Once
finalized a round is final: no answers, no date changes, no new responses.

Services raise ValidationError keyed by form field, so a view shows the message beside the field.
"""

import logging
import secrets
from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone

from teams.models import Assignment, TeamMembership, TeamRole

from .models import Answer, Participation, PendingResponse, SurveyResponse, SurveyRound
from .sealing import SealBroken, open_answers, seal_answers
from .survey_items import ITEMS, ITEMS_BY_KEY, SCALE_VALUES

logger = logging.getLogger(__name__)

MAX_ROUNDS_PER_YEAR = 2
Position = Assignment.Position


def school_year_of(day):
    """ "2026-2027" for any day from Aug 1, 2026 to Jul 31, 2027."""
    start = day.year if day >= date(day.year, 8, 1) else day.year - 1
    return f"{start}-{start + 1}"


def _date(value):
    return formats.date_format(value, "N j, Y")


@transaction.atomic
def round_open(*, school, title, opens_on, closes_on, opened_by, today=None):
    today = today or timezone.localdate()
    if closes_on < opens_on:
        raise ValidationError({"closes_on": "The last day must be on or after the opening day."})
    if closes_on < today:
        raise ValidationError({"closes_on": "The last day to answer cannot be in the past."})
    if SurveyRound.objects.filter(school=school, title__iexact=title).exists():
        raise ValidationError({"title": f"{school} already has a round called “{title}”."})
    rounds = SurveyRound.objects.select_for_update().filter(school=school)
    # A round past its last day is over even if nobody pressed "Close": record it as closed, and
    # finalize it once this transaction has committed.
    ended = rounds.filter(closed_at__isnull=True, closes_on__lt=today)
    for pk in ended.values_list("pk", flat=True):
        transaction.on_commit(partial(_finalize_by_id, pk), robust=True)
    ended.update(closed_at=timezone.now())
    unclosed = rounds.filter(closed_at__isnull=True).first()
    if unclosed is not None:
        raise ValidationError(
            f"“{unclosed.title}” is still open until {_date(unclosed.closes_on)}. "
            "Close it before opening another round."
        )
    year = school_year_of(opens_on)
    if rounds.filter(school_year=year).count() >= MAX_ROUNDS_PER_YEAR:
        raise ValidationError(
            {
                "opens_on": f"{school} has already run the survey twice in the {year} school "
                "year. Staff are asked at most twice a year, so answers stay thoughtful."
            }
        )
    return SurveyRound.objects.create(
        school=school,
        title=title,
        school_year=year,
        opens_on=opens_on,
        closes_on=closes_on,
        opened_by=opened_by,
    )


def _final_message(survey_round):
    return f"“{survey_round.title}” has finished; its dates are final."


def round_update_check(*, survey_round, title, closes_on, today=None):
    """Raise ValidationError (by field) unless ``round_update`` would accept this change, judged
    on the stored round, not the caller's copy. For forms; ``round_update`` checks again."""
    _check_update(SurveyRound.objects.get(pk=survey_round.pk), title, closes_on, today)


def _check_update(stored, title, closes_on, today):
    today = today or timezone.localdate()
    if stored.is_finished_on(today):
        raise ValidationError(_final_message(stored))
    if closes_on < stored.opens_on:
        raise ValidationError({"closes_on": "The last day must be on or after the opening day."})
    if closes_on < today:
        raise ValidationError(
            {"closes_on": "The last day cannot be in the past. To end the round now, close it."}
        )
    duplicate = SurveyRound.objects.filter(school_id=stored.school_id, title__iexact=title)
    if duplicate.exclude(pk=stored.pk).exists():
        raise ValidationError({"title": f"{stored.school} already has a round called “{title}”."})


@transaction.atomic
def round_update(*, survey_round, title, closes_on, today=None):
    """Rename a round that has not finished, or move its last day (not into the past: closing
    is ``round_close``). A finished round is final, whatever the caller's copy of it says."""
    stored = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    _check_update(stored, title, closes_on, today)
    stored.title, stored.closes_on = title, closes_on
    stored.save(update_fields=["title", "closes_on"])
    survey_round.title, survey_round.closes_on = title, closes_on
    return stored


@transaction.atomic
def round_close(*, survey_round, closed_by):
    """Close a round by hand; its answers become responses once the close has committed (never
    in a transaction that wrote a participation)."""
    stored = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    if stored.closed_at is not None or stored.finalized_at is not None:
        raise ValidationError(f"“{survey_round.title}” is already closed.")
    survey_round.closed_at = timezone.now()
    survey_round.closed_by = closed_by
    # closes_on is the last day to answer: closing early makes today that day.
    today = timezone.localdate()
    survey_round.closes_on = max(min(stored.closes_on, today), stored.opens_on)
    survey_round.save(update_fields=["closed_at", "closed_by", "closes_on"])
    transaction.on_commit(partial(_finalize_by_id, survey_round.pk), robust=True)
    return survey_round


def _finalize_by_id(pk):
    survey_round = SurveyRound.objects.filter(pk=pk).first()
    if survey_round is not None:
        round_finalize(survey_round=survey_round)


def round_finalize(*, survey_round, today=None):
    """Turn a finished round's pending answers into responses and mark the round final.

    One transaction writes every response of the round, in a random order, and deletes the
    pending rows: the responses share one transaction id with each other and none with a
    participation. Idempotent and safe to run twice at once (the round row is locked); does
    nothing for a round still taking answers. Returns how many responses it wrote, and brings
    ``survey_round`` up to date."""
    today = today or timezone.localdate()
    with transaction.atomic():
        stored = SurveyRound.objects.select_for_update().filter(pk=survey_round.pk).first()
        if stored is None:
            return 0
        written = 0
        if stored.finalized_at is None and stored.is_finished_on(today):
            written = _flush_pending(stored)
            stored.finalized_at = timezone.now()
            stored.closed_at = stored.closed_at or stored.finalized_at
            stored.save(update_fields=["finalized_at", "closed_at"])
    for name in ("closed_at", "closed_by_id", "closes_on", "finalized_at"):
        setattr(survey_round, name, getattr(stored, name))
    return written


def _flush_pending(survey_round):
    pending = list(PendingResponse.objects.filter(round=survey_round))
    # Insertion order would otherwise follow answering order, and so the participation rows.
    secrets.SystemRandom().shuffle(pending)
    responses, answers = [], []
    for row in pending:
        response = SurveyResponse(round=survey_round, position=row.position)  # a fresh random key
        responses.append(response)
        answers += [
            Answer(response=response, item=key, element=ITEMS_BY_KEY[key].element, value=value)
            for key, value in sorted(open_answers(row).items())
        ]
    SurveyResponse.objects.bulk_create(responses)
    Answer.objects.bulk_create(answers, batch_size=2000)
    PendingResponse.objects.filter(round=survey_round).delete()
    return len(responses)


def rounds_finalize_finished(*, today=None):
    """Finalize every round that has finished (closed, or past its last day) and is not final
    yet, one transaction each. Returns how many rounds were finalized."""
    finalized = 0
    for survey_round in SurveyRound.objects.awaiting_finalization(today).order_by("pk"):
        try:
            round_finalize(survey_round=survey_round, today=today)
        except SealBroken:
            # The other rounds still go ahead; this one waits for its key to come back.
            logger.exception("Survey round %s cannot be finalized", survey_round.pk)
            continue
        finalized += 1
    return finalized


def position_group(*, staff, school, on=None):
    """The broad group a response is counted in. Principals and assistant principals first, then
    coaches, then teachers who hold an active team role other than "member" (team leads,
    facilitators, data leads …) as teacher leaders, then everyone else as teachers."""
    positions = set(
        Assignment.objects.current(on)
        .filter(staff=staff, school=school)
        .values_list("position", flat=True)
    )
    if positions & {Position.PRINCIPAL, Position.ASSISTANT_PRINCIPAL}:
        return SurveyResponse.Position.SCHOOL_LEADER
    if Position.COACH in positions:
        return SurveyResponse.Position.COACH
    leads = (
        TeamMembership.objects.active()
        .filter(staff=staff, team__school=school)
        .exclude(role=TeamRole.MEMBER)
    )
    if leads.exists():
        return SurveyResponse.Position.TEACHER_LEADER
    return SurveyResponse.Position.TEACHER


def _not_open_message(survey_round):
    return f"“{survey_round.title}” is not open for answers."


def response_submit(*, survey_round, staff, answers):
    """Record one anonymous response. ``answers`` maps every item key to a value 1–5.

    The answers are sealed into a ``PendingResponse``; they become a response when the round is
    finalized, apart from this transaction and from every participation."""
    if not survey_round.is_open:
        raise ValidationError(_not_open_message(survey_round))
    missing = [item.key for item in ITEMS if answers.get(item.key) not in SCALE_VALUES]
    if missing:
        raise ValidationError("Every statement needs an answer from 1 to 5.")
    if Participation.objects.filter(round=survey_round, staff=staff).exists():
        raise ValidationError(already_answered_message(survey_round))
    pending = PendingResponse(
        round_id=survey_round.pk, position=position_group(staff=staff, school=survey_round.school)
    )
    pending.sealed_answers = seal_answers(answers, pending=pending)
    try:
        with transaction.atomic():
            # The stored row decides, not the caller's copy, and the lock keeps a concurrent
            # round_finalize from finishing between this check and the insert.
            stored = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
            if not stored.is_open:
                raise ValidationError(_not_open_message(stored))
            Participation.objects.create(round=stored, staff=staff)
            pending.save(force_insert=True)
    except IntegrityError:  # a second tab submitted at the same moment
        raise ValidationError(already_answered_message(survey_round)) from None
    # Nothing is returned: callers have no reason to hold on to which response was theirs.


def already_answered_message(survey_round):
    return (
        f"You have already answered “{survey_round.title}”. Thank you. Answers are anonymous, "
        "so they cannot be shown or changed."
    )
