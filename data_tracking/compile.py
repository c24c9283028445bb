"""Compiling dashboard snapshots: one school at a time, every scope, aggregated in the database.

``school_compile(school=…)`` writes a ``DashboardSnapshot`` per scope (school, grade, section,
caseload) and per (subject, school year, window) that has results taken at the school. The
metrics and their rules are documented in docs/metrics.md (every figure) and docs/performance.md
("What a snapshot holds").

- The aggregation is one SQL statement per school (``_aggregate``), portable between SQLite and
  PostgreSQL. Status: the school's results are read once and pivoted to one row per student and
  test (fall, winter and spring scores side by side, which is what the within-year gains and
  "fell since the last window" need), then grouped by scope with conditional aggregates. Growth:
  each result that ends a span is paired with the student's start result (wherever it was taken),
  and window functions rank the pairs for the medians (``data_tracking.growth``). Goal strands:
  the results' goal-area JSON, expanded in the database. Python only adds up the aggregated rows
  (the school's status is the sum of its grades; medians are not sums, so growth comes for the
  school from the statement itself) and divides. Why SQL and not ``values().annotate()``: the ORM
  cannot aggregate over an aggregate (the pivot), and its self-joins for the earlier windows were
  planned as hashes of the whole results table for every school — docs/performance.md has the
  figures.
- A snapshot's ``fingerprint`` is the SHA-256 of the aggregated data it is built from (every
  count and exact sum of its rows, level labels, assessment ids, growth and goal aggregates,
  ``METRICS_VERSION``; the school's also its grades'). Unchanged data gives the same fingerprint:
  the recompile writes nothing and does not even build the metrics. Any change to a student,
  score, typical growth, goal score, enrollment, caseload or cut score that alters one of those
  aggregates writes a new version and keeps the old one.
- All of a school's snapshots are written in one transaction: a compile that dies half-way leaves
  the last good snapshots current. On PostgreSQL a transaction-scoped advisory lock keeps two
  compiles of one school from running at once (the second raises ``CompileBusy``). Every number
  comes from the one aggregating statement, so all scopes and all figures see the same data even
  while an import commits.
"""

import csv
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .growth import (
    GOAL_COLUMNS,
    GROWTH_GROUP_BY,
    SPANS,
    goal_scores_cte,
    growth_columns,
    growth_ctes,
    pair_columns,
    pairing_name,
    span_links,
)
from .models import (
    GRADES,
    Assessment,
    AssessmentResult,
    DashboardSnapshot,
    PerformanceLevel,
    Subject,
    Window,
)

# Bump when the meaning or shape of the metrics changes: every snapshot then gets a new version.
METRICS_VERSION = 3
SUBGROUP_FLAGS = ("english_learner", "special_education", "economically_disadvantaged")
# A subgroup (or the rest of the students) smaller than this has its percentages suppressed.
MIN_GROUP_SIZE = 5
WINDOW_ORDER = (Window.FALL, Window.WINTER, Window.SPRING)
# pg_try_advisory_xact_lock(namespace, school id): the namespace keeps these locks apart from any
# other advisory lock the portal might take. "DLPC" as a 32-bit integer.
LOCK_NAMESPACE = 0x444C5043

# What identifies a snapshot, besides its school.
KEY_FIELDS = ("scope", "scope_key", "subject", "school_year", "window")
TENTH = Decimal("0.1")
CENT = Decimal("0.01")
Scope = DashboardSnapshot.Scope
# Scopes travel through SQL as integers. The district is the growth report's only (no snapshot).
SCOPE_CODES = {0: Scope.SCHOOL, 1: Scope.GRADE, 2: Scope.SECTION, 3: Scope.CASELOAD}
DISTRICT_SCOPE = 4
# What each row of the aggregating statement holds.
STATUS, GROWTH, GOALS = 0, 1, 2
SUBJECTS = list(Subject.values)


class CompileBusy(Exception):
    """Another compile of this school holds the lock; nothing was written. Try again later."""

    def __init__(self, school_id):
        super().__init__(f"School {school_id} is already being compiled; try again later.")
        self.school_id = school_id


@dataclass(frozen=True)
class CompileResult:
    """What a compile wrote: ``created`` new snapshot rows, ``superseded`` rows that stopped
    being current (replaced by a new version, or their scope has no results any more), and
    ``unchanged`` scopes whose current snapshot has the same fingerprint."""

    school_id: int
    created: int
    superseded: int
    unchanged: int

    @property
    def changed(self):
        return bool(self.created or self.superseded)

    def as_dict(self):
        return asdict(self)


