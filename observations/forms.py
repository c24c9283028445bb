from django import forms
from django.utils import timezone

from teams.forms import DateInput, StaffChoiceField

from .models import FollowUp, Indicator, Reflection


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class IndicatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.name}"


class CycleStartForm(forms.Form):
    teacher = StaffChoiceField(
        queryset=None,
        empty_label="Choose a teacher…",
        error_messages={
            "required": "Choose the teacher you will observe.",
            "invalid_choice": "Choose a teacher from your caseload.",
        },
    )
    focus = IndicatorChoiceField(
        queryset=None,
        required=False,
        empty_label="No single focus yet",
        label="Focus indicator",
        help_text="The one part of the rubric this cycle works on.",
    )
    planned_for = forms.DateField(
        widget=DateInput(), required=False, label="Planned visit", initial=timezone.localdate
    )

    def __init__(self, *args, teachers, rubric, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = teachers
        indicators = Indicator.objects.filter(domain__rubric=rubric) if rubric else None
        self.fields["focus"].queryset = (indicators or Indicator.objects.none()).select_related(
            "domain"
        )


class ObservationForm(forms.Form):
    observed_at = forms.DateTimeField(
        widget=DateTimeInput(), label="When", required=False, initial=timezone.localtime
    )
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=600, required=False, label="Minutes in the room"
    )
    subject = forms.CharField(max_length=80, required=False)
    grade = forms.CharField(max_length=10, required=False)
    section = forms.CharField(max_length=80, required=False, label="Class or period")
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        label="Evidence: what you saw and heard",
        help_text="Low-inference notes, one line per moment, e.g. “9:05 T asks why; 4 hands”.",
    )

    def __init__(self, *args, rubric, **kwargs):
        super().__init__(*args, **kwargs)
        self.rating_fields = []
        levels = [(str(level.pk), f"{level.value} {level.label}") for level in rubric.levels.all()]
        for domain in rubric.domains.prefetch_related("indicators"):
            for indicator in domain.indicators.all():
                name = f"rating_{indicator.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    choices=[("", "Not rated"), *levels],
                    required=False,
                    label=f"{indicator.code} {indicator.name}",
                    widget=forms.RadioSelect,
                    coerce=int,
                    empty_value=None,
                )
                self.rating_fields.append((domain, indicator, name))
        self.levels_by_pk = {level.pk: level for level in rubric.levels.all()}

    def rating_rows(self):
        """(domain, indicator, bound field) for each indicator, for the template."""
        return [(domain, indicator, self[name]) for domain, indicator, name in self.rating_fields]

    def observation_fields(self):
        names = ["observed_at", "duration_minutes", "subject", "grade", "section", "evidence"]
        return {name: self.cleaned_data[name] for name in names}

    def ratings(self):
        return {
            indicator.pk: self.levels_by_pk.get(self.cleaned_data[name])
            for _, indicator, name in self.rating_fields
        }


class FeedbackForm(forms.Form):
    glows = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Glows",
        help_text="What went well, with the evidence that shows it.",
    )
    grow = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="One grow",
        help_text="The single area that will make the biggest difference next.",
    )
    action_step = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="One action step",
        help_text="Bite-sized: something the teacher can practise this week.",
    )
    practice_by = forms.DateField(widget=DateInput(), required=False, label="Practise by")
    resources = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Optional links, one per line.",
    )

    def clean_resources(self):
        validate = forms.URLField(assume_scheme="https").clean
        links = []
        for line in self.cleaned_data["resources"].splitlines():
            if not line.strip():
                continue
            try:
                links.append(validate(line.strip()))  # "www.x.org" becomes "https://www.x.org"
            except forms.ValidationError:
                raise forms.ValidationError(f"“{line.strip()}” is not a web link.") from None
        return "\n".join(links)


class AmendmentForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Add an amendment", max_length=2000
    )


class ReflectionForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Your reflection",
        help_text="What will you try, and what do you need to make the step work?",
        error_messages={"required": "Write a few words of reflection."},
    )
    usefulness = forms.TypedChoiceField(
        choices=[("", "Rather not say"), *Reflection.Usefulness.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label="How useful was this feedback?",
        help_text="Only your observer sees this, to grow as a coach.",
    )
    usefulness_reason = forms.CharField(max_length=300, required=False, label="Why? (optional)")


class FollowUpForm(forms.Form):
    visited_on = forms.DateField(widget=DateInput(), initial=timezone.localdate, label="Visited on")
    mastery = forms.ChoiceField(
        choices=FollowUp.Mastery.choices,
        widget=forms.RadioSelect,
        label="Action step",
        error_messages={"required": "Rate the action step: not yet, partly or mastered."},
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    open_next = forms.BooleanField(
        required=False,
        initial=True,
        label="Close this cycle and open the next one with the same focus",
    )

    def __init__(self, *args, teacher, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mastery"].label = f"How far has {teacher} got with the action step?"
