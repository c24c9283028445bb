"""Survey rounds in the admin. Individual responses are not listed: a response's position group
alone can identify someone (a school has one principal), so the admin shows only counts.

A finished round is final here too: its page is read-only and it cannot be deleted, because
reopening a round, letting one more person answer and comparing the results would give that
person's answers away. An unfinished round's title and last day can change, through
``services.round_update``; it is opened and closed from the school's survey page.
"""

from django import forms
from django.contrib import admin

from . import services
from .models import SurveyRound
from .selectors import with_response_counts


class SurveyRoundChangeForm(forms.ModelForm):
    class Meta:
        model = SurveyRound
        fields = ["title", "closes_on"]

    def clean(self):
        cleaned = super().clean()
        if "title" in cleaned and "closes_on" in cleaned:
            services.round_update_check(
                survey_round=self.instance, title=cleaned["title"], closes_on=cleaned["closes_on"]
            )
        return cleaned


@admin.register(SurveyRound)
class SurveyRoundAdmin(admin.ModelAdmin):
    form = SurveyRoundChangeForm
    list_display = ["title", "school", "school_year", "opens_on", "closes_on", "closed_at"]
    list_display += ["finalized_at", "response_count"]
    list_filter = ["school_year", "school__district"]
    search_fields = ["title", "school__name"]
    fields = ["school", "title", "school_year", "opens_on", "closes_on", "closed_at"]
    fields += ["finalized_at", "response_count", "opened_by", "closed_by", "created_at"]
    readonly_fields = [name for name in fields if name not in SurveyRoundChangeForm.Meta.fields]
    list_select_related = ["school"]

    def get_queryset(self, request):
        return with_response_counts(super().get_queryset(request))

    @admin.display(description="Responses", ordering="response_count")
    def response_count(self, survey_round):
        return survey_round.response_count

    def has_add_permission(self, request):
        return False  # rounds are opened from the school's survey page, which checks the rules

    def has_change_permission(self, request, obj=None):
        # Without change permission the admin shows every field read-only and refuses a POST.
        if obj is not None and obj.is_finished:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Only a round nobody has answered and that has not finished; never in bulk.
        if obj is None or obj.is_finished or obj.participations.exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.round_update(
            survey_round=obj,
            title=form.cleaned_data["title"],
            closes_on=form.cleaned_data["closes_on"],
        )
