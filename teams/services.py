"""Writes to the leadership structure. Each service validates, then writes inside one transaction.

Services raise ValidationError keyed by form field, so a view can show the message beside the
field the user has to change.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone

from .models import ActionItem, Assignment, Caseload, LeadershipTeam, TeamMembership


def _date(value):
    return formats.date_format(value, "N j, Y")


def _check_end_after_start(start_date, end_date, *, field="end_date"):
    if end_date is not None and end_date < start_date:
        raise ValidationError(
            {field: f"The end date must be on or after the start date ({_date(start_date)})."}
        )


def _check_works_at(staff, school, on, *, field, positions=None):
    assignments = Assignment.objects.current(on).filter(staff=staff, school=school)
    if positions:
        assignments = assignments.filter(position__in=positions)
    if not assignments.exists():
        what = "teach" if positions == [Assignment.Position.TEACHER] else "work"
        raise ValidationError({field: f"{staff} does not {what} at {school} on {_date(on)}."})


@transaction.atomic
def team_create(*, school, kind, name, focus=""):
    if LeadershipTeam.objects.filter(school=school, name__iexact=name).exists():
        raise ValidationError({"name": f"{school} already has a team called “{name}”."})
    return LeadershipTeam.objects.create(school=school, kind=kind, name=name, focus=focus)


@transaction.atomic
def team_update(*, team, kind, name, focus):
    clash = LeadershipTeam.objects.filter(school=team.school, name__iexact=name).exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError({"name": f"{team.school} already has a team called “{name}”."})
    team.kind, team.name, team.focus = kind, name, focus
    team.save(update_fields=["kind", "name", "focus", "updated_at"])
    return team


@transaction.atomic
def membership_assign(*, team, staff, role, start_date, assigned_by, end_date=None):
    _check_end_after_start(start_date, end_date)
    _check_works_at(staff, team.school, start_date, field="staff")
    current = (
        TeamMembership.objects.active().select_for_update().filter(team=team, staff=staff).first()
    )
    if current is not None:
        raise ValidationError(
            {
                "staff": f"{staff} already holds the role {current.get_role_display()} on "
                f"{team} since {_date(current.start_date)}. End that role first."
            }
        )
    try:
        with transaction.atomic():
            return TeamMembership.objects.create(
                team=team,
                staff=staff,
                role=role,
                start_date=start_date,
                end_date=end_date,
                assigned_by=assigned_by,
            )
    except IntegrityError as exc:  # a concurrent assignment won the race
        raise ValidationError({"staff": f"{staff} already holds a role on {team}."}) from exc


@transaction.atomic
def membership_end(*, membership, end_date, ended_by):
    """End a role on ``end_date``. A future date schedules the end; the nightly job closes it."""
    membership = TeamMembership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        raise ValidationError("This role has already ended.")
    _check_end_after_start(membership.start_date, end_date)
    membership.end_date = end_date
    membership.ended_by = ended_by
    if end_date <= timezone.localdate():
        membership.closed_at = timezone.now()
    membership.save(update_fields=["end_date", "ended_by", "closed_at"])
    return membership


def roles_close_ended(*, today=None):
    """Close every role and caseload whose end date has passed. Returns how many were closed."""
    now = timezone.now()
    with transaction.atomic():
        closed = TeamMembership.objects.due_to_close(today).update(closed_at=now)
        closed += Caseload.objects.due_to_close(today).update(closed_at=now)
    return closed


@transaction.atomic
def caseload_assign(*, school, leader, teacher, start_date, assigned_by, end_date=None):
    _check_end_after_start(start_date, end_date)
    if leader == teacher:
        raise ValidationError({"teacher": "A teacher leader cannot be assigned to themselves."})
    _check_works_at(leader, school, start_date, field="leader")
    _check_works_at(
        teacher, school, start_date, field="teacher", positions=[Assignment.Position.TEACHER]
    )
    current = Caseload.objects.active().filter(school=school, leader=leader, teacher=teacher)
    if current.exists():
        raise ValidationError({"teacher": f"{teacher} is already in {leader}’s caseload."})
    try:
        with transaction.atomic():
            return Caseload.objects.create(
                school=school,
                leader=leader,
                teacher=teacher,
                start_date=start_date,
                end_date=end_date,
                assigned_by=assigned_by,
            )
    except IntegrityError as exc:
        raise ValidationError({"teacher": f"{teacher} is already in {leader}’s caseload."}) from exc


@transaction.atomic
def caseload_end(*, caseload, end_date, ended_by):
    caseload = Caseload.objects.select_for_update().get(pk=caseload.pk)
    if not caseload.is_active:
        raise ValidationError("This caseload assignment has already ended.")
    _check_end_after_start(caseload.start_date, end_date)
    caseload.end_date = end_date
    caseload.ended_by = ended_by
    if end_date <= timezone.localdate():
        caseload.closed_at = timezone.now()
    caseload.save(update_fields=["end_date", "ended_by", "closed_at"])
    return caseload


@transaction.atomic
def action_item_create(
    *, team, text, created_by, owner=None, due_date=None, source_label="", source_url=""
):
    if not text.strip():
        raise ValidationError({"text": "Say what the team should do."})
    if (
        owner is not None
        and not TeamMembership.objects.active().filter(team=team, staff=owner).exists()
    ):
        raise ValidationError({"owner": f"{owner} is not a member of {team}."})
    return ActionItem.objects.create(
        team=team,
        text=text.strip(),
        owner=owner,
        due_date=due_date,
        source_label=source_label,
        source_url=source_url,
        created_by=created_by,
    )


@transaction.atomic
def action_item_set_done(*, item, done):
    item.done_at = timezone.now() if done else None
    item.save(update_fields=["done_at"])
    return item
