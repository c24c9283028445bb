"""Reads for the teams pages. Each returns a queryset (or a small dict) with a fixed query count."""

import datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from .models import (
    ActionItem,
    Assignment,
    Attendance,
    Caseload,
    Decision,
    LeadershipTeam,
    Meeting,
    StaffMember,
    TeamMembership,
    TeamRole,
)

LEAD_ROLES = (TeamRole.TEAM_LEAD, TeamRole.FACILITATOR)

# Team lead first, plain member last: the order TeamRole lists its choices in.
ROLE_RANK = Case(
    *(When(role=role, then=Value(rank)) for rank, role in enumerate(TeamRole.values)),
    output_field=IntegerField(),
)


def team_list(*, teams):
    """Teams with their active member count and their leads, in two queries."""
    active_leads = (
        TeamMembership.objects.active()
        .filter(role__in=LEAD_ROLES)
        .select_related("staff__user")
        .order_by(ROLE_RANK, "staff__user__last_name")
    )
    return teams.annotate(
        active_members=Count("memberships", filter=Q(memberships__closed_at__isnull=True))
    ).prefetch_related(Prefetch("memberships", queryset=active_leads, to_attr="leads"))


def team_members(*, team):
    """Active memberships, leads first, with each person's profile."""
    return (
        team.memberships.active()
        .select_related("staff__user", "assigned_by")
        .order_by(ROLE_RANK, "staff__user__last_name", "staff__user__first_name")
    )


def team_history(*, team):
    """Every role ever held on the team, newest first: the team's memory across turnover."""
    return team.memberships.select_related("staff__user", "assigned_by", "ended_by").order_by(
        "-start_date", "-pk"
    )


def school_staff(*, school, on=None):
    """Staff currently assigned to the school, with their positions there and their active roles."""
    current = Assignment.objects.current(on).filter(school=school)
    active_roles = (
        TeamMembership.objects.active().select_related("team").filter(team__school=school)
    )
    return (
        StaffMember.objects.filter(pk__in=current.values("staff_id"))
        .select_related("user")
        .prefetch_related(
            Prefetch("assignments", queryset=current, to_attr="positions_here"),
            Prefetch("memberships", queryset=active_roles, to_attr="active_roles"),
        )
        .order_by("user__last_name", "user__first_name")
        .distinct()
    )


def school_teachers(*, school, on=None):
    current = Assignment.objects.current(on).filter(
        school=school, position=Assignment.Position.TEACHER
    )
    return StaffMember.objects.filter(pk__in=current.values("staff_id")).select_related("user")


def school_caseloads(*, caseloads):
    """Active caseload rows grouped by leader: ``[(leader, [caseload, …]), …]``."""
    groups = {}
    for caseload in caseloads.active().order_by(
        "leader__user__last_name", "teacher__user__last_name"
    ):
        groups.setdefault(caseload.leader, []).append(caseload)
    return list(groups.items())


def school_summary(*, school):
    """Counts for the school page, in one query per table."""
    team_counts = LeadershipTeam.objects.filter(school=school).aggregate(teams=Count("pk"))
    role_counts = (
        TeamMembership.objects.active()
        .filter(team__school=school)
        .aggregate(roles=Count("pk"), people=Count("staff", distinct=True))
    )
    caseload_counts = (
        Caseload.objects.active()
        .filter(school=school)
        .aggregate(caseloads=Count("pk"), leaders=Count("leader", distinct=True))
    )
    staff_count = (
        Assignment.objects.current().filter(school=school).values("staff").distinct().count()
    )
    return {**team_counts, **role_counts, **caseload_counts, "staff": staff_count}


def school_gaps(*, school, on=None):
    """What a principal should fix first: teams nobody leads, teachers nobody develops."""
    leads = TeamMembership.objects.active().filter(team=OuterRef("pk"), role__in=LEAD_ROLES)
    developed = Caseload.objects.active().filter(school=school, teacher=OuterRef("pk"))
    return {
        "teams_without_lead": list(
            LeadershipTeam.objects.filter(school=school).exclude(Exists(leads)).order_by("name")
        ),
        "teachers_without_leader": school_teachers(school=school, on=on)
        .exclude(Exists(developed))
        .count(),
    }


def team_action_items(*, team, done_shown=10):
    """Open items (soonest due first), then the most recently finished ones."""
    items = team.action_items.select_related("owner__user")
    open_items = list(
        items.filter(done_at__isnull=True).order_by(
            F("due_date").asc(nulls_last=True), "created_at"
        )
    )
    done_items = list(items.filter(done_at__isnull=False).order_by("-done_at")[:done_shown])
    return {"open": open_items, "done": done_items}


