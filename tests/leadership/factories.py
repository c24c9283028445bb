"""Factories for the leadership survey."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from leadership.models import Answer, PendingResponse, SurveyResponse, SurveyRound
from leadership.sealing import seal_answers
from leadership.services import school_year_of
from leadership.survey_items import ITEMS
from tests.teams.factories import SchoolFactory


def today():
    return timezone.localdate()


class SurveyRoundFactory(DjangoModelFactory):
    """An open round by default; pass ``closed=True`` for one closed and finalized yesterday."""

    class Meta:
        model = SurveyRound

    class Params:
        closed = factory.Trait(
            opens_on=factory.LazyFunction(lambda: today() - datetime.timedelta(days=30)),
            closes_on=factory.LazyFunction(lambda: today() - datetime.timedelta(days=1)),
            closed_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1)),
            finalized_at=factory.SelfAttribute("closed_at"),
        )

    school = factory.SubFactory(SchoolFactory)
    title = factory.Sequence(lambda n: f"Round {n}")
    opens_on = factory.LazyFunction(lambda: today() - datetime.timedelta(days=3))
    closes_on = factory.LazyFunction(lambda: today() + datetime.timedelta(days=11))
    school_year = factory.LazyAttribute(lambda r: school_year_of(r.opens_on))


def _value(value, item):
    return value(item) if callable(value) else value


def add_responses(survey_round, count, *, position=SurveyResponse.Position.TEACHER, value=3):
    """``count`` responses (as a finalized round holds them) answering every item with ``value``
    (an int, or a function of the item giving one)."""
    for _ in range(count):
        response = SurveyResponse.objects.create(round=survey_round, position=position)
        Answer.objects.bulk_create(
            Answer(
                response=response, item=item.key, element=item.element, value=_value(value, item)
            )
            for item in ITEMS
        )


def add_pending(survey_round, count, *, position=SurveyResponse.Position.TEACHER, value=3):
    """``count`` sealed pending responses, as answering leaves them until the round is finalized
    (without the participation rows, which only stop a second answer)."""
    rows = []
    for _ in range(count):
        row = PendingResponse(round=survey_round, position=position)
        row.sealed_answers = seal_answers({i.key: _value(value, i) for i in ITEMS}, pending=row)
        rows.append(row)
    PendingResponse.objects.bulk_create(rows)


def every_item(value):
    """A complete POST for the answer form."""
    return {item.key: str(value) for item in ITEMS}