def school_compile(*, school):
    """Compile every snapshot of ``school``; raise ``CompileBusy`` if a compile of it is running."""
    with transaction.atomic():
        _lock_school(school.pk)
        computed = _compute(school)
        return _snapshots_write(school, computed)


def lock_key(school_id):
    """The advisory lock a compile of this school holds (PostgreSQL), as (namespace, id)."""
    return LOCK_NAMESPACE, school_id


def school_metrics(*, school):
    """``{(scope, scope_key, subject, school_year, window): metrics}``: what a compile of
    ``school`` would write now, computed by the same code, written nowhere."""
    with transaction.atomic():
        _planner_settings()
        return {key: fresh.metrics() for key, fresh in _compute(school).items()}


def _planner_settings():
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # One school's queries run in milliseconds; PostgreSQL's JIT, triggered by their cost
        # estimates, spent longer compiling them than running them (docs/performance.md).
        cursor.execute("SET LOCAL jit = off")
        # Parallel workers cost more to start than they save on one school's rows, and the
        # compiles of other schools run beside this one anyway.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def _lock_school(school_id):
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time, and the portal opens its transactions IMMEDIATE
        # (settings.py): a second compile waits for the first to commit instead of overlapping.
        return
    _planner_settings()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", lock_key(school_id))
        (locked,) = cursor.fetchone()
    if not locked:
        raise CompileBusy(school_id)


# ── What to compile: the school's assessments ──────────────────────────────────────────────


@dataclass
class _Plan:
    """One assessment with results at the school, and its levels (lowest cut first). Results pair
    across windows within a ``test``: the same assessment name, subject and school year."""

    id: int
    subject: str
    school_year: str
    window: str
    test: int
    levels: list = field(default_factory=list)

    @property
    def key(self):
        return self.subject, self.school_year, self.window

    @property
    def previous_window(self):
        """The window right before this one, whose score "fell since" compares with."""
        position = WINDOW_ORDER.index(self.window)
        return WINDOW_ORDER[position - 1] if position else None

    @property
    def defines_proficiency(self):
        return any(level.is_proficient for level in self.levels)


def _plans(school):
    """The district's assessments with results taken at the school, and every assessment of the
    district as ``(pk, name, subject, school_year, window)`` (a growth span may start on one
    never taken here): two queries."""
    has_results = AssessmentResult.objects.filter(assessment=OuterRef("pk"), school=school)
    assessments = list(
        Assessment.objects.filter(district_id=school.district_id)
        .annotate(here=Exists(has_results))
        .order_by("pk")
        .values_list("pk", "name", "subject", "school_year", "window", "here")
    )
    tests = {}
    plans = [
        _Plan(
            pk,
            subject,
            school_year,
            window,
            tests.setdefault((pairing_name(name), subject, school_year), len(tests)),
        )
        for pk, name, subject, school_year, window, here in assessments
        if here
    ]
    by_id = {plan.id: plan for plan in plans}
    for level in PerformanceLevel.objects.filter(assessment_id__in=by_id).order_by(
        "assessment_id", "min_score", "rank"
    ):
        by_id[level.assessment_id].levels.append(level)
    return plans, [row[:5] for row in assessments]


# ── The aggregation: one statement per school ────────────────────────────────────────────────

