"""How leadership is spread in a school, computed from what the portal already records.

Nothing here is stored: every figure comes from team roles, caseloads, observation cycles,
meetings, action items, agenda items and dashboard reviews. ``load_rows`` fetches a set of
schools' rows in a fixed number of queries (however many schools, people or cycles there are);
everything else is plain Python over those rows, so the rules below can be tested directly.
docs/leadership-map.md explains the definitions for readers of the pages.

Definitions
-----------
- **School year** runs Aug 1 – Jul 31. **Term**: fall is Aug 1 – Dec 31, spring Jan 1 – Jul 31
  (summer belongs to spring: summer-school work counts for the year that is ending).
- **Staff at a school**: people with a current assignment there (principal, assistant principal,
  teacher, coach). District leaders have no school assignment and are never counted.
- **Leadership functions** of a staff member, this term, at this school:
  an active team role other than "member"; leading an active caseload; being the observer of an
  observation cycle alive this term (not cancelled, created by the term's end, and still open or
  last moved on or after its start); facilitating a meeting that starts this term (not cancelled);
  owning an action item created or due this term, or an agenda item of a meeting this term (or,
  while it waits for a meeting, created this term).
- **Lead roles** for turnover: team lead, facilitator, grade-level lead and content lead. Data lead
  and note-taker are leadership functions but do not lead the team.
- **What breaks if someone leaves**: teams where they hold the only active lead role; teachers
  whose only active caseload leader they are; upcoming scheduled meetings they facilitate whose
  team has no one else in a lead role. A **single point of failure** is anyone for whom that list
  is not empty.
- **Network**: nodes are the staff; a feedback tie runs from observer to teacher for the cycles of
  this school year (weight = number of cycles); a team tie joins each lead-role holder of a team to
  every other active member (lead ↔ member, not every pair of members: co-membership of a
  twelve-person team would draw 66 lines and hide who holds the team together). Ties to people not
  currently at the school are left out.
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q
from django.utils import timezone

from data_tracking.models import DashboardSnapshot
from observations.models import OPEN_STATUSES, FollowUp, ObservationCycle, Status
from teams.models import (
    ActionItem,
    AgendaItem,
    Assignment,
    Caseload,
    Meeting,
    StaffMember,
    TeamMembership,
    TeamRole,
)
from teams.permissions import MANAGER_POSITIONS

Position = Assignment.Position
LEAD_ROLES = frozenset(
    {TeamRole.TEAM_LEAD, TeamRole.FACILITATOR, TeamRole.GRADE_LEVEL_LEAD, TeamRole.CONTENT_LEAD}
)
ROLE_LABELS = dict(TeamRole.choices)
POSITION_LABELS = dict(Position.choices)


# --- Terms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    name: str  # "Fall 2025" or "Spring 2026"
    start: datetime.date
    end: datetime.date
    year_start: datetime.date  # the school year the term belongs to
    year_end: datetime.date

    def __contains__(self, day):
        return self.start <= day <= self.end

    @property
    def school_year(self):
        return f"{self.year_start.year}–{self.year_end.year}"


def term_of(day):
    """The term ``day`` falls in: fall is Aug 1 – Dec 31, spring Jan 1 – Jul 31."""
    if day.month >= 8:
        year_start = datetime.date(day.year, 8, 1)
        start, end, name = year_start, datetime.date(day.year, 12, 31), f"Fall {day.year}"
    else:
        year_start = datetime.date(day.year - 1, 8, 1)
        start, end = datetime.date(day.year, 1, 1), datetime.date(day.year, 7, 31)
        name = f"Spring {day.year}"
    year_end = datetime.date(year_start.year + 1, 7, 31)
    return Term(name=name, start=start, end=end, year_start=year_start, year_end=year_end)


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _after(day):
    """The first instant after ``day`` ends, for half-open datetime ranges."""
    return _start_of(day + datetime.timedelta(days=1))


# --- The rows a school's indicators are computed from ---------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    sort_key: tuple
    positions: tuple  # position codes at this school

    @property
    def position_labels(self):
        return ", ".join(POSITION_LABELS[p] for p in self.positions)

    @property
    def is_teacher(self):
        return Position.TEACHER in self.positions


@dataclass(frozen=True)
class Role:
    staff_id: int
    team_id: int
    team_name: str
    role: str

    @property
    def is_lead(self):
        return self.role in LEAD_ROLES

    @property
    def label(self):
        return f"{ROLE_LABELS.get(self.role, self.role)}, {self.team_name}"


@dataclass(frozen=True)
class CaseloadTie:
    leader_id: int
    teacher_id: int


@dataclass(frozen=True)
class Cycle:
    observer_id: int
    teacher_id: int
    status: str
    created_on: datetime.date
    changed_on: datetime.date

    def alive_in(self, term):
        """Created by the term's end and still open, or last moved on or after its start."""
        return self.created_on <= term.end and (
            self.status in OPEN_STATUSES or self.changed_on >= term.start
        )


