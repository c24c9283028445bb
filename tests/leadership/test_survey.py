"""The leadership self-assessment survey: the item bank, running rounds, answering once,
anonymity (in the tables and in the queries), the results' arithmetic, and query counts."""

import datetime
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from leadership import selectors, services
from leadership.models import (
    Answer,
    Participation,
    PendingResponse,
    SurveyResponse,
    SurveyRound,
)
from leadership.survey_items import ELEMENTS, ITEMS, MIN_RESPONSES, items_of
from teams.models import StaffMember
from tests.leadership.factories import SurveyRoundFactory, add_pending, add_responses, every_item
from tests.teams.factories import staff_at

Group = SurveyResponse.Position
TODAY = timezone.localdate


def days(n):
    return datetime.timedelta(days=n)


def nothing_recorded():
    return not any(
        model.objects.exists() for model in (Participation, PendingResponse, SurveyResponse)
    )


# --- The item bank -------------------------------------------------------------------------------


def test_item_bank_has_six_elements_of_three_or_four_items_with_stable_unique_keys():
    assert len(ELEMENTS) == 6
    assert len({e.key for e in ELEMENTS}) == 6
    for element in ELEMENTS:
        assert 3 <= len(items_of(element.key)) <= 4, element.key
    keys = [item.key for item in ITEMS]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z][a-z_]{2,59}", key) for key in keys)
    assert len({item.text for item in ITEMS}) == len(ITEMS)
    assert {item.element for item in ITEMS} == {e.key for e in ELEMENTS}


# --- Opening and closing rounds ------------------------------------------------------------------


def open_round(school, title="Fall", opens_on=None, closes_on=None, today=None):
    opens_on = opens_on or TODAY()
    return services.round_open(
        school=school,
        title=title,
        opens_on=opens_on,
        closes_on=closes_on or opens_on + days(14),
        opened_by=None,
        today=today,
    )


def test_one_round_open_at_a_time(world):
    first = open_round(world.school)
    assert first.is_open
    with pytest.raises(ValidationError, match="still open"):
        open_round(world.school, title="Again")
    services.round_close(survey_round=first, closed_by=world.principal)
    first.refresh_from_db()
    assert first.is_finished and first.closes_on == TODAY()
    assert open_round(world.school, title="Again").is_open
    # another school is not held up by this one
    assert open_round(world.other_school).is_open


def test_at_most_two_rounds_per_school_year(world):
    start = datetime.date(2026, 9, 1)
    for title, opens_on in (("Fall 2026", start), ("Winter 2027", datetime.date(2027, 1, 10))):
        survey_round = open_round(world.school, title, opens_on, today=opens_on)
        services.round_close(survey_round=survey_round, closed_by=None)
    with pytest.raises(ValidationError, match="twice in the 2026-2027 school year"):
        open_round(world.school, "Spring 2027", datetime.date(2027, 4, 1), today=start)
    # the next school year starts on Aug 1
    assert open_round(world.school, "Fall 2027", datetime.date(2027, 8, 20), today=start)


def test_a_round_past_its_last_day_counts_as_closed_and_does_not_block_the_next(world):
    stale = SurveyRoundFactory(school=world.school, opens_on=TODAY() - days(20))
    SurveyRound.objects.filter(pk=stale.pk).update(closes_on=TODAY() - days(2))
    assert open_round(world.school, "Next").is_open
    stale.refresh_from_db()
    assert stale.closed_at is not None


def test_dates_are_checked(world):
    with pytest.raises(ValidationError, match="cannot be in the past"):
        open_round(world.school, opens_on=TODAY() - days(10), closes_on=TODAY() - days(1))
    with pytest.raises(ValidationError, match="on or after the opening day"):
        open_round(world.school, opens_on=TODAY(), closes_on=TODAY() - days(1))


def test_principal_opens_a_round_from_the_page(principal_client, world):
    url = reverse("leadership:survey_round_open", args=[world.school.slug])
    data = {"title": "Fall 2026", "opens_on": TODAY(), "closes_on": TODAY() + days(10)}
    response = principal_client.post(url, data, follow=True)
    assert "“Fall 2026” is open" in response.text
    survey_round = SurveyRound.objects.get()
    assert survey_round.opened_by == world.principal
    # a second one: the rule's message is shown on the form
    response = principal_client.post(url, {**data, "title": "Another"})
    assert response.status_code == 200
    assert "Close it before opening another round" in response.text
    assert SurveyRound.objects.count() == 1


