"""Who may see and act on observation cycles. Views reach cycles only through here.

A cycle is visible to: the observed teacher, the observer, the school's principals and assistant
principals, and the teacher's current caseload leader. Nobody else — not other teachers, not
coaches or district leaders (they get aggregates, never feedback text), not leaders of other
caseloads. Administrators see everything.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from teams import permissions as team_permissions
from teams import selectors
from teams.models import Assignment, Caseload, District, StaffMember
from teams.permissions import get_scope

from .models import ObservationCycle


def visible_cycles(user):
    scope = get_scope(user)
    cycles = ObservationCycle.objects.select_related(
        "school", "teacher__user", "observer__user", "focus"
    )
    if scope.is_admin:
        return cycles
    if scope.staff_id is None:
        return cycles.none()
    leads_teacher = Caseload.objects.active().filter(
        leader_id=scope.staff_id, teacher_id=OuterRef("teacher_id"), school_id=OuterRef("school_id")
    )
    return cycles.filter(
        Q(teacher_id=scope.staff_id)
        | Q(observer_id=scope.staff_id)
        | Q(school_id__in=scope.managed_school_ids)
        | Exists(leads_teacher)
    )


def get_cycle_for_read(user, pk):
    return get_object_or_404(visible_cycles(user), pk=pk)


def is_observer(user, cycle):
    scope = get_scope(user)
    return scope.is_admin or cycle.observer_id == scope.staff_id


def is_teacher(user, cycle):
    return cycle.teacher_id == get_scope(user).staff_id


def get_cycle_for_observer(user, pk):
    """The observer runs the cycle: logs, writes feedback, follows up, cancels."""
    cycle = get_cycle_for_read(user, pk)
    if not is_observer(user, cycle):
        raise PermissionDenied("Only the observer of this cycle can do this.")
    return cycle


def get_cycle_for_teacher(user, pk):
    """The observed teacher acknowledges and reflects."""
    cycle = get_cycle_for_read(user, pk)
    if not is_teacher(user, cycle):
        raise PermissionDenied("Only the observed teacher can do this.")
    return cycle


def developable_teachers(user, school):
    """Teachers this person may start a cycle with at ``school``: their current caseload, or
    every teacher of a school they manage."""
    scope = get_scope(user)
    teachers = selectors.school_teachers(school=school)
    if scope.is_admin or school.pk in scope.managed_school_ids:
        return teachers.exclude(pk=scope.staff_id)
    caseload = Caseload.objects.active().filter(school=school, leader_id=scope.staff_id)
    return teachers.filter(pk__in=caseload.values("teacher_id"))


def get_school_for_trends(user, slug):
    """Trend aggregates are for the school's principals and the district's leaders."""
    school = team_permissions.get_school_for_read(user, slug)
    scope = get_scope(user)
    if not (
        scope.is_admin
        or school.pk in scope.managed_school_ids
        or school.district_id in scope.led_district_ids
    ):
        raise PermissionDenied("Observation trends are for the school's leaders and the district.")
    return school


def may_name_teachers_in_trends(user, school):
    """District leaders get aggregates; names of teachers stay inside the school."""
    scope = get_scope(user)
    return scope.is_admin or school.pk in scope.managed_school_ids


def get_district_for_trends(user, slug):
    scope = get_scope(user)
    districts = District.objects.all()
    if not scope.is_admin:
        districts = districts.filter(pk__in=scope.led_district_ids)
    return get_object_or_404(districts, slug=slug)


def teachers_with_history(user):
    """Teachers whose cycle history this person may open: anyone whose cycles they can see, plus
    the teachers they develop and, for principals, every teacher of their school — so a teacher
    with no cycle yet has a page too."""
    scope = get_scope(user)
    if scope.is_admin:
        return StaffMember.objects.all()
    developing = Caseload.objects.active().filter(leader_id=scope.staff_id)
    managed = Assignment.objects.current().filter(school_id__in=scope.managed_school_ids)
    return StaffMember.objects.filter(
        Q(pk__in=visible_cycles(user).values("teacher_id"))
        | Q(pk__in=developing.values("teacher_id"))
        | Q(pk__in=managed.values("staff_id"))
    )