@dataclass(frozen=True)
class MeetingRow:
    pk: int
    team_id: int
    team_name: str
    facilitator_id: int | None
    starts_at: datetime.datetime
    status: str

    @property
    def starts_on(self):
        return timezone.localdate(self.starts_at)


@dataclass(frozen=True)
class Ownership:
    kind: str  # "action item" or "agenda item"
    owner_id: int


@dataclass
class SchoolRows:
    """Everything the map needs about one school, fetched once."""

    school: object
    now: datetime.datetime
    term: Term
    people: dict = field(default_factory=dict)  # staff id → Person, ordered by name
    roles: list = field(default_factory=list)  # active team roles of the school's teams
    caseloads: list = field(default_factory=list)  # active caseloads at the school
    cycles: list = field(default_factory=list)  # non-cancelled cycles alive this school year
    meetings: list = field(default_factory=list)  # non-cancelled meetings from the term's start
    owned: list = field(default_factory=list)  # action and agenda items owned this term

    def name(self, staff_id):
        person = self.people.get(staff_id)
        return person.name if person else "someone no longer at the school"


def _full_name(first, last, username):
    return f"{first} {last}".strip() or username


def load_rows(schools, now=None):
    """``{school id: SchoolRows}`` for ``schools`` in seven queries, however big they are."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    term = term_of(today)
    rows = {school.pk: SchoolRows(school=school, now=now, term=term) for school in schools}
    ids = list(rows)

    assignments = (
        Assignment.objects.current(today)
        .filter(school_id__in=ids)
        .exclude(position=Position.DISTRICT_LEADER)
        .values_list(
            "school_id",
            "staff_id",
            "position",
            "staff__user__first_name",
            "staff__user__last_name",
            "staff__user__username",
        )
        .order_by("staff__user__last_name", "staff__user__first_name", "staff_id", "position")
    )
    for school_id, staff_id, position, first, last, username in assignments:
        people = rows[school_id].people
        known = people.get(staff_id)
        positions = (known.positions if known else ()) + (position,)
        people[staff_id] = Person(
            id=staff_id,
            name=_full_name(first, last, username),
            sort_key=(last, first, staff_id),
            positions=tuple(dict.fromkeys(positions)),
        )

    for school_id, staff_id, team_id, team_name, role in (
        TeamMembership.objects.active()
        .filter(team__school_id__in=ids)
        .values_list("team__school_id", "staff_id", "team_id", "team__name", "role")
        .order_by("team__name", "pk")
    ):
        rows[school_id].roles.append(Role(staff_id, team_id, team_name, role))

    for school_id, leader_id, teacher_id in (
        Caseload.objects.active()
        .filter(school_id__in=ids)
        .values_list("school_id", "leader_id", "teacher_id")
        .order_by("pk")
    ):
        rows[school_id].caseloads.append(CaseloadTie(leader_id, teacher_id))

    for school_id, observer_id, teacher_id, status, created_at, changed_at in (
        ObservationCycle.objects.filter(school_id__in=ids, created_at__lt=_after(term.year_end))
        .exclude(status=Status.CANCELLED)
        .filter(Q(status__in=OPEN_STATUSES) | Q(status_changed_at__gte=_start_of(term.year_start)))
        .values_list(
            "school_id", "observer_id", "teacher_id", "status", "created_at", "status_changed_at"
        )
        .order_by("pk")
    ):
        rows[school_id].cycles.append(
            Cycle(
                observer_id,
                teacher_id,
                status,
                timezone.localdate(created_at),
                timezone.localdate(changed_at),
            )
        )

    # From the term's start onward: this term's meetings, and every upcoming one.
    for school_id, pk, team_id, team_name, facilitator_id, starts_at, status in (
        Meeting.objects.filter(team__school_id__in=ids, starts_at__gte=_start_of(term.start))
        .exclude(status=Meeting.Status.CANCELLED)
        .values_list(
            "team__school_id",
            "pk",
            "team_id",
            "team__name",
            "facilitator_id",
            "starts_at",
            "status",
        )
        .order_by("starts_at", "pk")
    ):
        rows[school_id].meetings.append(
            MeetingRow(pk, team_id, team_name, facilitator_id, starts_at, status)
        )

    in_term = (_start_of(term.start), _after(term.end))
    action_items = (
        ActionItem.objects.filter(team__school_id__in=ids, owner__isnull=False)
        .filter(
            Q(created_at__gte=in_term[0], created_at__lt=in_term[1])
            | Q(due_date__gte=term.start, due_date__lte=term.end)
        )
        .values_list("team__school_id", "owner_id")
    )
    for school_id, owner_id in action_items:
        rows[school_id].owned.append(Ownership("action item", owner_id))

    agenda_items = (
        AgendaItem.objects.filter(team__school_id__in=ids, owner__isnull=False)
        .filter(
            Q(meeting__starts_at__gte=in_term[0], meeting__starts_at__lt=in_term[1])
            | Q(meeting__isnull=True, created_at__gte=in_term[0], created_at__lt=in_term[1])
        )
        .values_list("team__school_id", "owner_id")
    )
    for school_id, owner_id in agenda_items:
        rows[school_id].owned.append(Ownership("agenda item", owner_id))
    return rows


# --- Leadership functions -------------------------------------------------------------------------


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def leadership_functions(rows):
    """``{staff id: [what they do, in words]}`` for each person at the school (empty list: none)."""
    term = rows.term
    functions = {staff_id: [] for staff_id in rows.people}

    def add(staff_id, text):
        if staff_id in functions:
            functions[staff_id].append(text)

    for role in rows.roles:
        if role.role != TeamRole.MEMBER:
            add(role.staff_id, role.label)
    led = Counter(c.leader_id for c in rows.caseloads)
    for staff_id, n in led.items():
        add(staff_id, f"Leads a caseload of {_plural(n, 'teacher')}")
    observed = Counter(c.observer_id for c in rows.cycles if c.alive_in(term))
    for staff_id, n in observed.items():
        add(staff_id, f"Observer in {_plural(n, 'cycle')} this term")
    facilitated = Counter(
        m.facilitator_id for m in rows.meetings if m.facilitator_id and m.starts_on in term
    )
    for staff_id, n in facilitated.items():
        add(staff_id, f"Facilitates {_plural(n, 'meeting')} this term")
    owned = Counter((o.owner_id, o.kind) for o in rows.owned)
    for (staff_id, kind), n in sorted(owned.items(), key=lambda item: item[0][1]):
        add(staff_id, f"Owns {_plural(n, kind)} this term")
    return functions


def share_leading(rows, functions=None):
    """(people with at least one leadership function, people at the school, percent or None)."""
    functions = functions if functions is not None else leadership_functions(rows)
    staff = len(rows.people)
    leading = sum(1 for found in functions.values() if found)
    return leading, staff, round(100 * leading / staff) if staff else None


# --- Turnover resilience --------------------------------------------------------------------------


@dataclass(frozen=True)
class Breaks:
    """What would lose its lead if one person left."""

    teams: tuple = ()  # team names
    teachers: tuple = ()  # teacher names
    meetings: tuple = ()  # MeetingRow

    @property
    def total(self):
        return len(self.teams) + len(self.teachers) + len(self.meetings)

    @property
    def meetings_by_team(self):
        """``[(team name, how many, the first one)]``: a series reads as one line."""
        by_team = {}
        for meeting in sorted(self.meetings, key=lambda m: m.starts_at):
            name, count, first = by_team.get(meeting.team_id, (meeting.team_name, 0, meeting))
            by_team[meeting.team_id] = (name, count + 1, first)
        return list(by_team.values())

    def __bool__(self):
        return self.total > 0


def what_breaks(rows, staff_id):
    """What loses its lead if ``staff_id`` left the school, from the rows alone (no queries)."""
    leads_by_team = defaultdict(set)
    for role in rows.roles:
        if role.is_lead:
            leads_by_team[role.team_id].add(role.staff_id)
    teams = tuple(
        dict.fromkeys(
            role.team_name
            for role in rows.roles
            if role.staff_id == staff_id
            and role.is_lead
            and leads_by_team[role.team_id] == {staff_id}
        )
    )

    leaders_of = defaultdict(set)
    for caseload in rows.caseloads:
        leaders_of[caseload.teacher_id].add(caseload.leader_id)
    orphaned = [teacher for teacher, leaders in leaders_of.items() if leaders == {staff_id}]
    teachers = tuple(sorted((rows.name(t) for t in orphaned), key=str.casefold))

    meetings = tuple(
        m
        for m in rows.meetings
        if m.facilitator_id == staff_id
        and m.status == Meeting.Status.SCHEDULED
        and m.starts_at >= rows.now
        and not (leads_by_team[m.team_id] - {staff_id})
    )
    return Breaks(teams=teams, teachers=teachers, meetings=meetings)


def single_points_of_failure(rows):
    """``[(person, Breaks)]`` for everyone whose leaving breaks something, most first."""
    found = [(person, what_breaks(rows, person.id)) for person in rows.people.values()]
    found = [(person, breaks) for person, breaks in found if breaks]
    return sorted(found, key=lambda item: (-item[1].total, item[0].sort_key))


# --- Network --------------------------------------------------------------------------------------


def network(rows):
    """Nodes and ties for the drawing and the table beside it (see the module docstring)."""
    people = rows.people
    feedback = Counter(
        (c.observer_id, c.teacher_id)
        for c in rows.cycles
        if c.observer_id in people and c.teacher_id in people
    )
    members_by_team = defaultdict(list)
    for role in rows.roles:
        if role.staff_id in people:
            members_by_team[role.team_id].append(role)
    team_pairs = defaultdict(list)  # (a, b), a first by name → team names
    for roles in members_by_team.values():
        for lead in (r for r in roles if r.is_lead):
            for other in roles:
                if other.staff_id == lead.staff_id:
                    continue
                pair = tuple(
                    sorted((lead.staff_id, other.staff_id), key=lambda i: people[i].sort_key)
                )
                if lead.team_name not in team_pairs[pair]:
                    team_pairs[pair].append(lead.team_name)

    def sort_key(tie):
        return (tie["kind"], people[tie["source"]].sort_key, people[tie["target"]].sort_key)

    ties = [
        {
            "kind": "feedback",
            "source": observer,
            "target": teacher,
            "weight": n,
            "label": f"{_plural(n, 'observation cycle')} this school year",
        }
        for (observer, teacher), n in feedback.items()
    ] + [
        {
            "kind": "team",
            "source": a,
            "target": b,
            "weight": len(teams),
            "label": ", ".join(teams),
        }
        for (a, b), teams in team_pairs.items()
    ]
    ties.sort(key=sort_key)
    for tie in ties:
        tie["source_name"] = people[tie["source"]].name
        tie["target_name"] = people[tie["target"]].name
    degree = Counter()
    for tie in ties:
        degree[tie["source"]] += 1
        degree[tie["target"]] += 1
    return {"nodes": list(people.values()), "ties": ties, "degree": degree}


# --- Pages ----------------------------------------------------------------------------------------


def school_map(*, school, now=None):
    """Everything the school's leadership map shows, in seven queries."""
    rows = load_rows([school], now)[school.pk]
    functions = leadership_functions(rows)
    leading, staff, percent = share_leading(rows, functions)
    spofs = single_points_of_failure(rows)
    breaks = {person.id: found for person, found in spofs}
    graph = network(rows)
    people = [
        {
            "person": person,
            "functions": functions[person.id],
            "breaks": breaks.get(person.id, Breaks()),
            "ties": graph["degree"][person.id],
        }
        for person in rows.people.values()
    ]
    graph_data = {
        "nodes": [
            {
                "id": person.id,
                "name": person.name,
                "leads": bool(functions[person.id]),
                "spof": person.id in breaks,
            }
            for person in rows.people.values()
        ],
        "ties": [
            {k: tie[k] for k in ("kind", "source", "target", "weight", "label")}
            for tie in graph["ties"]
        ],
    }
    most_connected = sorted(
        (p for p in people if p["ties"]), key=lambda p: (-p["ties"], p["person"].sort_key)
    )[:3]
    return {
        "term": rows.term,
        "staff": staff,
        "leading": leading,
        "percent_leading": percent,
        "people": people,
        "spofs": spofs,
        "ties": graph["ties"],
        "feedback_ties": sum(1 for t in graph["ties"] if t["kind"] == "feedback"),
        "team_ties": sum(1 for t in graph["ties"] if t["kind"] == "team"),
        "most_connected": most_connected,
        "graph_data": graph_data,
    }


