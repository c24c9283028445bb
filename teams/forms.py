"""Forms take the school they act in and narrow every choice to it, so a forged POST cannot pick
someone from another school."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from . import selectors
from .models import LeadershipTeam, TeamRole


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