@pytest.mark.parametrize("person", ["teacher", "leader", "coach", "district_leader"])
def test_only_managers_open_and_close(client, world, person):
    survey_round = SurveyRoundFactory(school=world.school)
    client.force_login(getattr(world, person))
    open_url = reverse("leadership:survey_round_open", args=[world.school.slug])
    data = {"title": "Sneaky", "opens_on": TODAY(), "closes_on": TODAY() + days(3)}
    assert client.post(open_url, data).status_code == 403
    close_url = reverse("leadership:survey_round_close", args=[survey_round.pk])
    assert client.post(close_url).status_code == 403
    survey_round.refresh_from_db()
    assert survey_round.closed_at is None
    assert SurveyRound.objects.count() == 1


def test_other_schools_principal_gets_404_for_close(client, world):
    survey_round = SurveyRoundFactory(school=world.school)
    client.force_login(world.other_principal)
    url = reverse("leadership:survey_round_close", args=[survey_round.pk])
    assert client.post(url).status_code == 404


def test_principal_closes_after_confirming(principal_client, world):
    survey_round = SurveyRoundFactory(school=world.school)
    url = reverse("leadership:survey_round_close", args=[survey_round.pk])
    assert "Close the round" in principal_client.get(url).text
    response = principal_client.post(url, follow=True)
    assert "is closed; no more answers" in response.text
    survey_round.refresh_from_db()
    assert survey_round.closed_at is not None and survey_round.closed_by == world.principal


# --- Answering -----------------------------------------------------------------------------------


def answer_url(survey_round):
    return reverse("leadership:survey_answer", args=[survey_round.pk])


def test_teacher_answers_once_and_cannot_see_their_answers_again(
    client, world, django_capture_on_commit_callbacks
):
    survey_round = SurveyRoundFactory(school=world.school)
    client.force_login(world.teacher)
    page = client.get(answer_url(survey_round)).text
    assert page.count("<legend") == len(ELEMENTS) + len(ITEMS)  # a fieldset per element and item
    response = client.post(answer_url(survey_round), every_item(4), follow=True)
    assert "Thank you" in response.text
    assert Participation.objects.get().staff == world.teacher.staff
    # The answers wait, sealed, for the round to end; no response exists yet.
    pending = PendingResponse.objects.get()
    assert pending.position == Group.TEACHER
    assert not SurveyResponse.objects.exists()

    again = client.get(answer_url(survey_round)).text
    assert "You have already answered" in again
    assert 'type="radio"' not in again
    client.post(answer_url(survey_round), every_item(1))
    assert PendingResponse.objects.count() == 1 and Participation.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.round_close(survey_round=survey_round, closed_by=world.principal)
    response_row = SurveyResponse.objects.get()
    assert response_row.position == Group.TEACHER
    assert response_row.pk != pending.pk
    assert sorted(response_row.answers.values_list("value", flat=True)) == [4] * len(ITEMS)
    assert not PendingResponse.objects.exists()


def test_a_missing_answer_keeps_what_was_chosen(client, world):
    survey_round = SurveyRoundFactory(school=world.school)
    client.force_login(world.teacher)
    data = every_item(2)
    skipped = data.pop(ITEMS[5].key)
    assert skipped
    response = client.post(answer_url(survey_round), data)
    assert response.status_code == 200
    assert "Choose an answer from 1 to 5 for this statement." in response.text
    kept = re.search(rf'name="{ITEMS[0].key}" value="2"[^>]*checked', response.text)
    assert kept, "the first answer should still be chosen"
    assert f'aria-describedby="{ITEMS[5].key}-error"' in response.text
    assert nothing_recorded()


def test_a_value_off_the_scale_is_refused(client, world):
    survey_round = SurveyRoundFactory(school=world.school)
    client.force_login(world.teacher)
    response = client.post(answer_url(survey_round), {**every_item(3), ITEMS[0].key: "6"})
    assert response.status_code == 200
    assert nothing_recorded()


