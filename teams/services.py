"""Writes to the leadership structure. Each service validates, then writes inside one transaction.

Services raise ValidationError keyed by form field, so a view can show the message beside the
field the user has to change.
"""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import formats, timezone

from .models import (
    ActionItem,
    AgendaItem,
    Assignment,
    Attendance,
    Caseload,
    Decision,
    LeadershipTeam,
    Meeting,
    TeamMembership,
)


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


def _require_member(team, staff, field):
    if (
        staff is not None
        and not TeamMembership.objects.active().filter(team=team, staff=staff).exists()
    ):
        raise ValidationError({field: f"{staff} is not a member of {team}."})


@transaction.atomic
def action_item_create(
    *,
    team,
    text,
    created_by,
    owner=None,
    due_date=None,
    source_label="",
    source_url="",
    meeting=None,
):
    """A follow-up for ``team``; ``meeting`` is the meeting that raised it, if one did. Open
    items show on every later meeting of the team until someone marks them done."""
    if not text.strip():
        raise ValidationError({"text": "Say what the team should do."})
    _require_member(team, owner, "owner")
    return ActionItem.objects.create(
        team=team,
        text=text.strip(),
        owner=owner,
        due_date=due_date,
        source_label=source_label,
        source_url=source_url,
        meeting=meeting,
        created_by=created_by,
    )


@transaction.atomic
def action_item_set_done(*, item, done):
    item.done_at = timezone.now() if done else None
    item.save(update_fields=["done_at"])
    return item


# ── Meetings ─────────────────────────────────────────────────────────────────────────────────

# How far apart the meetings of a recurring series are, in days. Four weeks rather than "monthly":
# a team that meets on Tuesdays keeps meeting on Tuesdays.
REPEAT_DAYS = {"weekly": 7, "biweekly": 14, "four_weekly": 28}
MAX_SERIES = 40  # a school year of weekly meetings


def _meeting_roles_check(team, facilitator, note_taker):
    _require_member(team, facilitator, "facilitator")
    _require_member(team, note_taker, "note_taker")


@transaction.atomic
def meeting_schedule(
    *,
    team,
    starts_at,
    created_by,
    duration_minutes=45,
    location="",
    purpose="",
    facilitator=None,
    note_taker=None,
    repeat="",
    repeat_until=None,
):
    """Schedule one meeting, or a series every ``repeat`` until ``repeat_until`` (inclusive).

    Agenda items waiting for the team's next meeting (findings sent while none was scheduled)
    move onto the first meeting scheduled here.
    """
    _meeting_roles_check(team, facilitator, note_taker)
    starts = [starts_at]
    if repeat:
        if repeat not in REPEAT_DAYS:
            raise ValidationError({"repeat": "Choose how often the meeting repeats."})
        if repeat_until is None:
            raise ValidationError({"repeat_until": "Say until when the meeting repeats."})
        if repeat_until < timezone.localtime(starts_at).date():
            raise ValidationError({"repeat_until": "The last date is before the first meeting."})
        step = datetime.timedelta(days=REPEAT_DAYS[repeat])
        while timezone.localtime(starts[-1] + step).date() <= repeat_until:
            starts.append(starts[-1] + step)
        if len(starts) > MAX_SERIES:
            many = f"That makes {len(starts)} meetings; schedule at most {MAX_SERIES} at once."
            raise ValidationError({"repeat_until": many})
    series = uuid.uuid4() if len(starts) > 1 else None
    meetings = Meeting.objects.bulk_create(
        Meeting(
            team=team,
            starts_at=start,
            duration_minutes=duration_minutes,
            location=location.strip(),
            purpose=purpose.strip(),
            facilitator=facilitator,
            note_taker=note_taker,
            series=series,
            created_by=created_by,
        )
        for start in starts
    )
    first = min(meetings, key=lambda meeting: meeting.starts_at)
    if first.starts_at >= timezone.now():
        _agenda_append(AgendaItem.objects.filter(team=team, meeting__isnull=True), first)
    return meetings


