from django.contrib import admin

from .models import (
    ActionItem,
    Assignment,
    Caseload,
    District,
    LeadershipTeam,
    School,
    StaffMember,
    TeamMembership,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "level", "lowest_grade", "highest_grade"]
    list_filter = ["district", "level"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ["school"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["full_name", "district", "expertise", "years_in_role"]
    list_filter = ["district", "assignments__position", "assignments__school"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "expertise"]
    list_select_related = ["user", "district"]
    autocomplete_fields = ["user"]
    inlines = [AssignmentInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["staff", "position", "school", "district", "start_date", "end_date"]
    list_filter = ["position", "district", "school"]
    search_fields = ["staff__user__first_name", "staff__user__last_name", "school__name"]
    list_select_related = ["staff__user", "school", "district"]
    autocomplete_fields = ["staff", "school"]
    date_hierarchy = "start_date"


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["staff"]
    fields = ["staff", "role", "start_date", "end_date", "closed_at"]


@admin.register(LeadershipTeam)
class LeadershipTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "school", "kind"]
    list_filter = ["kind", "school__district", "school"]
    search_fields = ["name", "focus", "school__name"]
    list_select_related = ["school"]
    inlines = [MembershipInline]


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["staff", "team", "role", "start_date", "end_date", "closed_at"]
    list_filter = ["role", "team__kind", "team__school"]
    search_fields = ["staff__user__first_name", "staff__user__last_name", "team__name"]
    list_select_related = ["staff__user", "team"]
    autocomplete_fields = ["team", "staff"]
    date_hierarchy = "start_date"


@admin.register(Caseload)
class CaseloadAdmin(admin.ModelAdmin):
    list_display = ["leader", "teacher", "school", "start_date", "end_date", "closed_at"]
    list_filter = ["school"]
    search_fields = [
        "leader__user__first_name",
        "leader__user__last_name",
        "teacher__user__first_name",
        "teacher__user__last_name",
    ]
    list_select_related = ["leader__user", "teacher__user", "school"]
    autocomplete_fields = ["leader", "teacher", "school"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["text", "team", "owner", "due_date", "done_at"]
    list_filter = ["team__school", "done_at"]
    search_fields = ["text", "team__name"]
    list_select_related = ["team", "owner__user"]
    autocomplete_fields = ["team", "owner"]