# The status half: {terms}: one "(%s, %s, %s, %s)" per assessment: (assessment id, test,
# subject code, window 0–2). {subject_code}: CASE sec.subject WHEN 'math' THEN 0 … END.
# Parameters: the school id, three times. ``members`` places a result in its classes and
# caseloads; growth and goal strands use it too. Scopes, keys and subjects travel as integers:
# grouping and joining on text would sort by the database's collation, several times slower.
_STATUS_CTES = """
terms (assessment_id, test, subject, window_order) AS (VALUES {terms}),
scored AS (
    -- the results taken at the school, in the grade and class the student was in then
    SELECT r.student_id, r.grade, st.english_learner, st.special_education,
        st.economically_disadvantaged, t.test, t.subject, t.window_order, r.assessment_id, r.score,
        r.section_id,
        COALESCE(r.level_rank, (
            -- no level stored with the result: the highest level whose cut score it reaches
            SELECT cut.rank FROM data_tracking_performancelevel cut
            WHERE cut.assessment_id = r.assessment_id AND cut.min_score <= r.score
            ORDER BY cut.min_score DESC LIMIT 1
        )) AS level
    FROM data_tracking_assessmentresult r
    JOIN data_tracking_student st ON st.id = r.student_id
    JOIN terms t ON t.assessment_id = r.assessment_id
    WHERE r.school_id = %s
),
pivot AS (
    -- one row per student and test, the three windows side by side
    SELECT student_id, grade, english_learner, special_education, economically_disadvantaged,
        test, subject,
        MAX(CASE WHEN window_order = 0 THEN assessment_id END) AS a0,
        MAX(CASE WHEN window_order = 1 THEN assessment_id END) AS a1,
        MAX(CASE WHEN window_order = 2 THEN assessment_id END) AS a2,
        MAX(CASE WHEN window_order = 0 THEN score END) AS s0,
        MAX(CASE WHEN window_order = 1 THEN score END) AS s1,
        MAX(CASE WHEN window_order = 2 THEN score END) AS s2,
        MAX(CASE WHEN window_order = 0 THEN level END) AS l0,
        MAX(CASE WHEN window_order = 1 THEN level END) AS l1,
        MAX(CASE WHEN window_order = 2 THEN level END) AS l2,
        MAX(CASE WHEN window_order = 0 THEN section_id END) AS c0,
        MAX(CASE WHEN window_order = 1 THEN section_id END) AS c1,
        MAX(CASE WHEN window_order = 2 THEN section_id END) AS c2
    FROM scored
    GROUP BY student_id, grade, english_learner, special_education, economically_disadvantaged,
        test, subject
),
tested AS (
    -- back to one row per result, now with the same student's earlier scores of the year
    SELECT p.student_id, p.grade, p.english_learner, p.special_education,
        p.economically_disadvantaged, p.subject, w.window_order,
        CASE w.window_order WHEN 0 THEN p.a0 WHEN 1 THEN p.a1 ELSE p.a2 END AS assessment_id,
        CASE w.window_order WHEN 0 THEN p.s0 WHEN 1 THEN p.s1 ELSE p.s2 END AS score,
        CASE w.window_order WHEN 0 THEN p.l0 WHEN 1 THEN p.l1 ELSE p.l2 END AS level,
        CASE w.window_order WHEN 0 THEN p.c0 WHEN 1 THEN p.c1 ELSE p.c2 END AS section_id,
        CASE w.window_order WHEN 1 THEN p.s0 WHEN 2 THEN p.s1 END AS previous_score,
        CASE w.window_order WHEN 2 THEN p.s0 END AS first_score
    FROM pivot p
    CROSS JOIN (SELECT 0 AS window_order UNION ALL SELECT 1 UNION ALL SELECT 2) w
),
results AS (
    SELECT t.*, lvl.is_proficient
    FROM tested t
    LEFT JOIN data_tracking_performancelevel lvl
        ON lvl.assessment_id = t.assessment_id AND lvl.rank = t.level
    WHERE t.score IS NOT NULL
),
placed (section_id, student_id, assessment_id) AS (
    -- a result's class: its class of record, else the classes of its subject the student is in
    SELECT r.section_id, r.student_id, r.assessment_id
    FROM results r
    WHERE r.section_id IS NOT NULL
    UNION ALL
    SELECT sec.id, r.student_id, r.assessment_id
    FROM results r
    JOIN data_tracking_enrollment e ON e.student_id = r.student_id
    JOIN data_tracking_section sec ON sec.id = e.section_id AND {subject_code} = r.subject
    WHERE r.section_id IS NULL AND sec.school_id = %s
),
members (scope, scope_key, student_id, assessment_id) AS (
    -- UNION counts a caseload's result once however many of the leader's teachers' classes
    -- hold it
    SELECT 2, pl.section_id, pl.student_id, pl.assessment_id
    FROM placed pl
    UNION
    SELECT 3, c.leader_id, pl.student_id, pl.assessment_id
    FROM placed pl
    JOIN data_tracking_section sec ON sec.id = pl.section_id
    JOIN teams_caseload c ON c.teacher_id = sec.teacher_id AND c.school_id = sec.school_id
    WHERE c.school_id = %s AND c.closed_at IS NULL
)
"""