def _cycle_coverage(rows):
    """(teachers with a cycle alive this term as the teacher, teachers at the school)."""
    teachers = {p.id for p in rows.people.values() if p.is_teacher}
    covered = {c.teacher_id for c in rows.cycles if c.alive_in(rows.term)} & teachers
    return len(covered), len(teachers)


def _percent(part, whole):
    return round(100 * part / whole) if whole else None


def district_comparison(*, schools, now=None):
    """One row of aggregates per school: counts and shares, never names or feedback text.

    Review timeliness reads the school's current school-wide snapshots: the share with at least
    one review, and the median days from compiling to the first review (reviewed ones only).
    Eight queries for the whole district.
    """
    now = now or timezone.now()
    schools = list(schools)
    all_rows = load_rows(schools, now)
    reviews = defaultdict(list)
    for school_id, compiled_at, first_review in (
        DashboardSnapshot.objects.filter(
            school__in=schools, is_current=True, scope=DashboardSnapshot.Scope.SCHOOL
        )
        .annotate(first_review=Min("reviews__reviewed_at"))
        .values_list("school_id", "compiled_at", "first_review")
    ):
        reviews[school_id].append((compiled_at, first_review))
    result = []
    for school in schools:
        rows = all_rows[school.pk]
        leading, staff, percent = share_leading(rows)
        covered, teachers = _cycle_coverage(rows)
        snapshots = reviews[school.pk]
        waits = [
            max(0.0, (first - compiled).total_seconds() / 86400)
            for compiled, first in snapshots
            if first is not None
        ]
        result.append(
            {
                "school": school,
                "staff": staff,
                "leading": leading,
                "percent_leading": percent,
                "single_points_of_failure": len(single_points_of_failure(rows)),
                "teachers": teachers,
                "covered": covered,
                "coverage": _percent(covered, teachers),
                "snapshots": len(snapshots),
                "reviewed": len(waits),
                "percent_reviewed": _percent(len(waits), len(snapshots)),
                "median_review_days": round(statistics.median(waits), 1) if waits else None,
            }
        )
    return {"term": term_of(timezone.localdate(now)), "rows": result}


