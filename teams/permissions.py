"""Who may see and do what. Every view and form scopes its objects through this module.

Reads go through the ``visible_*`` querysets and ``get_*_for_read`` lookups, so an object out of
scope answers 404. Writes go through ``get_*_for_write``, which raises PermissionDenied (403) for a
person who may see the object but not change it.

The rules follow the brief:
- principals and assistant principals read and manage everything of their own school;
- coaches read the schools they are assigned to;
- district leaders read every school of their district;
- teachers and teacher leaders read their school's page, the teams they belong to, and the
  caseloads they lead or are part of;
- superusers (administrators) read and manage everything.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404

from .models import (
    ActionItem,
    AgendaItem,
    Assignment,
    Caseload,
    LeadershipTeam,
    Meeting,
    School,
    StaffMember,
    TeamMembership,
    TeamRole,
)

Position = Assignment.Position
MANAGER_POSITIONS = (Position.PRINCIPAL, Position.ASSISTANT_PRINCIPAL)


@dataclass(frozen=True)
class Scope:
    """What one signed-in person's current assignments give them, computed once per request."""

    is_admin: bool = False
    staff_id: int | None = None
    managed_school_ids: frozenset = field(default_factory=frozenset)
    coached_school_ids: frozenset = field(default_factory=frozenset)
    staff_school_ids: frozenset = field(default_factory=frozenset)
    led_district_ids: frozenset = field(default_factory=frozenset)

    @property
    def overseen_school_q(self):
        """Schools whose every team and caseload this person may read."""
        return Q(pk__in=self.managed_school_ids | self.coached_school_ids) | Q(
            district_id__in=self.led_district_ids
        )