def _aggregate_columns(ranks):
    """The aggregates of every group, as SQL: counts are conditional (FILTER), sums exact."""
    proficient = "r.is_proficient"
    fell = "r.previous_score > r.score"
    columns = {
        "tested": "COUNT(*)",
        "score_sum": "SUM(r.score)",
        **{f"level_{rank}": f"COUNT(*) FILTER (WHERE r.level = {rank:d})" for rank in ranks},
        "proficient": f"COUNT(*) FILTER (WHERE {proficient})",
    }
    for flag in SUBGROUP_FLAGS:
        columns[f"{flag}_n"] = f"COUNT(*) FILTER (WHERE r.{flag})"
        columns[f"{flag}_proficient"] = f"COUNT(*) FILTER (WHERE r.{flag} AND {proficient})"
    for earlier in ("previous", "first"):
        columns[f"{earlier}_n"] = f"COUNT(r.{earlier}_score)"
        columns[f"{earlier}_gain"] = f"SUM(r.score - r.{earlier}_score)"
    columns["fell"] = f"COUNT(*) FILTER (WHERE {fell})"
    columns["fell_proficient"] = f"COUNT(*) FILTER (WHERE {fell} AND {proficient})"
    return columns


def _code_case(column, values):
    """``CASE column WHEN 'value' THEN position … END``: ``values`` are the code's own constants."""
    whens = " ".join(f"WHEN '{value}' THEN {position}" for position, value in enumerate(values))
    return f"CASE {column} {whens} ELSE -1 END"


# Every row of the statement: its kind (STATUS, GROWTH, GOALS), then what it is grouped by.
# Status and goal rows name their assessment; growth rows their snapshot (``term``, a position
# in the caller's list of snapshot keys) and span, since a median cannot be added up across
# assessments.
KEY_COLUMNS = ("scope", "scope_key", "assessment_id", "term", "span")


def _null(name):
    """A NULL of the column's type: PostgreSQL types a UNION's columns branch by branch, left to
    right, and a column that is NULL in the first two branches would be taken for text."""
    if name == "goal":
        return "CAST(NULL AS text)"
    return "CAST(NULL AS numeric)" if name.endswith(("_sum", "_gain")) else "CAST(NULL AS bigint)"


def _select(kind, keys, columns, names, source):
    """One branch of the statement: ``keys`` are the KEY_COLUMNS' expressions (None: NULL),
    ``columns`` the aggregates this kind of row has; every other column of ``names`` is NULL."""
    cells = [
        f"{kind} AS kind",
        *(
            f"{_null(name) if expression is None else expression} AS {name}"
            for name, expression in zip(KEY_COLUMNS, keys, strict=True)
        ),
        *(f"{columns.get(name, _null(name))} AS {name}" for name in names),
    ]
    return f"SELECT {', '.join(cells)}\n{source}"


