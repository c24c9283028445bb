"""Growth and goal strands, as SQL the compile runs beside its status figures.

- **Spans.** A matched pair is one student's result at the end of a span and their result on the
  same test (same assessment name, subject) at its start: fall→winter, fall→spring and
  winter→spring within a school year, spring→spring and fall→fall from one school year to the
  next. ``span_links`` lists, for every assessment that ends a span, the assessments that start it.
- **Pairs** (``growth_ctes``): every result that ends a span, its start result wherever that was
  taken, one row per student, snapshot and span (a student without a start result is a row too:
  "not matched"). The rows are then placed in scopes by the caller — where the END result was
  taken — and ranked, so the median of every scope and of every subgroup's two sides comes out of
  one pass of window functions (``growth_columns``).
- **Goal strands** (``goal_scores_cte``): each result's goal areas, read from its JSON in the
  database (``json_each`` on SQLite, ``jsonb_array_elements`` on PostgreSQL).

The rules are written out in docs/metrics.md. ``data_tracking.compile`` assembles the statement
and turns its rows into metrics; this module only knows the SQL.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from .models import GROWTH_SPANS, Window


@dataclass(frozen=True)
class Span:
    name: str  # the metrics key: "fall-winter" …
    start: str  # the window of the start result
    end: str  # the window of the end result: the snapshot the span belongs to
    years: int  # 0 within a school year, 1 from one school year to the next
    typical: str  # the start result's field with the growth expected over the span


_SPAN_RULES = {
    "fall-winter": (Window.FALL, Window.WINTER, 0, "typical_fall_to_winter"),
    "fall-spring": (Window.FALL, Window.SPRING, 0, "typical_fall_to_spring"),
    "winter-spring": (Window.WINTER, Window.SPRING, 0, "typical_winter_to_spring"),
    "spring-spring": (Window.SPRING, Window.SPRING, 1, "typical_spring_to_spring"),
    "fall-fall": (Window.FALL, Window.FALL, 1, "typical_fall_to_fall"),
}
# In GROWTH_SPANS order: a span travels to SQL as its position here.
SPANS = tuple(Span(name, *_SPAN_RULES[name]) for name, _label in GROWTH_SPANS)


def pairing_name(name):
    """An assessment's name as tests are paired by it: spacing and case do not matter."""
    return " ".join(name.split()).casefold()


def school_year_before(school_year, years):
    """ "2026-2027", one year before: "2025-2026". School years are stored as "YYYY-YYYY"."""
    start = int(school_year[:4]) - years
    return f"{start}-{start + 1}"


def span_links(assessments, end_ids):
    """``[(end id, start id, span position)]``: for every assessment of ``end_ids`` and every span
    it ends, the assessments of the same test at the span's start. ``assessments`` are the
    district's ``(pk, name, subject, school_year, window)``. A span with no start assessment
    in the district is not measured at all (no data to pair with), so it has no figures."""
    by_test = defaultdict(list)
    for pk, name, subject, school_year, window in assessments:
        by_test[(pairing_name(name), subject, school_year, window)].append(pk)
    links = []
    for pk, name, subject, school_year, window in assessments:
        if pk not in end_ids:
            continue
        for position, span in enumerate(SPANS):
            if span.end != window:
                continue
            start_year = school_year_before(school_year, span.years)
            for start_id in by_test.get((pairing_name(name), subject, start_year, span.start), ()):
                links.append((pk, start_id, position))
    return links


