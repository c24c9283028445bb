from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from .survey_items import ITEMS, SCALE


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _two_weeks_from_today():
    return timezone.localdate() + timedelta(days=14)


class RoundOpenForm(forms.Form):
    title = forms.CharField(
        max_length=80, help_text="What staff will see, for example “Fall 2026”."
    )
    opens_on = forms.DateField(
        widget=DateInput(), initial=timezone.localdate, label="First day to answer"
    )
    closes_on = forms.DateField(
        widget=DateInput(), initial=_two_weeks_from_today, label="Last day to answer"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Open the round"))


class SurveyAnswerForm(forms.Form):
    """One required 1–5 choice per item, named by the item's key. The template lays the fields
    out in fieldsets by element; the scale's words are the choices' labels."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for item in ITEMS:
            self.fields[item.key] = forms.TypedChoiceField(
                label=item.text,
                choices=SCALE,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose an answer from 1 to 5 for this statement."},
            )