# ── Meetings ─────────────────────────────────────────────────────────────────────────────────


def team_meetings(*, team, past_shown=10):
    """The team's open meetings (soonest first) and the latest past or cancelled ones."""
    meetings = team.meetings.select_related("facilitator__user").annotate(
        topics=Count("agenda_items", distinct=True)
    )
    open_statuses = (Meeting.Status.SCHEDULED, Meeting.Status.IN_PROGRESS)
    upcoming = list(meetings.filter(status__in=open_statuses).order_by("starts_at", "pk"))
    past = list(
        meetings.exclude(status__in=open_statuses).order_by("-starts_at", "-pk")[:past_shown]
    )
    return {"upcoming": upcoming, "past": past}


def next_meetings(*, staff_id, shown=5):
    """The next open meeting of each team this person is on, soonest first (one query)."""
    if staff_id is None:
        return []
    teams = TeamMembership.objects.active().filter(staff_id=staff_id).values("team_id")
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    coming = Meeting.objects.filter(
        status__in=(Meeting.Status.SCHEDULED, Meeting.Status.IN_PROGRESS), starts_at__gte=today
    )
    first_of_team = coming.filter(team=OuterRef("team")).order_by("starts_at", "pk").values("pk")
    return list(
        coming.filter(team__in=teams, pk=Subquery(first_of_team[:1]))
        .select_related("team")
        .order_by("starts_at", "pk")[:shown]
    )


def usual_meeting_roles(*, team):
    """Who facilitates and takes notes unless someone else is chosen: the team's facilitator (else
    its lead) and its note-taker, by their current roles (one query)."""
    roles = dict(
        team.memberships.active()
        .filter(role__in=(TeamRole.FACILITATOR, TeamRole.TEAM_LEAD, TeamRole.NOTE_TAKER))
        .order_by("-start_date", "-pk")
        .values_list("role", "staff_id")
    )
    return {
        "facilitator": roles.get(TeamRole.FACILITATOR) or roles.get(TeamRole.TEAM_LEAD),
        "note_taker": roles.get(TeamRole.NOTE_TAKER),
    }


def team_decisions(*, team, shown=10):
    """What the team decided, newest first."""
    return list(
        Decision.objects.filter(meeting__team=team)
        .select_related("meeting", "agenda_item")
        .order_by("-recorded_at", "-pk")[:shown]
    )


def waiting_agenda_items(*, team):
    return list(team.agenda_items.filter(meeting__isnull=True).order_by("position", "pk"))


def meeting_page(*, meeting):
    """Everything the meeting page shows, in a fixed number of queries.

    ``carried_over``: the team's action items from before this meeting that were still open when
    it began (for a meeting not yet held: still open now). ``raised``: items raised at it.
    """
    team = meeting.team
    agenda = list(
        meeting.agenda_items.select_related(
            "owner__user", "snapshot__school", "carried_from__meeting"
        ).order_by("position", "pk")
    )
    start = meeting.starts_at
    clock = start
    for item in agenda:
        item.planned_start = clock
        clock += datetime.timedelta(minutes=item.minutes)
    planned = sum(item.minutes for item in agenda)
    begun = meeting.started_at or timezone.now()
    items = ActionItem.objects.filter(team=team).select_related("owner__user", "meeting")
    carried_over = list(
        items.exclude(meeting=meeting)
        .filter(created_at__lt=begun)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=begun))
        .order_by(F("due_date").asc(nulls_last=True), "created_at")
    )
    raised = list(items.filter(meeting=meeting).order_by("created_at", "pk"))
    members = list(team_members(team=team))
    recorded = dict(Attendance.objects.filter(meeting=meeting).values_list("staff_id", "status"))
    for membership in members:
        membership.attendance = recorded.get(membership.staff_id, "")
    return {
        "agenda": agenda,
        # While the meeting runs, the first topic not yet discussed is the one on the table.
        "current_topic_id": next((item.pk for item in agenda if item.discussed_at is None), None)
        if meeting.status == Meeting.Status.IN_PROGRESS
        else None,
        "planned_minutes": planned,
        "over_minutes": max(0, planned - meeting.duration_minutes),
        "carried_over": carried_over,
        "raised": raised,
        "members": members,
        "present": sum(1 for status in recorded.values() if status == Attendance.Status.PRESENT),
        "decisions": list(
            meeting.decisions.select_related("agenda_item").order_by("recorded_at", "pk")
        ),
    }