def _aggregate(school, plans, links, terms):
    """Aggregated rows ``{kind, scope, scope_key, assessment_id, term, span, …}``: one query.
    ``links`` are the growth spans to measure: ``[(end id, start id, term, span position)]``."""
    ranks = sorted({level.rank for plan in plans for level in plan.levels})
    status = _aggregate_columns(ranks)
    growth = growth_columns(SUBGROUP_FLAGS) if links else {}
    names = [*status, *growth, *GOAL_COLUMNS]

    def grade(alias):
        return _code_case(f"{alias}.grade", GRADES)

    ctes = [
        _STATUS_CTES.format(
            terms=", ".join(["(%s, %s, %s, %s)"] * len(plans)),
            subject_code=_code_case("sec.subject", SUBJECTS),
        )
    ]
    params = [
        value
        for plan in plans
        for value in (
            plan.id,
            plan.test,
            SUBJECTS.index(plan.subject),
            WINDOW_ORDER.index(plan.window),
        )
    ]
    params += [school.pk] * 3
    members = "JOIN members m ON m.student_id = {0}.student_id AND m.assessment_id = {0}.{1}"
    by_member = ("m.scope", "m.scope_key")
    branches = [  # (kind, (scope, scope_key), assessment_id, term, span, aggregates, source)
        (STATUS, ("1", grade("r")), "r.assessment_id", None, None, status,
         "FROM results r GROUP BY r.grade, r.assessment_id"),
        (STATUS, by_member, "r.assessment_id", None, None, status,
         f"FROM results r {members.format('r', 'assessment_id')} "
         "GROUP BY m.scope, m.scope_key, r.assessment_id"),
        (GOALS, ("1", grade("gs")), "gs.assessment_id", None, None, GOAL_COLUMNS,
         "FROM goal_scores gs GROUP BY gs.grade, gs.assessment_id, gs.name"),
        (GOALS, by_member, "gs.assessment_id", None, None, GOAL_COLUMNS,
         f"FROM goal_scores gs {members.format('gs', 'assessment_id')} "
         "GROUP BY m.scope, m.scope_key, gs.assessment_id, gs.name"),
    ]  # fmt: skip
    if links:
        # A pair counts where its END result was taken: the school, that result's grade, and
        # the classes and caseloads the result belongs to.
        columns = pair_columns("p", SUBGROUP_FLAGS)
        scoped = (
            f"SELECT 0 AS scope, 0 AS scope_key, {columns} FROM pairs p "
            f"UNION ALL SELECT 1, {grade('p')}, {columns} FROM pairs p "
            f"UNION ALL SELECT m.scope, m.scope_key, {columns} FROM pairs p "
            f"{members.format('p', 'end_id')}"
        )
        sql, link_params = growth_ctes(
            links=links, ends_where="e.school_id = %s", scoped=scoped, flags=SUBGROUP_FLAGS
        )
        ctes.append(sql)
        params += [*link_params, school.pk]
        branches.append(
            (GROWTH, ("g.scope", "g.scope_key"), None, "g.term", "g.span", growth,
             f"FROM growth_ranked g GROUP BY {GROWTH_GROUP_BY}")
        )  # fmt: skip
    ctes.append(goal_scores_cte())
    params.append(school.pk)
    selects = [
        _select(kind, (*scope, assessment, term, span), columns, names, source)
        for kind, scope, assessment, term, span, columns, source in branches
    ]
    sql = "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _terms_and_links(plans, assessments, end_ids):
    """The snapshot keys of ``plans`` (a growth row names its snapshot by position here), and
    the growth spans that end on one of ``end_ids``: ``[(end id, start id, term, span)]``."""
    terms = sorted({plan.key for plan in plans})
    position = {key: index for index, key in enumerate(terms)}
    term_of = {plan.id: position[plan.key] for plan in plans}
    links = [
        (end, start, term_of[end], span) for end, start, span in span_links(assessments, end_ids)
    ]
    return terms, links


def _compute(school):
    """``{(scope, scope_key, subject, school_year, window): _Fresh}`` for the school."""
    plans, assessments = _plans(school)
    if not plans:
        return {}
    plans_by_id = {plan.id: plan for plan in plans}
    terms, links = _terms_and_links(plans, assessments, plans_by_id)
    tallies = defaultdict(_Tally)
    for row in _aggregate(school, plans, links, terms):
        kind = row["kind"]
        term = terms[row["term"]] if kind == GROWTH else plans_by_id[row["assessment_id"]].key
        for key in _tally_keys(row, term):
            if kind == STATUS:
                tallies[key].add(row, plans_by_id[row["assessment_id"]])
            elif kind == GROWTH:
                tallies[key].growth[SPANS[row["span"]].name] = row
            else:
                tallies[key].add_goal(row)

    grades_of = defaultdict(dict)
    for (scope, scope_key, *term), tally in tallies.items():
        if scope == Scope.GRADE:
            grades_of[tuple(term)][scope_key] = tally
    computed = {}
    for key, tally in tallies.items():
        grades = None
        if key[0] == Scope.SCHOOL:
            of_term = grades_of[key[2:]]
            grades = [(grade, of_term[grade]) for grade in GRADES if grade in of_term]
        computed[key] = _Fresh(tally, grades)
    return computed


def _tally_keys(row, term):
    """The snapshots an aggregated row counts in. A grade's status and goal rows count for the
    school too (the school is the sum of its grades); growth has rows of its own for the school,
    since a median is not a sum. A grade the portal does not know (-1: only a bulk load could
    store one) counts for the school but gets no snapshot of its own."""
    scope, scope_key = SCOPE_CODES[row["scope"]], row["scope_key"]
    keys = []
    if scope == Scope.GRADE:
        if row["kind"] != GROWTH:
            keys.append((Scope.SCHOOL, "", *term))
        if scope_key < 0:
            return keys
        scope_key = GRADES[scope_key]
    elif scope == Scope.SCHOOL:
        scope_key = ""
    keys.append((scope, str(scope_key), *term))
    return keys


