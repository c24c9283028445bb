"""On PostgreSQL, the database's own bookkeeping must not tie a survey response to the
participation of the person who gave it: neither the transaction id every row carries (``xmin``)
nor the physical order of the rows (``ctid``). These are the queries someone with the database,
or a dump of it, would run; each must identify nobody.

Rows are committed for real (transactional_db): inside one test transaction every write would
share a transaction id and prove nothing.
"""

import threading

import pytest
from django.db import connection, connections

from leadership import services
from leadership.models import Participation, SurveyResponse
from leadership.survey_items import ITEMS
from tests.leadership.factories import SurveyRoundFactory
from tests.services import require_service
from tests.teams.factories import staff_at

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RESPONDENTS = 10  # enough that a shuffled order matching everyone by chance is 1 in 3.6 million


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        require_service("postgresql", "xmin and ctid are PostgreSQL system columns")


def fingerprint(i):
    """Answers that tell respondent ``i`` apart: the first two items encode i, the rest are 3."""
    answers = {item.key: 3 for item in ITEMS}
    answers[ITEMS[0].key], answers[ITEMS[1].key] = 1 + i % 5, 1 + i // 5
    return answers


def answered_round(world):
    """A round that RESPONDENTS staff answered one by one and the principal then closed."""
    survey_round = SurveyRoundFactory(school=world.school)
    staff = [staff_at(world.school, username=f"respondent{i}") for i in range(RESPONDENTS)]
    for i, member in enumerate(staff):
        services.response_submit(survey_round=survey_round, staff=member, answers=fingerprint(i))
    services.round_close(survey_round=survey_round, closed_by=world.principal)
    # The true author of each response, known here only from the answers' fingerprint.
    first, second = ITEMS[0].key, ITEMS[1].key
    by_fingerprint = {
        (fingerprint(i)[first], fingerprint(i)[second]): s for i, s in enumerate(staff)
    }
    authors = {}
    for response in SurveyResponse.objects.filter(round=survey_round).prefetch_related("answers"):
        values = {answer.item: answer.value for answer in response.answers.all()}
        authors[response.pk] = by_fingerprint[(values[first], values[second])].pk
    assert len(authors) == RESPONDENTS
    return survey_round, authors


def rows(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_xmin_and_row_order_name_nobody(postgresql, world):
    survey_round, authors = answered_round(world)
    assert Participation.objects.filter(round=survey_round).count() == RESPONDENTS

    # The attack as reported: a participation and a response written in one transaction.
    linked = rows(
        """SELECT p.staff_id, r.id FROM leadership_participation p
           JOIN leadership_surveyresponse r ON p.xmin = r.xmin
           WHERE p.round_id = %s AND r.round_id = %s""",
        survey_round.pk,
        survey_round.pk,
    )
    assert linked == [], f"xmin names {len(linked)} of {RESPONDENTS} authors"
    linked_answers = rows(
        """SELECT count(*) FROM leadership_participation p
           JOIN leadership_answer a ON p.xmin = a.xmin
           WHERE p.round_id = %s""",
        survey_round.pk,
    )
    assert linked_answers == [(0,)]

    # Every response of the round, and every answer, was written by one and the same transaction.
    [(response_xmins, answer_xmins)] = rows(
        """SELECT count(DISTINCT r.xmin::text), count(DISTINCT a.xmin::text)
           FROM leadership_surveyresponse r JOIN leadership_answer a ON a.response_id = r.id
           WHERE r.round_id = %s""",
        survey_round.pk,
    )
    assert (response_xmins, answer_xmins) == (1, 1)
    [(shared,)] = rows(
        """SELECT count(*) FROM leadership_surveyresponse r JOIN leadership_answer a
           ON a.response_id = r.id AND a.xmin = r.xmin WHERE r.round_id = %s""",
        survey_round.pk,
    )
    assert shared == RESPONDENTS * len(ITEMS)

    # The second attack: line the k-th participation on disk up with the k-th response on disk.
    guesses = rows(
        """WITH p AS (SELECT staff_id, row_number() OVER (ORDER BY ctid) AS k
                      FROM leadership_participation WHERE round_id = %s),
                r AS (SELECT id, row_number() OVER (ORDER BY ctid) AS k
                      FROM leadership_surveyresponse WHERE round_id = %s)
           SELECT p.staff_id, r.id FROM p JOIN r USING (k)""",
        survey_round.pk,
        survey_round.pk,
    )
    assert len(guesses) == RESPONDENTS
    right = sum(authors[response_id] == staff_id for staff_id, response_id in guesses)
    # A shuffled order matches a few people by chance; the writing order would match all ten.
    assert right < RESPONDENTS, "responses lie on disk in the order people answered"


def test_two_finalizations_at_once_write_each_response_once(postgresql, world):
    survey_round = SurveyRoundFactory(school=world.school)
    for i in range(RESPONDENTS):
        member = staff_at(world.school, username=f"respondent{i}")
        services.response_submit(survey_round=survey_round, staff=member, answers=fingerprint(i))
    # Closed without finalizing (as when the last day passes), then two runs race to finalize.
    type(survey_round).objects.filter(pk=survey_round.pk).update(closes_on=survey_round.opens_on)
    start = threading.Barrier(2)
    written, errors = [], []

    def finalize():
        try:
            start.wait(timeout=10)
            fresh = type(survey_round).objects.get(pk=survey_round.pk)
            written.append(services.round_finalize(survey_round=fresh))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalize) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(written) == [0, RESPONDENTS]
    assert SurveyResponse.objects.filter(round=survey_round).count() == RESPONDENTS