# --- Talent pipeline ------------------------------------------------------------------------------


SIGNALS = ("mastered", "facilitated", "peer_feedback", "lead_roles")


def talent_pipeline(*, school, now=None):
    """Teachers of the school with the signals of emerging leadership, strongest first.

    Signals: action steps mastered at follow-up (cycles where they are the teacher), meetings they
    facilitated, observation cycles where they gave a colleague feedback, and team roles other than
    "member" they hold now. Ranked by how many of the four signals a teacher shows, then by the sum
    of the counts, then by name: a plain order a principal can check, not a weighted score.
    Teachers who also hold a principal or assistant principal position anywhere are left out.
    Counts are this school's, over all time. Six queries.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    managers = Assignment.objects.current(today).filter(position__in=MANAGER_POSITIONS)
    teacher_ids = (
        Assignment.objects.current(today)
        .filter(school=school, position=Position.TEACHER)
        .exclude(staff_id__in=managers.values("staff_id"))
        .values("staff_id")
    )
    teachers = list(
        StaffMember.objects.filter(pk__in=teacher_ids)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    history = defaultdict(list)
    for membership in (
        TeamMembership.objects.filter(team__school=school, staff_id__in=teacher_ids)
        .exclude(role=TeamRole.MEMBER)
        .select_related("team")
        .order_by("-start_date", "-pk")
    ):
        history[membership.staff_id].append(membership)
    caseloads = {
        row["leader_id"]: row
        for row in Caseload.objects.filter(school=school, leader_id__in=teacher_ids)
        .values("leader_id")
        .annotate(
            teachers=Count("teacher_id", distinct=True),
            active=Count("pk", filter=Q(closed_at__isnull=True)),
            since=Min("start_date"),
        )
    }
    peer_feedback = dict(
        ObservationCycle.objects.filter(school=school, observer_id__in=teacher_ids)
        .exclude(status=Status.CANCELLED)
        .values_list("observer_id")
        .annotate(n=Count("pk"))
    )
    mastered = dict(
        FollowUp.objects.filter(
            cycle__school=school,
            cycle__teacher_id__in=teacher_ids,
            mastery=FollowUp.Mastery.MASTERED,
        )
        .values_list("cycle__teacher_id")
        .annotate(n=Count("pk"))
    )
    # Meetings they have run, not the ones they are down to facilitate later in the series.
    facilitated = dict(
        Meeting.objects.filter(
            team__school=school, facilitator_id__in=teacher_ids, status=Meeting.Status.HELD
        )
        .values_list("facilitator_id")
        .annotate(n=Count("pk"))
    )
    rows = []
    for teacher in teachers:
        roles = history[teacher.pk]
        signals = {
            "mastered": mastered.get(teacher.pk, 0),
            "facilitated": facilitated.get(teacher.pk, 0),
            "peer_feedback": peer_feedback.get(teacher.pk, 0),
            "lead_roles": sum(1 for m in roles if m.is_active),
        }
        rows.append(
            {
                "teacher": teacher,
                "signals": signals,
                "signal_count": sum(1 for n in signals.values() if n),
                "signal_total": sum(signals.values()),
                "roles": roles,
                "caseloads": caseloads.get(teacher.pk),
            }
        )
    rows.sort(key=lambda row: (-row["signal_count"], -row["signal_total"]))  # stable: name order
    emerging = [row for row in rows if row["signal_count"]]
    return {"emerging": emerging, "without_signals": len(rows) - len(emerging)}