def test_a_closed_round_takes_no_answers(client, world):
    survey_round = SurveyRoundFactory(school=world.school, closed=True)
    client.force_login(world.teacher)
    response = client.post(answer_url(survey_round), every_item(3))
    assert "is not open for answers" in response.text
    assert nothing_recorded()


@pytest.mark.parametrize(
    ("person", "group"),
    [
        ("teacher", Group.TEACHER),
        ("leader", Group.TEACHER_LEADER),  # the team lead of the ILT
        ("coach", Group.COACH),
        ("principal", Group.SCHOOL_LEADER),
    ],
)
def test_each_response_is_counted_in_a_broad_position_group(world, person, group):
    survey_round = SurveyRoundFactory(school=world.school)
    staff = getattr(world, person).staff
    services.response_submit(
        survey_round=survey_round, staff=staff, answers={i.key: 3 for i in ITEMS}
    )
    assert PendingResponse.objects.get().position == group


def test_a_plain_team_member_is_a_teacher_not_a_teacher_leader(world):
    from tests.teams.factories import TeamMembershipFactory

    TeamMembershipFactory(team=world.team, staff=world.teacher.staff, role="member")
    assert services.position_group(staff=world.teacher.staff, school=world.school) == Group.TEACHER


def test_the_prompt_shows_open_rounds_not_yet_answered(world):
    survey_round = SurveyRoundFactory(school=world.school, title="Fall 2026")
    SurveyRoundFactory(school=world.other_school, title="Elsewhere")

    def prompt(user):
        request = RequestFactory().get("/")
        request.user = user
        template = Template("{% load leadership_survey %}{% leadership_survey_prompt %}")
        return template.render(Context({"request": request}))

    assert "Fall 2026" in prompt(world.teacher)
    assert "Elsewhere" not in prompt(world.teacher)
    assert prompt(world.district_leader).strip() == ""
    services.response_submit(
        survey_round=survey_round, staff=world.teacher.staff, answers={i.key: 3 for i in ITEMS}
    )
    world.teacher._dl_scope = None
    assert "Fall 2026" not in prompt(world.teacher)


# --- Anonymity -----------------------------------------------------------------------------------


def test_a_response_cannot_be_linked_to_a_person():
    for model in (SurveyResponse, Answer, PendingResponse):
        fields = model._meta.get_fields()
        assert isinstance(model._meta.pk.default(), uuid.UUID), "random keys, no id order"
        related = {f.related_model for f in fields if f.is_relation and f.many_to_one}
        assert related <= {SurveyRound, SurveyResponse}, f"{model} points at a person"
        times = [f.name for f in fields if f.get_internal_type() in ("DateTimeField", "DateField")]
        assert times == [], f"{model} records a time: {times}"
    # and the participation, which names the person, points at nothing but round and person
    related = {f.related_model for f in Participation._meta.get_fields() if f.is_relation}
    assert related == {SurveyRound, StaffMember}


def test_the_threshold_is_applied_by_the_query_itself(db):
    survey_round = SurveyRoundFactory(closed=True)
    add_responses(survey_round, MIN_RESPONSES - 1, position=Group.TEACHER)
    add_responses(survey_round, MIN_RESPONSES - 1, position=Group.TEACHER_LEADER)
    rounds = SurveyRound.objects.filter(pk=survey_round.pk)
    # 8 responses in all: elements show, but neither position group of 4 leaves the database
    assert {row["element"] for row in selectors.element_means(rounds=rounds)} == {
        e.key for e in ELEMENTS
    }
    assert list(selectors.position_counts(survey_round=survey_round)) == []
    assert list(selectors.position_element_means(survey_round=survey_round)) == []
    sql = str(selectors.position_counts(survey_round=survey_round).query).upper()
    assert "HAVING" in sql


def test_a_round_under_the_threshold_returns_nothing_at_all(db):
    survey_round = SurveyRoundFactory(closed=True)
    add_responses(survey_round, MIN_RESPONSES - 1)
    rounds = SurveyRound.objects.filter(pk=survey_round.pk)
    assert list(selectors.element_means(rounds=rounds)) == []
    assert list(selectors.element_distribution(survey_round=survey_round)) == []
    results = selectors.round_results(survey_round=survey_round)
    assert not results.enough and results.positions == []

    add_responses(survey_round, 1)
    assert len(selectors.element_means(rounds=rounds)) == len(ELEMENTS)


