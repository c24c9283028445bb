"""Forms take the school they act in and narrow every choice to it, so a forged POST cannot pick
someone from another school."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from . import selectors
from .models import LeadershipTeam, StaffMember, TeamRole


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TeamForm(forms.ModelForm):
    class Meta:
        model = LeadershipTeam
        fields = ["name", "kind", "focus"]
        labels = {"kind": "Kind of team", "focus": "Focus for the year"}
        widgets = {"focus": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, submit_label="Save team", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label))


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class MembershipAssignForm(forms.Form):
    staff = StaffChoiceField(
        queryset=None,
        widget=forms.RadioSelect,
        label="Staff member",
        error_messages={
            "required": "Choose the person who will take this role.",
            "invalid_choice": "Choose someone who works at this school.",
        },
    )
    role = forms.ChoiceField(choices=TeamRole.choices, initial=TeamRole.MEMBER, label="Team role")
    start_date = forms.DateField(widget=DateInput(), initial=timezone.localdate)
    end_date = forms.DateField(
        widget=DateInput(),
        required=False,
        help_text="Leave empty for an open-ended role.",
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["staff"].queryset = selectors.school_staff(school=team.school)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date must be on or after the start date.")
        return cleaned


class EndDateForm(forms.Form):
    end_date = forms.DateField(
        widget=DateInput(),
        initial=timezone.localdate,
        help_text="Today or earlier ends it now; a later date schedules the end.",
    )

    def __init__(self, *args, submit_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label, css_class="btn-danger"))


class CaseloadAssignForm(forms.Form):
    leader = StaffChoiceField(
        queryset=None,
        label="Teacher leader or coach",
        empty_label="Choose a leader…",
        error_messages={
            "required": "Choose who will develop this teacher.",
            "invalid_choice": "Choose a leader who works at this school.",
        },
    )
    teacher = StaffChoiceField(
        queryset=None,
        label="Teacher",
        empty_label="Choose a teacher…",
        error_messages={
            "required": "Choose the teacher to add to the caseload.",
            "invalid_choice": "Choose a teacher who teaches at this school.",
        },
    )
    start_date = forms.DateField(widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        self.fields["leader"].queryset = selectors.school_staff(school=school)
        self.fields["teacher"].queryset = selectors.school_teachers(school=school)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Add to caseload"))

    def clean(self):
        cleaned = super().clean()
        leader, teacher = cleaned.get("leader"), cleaned.get("teacher")
        if leader and teacher and leader == teacher:
            self.add_error("teacher", "A teacher leader cannot be assigned to themselves.")
        return cleaned


# ── Meetings ─────────────────────────────────────────────────────────────────────────────────


def _members(team):
    return (
        StaffMember.objects.filter(memberships__team=team, memberships__closed_at__isnull=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
        .distinct()
    )


def _default_start():
    """Next weekday at 15:30, local time: after the school day, when teams usually meet."""
    day = timezone.localdate() + datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


class MeetingForm(forms.Form):
    date = forms.DateField(widget=DateInput(), initial=_default_start)
    time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        initial=datetime.time(15, 30),
        label="Start time",
    )
    duration_minutes = forms.IntegerField(
        min_value=5, max_value=480, initial=45, label="Length (minutes)"
    )
    purpose = forms.CharField(max_length=200, required=False, help_text="Optional, in a line.")
    location = forms.CharField(max_length=120, required=False)
    facilitator = StaffChoiceField(
        queryset=None,
        required=False,
        empty_label="No facilitator yet",
        error_messages={"invalid_choice": "Choose a member of this team."},
    )
    note_taker = StaffChoiceField(
        queryset=None,
        required=False,
        empty_label="No note-taker yet",
        label="Note-taker",
        error_messages={"invalid_choice": "Choose a member of this team."},
    )

    def __init__(self, *args, team, submit_label="Schedule meeting", **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        members = _members(team)
        self.fields["facilitator"].queryset = members
        self.fields["note_taker"].queryset = members
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.submit_label = submit_label

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("date"), cleaned.get("time")
        if day and time:
            cleaned["starts_at"] = timezone.make_aware(datetime.datetime.combine(day, time))
        return cleaned

    def meeting_fields(self):
        data = self.cleaned_data
        keys = ("starts_at", "duration_minutes", "location", "purpose", "facilitator", "note_taker")
        return {key: data[key] for key in keys}


class MeetingScheduleForm(MeetingForm):
    repeat = forms.ChoiceField(
        choices=[
            ("", "Does not repeat"),
            ("weekly", "Every week"),
            ("biweekly", "Every two weeks"),
            ("four_weekly", "Every four weeks"),
        ],
        required=False,
        label="Repeats",
    )
    repeat_until = forms.DateField(
        widget=DateInput(), required=False, label="Repeat until", help_text="The last date."
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("repeat") and not cleaned.get("repeat_until"):
            self.add_error("repeat_until", "Say until when the meeting repeats.")
        return cleaned


class SnapshotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        scope = "whole school" if obj.scope == "school" else f"grade {obj.scope_key}"
        window = f"{obj.get_window_display()} {obj.school_year}"
        return f"{obj.get_subject_display()} · {window} · {scope}"


class AgendaItemForm(forms.Form):
    title = forms.CharField(max_length=200, label="Topic")
    minutes = forms.IntegerField(min_value=1, max_value=240, initial=10, label="Minutes")
    owner = StaffChoiceField(
        queryset=None,
        required=False,
        empty_label="No owner",
        label="Leads the topic",
        error_messages={"invalid_choice": "Choose a member of this team."},
    )
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    snapshot = SnapshotChoiceField(
        queryset=None,
        required=False,
        empty_label="No dashboard",
        label="Dashboard to look at",
        error_messages={"invalid_choice": "Choose a dashboard of this school."},
    )
    observation_trends = forms.BooleanField(
        required=False, label="Link the school's observation trends"
    )

    def __init__(self, *args, meeting, may_link_dashboards, **kwargs):
        """``may_link_dashboards``: whether this person may see the school's dashboards
        (``permissions.oversees_school``); a team lead who may not gets no dashboard choice."""
        from data_tracking.models import DashboardSnapshot

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _members(meeting.team)
        if not may_link_dashboards:
            del self.fields["snapshot"]
            return
        self.fields["snapshot"].queryset = DashboardSnapshot.objects.filter(
            school_id=meeting.team.school_id, is_current=True, scope__in=["school", "grade"]
        ).order_by("-school_year", "subject", "window", "scope", "scope_key")


class AgendaRecordForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    discussed = forms.BooleanField(required=False, label="Discussed")


class MeetingNotesForm(forms.Form):
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, label="Meeting notes"
    )


class DecisionForm(forms.Form):
    text = forms.CharField(max_length=500, label="Decision")
    agenda_item = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Not about one topic", label="Topic"
    )

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].queryset = meeting.agenda_items.order_by("position", "pk")


class MeetingActionItemForm(forms.Form):
    text = forms.CharField(max_length=500, label="Action item")
    owner = StaffChoiceField(
        queryset=None,
        required=False,
        empty_label="No owner yet",
        error_messages={"invalid_choice": "Choose a member of this team."},
    )
    due_date = forms.DateField(widget=DateInput(), required=False, label="Due")

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _members(meeting.team)
