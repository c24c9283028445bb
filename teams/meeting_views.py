"""Team meetings: scheduling, and the one page the facilitator runs a meeting from.

Every write is a small form on the meeting page that posts here and comes back to the part of the
page it changed (``#agenda``, ``#decisions`` …). A form with a mistake renders the page again with
the message beside the field and what was typed still in it.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import permissions, selectors, services
from .forms import (
    AgendaItemForm,
    AgendaRecordForm,
    DecisionForm,
    MeetingActionItemForm,
    MeetingForm,
    MeetingNotesForm,
    MeetingScheduleForm,
)
from .models import Attendance

# The meeting page shows several forms at once; a prefix each keeps their field ids (and so their
# labels) apart: "decision-text" and "action-text", not two "id_text".
AGENDA, DECISION, ACTION = "topic", "decision", "action"


def _to(meeting, anchor):
    return redirect(f"{meeting.get_absolute_url()}#{anchor}")


def _apply(form, call):
    """Run ``call(**form.cleaned_data)`` if the form is valid; put a ValidationError beside the
    fields it names. Returns the call's result, or None when the form has errors."""
    if not form.is_valid():
        return None
    try:
        return call(**form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return None


def _agenda_form(request, meeting, data=None):
    return AgendaItemForm(
        data,
        meeting=meeting,
        prefix=AGENDA,
        may_link_dashboards=permissions.oversees_school(request.user, meeting.team.school),
    )


def _done(request, call, success):
    """Run a service that takes no form; say why if it refuses, else say ``success(result)``."""
    try:
        result = call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return
    if success:
        messages.success(request, success(result))


@require_http_methods(["GET", "POST"])
def meeting_schedule(request, pk):
    team = permissions.get_team_for_scheduling(request.user, pk)
    form = MeetingScheduleForm(
        request.POST or None, team=team, initial=selectors.usual_meeting_roles(team=team)
    )
    if request.method == "POST":
        meetings = _apply(
            form,
            lambda repeat, repeat_until, **_: services.meeting_schedule(
                team=team,
                created_by=request.user,
                repeat=repeat,
                repeat_until=repeat_until,
                **form.meeting_fields(),
            ),
        )
        if meetings:
            first = min(meetings, key=lambda meeting: meeting.starts_at)
            count = len(meetings)
            messages.success(
                request,
                f"{count} meetings scheduled; the first is below."
                if count > 1
                else "Meeting scheduled. Add the agenda below.",
            )
            return redirect(first)
    return render(
        request,
        "teams/meeting_form.html",
        {"team": team, "school": team.school, "form": form, "title": "Schedule a meeting"},
    )


@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    team = meeting.team
    initial = {
        "date": timezone.localtime(meeting.starts_at).date(),
        "time": timezone.localtime(meeting.starts_at).time(),
        "duration_minutes": meeting.duration_minutes,
        "purpose": meeting.purpose,
        "location": meeting.location,
        "facilitator": meeting.facilitator_id,
        "note_taker": meeting.note_taker_id,
    }
    form = MeetingForm(request.POST or None, team=team, initial=initial)
    if request.method == "POST":
        changed = _apply(
            form,
            lambda **_: services.meeting_update(meeting=meeting, **form.meeting_fields()),
        )
        if changed:
            messages.success(request, "Meeting details saved.")
            return redirect(meeting)
    return render(
        request,
        "teams/meeting_form.html",
        {
            "team": team,
            "school": team.school,
            "form": form,
            "meeting": meeting,
            "title": "Change the meeting's details",
        },
    )


def meeting_detail(request, pk, **bound):
    """The meeting page. Views that handle a form with mistakes call this with the bound form."""
    meeting = permissions.get_meeting_for_read(request.user, pk)
    powers = permissions.meeting_powers(request.user, meeting)
    page = selectors.meeting_page(meeting=meeting)
    context = {
        "meeting": meeting,
        "team": meeting.team,
        "school": meeting.team.school,
        "powers": powers,
        "attendance_choices": Attendance.Status.choices,
        # Members tick action items off here as on the team page.
        "can_tick_items": permissions.can_update_action_items(request.user, meeting.team),
        **page,
    }
    if powers.run and meeting.is_open:
        context["agenda_form"] = bound.get("agenda_form") or _agenda_form(request, meeting)
    if powers.run and meeting.status != meeting.Status.CANCELLED:
        context["decision_form"] = bound.get("decision_form") or DecisionForm(
            meeting=meeting, prefix=DECISION
        )
        context["action_form"] = bound.get("action_form") or MeetingActionItemForm(
            meeting=meeting, prefix=ACTION
        )
    if powers.notes:
        context["notes_form"] = MeetingNotesForm(initial={"notes": meeting.notes})
    status = 400 if bound else 200
    return render(request, "teams/meeting_detail.html", context, status=status)


@require_POST
def meeting_start(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    _done(request, lambda: services.meeting_start(meeting=meeting), None)
    return _to(meeting, "agenda")


@require_POST
def meeting_finish(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)

    def finished(result):
        _, carried = result
        message = "Meeting finished. Open action items carry over to the next meeting."
        if carried:
            message += f" {carried} topic(s) not reached carried to the next agenda."
        return message

    _done(request, lambda: services.meeting_finish(meeting=meeting), finished)
    return redirect(meeting)


@require_http_methods(["GET", "POST"])
def meeting_cancel(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    if request.method == "POST":

        def cancelled(result):
            _, moved = result
            return "Meeting cancelled." + (
                f" Its {moved} topic(s) moved to the next meeting." if moved else ""
            )

        _done(request, lambda: services.meeting_cancel(meeting=meeting), cancelled)
        return redirect(meeting.team)
    return render(
        request,
        "teams/meeting_cancel.html",
        {"meeting": meeting, "team": meeting.team, "school": meeting.team.school},
    )


@require_POST
def agenda_item_add(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    form = _agenda_form(request, meeting, request.POST)

    def add(observation_trends, **fields):
        if observation_trends:
            fields["link_label"] = "Observation trends"
            fields["link_url"] = reverse(
                "observations:school_trends", args=[meeting.team.school.slug]
            )
        return services.agenda_item_add(meeting=meeting, created_by=request.user, **fields)

    if _apply(form, add):
        return _to(meeting, "agenda")
    return meeting_detail(request, pk, agenda_form=form)


@require_POST
def agenda_item_record(request, pk):
    item = permissions.get_agenda_item_for_write(request.user, pk, power="notes")
    form = AgendaRecordForm(request.POST)
    if form.is_valid():
        services.agenda_item_record(item=item, **form.cleaned_data)
        messages.success(request, f"Notes on “{item.title}” saved.")
    return _to(item.meeting, f"topic-{item.pk}")


@require_POST
def agenda_item_move(request, pk):
    item = permissions.get_agenda_item_for_write(request.user, pk)
    direction = -1 if request.POST.get("direction") == "up" else 1
    if item.meeting.is_open:
        services.agenda_item_move(item=item, direction=direction)
    return _to(item.meeting, f"topic-{item.pk}")


@require_POST
def agenda_item_remove(request, pk):
    item = permissions.get_agenda_item_for_write(request.user, pk)
    _done(
        request,
        lambda: services.agenda_item_remove(item=item),
        lambda _: f"“{item.title}” taken off the agenda.",
    )
    return _to(item.meeting, "agenda")


@require_POST
def meeting_attendance(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    valid = set(Attendance.Status.values)
    statuses = {}
    for key, value in request.POST.items():
        if key.startswith("attendance-") and value in valid:
            try:
                statuses[int(key.removeprefix("attendance-"))] = value
            except ValueError:
                continue
    _done(
        request,
        lambda: services.attendance_record(meeting=meeting, statuses=statuses),
        lambda _: "Attendance saved.",
    )
    return _to(meeting, "attendance")


@require_POST
def decision_add(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    form = DecisionForm(request.POST, meeting=meeting, prefix=DECISION)
    recorded = _apply(
        form,
        lambda **fields: services.decision_record(
            meeting=meeting, recorded_by=request.user, **fields
        ),
    )
    if recorded:
        return _to(meeting, "decisions")
    return meeting_detail(request, pk, decision_form=form)


@require_POST
def meeting_action_item_add(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk)
    form = MeetingActionItemForm(request.POST, meeting=meeting, prefix=ACTION)
    created = _apply(
        form,
        lambda **fields: services.action_item_create(
            team=meeting.team, meeting=meeting, created_by=request.user, **fields
        ),
    )
    if created:
        return _to(meeting, "action-items")
    return meeting_detail(request, pk, action_form=form)


@require_POST
def meeting_notes(request, pk):
    meeting = permissions.get_meeting_for_write(request.user, pk, power="notes")
    form = MeetingNotesForm(request.POST)
    if form.is_valid():
        services.meeting_notes_save(meeting=meeting, notes=form.cleaned_data["notes"])
        messages.success(request, "Notes saved.")
    return _to(meeting, "notes")