# --- Results, checked by hand --------------------------------------------------------------------


def test_element_means_and_distribution(db):
    survey_round = SurveyRoundFactory(closed=True)
    # Five people; on the trust items they answer 5, 4, 4, 2, 1; everything else 3.
    for trust in (5, 4, 4, 2, 1):
        add_responses(
            survey_round, 1, value=lambda item, t=trust: t if item.element == "trust" else 3
        )
    results = selectors.round_results(survey_round=survey_round)
    rows = {row.element.key: row for row in results.elements}
    assert results.responses == 5
    assert rows["trust"].mean == 3.2  # (5 + 4 + 4 + 2 + 1) / 5
    assert rows["trust"].n == 5
    shares = {value: share for value, _label, _n, share in rows["trust"].distribution}
    assert shares == {1: 20.0, 2: 20.0, 3: 0.0, 4: 40.0, 5: 20.0}
    counts = {value: n for value, _label, n, _share in rows["trust"].distribution}
    assert counts == {1: 3, 2: 3, 3: 0, 4: 6, 5: 3}  # three trust items each
    assert rows["capacity"].mean == 3.0
    assert [share for *_, share in rows["capacity"].distribution] == [0, 0, 100.0, 0, 0]


def test_by_position_small_groups_and_their_complement_are_hidden(db):
    survey_round = SurveyRoundFactory(closed=True)
    add_responses(survey_round, 6, position=Group.TEACHER, value=2)
    add_responses(survey_round, 5, position=Group.TEACHER_LEADER, value=4)
    add_responses(survey_round, 2, position=Group.COACH, value=5)
    results = selectors.round_results(survey_round=survey_round)
    # Showing teacher leaders too would give the two coaches' mean away by subtraction.
    assert [(row.label, row.n) for row in results.positions] == [("Teachers", 6)]
    assert results.positions[0].means == [2.0] * len(ELEMENTS)
    assert results.hidden_positions == [
        "Teacher leaders",
        "Coaches",
        "Principals and assistant principals",
    ]
    # The whole round: (6×2 + 5×4 + 2×5) / 13
    assert results.elements[0].mean == round(42 / 13, 2)


def test_by_position_shows_every_group_of_five_when_the_rest_is_empty(db):
    survey_round = SurveyRoundFactory(closed=True)
    add_responses(survey_round, 5, position=Group.TEACHER, value=2)
    add_responses(survey_round, 5, position=Group.TEACHER_LEADER, value=4)
    results = selectors.round_results(survey_round=survey_round)
    assert [(row.label, row.means[0]) for row in results.positions] == [
        ("Teachers", 2.0),
        ("Teacher leaders", 4.0),
    ]


def test_results_page_shows_suppressed_groups_and_waits_for_the_close(principal_client, world):
    survey_round = SurveyRoundFactory(school=world.school, title="Fall 2026")
    add_pending(survey_round, 7, value=4)
    add_pending(survey_round, 5, position=Group.TEACHER_LEADER, value=3)
    url = reverse("leadership:survey_results", args=[survey_round.pk])
    page = principal_client.get(url).text
    assert "Results appear when the round closes" in page
    assert "12 responses so far" in page  # counted, still sealed
    assert "4.00" not in page

    services.round_close(survey_round=survey_round, closed_by=world.principal)
    page = principal_client.get(url).text
    assert "hidden to keep answers anonymous" in page
    assert "<caption>Mean agreement by position group and element</caption>" in page
    assert "4.00" in page and "3.00" in page


