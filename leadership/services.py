"""Writes of the leadership survey: opening and closing rounds, and recording an answer.

Services raise ValidationError keyed by form field, so a view shows the message beside the field.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone

from teams.models import Assignment, TeamMembership, TeamRole

from .models import Answer, Participation, SurveyResponse, SurveyRound
from .survey_items import ITEMS, SCALE_VALUES

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
    # A round past its last day is over even if nobody pressed "Close": record it as closed.
    rounds.filter(closed_at__isnull=True, closes_on__lt=today).update(closed_at=timezone.now())
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


@transaction.atomic
def round_close(*, survey_round, closed_by):
    if survey_round.closed_at is not None:
        raise ValidationError(f"“{survey_round.title}” is already closed.")
    survey_round.closed_at = timezone.now()
    survey_round.closed_by = closed_by
    # closes_on is the last day to answer: closing early makes today that day.
    today = timezone.localdate()
    survey_round.closes_on = max(min(survey_round.closes_on, today), survey_round.opens_on)
    survey_round.save(update_fields=["closed_at", "closed_by", "closes_on"])
    return survey_round


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


def response_submit(*, survey_round, staff, answers):
    """Record one anonymous response. ``answers`` maps every item key to a value 1–5."""
    if not survey_round.is_open:
        raise ValidationError(f"“{survey_round.title}” is not open for answers.")
    missing = [item.key for item in ITEMS if answers.get(item.key) not in SCALE_VALUES]
    if missing:
        raise ValidationError("Every statement needs an answer from 1 to 5.")
    if Participation.objects.filter(round=survey_round, staff=staff).exists():
        raise ValidationError(already_answered_message(survey_round))
    position = position_group(staff=staff, school=survey_round.school)
    try:
        with transaction.atomic():
            Participation.objects.create(round=survey_round, staff=staff)
            response = SurveyResponse.objects.create(round=survey_round, position=position)
            Answer.objects.bulk_create(
                Answer(
                    response=response, item=item.key, element=item.element, value=answers[item.key]
                )
                for item in ITEMS
            )
    except IntegrityError:  # a second tab submitted at the same moment
        raise ValidationError(already_answered_message(survey_round)) from None
    # Nothing is returned: callers have no reason to hold on to which response was theirs.


def already_answered_message(survey_round):
    return (
        f"You have already answered “{survey_round.title}”. Thank you. Answers are anonymous, "
        "so they cannot be shown or changed."
    )