# {spans}: one "(%s, %s, %s, %s)" per link: (end assessment id, start assessment id, term, span
# position), where term is the caller's number for the snapshot (subject, school year, window)
# the end assessment belongs to. {ends_where}: which end results (a school's, or all).
# {typical}: CASE over the span picking the start result's typical-growth field. {scoped}: a
# SELECT over ``pairs`` giving (scope, scope_key, term, span, change, percentile_change, typical,
# <subgroup flags>), one row per scope the pair counts in. {ranks}: the window functions of
# ``_rank_columns``.
_GROWTH_CTES = """
spans (end_id, start_id, term, span) AS (VALUES {spans}),
ends AS (
    -- every result that ends a span, with the student's subgroups
    SELECT e.student_id, e.assessment_id AS end_id, e.grade, e.score, e.percentile,
        sp.start_id, sp.term, sp.span, st.english_learner, st.special_education,
        st.economically_disadvantaged
    FROM data_tracking_assessmentresult e
    JOIN spans sp ON sp.end_id = e.assessment_id
    JOIN data_tracking_student st ON st.id = e.student_id
    WHERE {ends_where}
),
paired AS (
    -- its start result, wherever it was taken. Numbered so that a student counts once per
    -- snapshot and span, matched if they can be, even if two tests' names pair the same way
    SELECT en.*, ROUND(en.score - s.score, 2) AS change,
        en.percentile - s.percentile AS percentile_change, {typical} AS typical,
        ROW_NUMBER() OVER (
            PARTITION BY en.student_id, en.term, en.span
            ORDER BY CASE WHEN s.id IS NULL THEN 1 ELSE 0 END, en.end_id, en.start_id
        ) AS nth
    FROM ends en
    LEFT JOIN data_tracking_assessmentresult s
        ON s.student_id = en.student_id AND s.assessment_id = en.start_id
),
pairs AS (SELECT * FROM paired WHERE nth = 1),
growth_rows AS ({scoped}),
growth_ranked AS (
    -- each pair's place in its scope's order of change, for the medians: among all the pairs,
    -- and on each side of every subgroup flag; the unmatched (change NULL) are not counted
    SELECT g.*, {ranks}
    FROM growth_rows g
)
"""

# The columns of every ``growth_rows`` row after (scope, scope_key).
PAIR_COLUMNS = ("term", "span", "change", "percentile_change", "typical")


def growth_ctes(*, links, ends_where, scoped, flags):
    """The CTEs that end in ``growth_ranked``, and their parameters (the links)."""
    typical = " ".join(
        f"WHEN {position} THEN s.{span.typical}" for position, span in enumerate(SPANS)
    )
    sql = _GROWTH_CTES.format(
        spans=", ".join(["(%s, %s, %s, %s)"] * len(links)),
        ends_where=ends_where,
        typical=f"CASE en.span {typical} END",
        scoped=scoped,
        ranks=", ".join(_rank_columns(flags)),
    )
    return sql, [value for link in links for value in link]


def pair_columns(alias, flags):
    """``growth_rows``' columns after (scope, scope_key), read from the pairs as ``alias``."""
    return ", ".join(f"{alias}.{name}" for name in (*PAIR_COLUMNS, *flags))


_SCOPE = "g.scope, g.scope_key, g.term, g.span"
# One ordering for every rank, so the database sorts the rows once: a running count over the
# rows so far is a pair's rank (ties take consecutive ranks, which leaves the middle values as
# they are), the same count over the whole scope is the number of pairs.
_RUNNING = f"PARTITION BY {_SCOPE} ORDER BY g.change ROWS UNBOUNDED PRECEDING"
_WHOLE = (
    f"PARTITION BY {_SCOPE} ORDER BY g.change "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
)


def _sides(flags):
    """Each ranking: ``(name, condition)``; a pair is ranked among those meeting the condition."""
    sides = [("all", "1 = 1")]
    for flag in flags:
        sides += [(f"{flag}_group", f"g.{flag}"), (f"{flag}_rest", f"NOT g.{flag}")]
    return sides


def _rank_columns(flags):
    columns = []
    for side, condition in _sides(flags):
        counted = f"COUNT(CASE WHEN {condition} THEN g.change END)"
        columns.append(f"{counted} OVER ({_RUNNING}) AS nth_{side}")
        columns.append(f"{counted} OVER ({_WHOLE}) AS n_{side}")
    return columns