def test_trend_over_rounds(principal_client, world):
    spring = SurveyRoundFactory(
        school=world.school, closed=True, title="Spring", opens_on=TODAY() - days(200)
    )
    add_responses(spring, 5, value=2)
    small = SurveyRoundFactory(
        school=world.school, closed=True, title="Winter", opens_on=TODAY() - days(100)
    )
    add_responses(small, 3, value=5)
    fall = SurveyRoundFactory(school=world.school, closed=True, title="Fall")
    add_responses(fall, 6, value=4)
    SurveyRoundFactory(school=world.school, title="Open now")  # not finished: not in the trend

    rounds, rows = selectors.school_trend(school=world.school)
    assert [r.title for r in rounds] == ["Spring", "Winter", "Fall"]
    assert rows[0].means == [2.0, None, 4.0]
    page = principal_client.get(reverse("leadership:survey_trend", args=[world.school.slug]))
    assert "Open now" not in page.text
    assert "fewer than 5 responses" in page.text


def test_empty_states(principal_client, world):
    home = principal_client.get(reverse("leadership:survey", args=[world.school.slug])).text
    assert "No survey rounds yet" in home and "Open the round" in home
    trend = principal_client.get(reverse("leadership:survey_trend", args=[world.school.slug]))
    assert "No closed survey rounds" in trend.text
    empty = SurveyRoundFactory(school=world.school, closed=True)
    page = principal_client.get(reverse("leadership:survey_results", args=[empty.pk])).text
    assert "Nobody answered" in page


# --- Who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("teacher", 404),
        ("leader", 404),
        ("coach", 200),
        ("principal", 200),
        ("other_principal", 404),
        ("district_leader", 200),
    ],
)
def test_results_are_for_leaders_coaches_and_the_district(client, world, person, status):
    survey_round = SurveyRoundFactory(school=world.school, closed=True)
    add_responses(survey_round, 5)
    client.force_login(getattr(world, person))
    assert client.get(reverse("leadership:survey_results", args=[survey_round.pk])).status_code == (
        status
    )
    home = client.get(reverse("leadership:survey", args=[world.school.slug]))
    if home.status_code == 200:
        assert ("Results<span" in home.text) == (status == 200)


def test_answer_form_is_only_for_the_schools_staff(client, world):
    survey_round = SurveyRoundFactory(school=world.school)
    for person, status in (("district_leader", 404), ("other_principal", 404), ("coach", 200)):
        client.force_login(getattr(world, person))
        assert client.get(answer_url(survey_round)).status_code == status, person
    client.force_login(world.other_principal)
    client.post(answer_url(survey_round), every_item(5))
    assert nothing_recorded()


# --- Query counts --------------------------------------------------------------------------------


def _fill(survey_round, count):
    add_responses(survey_round, count, value=4)
    add_responses(survey_round, 5, position=Group.TEACHER_LEADER, value=2)


@pytest.mark.parametrize("count", [5, 30])
def test_results_page_queries_do_not_grow_with_responses(
    principal_client, world, django_assert_num_queries, count
):
    survey_round = SurveyRoundFactory(school=world.school, closed=True)
    _fill(survey_round, count)
    url = reverse("leadership:survey_results", args=[survey_round.pk])
    # session, user, scope (2), round, count, element means, distribution, groups, group means,
    # and the unread-notifications badge
    with django_assert_num_queries(11):
        assert principal_client.get(url).status_code == 200


@pytest.mark.parametrize("count", [5, 30])
def test_survey_and_trend_pages_queries_do_not_grow(
    principal_client, world, django_assert_num_queries, count
):
    for n in range(3):
        survey_round = SurveyRoundFactory(
            school=world.school, closed=True, opens_on=TODAY() - days(100 * (n + 1))
        )
        _fill(survey_round, count)
    SurveyRoundFactory(school=world.school)
    # session, user, scope (2), school, rounds with counts, own participations, notifications
    with django_assert_num_queries(8):
        principal_client.get(reverse("leadership:survey", args=[world.school.slug]))
    # session, user, scope (2), school, finished rounds, element means, notifications
    with django_assert_num_queries(8):
        principal_client.get(reverse("leadership:survey_trend", args=[world.school.slug]))


def test_staff_of_another_school_cannot_answer_or_see_the_round(client, world):
    stranger = staff_at(world.other_school).user
    survey_round = SurveyRoundFactory(school=world.school)
    client.force_login(stranger)
    assert client.get(answer_url(survey_round)).status_code == 404
    assert client.post(answer_url(survey_round), every_item(5)).status_code == 404
    assert nothing_recorded()
