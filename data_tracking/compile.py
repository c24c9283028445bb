"""Compiling dashboard snapshots: one school at a time, every scope, aggregated in the database.

``school_compile(school=…)`` writes a ``DashboardSnapshot`` per scope (school, grade, section,
caseload) and per (subject, school year, window) that has results for the school's students.
The metrics and their rules are documented in docs/performance.md ("What a snapshot holds").

- The aggregation is one SQL statement per school (``_AGGREGATE_SQL``), portable between SQLite
  and PostgreSQL: the school's results are read once and pivoted to one row per student and test
  (fall, winter and spring scores side by side, which is what matched-pair gains and "fell since
  the last window" need), then grouped by scope with conditional aggregates. Python only adds up
  the aggregated rows (the school is the sum of its grades) and divides. Why SQL and not
  ``values().annotate()``: the ORM cannot aggregate over an aggregate (the pivot), and its
  self-joins for the earlier windows were planned as hashes of the whole results table for every
  school — docs/performance.md has the figures.
- A snapshot's ``fingerprint`` is the SHA-256 of the aggregated data it is built from (every
  count and exact sum of its rows, level labels, assessment ids, ``METRICS_VERSION``; the
  school's also its grades'). Unchanged data gives the same fingerprint: the recompile writes
  nothing and does not even build the metrics. Any change to a student, score, enrollment, caseload
  or cut score that alters one of those aggregates writes a new version and keeps the old one.
- All of a school's snapshots are written in one transaction: a compile that dies half-way leaves
  the last good snapshots current. On PostgreSQL a transaction-scoped advisory lock keeps two
  compiles of one school from running at once (the second raises ``CompileBusy``). Every number
  comes from the one aggregating statement, so all scopes see the same data even while an import
  commits.
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
METRICS_VERSION = 2
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
SCOPE_CODES = {1: Scope.GRADE, 2: Scope.SECTION, 3: Scope.CASELOAD}
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


def _lock_school(school_id):
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time, and the portal opens its transactions IMMEDIATE
        # (settings.py): a second compile waits for the first to commit instead of overlapping.
        return
    with connection.cursor() as cursor:
        # One school's queries run in milliseconds; PostgreSQL's JIT, triggered by their cost
        # estimates, spent longer compiling them than running them (docs/performance.md).
        cursor.execute("SET LOCAL jit = off")
        # Parallel workers cost more to start than they save on one school's rows, and the
        # compiles of other schools run beside this one anyway.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
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
    """The district's assessments with results taken at the school: two queries."""
    has_results = AssessmentResult.objects.filter(assessment=OuterRef("pk"), school=school)
    assessments = (
        Assessment.objects.filter(district_id=school.district_id)
        .filter(Exists(has_results))
        .order_by("pk")
        .values_list("pk", "name", "subject", "school_year", "window")
    )
    tests = {}
    plans = [
        _Plan(
            pk,
            subject,
            school_year,
            window,
            tests.setdefault((" ".join(name.split()).casefold(), subject, school_year), len(tests)),
        )
        for pk, name, subject, school_year, window in assessments
    ]
    by_id = {plan.id: plan for plan in plans}
    for level in PerformanceLevel.objects.filter(assessment_id__in=by_id).order_by(
        "assessment_id", "min_score", "rank"
    ):
        by_id[level.assessment_id].levels.append(level)
    return plans


# ── The aggregation: one statement per school ────────────────────────────────────────────────

# {terms}: one "(%s, %s, %s, %s)" per assessment: (assessment id, test, subject code, window
# 0–2). {subject_code}: CASE sec.subject WHEN 'math' THEN 0 … END. {grade_code}: the same for
# r.grade. {aggregates}: the columns of _aggregate_columns(). Parameters: the school id, three
# times. Scopes, keys and subjects travel as integers: grouping and joining on text would sort
# by the database's collation, several times slower.
_AGGREGATE_SQL = """
WITH terms (assessment_id, test, subject, window_order) AS (VALUES {terms}),
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
SELECT 1 AS scope, {grade_code} AS scope_key, r.assessment_id, {aggregates}
FROM results r
GROUP BY r.grade, r.assessment_id
UNION ALL
SELECT m.scope, m.scope_key, r.assessment_id, {aggregates}
FROM results r
JOIN members m ON m.student_id = r.student_id AND m.assessment_id = r.assessment_id
GROUP BY m.scope, m.scope_key, r.assessment_id
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


def _aggregate(school, plans):
    """Aggregated rows ``{scope, scope_key, assessment_id, tested, score_sum, …}``: one query."""
    ranks = sorted({level.rank for plan in plans for level in plan.levels})
    columns = _aggregate_columns(ranks)
    sql = _AGGREGATE_SQL.format(
        terms=", ".join(["(%s, %s, %s, %s)"] * len(plans)),
        subject_code=_code_case("sec.subject", SUBJECTS),
        grade_code=_code_case("r.grade", GRADES),
        aggregates=", ".join(f"{expression} AS {name}" for name, expression in columns.items()),
    )
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
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, school.pk, school.pk, school.pk])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _compute(school):
    """``{(scope, scope_key, subject, school_year, window): _Fresh}`` for the school."""
    plans = _plans(school)
    if not plans:
        return {}
    plans_by_id = {plan.id: plan for plan in plans}
    tallies = defaultdict(_Tally)
    for row in _aggregate(school, plans):
        plan = plans_by_id[row["assessment_id"]]
        scope, scope_key = SCOPE_CODES[row["scope"]], row["scope_key"]
        if scope == Scope.GRADE:
            # The school is the sum of its grades. A grade the portal does not know (-1: only a
            # bulk load could store one) counts for the school but gets no snapshot of its own.
            tallies[(Scope.SCHOOL, "", *plan.key)].add(row, plan)
            if scope_key < 0:
                continue
            scope_key = GRADES[scope_key]
        tallies[(scope, str(scope_key), *plan.key)].add(row, plan)

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
        }
        if by_grade is not None:
            metrics["by_grade"] = by_grade
        return metrics


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
