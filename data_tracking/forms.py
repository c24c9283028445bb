from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from teams.forms import DateInput

from .models import ImportBatch

MAX_UPLOAD_MB = 200


class ImportForm(forms.Form):
    district = forms.ModelChoiceField(queryset=None, empty_label=None)
    kind = forms.ChoiceField(choices=ImportBatch.Kind.choices, label="What kind of file")
    mode = forms.ChoiceField(
        choices=ImportBatch.Mode.choices,
        initial=ImportBatch.Mode.STRICT,
        widget=forms.RadioSelect,
        label="If some rows are wrong",
    )
    upload = forms.FileField(
        label="File",
        help_text="A .csv file, or a .zip of a OneRoster folder or of a MAP Comprehensive Data "
        "File (AssessmentResults.csv with StudentsBySchool.csv).",
    )

    def __init__(self, *args, districts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts
        if districts.count() == 1:
            self.fields["district"].widget = forms.HiddenInput()
            self.fields["district"].initial = districts.first().pk
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Import"))

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if not upload.name.lower().endswith((".csv", ".zip")):
            raise forms.ValidationError("Upload a .csv or a .zip file.")
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_MB} MB.")
        return upload


class ReviewForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="What do you notice?",
        help_text="Your comments stay with this snapshot for the school's leaders.",
    )
    team = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Do not send to a team",
        label="Send a follow-up to a team",
    )
    action_text = forms.CharField(max_length=500, required=False, label="What should the team do?")
    due_date = forms.DateField(widget=DateInput(), required=False, label="By when")

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = school.teams.order_by("kind", "name")
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save review"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("team") and not cleaned.get("action_text", "").strip():
            self.add_error("action_text", "Say what the team should do with this finding.")
        return cleaned
