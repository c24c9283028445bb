"""Survey rounds in the admin. Individual responses are not listed: a response's position group
alone can identify someone (a school has one principal), so the admin shows only counts."""

from django.contrib import admin
from django.db.models import Count

from .models import SurveyRound


@admin.register(SurveyRound)
class SurveyRoundAdmin(admin.ModelAdmin):
    list_display = ["title", "school", "school_year", "opens_on", "closes_on", "closed_at"]
    list_display += ["response_count"]
    list_filter = ["school_year", "school__district"]
    search_fields = ["title", "school__name"]
    readonly_fields = ["school_year", "response_count", "opened_by", "closed_by", "created_at"]
    fields = ["school", "title", "school_year", "opens_on", "closes_on", "closed_at"]
    fields += readonly_fields[1:]
    list_select_related = ["school"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(response_total=Count("responses"))

    @admin.display(description="Responses", ordering="response_total")
    def response_count(self, survey_round):
        return survey_round.response_total

    def has_add_permission(self, request):
        return False  # rounds are opened from the school's survey page, which checks the rules
