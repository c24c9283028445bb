"""Reads for the data pages. Dashboards read compiled snapshots, never raw results; the
student lists (for people allowed to see students) read results in one query per page."""

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery

from .growth import SPANS, school_year_before
from .models import (
    GROWTH_SPANS,
    AssessmentResult,
    DashboardReview,
    DashboardSnapshot,
    Section,
    Student,
    Subject,
    Window,
)

WINDOW_ORDER = [Window.FALL, Window.WINTER, Window.SPRING]
SUBGROUP_LABELS = {
    "english_learner": "English learners",
    "special_education": "Special education",
    "economically_disadvantaged": "Economically disadvantaged",
}
Scope = DashboardSnapshot.Scope


def _period_key(snapshot):
    return (snapshot.school_year, WINDOW_ORDER.index(snapshot.window))


class DashboardView:
    """The school's current school- and grade-scope snapshots, read in one query, and the
    choices a person can filter them by."""

    def __init__(self, *, school, params):
        self.snapshots = list(
            DashboardSnapshot.objects.filter(
                school=school, is_current=True, scope__in=[Scope.SCHOOL, Scope.GRADE]
            ).order_by("school_year", "window")
        )
        self.subjects = sorted(
            {s.subject for s in self.snapshots}, key=lambda code: Subject.values.index(code)
        )
        self.periods = sorted(
            {(s.school_year, s.window) for s in self.snapshots},
            key=lambda p: (p[0], WINDOW_ORDER.index(p[1])),
        )
        self.grades = sorted(
            {s.scope_key for s in self.snapshots if s.scope == Scope.GRADE}, key=_grade_order
        )
        self.subject = params.get("subject") if params.get("subject") in self.subjects else None
        self.subject = self.subject or (self.subjects[0] if self.subjects else None)
        period = params.get("period", "")
        periods = {f"{year}:{window}": (year, window) for year, window in self.periods}
        self.period = periods.get(period) or (self.periods[-1] if self.periods else None)
        self.grade = params.get("grade") if params.get("grade") in self.grades else ""
        self.subgroup = params.get("subgroup") if params.get("subgroup") in SUBGROUP_LABELS else ""

    def _scoped(self):
        scope, key = (Scope.GRADE, self.grade) if self.grade else (Scope.SCHOOL, "")
        return [
            s
            for s in self.snapshots
            if s.scope == scope and s.scope_key == key and s.subject == self.subject
        ]

    @property
    def current(self):
        if not self.period:
            return None
        year, window = self.period
        return next(
            (s for s in self._scoped() if (s.school_year, s.window) == (year, window)), None
        )

    @property
    def trend(self):
        return sorted(self._scoped(), key=_period_key)

    @property
    def grade_rows(self):
        if not self.period:
            return []
        year, window = self.period
        rows = [
            s
            for s in self.snapshots
            if s.scope == Scope.GRADE
            and s.subject == self.subject
            and (s.school_year, s.window) == (year, window)
        ]
        return sorted(rows, key=lambda s: _grade_order(s.scope_key))

    @property
    def subgroup_rows(self):
        current = self.current
        if current is None:
            return []
        return [
            {"flag": flag, "label": label, **current.metrics.get("subgroups", {}).get(flag, {})}
            for flag, label in SUBGROUP_LABELS.items()
        ]

    @property
    def subgroup_label(self):
        return SUBGROUP_LABELS.get(self.subgroup, "")

    def subgroup_of(self, snapshot):
        """The chosen subgroup's figures in a snapshot: ``{group: {n, percent_proficient},
        rest: {…}, gap}`` (percentages None when a side is under 5 students)."""
        return snapshot.metrics.get("subgroups", {}).get(self.subgroup, {})

    @property
    def subgroup_current(self):
        return self.subgroup_of(self.current) if self.subgroup and self.current else {}

    @property
    def subgroup_trend(self):
        """(snapshot, subgroup figures) across windows, when a subgroup is chosen."""
        return [(s, self.subgroup_of(s)) for s in self.trend] if self.subgroup else []

    @property
    def subgroup_grade_rows(self):
        return [(s, self.subgroup_of(s)) for s in self.grade_rows] if self.subgroup else []


def _grade_order(grade):
    order = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
    return order.index(grade) if grade in order else len(order)


def section_snapshots(*, sections, subject, school_year, window):
    """Current section snapshots keyed by section id, in one query."""
    snapshots = DashboardSnapshot.objects.filter(
        scope=Scope.SECTION,
        is_current=True,
        scope_key__in=[str(section.pk) for section in sections],
        subject=subject,
        school_year=school_year,
        window=window,
    )
    return {int(snapshot.scope_key): snapshot for snapshot in snapshots}