def _middle(side, condition):
    """The one or two middle pairs of their ranking: 2·rank is n, n+1 or n+2."""
    return (
        f"{condition} AND g.change IS NOT NULL "
        f"AND 2 * g.nth_{side} BETWEEN g.n_{side} AND g.n_{side} + 2"
    )


def growth_columns(flags):
    """The aggregates of one scope, snapshot and span over ``growth_ranked g``. Medians travel
    as the sum and number (one or two) of the middle changes, to be divided exactly."""
    met = "g.change >= g.typical"
    with_typical = "COUNT(CASE WHEN g.change IS NOT NULL THEN g.typical END)"
    columns = {
        "pairs": "COUNT(g.change)",
        "not_matched": "COUNT(*) - COUNT(g.change)",
        "change_sum": "SUM(g.change)",
        "percentile_n": "COUNT(g.percentile_change)",
        "percentile_sum": "SUM(g.percentile_change)",
        "with_typical": with_typical,
        "met_typical": f"COUNT(*) FILTER (WHERE {met})",
    }
    for flag in flags:
        columns[f"{flag}_pairs"] = f"COUNT(g.change) FILTER (WHERE g.{flag})"
        columns[f"{flag}_with_typical"] = f"{with_typical} FILTER (WHERE g.{flag})"
        columns[f"{flag}_met_typical"] = f"COUNT(*) FILTER (WHERE g.{flag} AND {met})"
    for side, condition in _sides(flags):
        prefix = "" if side == "all" else f"{side}_"
        middle = _middle(side, condition)
        columns[f"{prefix}median_sum"] = f"SUM(CASE WHEN {middle} THEN g.change END)"
        columns[f"{prefix}median_n"] = f"COUNT(CASE WHEN {middle} THEN 1 END)"
    return columns


GROWTH_GROUP_BY = _SCOPE


# ── Goal strands ─────────────────────────────────────────────────────────────────────────────

# Each goal area of a result as a row: (name, rit). The JSON is a list of {"name", "rit",
# "adjective"}; an element that is not such an object, or whose RIT is not a number, is skipped.
_GOAL_JSON = {
    "sqlite": (
        "JOIN json_each(CASE WHEN json_type(r.goals) = 'array' THEN r.goals ELSE '[]' END) g",
        "TRIM(json_extract(g.value, '$.name'))",
        "json_extract(g.value, '$.rit')",
        "g.type = 'object' AND json_type(g.value, '$.name') = 'text' "
        "AND json_type(g.value, '$.rit') IN ('integer', 'real')",
    ),
    "postgresql": (
        # A JSON path filter keeps the usable elements in one pass, about a quarter faster than
        # testing each element with jsonb_typeof. Lax mode: anything else is skipped, no error.
        "CROSS JOIN LATERAL jsonb_path_query(r.goals, "
        '\'$[*] ? (@.name.type() == "string" && @.rit.type() == "number")\') AS g(value)',
        "TRIM(g.value ->> 'name')",
        "(g.value ->> 'rit')::numeric",
        "1 = 1",
    ),
}

_GOAL_SCORES = """
goal_scores AS (
    -- every goal area of every result taken at the school: one row each
    SELECT r.student_id, r.assessment_id, r.grade, {name} AS name, {rit} AS rit
    FROM data_tracking_assessmentresult r
    JOIN terms t ON t.assessment_id = r.assessment_id
    {each}
    WHERE r.school_id = %s AND {usable} AND {name} <> ''
)
"""


def goal_scores_cte():
    """The ``goal_scores`` CTE for this database (parameter: the school id)."""
    each, name, rit, usable = _GOAL_JSON[connection.vendor]
    return _GOAL_SCORES.format(each=each, name=name, rit=rit, usable=usable)


GOAL_COLUMNS = {"goal": "gs.name", "goal_n": "COUNT(*)", "goal_rit_sum": "SUM(gs.rit)"}
