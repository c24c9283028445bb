"""Reads for the observation pages, each in a fixed number of queries."""

import datetime

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from teams import selectors as team_selectors
from teams.models import Assignment, Caseload

from .models import FollowUp, IndicatorRating, ObservationCycle, Reflection, Status

FEEDBACK_DUE_DAYS = 3  # feedback is most useful within a few school days of the visit


def overdue_reason(cycle, today=None):
    """Why an open cycle needs its observer now, or "" when it does not."""
    today = today or timezone.localdate()
    if cycle.status == Status.OBSERVED:
        observed = getattr(cycle, "observation", None)
        if observed and observed.observed_at:
            due = timezone.localdate(observed.observed_at) + datetime.timedelta(FEEDBACK_DUE_DAYS)
            if due < today:
                return f"Feedback overdue since {due:%b %-d}"
    if cycle.status in (Status.FEEDBACK_SHARED, Status.REFLECTED):
        feedback = getattr(cycle, "feedback", None)
        if feedback and feedback.practice_by and feedback.practice_by < today:
            return f"Follow-up overdue since {feedback.practice_by:%b %-d}"
    if cycle.status == Status.PLANNED and cycle.planned_for and cycle.planned_for < today:
        return f"Visit planned for {cycle.planned_for:%b %-d}"
    return ""


def caseload_overview(*, leader):
    """One row per teacher the leader develops: their open cycle with the leader, when they were
    last observed by anyone, and what is overdue."""
    caseloads = list(
        Caseload.objects.active()
        .filter(leader=leader)
        .select_related("teacher__user", "school")
        .order_by("teacher__user__last_name", "teacher__user__first_name")
    )
    teacher_ids = [c.teacher_id for c in caseloads]
    open_cycles = {
        cycle.teacher_id: cycle
        for cycle in ObservationCycle.objects.open()
        .filter(observer=leader, teacher_id__in=teacher_ids)
        .select_related("focus", "observation", "feedback")
        .order_by("created_at")
    }
    last_observed = dict(
        ObservationCycle.objects.filter(teacher_id__in=teacher_ids)
        .values("teacher_id")
        .annotate(last=Max("observation__observed_at"))
        .values_list("teacher_id", "last")
    )
    rows = []
    for caseload in caseloads:
        cycle = open_cycles.get(caseload.teacher_id)
        rows.append(
            {
                "caseload": caseload,
                "teacher": caseload.teacher,
                "cycle": cycle,
                "last_observed": last_observed.get(caseload.teacher_id),
                "overdue": overdue_reason(cycle) if cycle else "",
            }
        )
    return rows


def cycle_detail(*, cycles, pk):
    return cycles.select_related(
        "rubric", "observation", "feedback", "reflection", "follow_up", "previous"
    ).prefetch_related(
        "transitions__by",
        "feedback__amendments__by",
        "observation__ratings__indicator",
        "observation__ratings__level",
    )


def teacher_feedback(*, teacher):
    """The teacher's cycles whose feedback has been shared, newest first."""
    return (
        ObservationCycle.objects.filter(teacher=teacher, feedback__shared_at__isnull=False)
        .select_related("observer__user", "feedback", "reflection", "follow_up", "focus", "school")
        .order_by("-feedback__shared_at")
    )


def teacher_history(*, cycles):
    return cycles.select_related("feedback", "follow_up", "focus", "observation").order_by(
        "-created_at"
    )


def _since(weeks, today=None):
    today = today or timezone.localdate()
    return today - datetime.timedelta(weeks=weeks)


def school_trends(*, school, weeks, today=None):
    """Coverage, speed of feedback, mastery and ratings for one school over the last ``weeks``.
    Every figure is aggregated in the database; the query count does not depend on data size."""
    since = _since(weeks, today)
    cycles = ObservationCycle.objects.filter(school=school)
    recent = cycles.filter(observation__observed_at__date__gte=since)
    teachers = team_selectors.school_teachers(school=school)
    not_observed = (
        teachers.exclude(pk__in=recent.values("teacher_id"))
        .annotate(
            last_observed=Max(
                "cycles_as_teacher__observation__observed_at",
                filter=Q(cycles_as_teacher__school=school),
            )
        )
        .order_by(F("last_observed").asc(nulls_first=True), "user__last_name")
    )
    not_observed = list(not_observed)
    teacher_count = teachers.count()
    return {
        "since": since,
        "weeks": weeks,
        "teacher_count": teacher_count,
        "observed_teachers": teacher_count - len(not_observed),
        "not_observed": not_observed,
        "feedback": _feedback_speed(recent),
        "mastery": _mastery(cycles.filter(follow_up__visited_on__gte=since)),
        "ratings": _rating_distribution(recent),
    }