@transaction.atomic
def meeting_update(
    *, meeting, starts_at, duration_minutes, location, purpose, facilitator, note_taker
):
    if not meeting.is_open:
        raise ValidationError("This meeting is over; its details can no longer change.")
    _meeting_roles_check(meeting.team, facilitator, note_taker)
    meeting.starts_at = starts_at
    meeting.duration_minutes = duration_minutes
    meeting.location = location.strip()
    meeting.purpose = purpose.strip()
    meeting.facilitator = facilitator
    meeting.note_taker = note_taker
    meeting.save()
    return meeting


def _locked(meeting):
    return Meeting.objects.select_for_update().select_related("team").get(pk=meeting.pk)


@transaction.atomic
def meeting_start(*, meeting):
    meeting = _locked(meeting)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(f"This meeting is {meeting.get_status_display().lower()}.")
    meeting.status = Meeting.Status.IN_PROGRESS
    meeting.started_at = timezone.now()
    meeting.save(update_fields=["status", "started_at"])
    return meeting


@transaction.atomic
def meeting_finish(*, meeting):
    """Close the meeting. Agenda items not discussed go to the team's next open meeting, so a
    topic that ran out of time is not lost; open action items show there anyway."""
    meeting = _locked(meeting)
    if not meeting.is_open:
        raise ValidationError(f"This meeting is already {meeting.get_status_display().lower()}.")
    meeting.status = Meeting.Status.HELD
    meeting.started_at = meeting.started_at or timezone.now()
    meeting.ended_at = timezone.now()
    meeting.save(update_fields=["status", "started_at", "ended_at"])
    carried = _carry_over_agenda(meeting, keep_record=True)
    return meeting, carried


@transaction.atomic
def meeting_cancel(*, meeting):
    meeting = _locked(meeting)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Only a meeting that has not started can be cancelled.")
    meeting.status = Meeting.Status.CANCELLED
    meeting.save(update_fields=["status"])
    return meeting, _carry_over_agenda(meeting, keep_record=False)


def next_open_meeting(team, *, after=None):
    """The team's next scheduled meeting (starting now or later, or after ``after``)."""
    meetings = Meeting.objects.filter(team=team, status=Meeting.Status.SCHEDULED)
    if after is not None:
        meetings = meetings.filter(starts_at__gt=after.starts_at).exclude(pk=after.pk)
    else:
        meetings = meetings.filter(starts_at__gte=timezone.now())
    return meetings.order_by("starts_at", "pk").first()


def _carry_over_agenda(meeting, *, keep_record):
    """Put the meeting's undiscussed topics on the team's next meeting (or the waiting list).

    A held meeting keeps its topics as they were (its record shows what it did not reach) and
    the next meeting gets copies that point back at them (``carried_from``); a cancelled
    meeting's topics simply move. Returns how many topics were carried."""
    left = AgendaItem.objects.filter(meeting=meeting, discussed_at__isnull=True)
    target = next_open_meeting(meeting.team, after=meeting)
    if not keep_record:
        return _agenda_append(left, target)
    copies = AgendaItem.objects.bulk_create(
        AgendaItem(
            team=item.team,
            title=item.title,
            details=item.details,
            minutes=item.minutes,
            owner=item.owner,
            snapshot=item.snapshot,
            link_label=item.link_label,
            link_url=item.link_url,
            carried_from=item,
            created_by=item.created_by,
        )
        for item in left.order_by("position", "pk")
    )
    return _agenda_append(AgendaItem.objects.filter(pk__in=[c.pk for c in copies]), target)


def _agenda_append(items, meeting):
    """Put ``items`` (in their order) at the end of ``meeting``'s agenda, or on the team's
    waiting list when ``meeting`` is None. Returns how many moved."""
    items = list(items.order_by("position", "pk"))
    if not items:
        return 0
    last = 0
    if meeting is not None:
        last = meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0
    for offset, item in enumerate(items, start=1):
        item.meeting = meeting
        item.position = last + offset
    AgendaItem.objects.bulk_update(items, ["meeting", "position"])
    return len(items)