class _Fresh:
    """A scope's compiled data: its fingerprint now, its metrics only when they are written."""

    def __init__(self, tally, grades):
        self.tally, self.grades = tally, grades
        state = (METRICS_VERSION, tally.state(), grades and [(g, t.state()) for g, t in grades])
        self.fingerprint = hashlib.sha256(repr(state).encode()).hexdigest()

    def metrics(self):
        by_grade = None
        if self.grades is not None:
            by_grade = [tally.summary(grade) for grade, tally in self.grades]
        return self.tally.metrics(by_grade=by_grade)


# ── From aggregated rows to metrics ──────────────────────────────────────────────────────────


def _decimal(value):
    """A sum from either backend (Decimal on PostgreSQL, float or int on SQLite) as cents."""
    return Decimal(str(value or 0)).quantize(CENT)


def _tenth(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(TENTH, ROUND_HALF_UP)


def _number(value):
    return None if value is None else float(value)


class _Tally:
    """The aggregated rows of one scope, subject and window (several assessments of the same
    subject and window add up), turned into metrics."""

    def __init__(self):
        self.tested = 0
        self.score_sum = Decimal(0)
        self.levels = {}  # rank → [label, count]
        self.proficient = 0
        self.proficiency_defined = True
        self.subgroups = {flag: [0, 0] for flag in SUBGROUP_FLAGS}  # [n, proficient]
        self.gains = {}  # "fall_to_winter" → [n, sum]
        self.at_risk = None
        self.assessment_ids = set()
        self.growth = {}  # span → its aggregated row (one per snapshot: medians do not add up)
        self.goals = {}  # goal area → [results, RIT sum]

    def add(self, row, plan):
        self.tested += row["tested"]
        self.score_sum += _decimal(row["score_sum"])
        for level in plan.levels:
            counted = self.levels.setdefault(level.rank, [level.label, 0])
            counted[1] += row[f"level_{level.rank}"]
        self.proficient += row["proficient"]
        self.proficiency_defined &= plan.defines_proficiency
        for flag, counts in self.subgroups.items():
            counts[0] += row[f"{flag}_n"]
            counts[1] += row[f"{flag}_proficient"]
        for earlier in WINDOW_ORDER[: WINDOW_ORDER.index(plan.window)]:
            column = "previous" if earlier == plan.previous_window else "first"
            pair = self.gains.setdefault(f"{earlier}_to_{plan.window}", [0, Decimal(0)])
            pair[0] += row.get(f"{column}_n", 0)
            pair[1] += _decimal(row.get(f"{column}_gain"))
        if plan.previous_window and plan.defines_proficiency:
            at_risk = row.get("fell", 0) - row.get("fell_proficient", 0)
            self.at_risk = (self.at_risk or 0) + at_risk
        self.assessment_ids.add(plan.id)

    def add_goal(self, row):
        counted = self.goals.setdefault(row["goal"], [0, Decimal(0)])
        counted[0] += row["goal_n"]
        counted[1] += _decimal(row["goal_rit_sum"])

    def state(self):
        """Everything the metrics are computed from, as a plain value for the fingerprint."""
        return (
            self.tested,
            str(self.score_sum),
            sorted((rank, *counted) for rank, counted in self.levels.items()),
            self.proficient,
            self.proficiency_defined,
            sorted(self.subgroups.items()),
            sorted((pair, n, str(total)) for pair, (n, total) in self.gains.items()),
            self.at_risk,
            sorted(self.assessment_ids),
            sorted((span, _growth_state(row)) for span, row in self.growth.items()),
            sorted((name, n, str(total)) for name, (n, total) in self.goals.items()),
        )

    def percent_proficient(self):
        return _tenth(self.proficient * 100, self.tested) if self.proficiency_defined else None

    def summary(self, grade):
        return {
            "grade": grade,
            "tested": self.tested,
            "mean_score": _number(_tenth(self.score_sum, self.tested)),
            "percent_proficient": _number(self.percent_proficient()),
        }

    def subgroup(self, flag):
        group_n, group_proficient = self.subgroups[flag]
        rest_n = self.tested - group_n
        rest_proficient = self.proficient - group_proficient
        # Both sides or neither: with the overall percentage public, showing the rest of a tiny
        # group would give away the group's own result.
        shown = self.proficiency_defined and min(group_n, rest_n) >= MIN_GROUP_SIZE
        group = _tenth(group_proficient * 100, group_n) if shown else None
        rest = _tenth(rest_proficient * 100, rest_n) if shown else None
        return {
            "group": {"n": group_n, "percent_proficient": _number(group)},
            "rest": {"n": rest_n, "percent_proficient": _number(rest)},
            "gap": _number(group - rest) if shown else None,
        }

    def metrics(self, *, by_grade=None):
        metrics = {
            "tested": self.tested,
            "mean_score": _number(_tenth(self.score_sum, self.tested)),
            "levels": {
                str(rank): {
                    "label": label,
                    "count": count,
                    "percent": _number(_tenth(count * 100, self.tested)),
                }
                for rank, (label, count) in sorted(self.levels.items())
            },
            "proficient": self.proficient if self.proficiency_defined else None,
            "percent_proficient": _number(self.percent_proficient()),
            "gains": {
                pair: {"n_matched": n, "mean_gain": _number(_tenth(total, n))}
                for pair, (n, total) in self.gains.items()
            },
            "subgroups": {flag: self.subgroup(flag) for flag in SUBGROUP_FLAGS},
            "students_at_risk": self.at_risk,
            "assessment_ids": sorted(self.assessment_ids),
            "growth": {
                span.name: growth_metrics(self.growth[span.name])
                for span in SPANS
                if span.name in self.growth
            },
            "goals": self.goal_metrics(),
        }
        if by_grade is not None:
            metrics["by_grade"] = by_grade
        return metrics

    def goal_metrics(self):
        areas = [
            {"name": name, "n": n, "mean_rit": _number(_tenth(total, n))}
            for name, (n, total) in sorted(self.goals.items())
        ]
        # The lowest mean as shown (0.1), so a reader can check the choice; a tie goes to the
        # first name.
        weakest = min(areas, key=lambda area: (area["mean_rit"], area["name"]), default=None)
        return {"areas": areas, "weakest": weakest and weakest["name"]}


# ── Growth figures ───────────────────────────────────────────────────────────────────────────


def _growth_state(row):
    """A growth row's aggregates as plain values: what its figures are computed from."""
    return sorted(
        (name, _decimal(value) if name.endswith("_sum") else value)
        for name, value in row.items()
        if name in _GROWTH_NAMES
    )


_GROWTH_NAMES = frozenset(growth_columns(SUBGROUP_FLAGS))


def _median(total, n):
    """Half-way between the middle two changes (their sum over 2), or the middle one."""
    return _number(_tenth(_decimal(total), n))


def growth_metrics(row):
    """The figures of one span from its aggregated row (docs/metrics.md, "Growth")."""
    pairs, with_typical = row["pairs"], row["with_typical"]
    subgroups = {}
    for flag in SUBGROUP_FLAGS:
        group_pairs, group_typical = row[f"{flag}_pairs"], row[f"{flag}_with_typical"]
        group_met = row[f"{flag}_met_typical"]
        sides = {
            "group": (group_pairs, group_typical, group_met),
            "rest": (
                pairs - group_pairs,
                with_typical - group_typical,
                row["met_typical"] - group_met,
            ),
        }
        # Both sides or neither, each figure by its own count, as for the status subgroups.
        median_shown = min(sides["group"][0], sides["rest"][0]) >= MIN_GROUP_SIZE
        percent_shown = min(sides["group"][1], sides["rest"][1]) >= MIN_GROUP_SIZE
        subgroups[flag] = {
            side: {
                "pairs": side_pairs,
                "median_change": _median(
                    row[f"{flag}_{side}_median_sum"], row[f"{flag}_{side}_median_n"]
                )
                if median_shown
                else None,
                "percent_met_typical": _number(_tenth(met * 100, typical))
                if percent_shown
                else None,
            }
            for side, (side_pairs, typical, met) in sides.items()
        }
    return {
        "pairs": pairs,
        "not_matched": row["not_matched"],
        "median_change": _median(row["median_sum"], row["median_n"]),
        "mean_change": _number(_tenth(_decimal(row["change_sum"]), pairs)),
        "mean_percentile_change": _number(
            _tenth(_decimal(row["percentile_sum"]), row["percentile_n"])
        ),
        "with_typical": with_typical,
        "met_typical": row["met_typical"],
        "percent_met_typical": _number(_tenth(row["met_typical"] * 100, with_typical)),
        "subgroups": subgroups,
    }


def district_growth(*, district, school_year=None):
    """``{(subject, school_year, span): figures}`` over every result of the district that ends a
    span (in ``school_year`` only, when given): the growth report's district rows. The same
    statement as a school's compile, with one scope, the district, instead of the school's. A
    span belongs to the school year its end result was taken in."""
    assessments = list(
        Assessment.objects.filter(district=district)
        .order_by("pk")
        .values_list("pk", "name", "subject", "school_year", "window")
    )
    ends = [
        _Plan(pk, subject, year, window, test=0)
        for pk, _name, subject, year, window in assessments
        if school_year is None or year == school_year
    ]
    terms, links = _terms_and_links(ends, assessments, {plan.id for plan in ends})
    if not links:
        return {}
    columns = growth_columns(SUBGROUP_FLAGS)
    scoped = (
        f"SELECT {DISTRICT_SCOPE} AS scope, 0 AS scope_key, {pair_columns('p', SUBGROUP_FLAGS)} "
        "FROM pairs p"
    )
    ctes, params = growth_ctes(links=links, ends_where="1 = 1", scoped=scoped, flags=SUBGROUP_FLAGS)
    aggregates = ", ".join(f"{expression} AS {name}" for name, expression in columns.items())
    sql = (
        f"WITH {ctes} SELECT g.term, g.span, {aggregates} "
        f"FROM growth_ranked g GROUP BY {GROWTH_GROUP_BY}"
    )
    with transaction.atomic():
        _planner_settings()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    figures = {}
    for row in rows:
        subject, year, _window = terms[row["term"]]
        figures[(subject, year, SPANS[row["span"]].name)] = growth_metrics(row)
    return figures


# ── Writing versions ─────────────────────────────────────────────────────────────────────────


def _snapshots_write(school, computed):
    """New rows for new or changed scopes, the rows they replace (and those of scopes without
    results now) no longer current, nothing for unchanged ones: three queries at most."""
    current = {
        tuple(row[:5]): row[5:]
        for row in DashboardSnapshot.objects.filter(school=school, is_current=True).values_list(
            *KEY_FIELDS, "pk", "fingerprint"
        )
    }
    superseded = [
        pk
        for key, (pk, stored) in current.items()
        if key not in computed or computed[key].fingerprint != stored
    ]
    created = [
        (key, compiled)
        for key, compiled in sorted(computed.items())
        if key not in current or current[key][1] != compiled.fingerprint
    ]
    if superseded:
        DashboardSnapshot.objects.filter(pk__in=superseded).update(is_current=False)
    if created:
        _snapshots_insert(school, created)
    return CompileResult(
        school_id=school.pk,
        created=len(created),
        superseded=len(superseded),
        unchanged=len(computed) - len(created),
    )


# The columns a new snapshot's row is written with, in order (COPY).
_INSERT_FIELDS = ("school", *KEY_FIELDS, "metrics", "fingerprint", "compiled_at", "is_current")


def _snapshots_insert(school, created):
    """Insert ``[(key, _Fresh)]`` as current snapshots.

    On PostgreSQL the rows go in with one ``COPY … FROM STDIN (FORMAT csv)``: a first compile
    writes every snapshot of the school, and per row ``bulk_create`` spent more time building
    model instances and statement parameters than PostgreSQL spent storing them
    (docs/performance.md). Other databases take ``bulk_create``.
    """
    if connection.vendor != "postgresql":
        DashboardSnapshot.objects.bulk_create(
            [
                DashboardSnapshot(
                    school=school,
                    **dict(zip(KEY_FIELDS, key, strict=True)),
                    metrics=compiled.metrics(),
                    fingerprint=compiled.fingerprint,
                )
                for key, compiled in created
            ],
            batch_size=500,
        )
        return
    buffer = io.StringIO()
    # QUOTE_ALL: in COPY's CSV an unquoted empty field is NULL, and the school's scope_key is "".
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    stamp = timezone.now().isoformat()  # what auto_now_add would have set
    writer.writerows(
        (school.pk, *key, json.dumps(compiled.metrics()), compiled.fingerprint, stamp, "t")
        for key, compiled in created
    )
    buffer.seek(0)
    fields = [DashboardSnapshot._meta.get_field(name) for name in _INSERT_FIELDS]
    table = connection.ops.quote_name(DashboardSnapshot._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)", buffer)
