"""Who may see student data. Every data page reaches snapshots, sections and students here.

- Dashboards (aggregates): the school's principals and assistant principals, its coaches, and the
  district's leaders.
- Student names and scores: the school's principals, assistant principals and coaches; a teacher
  for their own classes; a teacher leader for the classes of the teachers they develop. District
  leaders never see a student's name: names stay inside the school.
- Imports: administrators, and principals for their own district's files. A principal's import
  changes only the schools they manage (``import_scope``).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404

from teams import permissions as team_permissions
from teams.models import Caseload, District, School
from teams.permissions import get_scope

from .imports.scope import DISTRICT_WIDE, ImportScope
from .models import DashboardSnapshot, ImportBatch, Section

# Dashboards are for the people who oversee the school (teams.permissions has the rule).
dashboard_schools = team_permissions.overseen_schools
can_see_dashboard = team_permissions.oversees_school


def get_school_for_dashboard(user, slug):
    """404 for schools out of sight; 403 for staff who see the school but not its dashboard."""
    school = team_permissions.get_school_for_read(user, slug)
    if not dashboard_schools(user).filter(pk=school.pk).exists():
        raise PermissionDenied(
            "School dashboards are for the school's leaders, coaches and district."
        )
    return school


def can_see_students(user, school):
    scope = get_scope(user)
    return scope.is_admin or school.pk in scope.managed_school_ids | scope.coached_school_ids


def visible_sections(user):
    """Sections whose students this person may see by name."""
    scope = get_scope(user)
    sections = Section.objects.select_related("school", "teacher__user")
    if scope.is_admin:
        return sections
    developing = Caseload.objects.active().filter(leader_id=scope.staff_id)
    return sections.filter(
        Q(school_id__in=scope.managed_school_ids | scope.coached_school_ids)
        | Q(teacher_id=scope.staff_id)
        | Q(
            teacher_id__in=developing.values("teacher_id"),
            school_id__in=developing.values("school_id"),
        )
    )


def get_section_for_read(user, pk):
    return get_object_or_404(visible_sections(user), pk=pk)


def visible_snapshots(user):
    """Snapshots of dashboard schools, plus section snapshots of visible sections and the
    caseload snapshots of the person's own caseload."""
    scope = get_scope(user)
    snapshots = DashboardSnapshot.objects.select_related("school")
    if scope.is_admin:
        return snapshots
    section_keys = visible_sections(user).annotate(key=Cast("pk", CharField())).values("key")
    return snapshots.filter(
        Q(school__in=dashboard_schools(user))
        | Q(scope=DashboardSnapshot.Scope.SECTION, scope_key__in=section_keys)
        | Q(scope=DashboardSnapshot.Scope.CASELOAD, scope_key=str(scope.staff_id))
    )


def reviewable_schools(user):
    """Principals and assistant principals review their schools' snapshots."""
    return team_permissions.managed_schools(user)


def get_snapshot_for_review(user, pk):
    snapshot = get_object_or_404(visible_snapshots(user), pk=pk)
    if not reviewable_schools(user).filter(pk=snapshot.school_id).exists():
        raise PermissionDenied("Only the school's principal or assistant principal reviews this.")
    return snapshot


def import_districts(user):
    """Districts whose files this person may import: all for administrators, else the districts
    of the schools they manage."""
    scope = get_scope(user)
    if scope.is_admin:
        return District.objects.all()
    return District.objects.filter(schools__pk__in=scope.managed_school_ids).distinct()


def import_scope(user):
    """What this person's upload may change: every school of the district for an administrator,
    else the schools they manage; never their own positions."""
    scope = get_scope(user)
    schools = None if scope.is_admin else scope.managed_school_ids
    return ImportScope(school_ids=schools, uploader_id=user.pk)


def import_schools(user):
    """The schools this person's upload may change, by name (for the import page)."""
    scope = import_scope(user)
    schools = School.objects.order_by("name")
    return schools if scope.district_wide else schools.filter(pk__in=scope.school_ids)


def import_scope_for_batch(batch):
    """The scope a batch runs with, read from its uploader's rights when it runs: a batch whose
    uploader is gone may change nothing; one from the command line, the whole district."""
    if batch.uploaded_by is not None:
        return import_scope(batch.uploaded_by)
    if batch.from_command_line:
        return DISTRICT_WIDE
    return ImportScope(school_ids=frozenset())


def visible_imports(user):
    return ImportBatch.objects.filter(district__in=import_districts(user)).select_related(
        "district", "uploaded_by"
    )