def grade_sections(*, school, grade, subject):
    return Section.objects.filter(school=school, grade=grade, subject=subject).select_related(
        "teacher__user"
    )


def _result_in(subject, year, window, field, school=None):
    """A subquery: the student's (``OuterRef("pk")``) latest result of ``subject`` in the window,
    its ``field``; with ``school``, only a test taken there."""
    taken = AssessmentResult.objects.filter(school=school) if school else AssessmentResult.objects
    return Subquery(
        taken.filter(
            student=OuterRef("pk"),
            assessment__subject=subject,
            assessment__school_year=year,
            assessment__window=window,
        )
        .order_by("-tested_on", "-pk")
        .values(field)[:1]
    )


def student_results(*, students, subject, school_year, window, previous=None, school=None):
    """Students with their score and level in the window (and the previous window's score when
    given), lowest first so the students who need help come first. With ``school``, only tests
    taken at that school count. One query."""
    rows = students.annotate(
        score=_result_in(subject, school_year, window, "score", school),
        level_rank=_result_in(subject, school_year, window, "level_rank", school),
    )
    if previous:
        rows = rows.annotate(
            previous_score=_result_in(subject, *previous, "score", school)
        ).annotate(change=F("score") - F("previous_score"))
    return rows.filter(score__isnull=False).order_by("score", "last_name", "first_name")


def student_growth(*, students, subject, school_year, window, school):
    """Each span ending in the window (``growth.SPANS``), with every student tested at
    ``school`` in it who also has the span's start test:
    ``[(label, [{student, start, end, change, typical, met}])]``. The start test may have been
    taken at another school; typical growth is the start test's own figure for the span
    (docs/metrics.md). One query."""
    spans = [span for span in SPANS if span.end == window]
    labels = dict(GROWTH_SPANS)
    annotations = {"end_score": _result_in(subject, school_year, window, "score", school)}
    for span in spans:
        key = span.name.replace("-", "_")
        year = school_year_before(school_year, span.years)
        annotations[f"{key}_start"] = _result_in(subject, year, span.start, "score")
        annotations[f"{key}_typical"] = _result_in(subject, year, span.start, span.typical)
    rows = list(
        students.annotate(**annotations)
        .filter(end_score__isnull=False)
        .order_by("last_name", "first_name")
    )
    tables = []
    for span in spans:
        key = span.name.replace("-", "_")
        matched = []
        for student in rows:
            start = getattr(student, f"{key}_start")
            if start is None:
                continue
            typical = getattr(student, f"{key}_typical")
            change = student.end_score - start
            matched.append(
                {
                    "student": student,
                    "start": start,
                    "end": student.end_score,
                    "change": change,
                    "typical": typical,
                    "met": None if typical is None else change >= typical,
                }
            )
        tables.append((labels[span.name], matched))
    return tables


def previous_period(school_year, window):
    index = WINDOW_ORDER.index(window)
    if index == 0:
        return None
    return (school_year, WINDOW_ORDER[index - 1])


def grade_students(*, school, grade, subject, school_year, window):
    """The students tested at ``school`` in ``grade`` in the window: where and in which grade
    they were then, not where they are now."""
    tested = AssessmentResult.objects.filter(
        student=OuterRef("pk"),
        school=school,
        grade=grade,
        assessment__subject=subject,
        assessment__school_year=school_year,
        assessment__window=window,
    )
    return Student.objects.filter(Exists(tested))


def snapshots_new_since_review(*, schools, reviewer):
    """Current school-scope snapshots, each with this person's last review of its subject and
    window (of any version: a recompile makes a new snapshot row) as ``last_reviewed``. A snapshot
    is new when it was never reviewed or was compiled after that review."""
    last_review = (
        DashboardReview.objects.filter(
            reviewer=reviewer,
            snapshot__school=OuterRef("school"),
            snapshot__scope=OuterRef("scope"),
            snapshot__scope_key=OuterRef("scope_key"),
            snapshot__subject=OuterRef("subject"),
            snapshot__school_year=OuterRef("school_year"),
            snapshot__window=OuterRef("window"),
        )
        .order_by("-reviewed_at")
        .values("reviewed_at")[:1]
    )
    return (
        DashboardSnapshot.objects.filter(school__in=schools, is_current=True, scope=Scope.SCHOOL)
        .annotate(last_reviewed=Subquery(last_review))
        .annotate(
            is_new=ExpressionWrapper(
                Q(last_reviewed__isnull=True) | Q(compiled_at__gt=F("last_reviewed")),
                output_field=BooleanField(),
            )
        )
        .select_related("school")
        .order_by("-is_new", "-compiled_at", "-pk")
    )


