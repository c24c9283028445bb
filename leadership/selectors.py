"""Reads of the leadership survey. Every result is aggregated in the database, and every
aggregate carries ``HAVING COUNT(DISTINCT response) >= MIN_RESPONSES``: a group with fewer
responses is dropped by the query itself, so its figures never reach Python, a page or a CSV.

One more rule runs after the query, on figures that are already safe: when the position groups
left out add up to 1–4 responses, the whole round's figures minus the groups shown would give
those few people's average away, so the smallest group shown is left out too
(``_suppress_complement``).

Results are only for finalized rounds (``SurveyRound.finalized_at``): before that a round's
answers are sealed ``PendingResponse`` rows, which only ever count (``with_response_counts``).
"""

from dataclasses import dataclass, field

from django.db.models import Avg, Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import Answer, PendingResponse, SurveyResponse, SurveyRound
from .survey_items import ELEMENTS, MIN_RESPONSES, SCALE

Position = SurveyResponse.Position


def rounds_with_enough_responses():
    """Ids of rounds with at least MIN_RESPONSES responses (a HAVING clause, as a subquery)."""
    return (
        SurveyRound.objects.annotate(n=Count("responses")).filter(n__gte=MIN_RESPONSES).values("pk")
    )


def _count_per_round(model):
    rows = model.objects.filter(round=OuterRef("pk")).order_by().values("round")
    return Coalesce(
        Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
    )


def with_response_counts(rounds):
    """Annotate ``response_count``: how many answered, whether the answers are still pending
    (sealed, counted without being opened) or already responses."""
    return rounds.annotate(
        response_count=_count_per_round(SurveyResponse) + _count_per_round(PendingResponse)
    )


def response_count(*, survey_round):
    return (
        with_response_counts(SurveyRound.objects.filter(pk=survey_round.pk))
        .values_list("response_count", flat=True)
        .get()
    )


def element_means(*, rounds):
    """Per round and element: responses ``n`` and ``mean`` (1–5), groups under the threshold
    dropped by the query. ``rounds`` is a queryset of rounds."""
    return (
        Answer.objects.filter(response__round__in=rounds)
        .values("response__round_id", "element")
        .annotate(n=Count("response", distinct=True), mean=Avg("value"))
        .filter(n__gte=MIN_RESPONSES)
        .order_by()
    )


def element_distribution(*, survey_round):
    """How many answers in each element took each value, only for a round with enough
    responses (a single value's count may be small: it is a share of a large enough group)."""
    return (
        Answer.objects.filter(
            response__round=survey_round, response__round__in=rounds_with_enough_responses()
        )
        .values("element", "value")
        .annotate(answers=Count("pk"))
        .order_by()
    )


def position_counts(*, survey_round):
    """Responses per position group, groups under the threshold dropped by the query."""
    return (
        SurveyResponse.objects.filter(round=survey_round)
        .values("position")
        .annotate(n=Count("pk"))
        .filter(n__gte=MIN_RESPONSES)
        .order_by()
    )


def position_element_means(*, survey_round):
    """Per position group and element: ``n`` and ``mean``, small groups dropped by the query."""
    return (
        Answer.objects.filter(response__round=survey_round)
        .values("response__position", "element")
        .annotate(n=Count("response", distinct=True), mean=Avg("value"))
        .filter(n__gte=MIN_RESPONSES)
        .order_by()
    )


def _mean(value):
    return None if value is None else round(float(value), 2)


@dataclass
class ElementRow:
    element: object
    n: int
    mean: float
    distribution: list  # (value, label, answers, percent)


@dataclass
class PositionRow:
    label: str
    n: int
    means: list  # one per element, in ELEMENTS order


@dataclass
class RoundResults:
    survey_round: object
    responses: int
    elements: list = field(default_factory=list)
    positions: list = field(default_factory=list)
    hidden_positions: list = field(default_factory=list)

    @property
    def enough(self):
        return bool(self.elements)


def _suppress_complement(shown, total):
    """Drop the smallest shown groups until the groups left out hold 0 or ≥ MIN responses."""
    shown = sorted(shown, key=lambda row: (-row["n"], row["position"]))
    while shown and 0 < total - sum(row["n"] for row in shown) < MIN_RESPONSES:
        shown.pop()
    return shown


def round_results(*, survey_round):
    """Everything the results page shows for one finalized round, in five queries."""
    responses = survey_round.responses.count()
    results = RoundResults(survey_round=survey_round, responses=responses)
    means = {
        row["element"]: row
        for row in element_means(rounds=SurveyRound.objects.filter(pk=survey_round.pk))
    }
    counts = {}
    for row in element_distribution(survey_round=survey_round):
        counts.setdefault(row["element"], {})[row["value"]] = row["answers"]
    for element in ELEMENTS:
        row = means.get(element.key)
        if row is None:
            continue
        by_value = counts.get(element.key, {})
        answered = sum(by_value.values())
        distribution = [
            (
                value,
                label,
                by_value.get(value, 0),
                round(100 * by_value.get(value, 0) / answered, 1),
            )
            for value, label in SCALE
        ]
        results.elements.append(ElementRow(element, row["n"], _mean(row["mean"]), distribution))

    shown = _suppress_complement(list(position_counts(survey_round=survey_round)), responses)
    shown_keys = {row["position"] for row in shown}
    cells = {
        (row["response__position"], row["element"]): _mean(row["mean"])
        for row in position_element_means(survey_round=survey_round)
        if row["response__position"] in shown_keys
    }
    labels = dict(Position.choices)
    results.positions = [
        PositionRow(
            labels[row["position"]],
            row["n"],
            [cells.get((row["position"], element.key)) for element in ELEMENTS],
        )
        for row in sorted(shown, key=lambda row: list(labels).index(row["position"]))
    ]
    results.hidden_positions = [label for key, label in Position.choices if key not in shown_keys]
    return results


@dataclass
class TrendRow:
    element: object
    means: list  # one per round, None where the round had too few responses


def school_trend(*, school):
    """Each element's mean across the school's finished rounds, oldest first (two queries).
    A finished round not yet finalized is listed with no means; the caller finalizes it."""
    rounds = list(SurveyRound.objects.finished().filter(school=school).order_by("opens_on", "pk"))
    finalized = SurveyRound.objects.filter(school=school, finalized_at__isnull=False)
    means = {
        (row["response__round_id"], row["element"]): _mean(row["mean"])
        for row in element_means(rounds=finalized)
    }
    rows = [
        TrendRow(element, [means.get((r.pk, element.key)) for r in rounds]) for element in ELEMENTS
    ]
    return rounds, rows


def school_rounds(*, school):
    """The school's rounds, newest first, with their response counts (one query)."""
    return with_response_counts(SurveyRound.objects.filter(school=school)).order_by(
        "-opens_on", "-pk"
    )