def _feedback_speed(cycles):
    shared = cycles.filter(feedback__shared_at__isnull=False).annotate(
        wait=ExpressionWrapper(
            F("feedback__shared_at") - F("observation__observed_at"), output_field=DurationField()
        )
    )
    result = shared.aggregate(count=Count("pk"), average=Avg("wait"))
    result["within_days"] = shared.filter(
        wait__lte=datetime.timedelta(days=FEEDBACK_DUE_DAYS)
    ).count()
    result["observed"] = cycles.count()
    result["average_days"] = _days(result["average"])
    return result


def _days(duration):
    return None if duration is None else round(duration.total_seconds() / 86400, 1)


def _mastery(cycles):
    counts = dict(cycles.values_list("follow_up__mastery").annotate(n=Count("pk")))
    total = sum(counts.values())
    return [
        {
            "mastery": mastery,
            "label": label,
            "count": counts.get(mastery, 0),
            "percent": round(100 * counts.get(mastery, 0) / total) if total else 0,
        }
        for mastery, label in FollowUp.Mastery.choices
    ], total


def _rating_distribution(cycles):
    """Rows of (indicator, {level value: count}) for ratings given in ``cycles``."""
    rows = (
        IndicatorRating.objects.filter(observation__cycle__in=cycles)
        .values("indicator_id", "indicator__code", "indicator__name", "level__value")
        .annotate(n=Count("pk"))
        .order_by("indicator__domain__order", "indicator__order", "indicator_id", "level__value")
    )
    table = {}
    for row in rows:
        entry = table.setdefault(
            row["indicator_id"],
            {"code": row["indicator__code"], "name": row["indicator__name"], "counts": {}},
        )
        entry["counts"][row["level__value"]] = row["n"]
    levels = sorted({value for entry in table.values() for value in entry["counts"]})
    for entry in table.values():
        entry["cells"] = [entry["counts"].get(value, 0) for value in levels]
        entry["total"] = sum(entry["cells"])
    return {"levels": levels, "indicators": list(table.values())}


def district_trends(*, schools, weeks, today=None):
    """One row of aggregates per school: no names, no feedback text."""
    since = _since(weeks, today)
    teacher_counts = dict(
        Assignment.objects.current()
        .filter(school__in=schools, position=Assignment.Position.TEACHER)
        .values_list("school_id")
        .annotate(n=Count("staff_id", distinct=True))
    )
    recent = ObservationCycle.objects.filter(
        school__in=schools, observation__observed_at__date__gte=since
    )
    # Only teachers who still teach there count, as on the school's own page.
    still_teaching = Assignment.objects.current().filter(
        position=Assignment.Position.TEACHER,
        staff_id=OuterRef("teacher_id"),
        school_id=OuterRef("school_id"),
    )
    observed = dict(
        recent.filter(Exists(still_teaching))
        .values_list("school_id")
        .annotate(n=Count("teacher_id", distinct=True))
    )
    speed = {
        row["school_id"]: row
        for row in recent.filter(feedback__shared_at__isnull=False)
        .annotate(
            wait=ExpressionWrapper(
                F("feedback__shared_at") - F("observation__observed_at"),
                output_field=DurationField(),
            )
        )
        .values("school_id")
        .annotate(shared=Count("pk"), average=Avg("wait"))
    }
    mastery = {
        row["cycle__school_id"]: row
        for row in FollowUp.objects.filter(cycle__school__in=schools, visited_on__gte=since)
        .values("cycle__school_id")
        .annotate(total=Count("pk"), mastered=Count("pk", filter=Q(mastery="mastered")))
    }
    rows = []
    for school in schools:
        teachers = teacher_counts.get(school.pk, 0)
        seen = observed.get(school.pk, 0)
        follow_ups = mastery.get(school.pk, {})
        rows.append(
            {
                "school": school,
                "teachers": teachers,
                "observed": seen,
                "coverage": round(100 * seen / teachers) if teachers else None,
                "feedback_shared": speed.get(school.pk, {}).get("shared", 0),
                "average_days": _days(speed.get(school.pk, {}).get("average")),
                "follow_ups": follow_ups.get("total", 0),
                "mastered": follow_ups.get("mastered", 0),
            }
        )
    return {"since": since, "weeks": weeks, "rows": rows}


def coaching_quality(*, observer):
    """How the teachers an observer coached rated the usefulness of the feedback, by month."""
    reflections = Reflection.objects.filter(
        cycle__observer=observer, usefulness__isnull=False, submitted_at__isnull=False
    )
    by_month = (
        reflections.annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(ratings=Count("pk"), average=Avg("usefulness"))
        .order_by("-month")
    )
    recent = reflections.select_related("cycle__teacher__user").order_by("-submitted_at")[:10]
    return {"by_month": list(by_month), "recent": list(recent)}