def chart_data(view):
    """What the charts draw, from the same snapshots the tables show."""
    current = view.current
    if current is None:
        return {}
    levels = current.metrics.get("levels", {})
    return {
        "trend": {
            "labels": [f"{s.get_window_display()} {s.school_year}" for s in view.trend],
            "mean": [s.metrics.get("mean_score") for s in view.trend],
            "proficient": [s.metrics.get("percent_proficient") for s in view.trend],
            "met_typical": [
                (s.growth_headline or ("", "", {}))[2].get("percent_met_typical")
                for s in view.trend
            ],
            "subgroup": view.subgroup_label,
            "subgroup_proficient": [
                figures.get("group", {}).get("percent_proficient")
                for _, figures in view.subgroup_trend
            ],
        },
        "levels": {
            "labels": [level["label"] for level in levels.values()],
            "counts": [level["count"] for level in levels.values()],
        },
        "growth": {
            "labels": [label for _span, label, _figures in current.growth],
            "percent_met": [figures.get("percent_met_typical") for *_, figures in current.growth],
            "median": [figures.get("median_change") for *_, figures in current.growth],
        },
        "gaps": {
            "labels": [row["label"] for row in view.subgroup_rows],
            "group": [row.get("group", {}).get("percent_proficient") for row in view.subgroup_rows],
            "rest": [row.get("rest", {}).get("percent_proficient") for row in view.subgroup_rows],
        },
    }


def latest_snapshots(snapshots):
    """{(scope_key, subject): (latest, previous or None)} over the given current snapshots: the
    newest window of each scope and subject, and the window before it for the change."""
    by_key = {}
    for snapshot in snapshots:
        by_key.setdefault((snapshot.scope_key, snapshot.subject), []).append(snapshot)
    latest = {}
    for key, rows in by_key.items():
        rows.sort(key=_period_key, reverse=True)
        latest[key] = (rows[0], rows[1] if len(rows) > 1 else None)
    return latest


def classes_with_latest(sections):
    """Each section with its latest current snapshot and the one before (or None), in one
    query for all the sections."""
    sections = list(sections)
    snapshots = DashboardSnapshot.objects.filter(
        scope=Scope.SECTION,
        is_current=True,
        scope_key__in=[str(section.pk) for section in sections],
        school_id__in={section.school_id for section in sections},
    )
    latest = latest_snapshots(snapshots)
    return [
        {"section": section, **_latest_pair(latest.get((str(section.pk), section.subject)))}
        for section in sections
    ]


def _latest_pair(pair):
    current, previous = pair or (None, None)
    change = None
    if current and previous:
        now, before = (s.metrics.get("percent_proficient") for s in (current, previous))
        if now is not None and before is not None:
            change = round(now - before, 1)
    return {"snapshot": current, "previous": previous, "change": change}


def my_classes(*, staff, sections):
    """A teacher's own classes, and for a teacher leader the classes of every teacher in their
    active caseloads beside those teachers' observation cycles with them, and the caseload's
    compiled results. ``sections`` are the classes the person may see (from
    ``permissions.visible_sections``). A fixed number of queries whatever the caseload's size."""
    from observations.selectors import caseload_overview

    own = classes_with_latest(
        sections.filter(teacher=staff).order_by("school__name", "subject", "grade", "name")
    )
    rows = caseload_overview(leader=staff)
    pairs = {(row["teacher"].pk, row["caseload"].school_id) for row in rows}
    sections = sections.filter(
        teacher_id__in={teacher for teacher, _ in pairs},
        school_id__in={school for _, school in pairs},
    ).order_by("subject", "grade", "name")
    classes = {}
    for entry in classes_with_latest(sections):
        section = entry["section"]
        if (section.teacher_id, section.school_id) in pairs:
            classes.setdefault((section.teacher_id, section.school_id), []).append(entry)
    for row in rows:
        row["classes"] = classes.get((row["teacher"].pk, row["caseload"].school_id), [])
    caseload = DashboardSnapshot.objects.filter(
        scope=Scope.CASELOAD, scope_key=str(staff.pk), is_current=True
    ).select_related("school")
    by_school = {}
    for snapshot in caseload:
        by_school.setdefault(snapshot.school_id, []).append(snapshot)
    summary = [
        {"school": pair[0].school, "subject": pair[0].subject, **_latest_pair(pair)}
        for snapshots in by_school.values()
        for pair in latest_snapshots(snapshots).values()
    ]
    summary.sort(key=lambda row: (row["school"].name, Subject.values.index(row["subject"])))
    return {"own": own, "caseload": rows, "caseload_summary": summary}