def get_scope(user):
    """The person's scope, cached on the user object for the rest of the request."""
    cached = getattr(user, "_dl_scope", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        scope = Scope()
    else:
        managed, coached, member_of, districts = set(), set(), set(), set()
        staff = StaffMember.objects.filter(user=user).only("pk").first()
        if staff is not None:
            rows = Assignment.objects.current().filter(staff=staff)
            for position, school_id, district_id in rows.values_list(
                "position", "school_id", "district_id"
            ):
                if position == Position.DISTRICT_LEADER:
                    districts.add(district_id)
                    continue
                member_of.add(school_id)
                if position in MANAGER_POSITIONS:
                    managed.add(school_id)
                elif position == Position.COACH:
                    coached.add(school_id)
        scope = Scope(
            is_admin=user.is_superuser,
            staff_id=staff.pk if staff else None,
            managed_school_ids=frozenset(managed),
            coached_school_ids=frozenset(coached),
            staff_school_ids=frozenset(member_of),
            led_district_ids=frozenset(districts),
        )
    user._dl_scope = scope
    return scope


# --- Reads ---------------------------------------------------------------------------------------


def visible_schools(user):
    scope = get_scope(user)
    schools = School.objects.select_related("district")
    if scope.is_admin:
        return schools
    return schools.filter(scope.overseen_school_q | Q(pk__in=scope.staff_school_ids))


def visible_teams(user):
    scope = get_scope(user)
    teams = LeadershipTeam.objects.select_related("school")
    if scope.is_admin:
        return teams
    overseen = School.objects.filter(scope.overseen_school_q).values("pk")
    own = TeamMembership.objects.active().filter(staff_id=scope.staff_id).values("team_id")
    return teams.filter(Q(school__in=overseen) | Q(pk__in=own))


def visible_memberships(user):
    return TeamMembership.objects.filter(team__in=visible_teams(user).values("pk"))


def visible_caseloads(user):
    scope = get_scope(user)
    caseloads = Caseload.objects.select_related("school", "leader__user", "teacher__user")
    if scope.is_admin:
        return caseloads
    overseen = School.objects.filter(scope.overseen_school_q).values("pk")
    return caseloads.filter(
        Q(school__in=overseen) | Q(leader_id=scope.staff_id) | Q(teacher_id=scope.staff_id)
    )


def get_school_for_read(user, slug):
    return get_object_or_404(visible_schools(user), slug=slug)


def get_team_for_read(user, pk):
    return get_object_or_404(visible_teams(user), pk=pk)


# --- Writes --------------------------------------------------------------------------------------


def can_manage_school(user, school):
    scope = get_scope(user)
    return scope.is_admin or school.pk in scope.managed_school_ids


def overseen_schools(user):
    """Schools the person oversees as a whole: as their principal or assistant principal, their
    coach, a leader of their district, or an administrator. The school-wide pages of the other
    apps (dashboards, the leadership map, survey results) are for them."""
    scope = get_scope(user)
    if scope.is_admin:
        return School.objects.all()
    return School.objects.filter(scope.overseen_school_q)


def oversees_school(user, school):
    """The rule of ``overseen_schools`` for a school already in hand (no query)."""
    scope = get_scope(user)
    return (
        scope.is_admin
        or school.pk in scope.managed_school_ids | scope.coached_school_ids
        or school.district_id in scope.led_district_ids
    )


def managed_schools(user):
    scope = get_scope(user)
    if scope.is_admin:
        return School.objects.all()
    return School.objects.filter(pk__in=scope.managed_school_ids)


def _require_manager(user, school):
    if not can_manage_school(user, school):
        raise PermissionDenied("Only the school's principal or assistant principal can do this.")


def get_school_for_write(user, slug):
    school = get_school_for_read(user, slug)
    _require_manager(user, school)
    return school


def get_team_for_write(user, pk):
    team = get_team_for_read(user, pk)
    _require_manager(user, team.school)
    return team


def get_membership_for_write(user, pk):
    membership = get_object_or_404(
        visible_memberships(user).select_related("team__school", "staff__user"), pk=pk
    )
    _require_manager(user, membership.team.school)
    return membership


def get_caseload_for_write(user, pk):
    caseload = get_object_or_404(visible_caseloads(user), pk=pk)
    _require_manager(user, caseload.school)
    return caseload


def can_update_action_items(user, team):
    """Members of the team and the school's managers may tick action items off."""
    if can_manage_school(user, team.school):
        return True
    staff_id = get_scope(user).staff_id
    return TeamMembership.objects.active().filter(team=team, staff_id=staff_id).exists()


def get_action_item_for_update(user, pk):
    item = get_object_or_404(
        ActionItem.objects.filter(team__in=visible_teams(user).values("pk")).select_related(
            "team__school"
        ),
        pk=pk,
    )
    if not can_update_action_items(user, item.team):
        raise PermissionDenied("Only the team's members and the school's leaders can do this.")
    return item


# --- Meetings ------------------------------------------------------------------------------------

# Team roles that run the team's meetings (agenda, attendance, decisions, action items) and
# schedule them; the note-taker role writes the notes. Everyone else who may see the team reads.
RUN_ROLES = (TeamRole.TEAM_LEAD, TeamRole.FACILITATOR)
NOTE_ROLES = (TeamRole.NOTE_TAKER,)


@dataclass(frozen=True)
class MeetingPowers:
    run: bool = False
    notes: bool = False

    @property
    def any(self):
        return self.run or self.notes


def _team_role(user, team):
    staff_id = get_scope(user).staff_id
    if staff_id is None:
        return None
    return (
        TeamMembership.objects.active()
        .filter(team=team, staff_id=staff_id)
        .values_list("role", flat=True)
        .first()
    )


def can_schedule_meetings(user, team):
    """The school's managers and the team's leads and facilitators."""
    return can_manage_school(user, team.school) or _team_role(user, team) in RUN_ROLES


def meeting_powers(user, meeting):
    """What this person may write at this meeting: run it, take its notes, or only read.

    The meeting's own facilitator and note-taker hold those powers for it even without the team
    role (a member standing in for the usual facilitator), as long as they are still on the team.
    """
    if can_manage_school(user, meeting.team.school):
        return MeetingPowers(run=True, notes=True)
    role = _team_role(user, meeting.team)
    if role is None:
        return MeetingPowers()
    staff_id = get_scope(user).staff_id
    run = role in RUN_ROLES or meeting.facilitator_id == staff_id
    notes = run or role in NOTE_ROLES or meeting.note_taker_id == staff_id
    return MeetingPowers(run=run, notes=notes)


def visible_meetings(user):
    return Meeting.objects.filter(team__in=visible_teams(user).values("pk")).select_related(
        "team__school", "facilitator__user", "note_taker__user"
    )


def get_meeting_for_read(user, pk):
    return get_object_or_404(visible_meetings(user), pk=pk)


def get_meeting_for_write(user, pk, *, power="run"):
    """The meeting, if this person may ``run`` it or write its ``notes``; 403 if they may only
    read it, 404 if they may not even see it."""
    meeting = get_meeting_for_read(user, pk)
    if not getattr(meeting_powers(user, meeting), power):
        if power == "notes":
            raise PermissionDenied("Only the meeting's facilitator and note-taker write its notes.")
        raise PermissionDenied(
            "Only the meeting's facilitator, the team's leads and the school's leaders can do this."
        )
    return meeting


def get_team_for_scheduling(user, pk):
    team = get_team_for_read(user, pk)
    if not can_schedule_meetings(user, team):
        raise PermissionDenied("Only the team's leads and the school's leaders schedule meetings.")
    return team


def get_agenda_item_for_write(user, pk, *, power="run"):
    """An agenda item of a meeting this person may ``run`` (or write the ``notes`` of)."""
    item = get_object_or_404(
        AgendaItem.objects.filter(meeting__in=visible_meetings(user).values("pk")), pk=pk
    )
    item.meeting = get_meeting_for_write(user, item.meeting_id, power=power)
    return item
