from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef

from .models import (
    CycleTransition,
    Domain,
    Feedback,
    FeedbackAmendment,
    FollowUp,
    Indicator,
    IndicatorRating,
    Notification,
    Observation,
    ObservationCycle,
    RatingLevel,
    Reflection,
    Rubric,
)
from .rubric_io import rubric_in_use, rubric_new_version

IN_USE_MESSAGE = (
    "{rubric} is in use by {cycles} observation cycle(s), so it can no longer change: those "
    "observations were rated against it as it is. To edit it, choose “Create a new version (for "
    "editing)” in the rubric list and change the copy."
)
TEACHER_SEARCH = ["cycle__teacher__user__first_name", "cycle__teacher__user__last_name"]
OBSERVER_SEARCH = ["cycle__observer__user__first_name", "cycle__observer__user__last_name"]


class ViewOnlyMixin:
    """Rows written only by the portal's services (history, notifications)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def editable_rubrics():
    return Rubric.objects.filter(~Exists(ObservationCycle.objects.filter(rubric=OuterRef("pk"))))


class FrozenRubricMixin:
    """Rubric parts are read-only once observations use the rubric, and new parts can only be
    added to a rubric nobody uses yet."""

    def rubric_of(self, obj):
        raise NotImplementedError

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "rubric":
            kwargs["queryset"] = editable_rubrics()
        elif db_field.name == "domain":
            kwargs["queryset"] = Domain.objects.filter(rubric__in=editable_rubrics())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def is_frozen(self, obj):
        return obj is not None and rubric_in_use(self.rubric_of(obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self.is_frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self.is_frozen(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if request.method == "GET" and self.is_frozen(obj):
            rubric = self.rubric_of(obj)
            self.message_user(
                request,
                IN_USE_MESSAGE.format(rubric=rubric, cycles=rubric.cycles.count()),
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)


class FrozenInlineMixin:
    """An inline under a rubric (or domain) that is in use: shown, never changed."""

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not self._frozen(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._frozen(obj)

    def _frozen(self, parent):
        if parent is None:
            return False
        rubric = parent if isinstance(parent, Rubric) else parent.rubric
        return rubric_in_use(rubric)


# --- Rubrics --------------------------------------------------------------------------------------


class RatingLevelInline(FrozenInlineMixin, admin.TabularInline):
    model = RatingLevel
    extra = 0
    fields = ["value", "label", "descriptor"]


class DomainInline(FrozenInlineMixin, admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["order", "name"]
    show_change_link = True  # indicators are edited on the domain's page


class RubricForm(forms.ModelForm):
    class Meta:
        model = Rubric
        fields = ["district", "school", "lineage", "name", "description"]

    def clean_lineage(self):
        lineage = self.cleaned_data["lineage"]
        if self.instance.pk is None and Rubric.objects.filter(lineage=lineage).exists():
            raise ValidationError(
                "A rubric with this lineage exists. To change it, select it in the rubric list "
                "and create a new version."
            )
        return lineage


@admin.register(Rubric)
class RubricAdmin(FrozenRubricMixin, admin.ModelAdmin):
    form = RubricForm
    list_display = [
        "name",
        "version",
        "lineage",
        "scope",
        "is_current",
        "cycle_count",
        "created_at",
    ]
    list_filter = ["is_current", "district", "school"]
    search_fields = ["name", "lineage", "description"]
    list_select_related = ["district", "school"]
    readonly_fields = ["version", "is_current", "created_at"]
    inlines = [RatingLevelInline, DomainInline]
    actions = ["create_new_version"]

    def rubric_of(self, obj):
        return obj

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cycle_count=Count("cycles"))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # the lineage and scope are fixed once the rubric exists
            return [*self.readonly_fields, "lineage", "district", "school"]
        return self.readonly_fields

    @admin.display(description="District or school")
    def scope(self, rubric):
        return rubric.school or rubric.district

    @admin.display(description="Cycles", ordering="cycle_count")
    def cycle_count(self, rubric):
        return rubric.cycle_count

    @admin.action(description="Create a new version (for editing)")
    def create_new_version(self, request, queryset):
        for rubric in queryset:
            try:
                copy = rubric_new_version(rubric=rubric)
            except ValidationError as exc:
                self.message_user(request, f"{rubric}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Created {copy}, now the current version of {rubric.lineage}. Edit it; "
                f"{rubric} stays as it was for the observations rated against it.",
                messages.SUCCESS,
            )


class IndicatorInline(FrozenInlineMixin, admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["order", "code", "name", "description"]


@admin.register(Domain)
class DomainAdmin(FrozenRubricMixin, admin.ModelAdmin):
    list_display = ["name", "rubric", "order", "indicator_count"]
    list_filter = ["rubric__is_current", "rubric"]
    search_fields = ["name", "rubric__name", "rubric__lineage"]
    list_select_related = ["rubric"]
    inlines = [IndicatorInline]

    def rubric_of(self, domain):
        return domain.rubric

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(indicator_count=Count("indicators"))

    @admin.display(description="Indicators", ordering="indicator_count")
    def indicator_count(self, domain):
        return domain.indicator_count


@admin.register(Indicator)
class IndicatorAdmin(FrozenRubricMixin, admin.ModelAdmin):
    list_display = ["code", "name", "domain", "rubric"]
    list_filter = ["domain__rubric__is_current", "domain__rubric"]
    search_fields = ["code", "name", "description", "domain__name"]
    list_select_related = ["domain__rubric"]

    def rubric_of(self, indicator):
        return indicator.domain.rubric

    @admin.display(ordering="domain__rubric")
    def rubric(self, indicator):
        return indicator.domain.rubric


@admin.register(RatingLevel)
class RatingLevelAdmin(FrozenRubricMixin, admin.ModelAdmin):
    list_display = ["value", "label", "descriptor", "rubric"]
    list_filter = ["rubric__is_current", "rubric"]
    search_fields = ["label", "descriptor", "rubric__name"]
    list_select_related = ["rubric"]

    def rubric_of(self, level):
        return level.rubric


# --- Cycles ---------------------------------------------------------------------------------------


class CycleTransitionInline(admin.TabularInline):
    model = CycleTransition
    extra = 0
    fields = ["at", "from_status", "to_status", "by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ObservationCycle)
class ObservationCycleAdmin(admin.ModelAdmin):
    """Cycles start and move only through the portal's services (the state machine); the admin
    shows them and their history and can fix the plan, not the status."""

    list_display = [
        "teacher",
        "observer",
        "school",
        "status",
        "focus",
        "planned_for",
        "status_changed_at",
    ]
    list_filter = ["status", "school__district", "school", "rubric"]
    search_fields = [
        "teacher__user__first_name",
        "teacher__user__last_name",
        "observer__user__first_name",
        "observer__user__last_name",
    ]
    list_select_related = ["teacher__user", "observer__user", "school", "focus"]
    date_hierarchy = "created_at"
    fields = [
        "school",
        "teacher",
        "observer",
        "rubric",
        "focus",
        "planned_for",
        "status",
        "previous",
        "created_by",
        "created_at",
        "status_changed_at",
    ]
    readonly_fields = [
        "school",
        "teacher",
        "rubric",
        "status",
        "previous",
        "created_by",
        "created_at",
        "status_changed_at",
    ]
    autocomplete_fields = ["observer", "focus"]
    inlines = [CycleTransitionInline]

    def has_add_permission(self, request):
        return False  # cycle_start records the first transition; start cycles in the portal


@admin.register(CycleTransition)
class CycleTransitionAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["cycle", "from_status", "to_status", "by", "at"]
    list_filter = ["to_status", "cycle__school"]
    search_fields = [*TEACHER_SEARCH, *OBSERVER_SEARCH, "by__username"]
    list_select_related = ["cycle__teacher__user", "cycle__observer__user", "by"]
    date_hierarchy = "at"


class IndicatorRatingInline(admin.TabularInline):
    model = IndicatorRating
    extra = 0
    autocomplete_fields = ["indicator", "level"]


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ["cycle", "observed_at", "subject", "grade", "section", "completed_at"]
    list_filter = ["cycle__school", "subject", "grade"]
    search_fields = [*TEACHER_SEARCH, *OBSERVER_SEARCH, "subject", "evidence"]
    list_select_related = ["cycle__teacher__user", "cycle__observer__user"]
    readonly_fields = ["cycle", "updated_at", "completed_at"]
    date_hierarchy = "observed_at"
    inlines = [IndicatorRatingInline]

    def has_add_permission(self, request):
        return False


@admin.register(IndicatorRating)
class IndicatorRatingAdmin(admin.ModelAdmin):
    list_display = ["observation", "indicator", "level"]
    list_filter = ["level__value", "indicator__domain__rubric", "observation__cycle__school"]
    search_fields = [
        "indicator__code",
        "indicator__name",
        "observation__cycle__teacher__user__last_name",
    ]
    list_select_related = ["observation__cycle__teacher__user", "indicator", "level"]
    autocomplete_fields = ["indicator", "level"]
    readonly_fields = ["observation"]

    def has_add_permission(self, request):
        return False


class FeedbackAmendmentInline(admin.TabularInline):
    model = FeedbackAmendment
    extra = 0
    fields = ["at", "by", "text"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # amendments are written in the portal, by their author


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["cycle", "action_step", "practice_by", "shared_at"]
    list_filter = [("shared_at", admin.EmptyFieldListFilter), "cycle__school"]
    search_fields = [*TEACHER_SEARCH, *OBSERVER_SEARCH, "glows", "grow", "action_step"]
    list_select_related = ["cycle__teacher__user", "cycle__observer__user"]
    date_hierarchy = "shared_at"
    inlines = [FeedbackAmendmentInline]
    content_fields = ["glows", "grow", "action_step", "practice_by", "resources"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["cycle", "updated_at", "shared_at"]
        if obj is not None and obj.is_shared:  # shared feedback is frozen; amend it instead
            return [*fixed, *self.content_fields]
        return fixed

    def has_add_permission(self, request):
        return False


@admin.register(FeedbackAmendment)
class FeedbackAmendmentAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["feedback", "by", "at"]
    list_filter = ["feedback__cycle__school"]
    search_fields = ["text", "by__username", "feedback__cycle__teacher__user__last_name"]
    list_select_related = ["feedback__cycle__teacher__user", "by"]
    date_hierarchy = "at"


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["cycle", "acknowledged_at", "submitted_at", "usefulness"]
    list_filter = ["usefulness", ("submitted_at", admin.EmptyFieldListFilter), "cycle__school"]
    search_fields = [*TEACHER_SEARCH, "text", "usefulness_reason"]
    list_select_related = ["cycle__teacher__user", "cycle__observer__user"]
    readonly_fields = ["cycle", "acknowledged_at", "submitted_at"]

    def has_add_permission(self, request):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["cycle", "visited_on", "mastery", "recorded_at"]
    list_filter = ["mastery", "cycle__school"]
    search_fields = [*TEACHER_SEARCH, *OBSERVER_SEARCH, "notes"]
    list_select_related = ["cycle__teacher__user", "cycle__observer__user"]
    readonly_fields = ["cycle", "recorded_at"]
    date_hierarchy = "visited_on"

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["recipient", "message", "created_at", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["message", "recipient__username", "recipient__last_name"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