@transaction.atomic
def agenda_item_add(
    *,
    meeting,
    title,
    created_by,
    minutes=10,
    owner=None,
    details="",
    snapshot=None,
    link_label="",
    link_url="",
):
    if not meeting.is_open:
        raise ValidationError("This meeting is over; add the topic to the next one.")
    if not title.strip():
        raise ValidationError({"title": "Name the topic."})
    _require_member(meeting.team, owner, "owner")
    if snapshot is not None and snapshot.school_id != meeting.team.school_id:
        raise ValidationError({"snapshot": "Choose a dashboard of this team's school."})
    last = meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0
    return AgendaItem.objects.create(
        team=meeting.team,
        meeting=meeting,
        position=last + 1,
        title=title.strip(),
        details=details.strip(),
        minutes=minutes,
        owner=owner,
        snapshot=snapshot,
        link_label=link_label,
        link_url=link_url,
        created_by=created_by,
    )


@transaction.atomic
def agenda_item_send(
    *, team, title, created_by, details="", snapshot=None, link_label="", link_url=""
):
    """A finding sent to a team from elsewhere in the portal (a dashboard review): it lands on the
    team's next scheduled meeting, or waits for the next one scheduled."""
    meeting = next_open_meeting(team)
    last = 0
    if meeting is not None:
        last = meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0
    return AgendaItem.objects.create(
        team=team,
        meeting=meeting,
        position=last + 1,
        title=title.strip()[:200],
        details=details.strip(),
        snapshot=snapshot,
        link_label=link_label,
        link_url=link_url,
        created_by=created_by,
    )


@transaction.atomic
def agenda_item_move(*, item, direction):
    """Swap the item with its neighbour above (``direction`` -1) or below (+1)."""
    siblings = list(
        AgendaItem.objects.select_for_update()
        .filter(meeting_id=item.meeting_id)
        .order_by("position", "pk")
    )
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    other = index + direction
    if not 0 <= other < len(siblings):
        return item
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
    AgendaItem.objects.bulk_update(siblings, ["position"])
    return item


@transaction.atomic
def agenda_item_remove(*, item):
    if item.meeting is not None and not item.meeting.is_open:
        raise ValidationError("This meeting is over; its agenda is part of the record.")
    item.delete()


@transaction.atomic
def agenda_item_record(*, item, notes, discussed):
    """The note-taker's notes on a topic and whether the meeting got to it."""
    item.notes = notes.strip()
    if discussed and item.discussed_at is None:
        item.discussed_at = timezone.now()
    elif not discussed:
        item.discussed_at = None
    item.save(update_fields=["notes", "discussed_at"])
    return item


@transaction.atomic
def meeting_notes_save(*, meeting, notes):
    meeting.notes = notes.strip()
    meeting.save(update_fields=["notes"])
    return meeting


@transaction.atomic
def attendance_record(*, meeting, statuses):
    """``statuses``: {staff id: Attendance.Status} for the team's members; replaces what was
    recorded for them."""
    members = set(
        TeamMembership.objects.active().filter(team=meeting.team).values_list("staff_id", flat=True)
    )
    unknown = set(statuses) - members
    if unknown:
        raise ValidationError("Attendance can only be taken for the team's members.")
    Attendance.objects.filter(meeting=meeting, staff_id__in=statuses).delete()
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, staff_id=staff_id, status=status)
        for staff_id, status in statuses.items()
    )


@transaction.atomic
def decision_record(*, meeting, text, recorded_by, agenda_item=None):
    if not text.strip():
        raise ValidationError({"text": "Write down what was decided."})
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": "Choose a topic of this meeting."})
    return Decision.objects.create(
        meeting=meeting, agenda_item=agenda_item, text=text.strip(), recorded_by=recorded_by
    )
