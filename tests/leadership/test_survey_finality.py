"""A finished round is final everywhere, the admin included: reopening one, letting one more
person answer and comparing the results would give that person's answers away."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone

from leadership import selectors, services
from leadership.models import Participation, SurveyResponse, SurveyRound
from leadership.survey_items import ITEMS
from tests.leadership.factories import SurveyRoundFactory, add_pending, add_responses

TODAY = timezone.localdate


def days(n):
    return datetime.timedelta(days=n)


def change_url(survey_round):
    return reverse("admin:leadership_surveyround_change", args=[survey_round.pk])


def finished_round(school):
    """Answered by five, closed by hand, finalized: its results have been shown."""
    survey_round = SurveyRoundFactory(school=school, title="Fall 2026")
    add_pending(survey_round, 5, value=4)
    services.round_close(survey_round=survey_round, closed_by=None)
    services.round_finalize(survey_round=survey_round)
    survey_round.refresh_from_db()
    assert survey_round.finalized_at is not None
    return survey_round


def reopen_post(survey_round):
    """What an administrator would send to reopen the round for one more answer."""
    return {
        "school": survey_round.school_id,
        "title": survey_round.title,
        "opens_on": survey_round.opens_on,
        "closes_on": TODAY() + days(7),
        "closed_at_0": "",
        "closed_at_1": "",
        "finalized_at_0": "",
        "finalized_at_1": "",
    }


# --- In the admin --------------------------------------------------------------------------------


def test_the_admin_shows_a_finished_round_read_only(admin_client, world):
    survey_round = finished_round(world.school)
    page = admin_client.get(change_url(survey_round)).text
    for name in ("title", "opens_on", "closes_on", "closed_at", "finalized_at", "school"):
        assert f'name="{name}' not in page, f"{name} is editable"
    assert formats.localize(survey_round.closes_on) in page  # shown as text
    assert 'name="_save"' not in page
    assert "Delete" not in page


def test_a_forged_admin_post_does_not_reopen_a_finished_round(admin_client, world):
    survey_round = finished_round(world.school)
    before = SurveyRound.objects.values().get(pk=survey_round.pk)
    response = admin_client.post(change_url(survey_round), reopen_post(survey_round))
    assert response.status_code == 403
    assert SurveyRound.objects.values().get(pk=survey_round.pk) == before


def test_a_round_that_ended_by_date_is_final_in_the_admin_before_it_is_finalized(
    admin_client, world
):
    survey_round = SurveyRoundFactory(school=world.school)
    SurveyRound.objects.filter(pk=survey_round.pk).update(closes_on=TODAY() - days(1))
    response = admin_client.post(change_url(survey_round), reopen_post(survey_round))
    assert response.status_code == 403
    survey_round.refresh_from_db()
    assert survey_round.closes_on == TODAY() - days(1)


def test_the_admin_can_extend_an_open_round_but_not_close_or_backdate_it(admin_client, world):
    survey_round = SurveyRoundFactory(school=world.school, title="Fall 2026")
    page = admin_client.get(change_url(survey_round)).text
    assert 'name="closes_on"' in page and 'name="title"' in page
    assert 'name="closed_at' not in page and 'name="opens_on"' not in page

    later = TODAY() + days(30)
    data = {"title": "Fall 2026 (extended)", "closes_on": later}
    response = admin_client.post(change_url(survey_round), data)
    assert response.status_code == 302
    survey_round.refresh_from_db()
    assert (survey_round.title, survey_round.closes_on, survey_round.closed_at) == (
        "Fall 2026 (extended)",
        later,
        None,
    )

    response = admin_client.post(
        change_url(survey_round), {"title": "Fall 2026", "closes_on": TODAY() - days(1)}
    )
    assert response.status_code == 200
    assert "The last day cannot be in the past" in response.text
    survey_round.refresh_from_db()
    assert survey_round.closes_on == later


def test_the_admin_deletes_only_unfinished_rounds_nobody_answered(admin_client, world):
    finished = finished_round(world.school)
    delete = reverse("admin:leadership_surveyround_delete", args=[finished.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:leadership_surveyround_changelist")
    bulk = {"action": "delete_selected", "_selected_action": [finished.pk], "post": "yes"}
    admin_client.post(changelist, bulk)
    assert SurveyRound.objects.filter(pk=finished.pk).exists()

    answered = SurveyRoundFactory(school=world.other_school)
    services.response_submit(
        survey_round=answered,
        staff=world.other_principal.staff,
        answers={item.key: 3 for item in ITEMS},
    )
    delete = reverse("admin:leadership_surveyround_delete", args=[answered.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert SurveyRound.objects.filter(pk=answered.pk).exists()

    untouched = SurveyRoundFactory()  # open, at a third school, nobody has answered
    delete = reverse("admin:leadership_surveyround_delete", args=[untouched.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not SurveyRound.objects.filter(pk=untouched.pk).exists()


# --- In the services and the database ------------------------------------------------------------


def test_the_service_refuses_to_move_a_finished_rounds_dates(world):
    survey_round = finished_round(world.school)
    copy = SurveyRound.objects.get(pk=survey_round.pk)
    copy.closed_at = None  # a tampered copy that says "open" does not change the answer
    with pytest.raises(ValidationError, match="has finished; its dates are final"):
        services.round_update(survey_round=copy, title="Reopened", closes_on=TODAY() + days(7))
    ended = SurveyRoundFactory(school=world.other_school)
    SurveyRound.objects.filter(pk=ended.pk).update(closes_on=TODAY() - days(1))
    with pytest.raises(ValidationError, match="has finished"):
        services.round_update(survey_round=ended, title=ended.title, closes_on=TODAY())
    assert SurveyRound.objects.get(pk=survey_round.pk).closed_at is not None
    assert SurveyRound.objects.get(pk=ended.pk).closes_on == TODAY() - days(1)


def test_the_service_refuses_to_close_a_finalized_round_again(world):
    survey_round = finished_round(world.school)
    with pytest.raises(ValidationError, match="already closed"):
        services.round_close(survey_round=survey_round, closed_by=None)


def test_the_database_keeps_a_finalized_round_closed(world):
    survey_round = finished_round(world.school)
    survey_round.closed_at = None
    with pytest.raises(IntegrityError), transaction.atomic():
        survey_round.save()
    assert SurveyRound.objects.get(pk=survey_round.pk).closed_at is not None


def test_a_finalized_round_whose_last_day_was_pushed_back_takes_no_answer(client, world):
    """The attack: reopen by date, let one more person answer, compare the results."""
    survey_round = finished_round(world.school)
    shown = selectors.round_results(survey_round=survey_round)
    SurveyRound.objects.filter(pk=survey_round.pk).update(closes_on=TODAY() + days(7))
    survey_round.refresh_from_db()

    client.force_login(world.teacher)
    url = reverse("leadership:survey_answer", args=[survey_round.pk])
    response = client.post(url, {item.key: "1" for item in ITEMS})
    assert "is not open for answers" in response.text
    with pytest.raises(ValidationError, match="not open for answers"):
        services.response_submit(
            survey_round=survey_round,
            staff=world.teacher.staff,
            answers={item.key: 1 for item in ITEMS},
        )
    assert not Participation.objects.filter(staff=world.teacher.staff).exists()
    assert services.round_finalize(survey_round=survey_round) == 0
    assert SurveyResponse.objects.filter(round=survey_round).count() == 5
    again = selectors.round_results(survey_round=survey_round)
    assert (again.responses, again.elements) == (shown.responses, shown.elements)


def test_finished_rounds_still_show_their_responses_count_in_the_admin(admin_client, world):
    survey_round = finished_round(world.school)
    add_responses(SurveyRoundFactory(school=world.other_school, closed=True), 2)
    page = admin_client.get(reverse("admin:leadership_surveyround_changelist")).text
    assert survey_round.title in page
    assert '<td class="field-response_count">5</td>' in page
    assert '<td class="field-response_count">2</td>' in page
