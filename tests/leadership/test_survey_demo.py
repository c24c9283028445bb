"""The demo district's survey rounds: enough to show results, suppression and the prompt."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from leadership import selectors
from leadership.models import Participation, SurveyRound


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_demo_has_a_closed_and_an_open_round_at_the_middle_school(demo, client):
    assert "Leadership survey: " in demo
    closed, open_now = SurveyRound.objects.filter(school__slug="cedar-ridge-middle").order_by(
        "opens_on"
    )
    assert closed.is_finished and open_now.is_open
    results = selectors.round_results(survey_round=closed)
    assert results.enough and results.positions and results.hidden_positions
    # the open round's answers are counted but wait, sealed, for the round to end
    assert selectors.response_count(survey_round=open_now) >= 5
    assert not open_now.responses.exists()
    assert closed.finalized_at is not None and not closed.pending_responses.exists()

    users = get_user_model().objects.in_bulk(["principal", "teacher"], field_name="username")
    answered = Participation.objects.filter(round=open_now, staff__user__in=users.values())
    assert not answered.exists()
    client.force_login(users["teacher"])
    page = client.get(reverse("leadership:survey", args=["cedar-ridge-middle"])).text
    assert "Answer the survey" in page
    client.force_login(users["principal"])
    page = client.get(reverse("leadership:survey_results", args=[closed.pk])).text
    assert "hidden to keep answers anonymous" in page

    call_command("seed_demo", "--reset", stdout=StringIO())  # clears its rows first
    assert SurveyRound.objects.count() == 2
