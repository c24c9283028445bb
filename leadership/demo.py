"""Leadership survey rounds for the demo district (``teams.demo.discover_steps`` imports this).

At Cedar Ridge Middle School: a closed round from last spring that most staff answered, and a
round open now that about two thirds have answered, so the named sign-ins (``teacher``,
``leader``, ``coach``, ``principal``) still find the survey waiting for them. The middle school's
coaches and principals are fewer than five, so the results show suppressed groups.

Answers are drawn from a seeded ``random.Random`` around element means that improve a little
from spring to fall. Rows go in with ``bulk_create`` the way ``services.response_submit``
leaves them: a participation and a sealed pending response per person. The spring round is then
finalized by ``services.round_finalize``, the path every real round takes to its results.
"""

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from teams import demo as district_demo
from teams.models import Assignment, StaffMember, TeamMembership, TeamRole

from .models import Participation, PendingResponse, SurveyResponse, SurveyRound
from .sealing import seal_answers
from .selectors import with_response_counts
from .services import round_finalize, school_year_of
from .survey_items import ITEMS

SEED = 5150
Position = Assignment.Position
Group = SurveyResponse.Position

# Element means for (last spring, this fall): trust and empowerment lag, and the fall round is
# a little better after a year of teams and caseloads.
ELEMENT_MEANS = {
    "principal": (3.6, 3.9),
    "collaboration": (3.1, 3.6),
    "engagement": (2.9, 3.3),
    "empowerment": (2.8, 3.1),
    "trust": (3.0, 3.2),
    "capacity": (3.3, 3.7),
}
# Teacher leaders see a rosier picture than classroom teachers, a familiar pattern.
GROUP_OFFSET = {Group.TEACHER: -0.2, Group.TEACHER_LEADER: 0.3, Group.COACH: 0.2}
GROUP_OFFSET[Group.SCHOOL_LEADER] = 0.6
NOT_ANSWERED_YET = set(district_demo.NAMED_USERNAMES)


def _positions(school, staff_ids):
    """The response group of each staff member, in two queries (the rule of ``position_group``)."""
    held = {}
    for staff_id, position in (
        Assignment.objects.current()
        .filter(school=school, staff_id__in=staff_ids)
        .values_list("staff_id", "position")
    ):
        held.setdefault(staff_id, set()).add(position)
    leads = set(
        TeamMembership.objects.active()
        .filter(team__school=school, staff_id__in=staff_ids)
        .exclude(role=TeamRole.MEMBER)
        .values_list("staff_id", flat=True)
    )
    groups = {}
    for staff_id in staff_ids:
        positions = held.get(staff_id, set())
        if positions & {Position.PRINCIPAL, Position.ASSISTANT_PRINCIPAL}:
            groups[staff_id] = Group.SCHOOL_LEADER
        elif Position.COACH in positions:
            groups[staff_id] = Group.COACH
        elif staff_id in leads:
            groups[staff_id] = Group.TEACHER_LEADER
        else:
            groups[staff_id] = Group.TEACHER
    return groups


def _answers(rng, group, which):
    for item in ITEMS:
        mean = ELEMENT_MEANS[item.element][which] + GROUP_OFFSET[group]
        yield item, min(5, max(1, round(rng.gauss(mean, 0.9))))


def _fill(rng, survey_round, respondents, groups, which):
    Participation.objects.bulk_create(
        Participation(round=survey_round, staff=staff) for staff in respondents
    )
    pending = []
    for staff in respondents:
        row = PendingResponse(round=survey_round, position=groups[staff.pk])
        answers = {item.key: value for item, value in _answers(rng, groups[staff.pk], which)}
        row.sealed_answers = seal_answers(answers, pending=row)
        pending.append(row)
    PendingResponse.objects.bulk_create(pending)


def build_survey_rounds(ctx):
    rng = random.Random(SEED)
    school = ctx.schools[district_demo.MIDDLE]
    principal = ctx.principal_user(district_demo.MIDDLE)
    staff = list(
        StaffMember.objects.filter(
            assignments__in=Assignment.objects.current().filter(school=school)
        )
        .distinct()
        .select_related("user")
        .order_by("pk")
    )
    groups = _positions(school, [s.pk for s in staff])
    named = {s.pk for s in ctx.named.values()}

    spring_year = ctx.year_start.year  # the spring that ended last school year
    spring_opens = date(spring_year, 4, 20)
    spring_closes = spring_opens + timedelta(days=14)
    spring = SurveyRound.objects.create(
        school=school,
        title=f"Spring {spring_year}",
        school_year=school_year_of(spring_opens),
        opens_on=spring_opens,
        closes_on=spring_closes,
        opened_by=principal,
        closed_at=timezone.make_aware(datetime.combine(spring_closes, time(16))),
        closed_by=principal,
    )
    _fill(rng, spring, [s for s in staff if rng.random() < 0.85], groups, 0)
    round_finalize(survey_round=spring, today=ctx.today)

    opens_on = max(ctx.year_start, ctx.today - timedelta(days=7))
    season = "Fall" if ctx.today.month >= 8 else "Spring"
    current = SurveyRound.objects.create(
        school=school,
        title=f"{season} {ctx.today.year}",
        school_year=school_year_of(opens_on),
        opens_on=opens_on,
        closes_on=ctx.today + timedelta(days=14),
        opened_by=principal,
    )
    answered = [s for s in staff if s.pk not in named and rng.random() < 0.7]
    _fill(rng, current, answered, groups, 1)


def clear_survey_rounds(district):
    SurveyRound.objects.filter(school__district=district).delete()  # and their responses


def report(district):
    rounds = with_response_counts(SurveyRound.objects.filter(school__district=district))
    if not rounds:
        return []
    return [
        "Leadership survey: "
        + ", ".join(f"{r.title} at {r.school} ({r.response_count} responses)" for r in rounds)
    ]


district_demo.BUILD_STEPS.append(build_survey_rounds)
district_demo.CLEAR_STEPS.insert(0, clear_survey_rounds)
district_demo.REPORT_STEPS.append(report)
