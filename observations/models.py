"""Rubrics and the observation → feedback → reflection → follow-up cycle."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from teams.models import District, School, StaffMember


class Rubric(models.Model):
    """A picture of excellent instruction. Versioned: a rubric with ratings is never edited in
    place; a new version is created and old observations keep pointing at the one they used."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="rubrics"
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="rubrics"
    )
    lineage = models.SlugField(
        max_length=80, help_text="Stays the same across versions of one rubric."
    )
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lineage", "version"], name="rubric_unique_version"),
            models.UniqueConstraint(
                fields=["lineage"],
                condition=Q(is_current=True),
                name="rubric_one_current_version",
            ),
            models.CheckConstraint(
                condition=Q(district__isnull=False) | Q(school__isnull=False),
                name="rubric_scoped_to_district_or_school",
            ),
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"


class RatingLevel(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="levels")
    value = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=60)
    descriptor = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rubric", "value"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "value"], name="level_unique_value"),
        ]

    def __str__(self):
        return f"{self.value} — {self.label}"


class Domain(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rubric", "order", "pk"]

    def __str__(self):
        return self.name


class Indicator(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(max_length=12)
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["domain__order", "order", "pk"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Status(models.TextChoices):
    PLANNED = "planned", "Planned"
    OBSERVED = "observed", "Observed"
    FEEDBACK_SHARED = "feedback_shared", "Feedback shared"
    REFLECTED = "reflected", "Reflected"
    FOLLOWED_UP = "followed_up", "Followed up"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


# The legal moves of a cycle, in one place. A teacher who never reflects must not stall the
# cycle, so a follow-up may come straight after shared feedback.
TRANSITIONS = {
    Status.PLANNED: {Status.OBSERVED, Status.CANCELLED},
    Status.OBSERVED: {Status.FEEDBACK_SHARED, Status.CANCELLED},
    Status.FEEDBACK_SHARED: {Status.REFLECTED, Status.FOLLOWED_UP},
    Status.REFLECTED: {Status.FOLLOWED_UP},
    Status.FOLLOWED_UP: {Status.CLOSED},
    Status.CLOSED: set(),
    Status.CANCELLED: set(),
}
OPEN_STATUSES = [s for s in Status if s not in (Status.CLOSED, Status.CANCELLED)]


class CycleQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class ObservationCycle(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="cycles")
    teacher = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="cycles_as_teacher"
    )
    observer = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="cycles_as_observer"
    )
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="cycles")
    focus = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    planned_for = models.DateField(null=True, blank=True)
    previous = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_cycle"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    objects = CycleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(teacher=models.F("observer")), name="cycle_observer_is_not_teacher"
            ),
            models.UniqueConstraint(
                fields=["teacher", "observer"],
                condition=Q(status__in=OPEN_STATUSES),
                name="cycle_one_open_per_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["teacher", "status"]),
            models.Index(fields=["observer", "status"]),
        ]

    def __str__(self):
        return f"{self.teacher} observed by {self.observer} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("observations:cycle_detail", args=[self.pk])

    def can_move_to(self, status):
        return status in TRANSITIONS[Status(self.status)]


class CycleTransition(models.Model):
    """Who moved a cycle, when, from where to where."""

    cycle = models.ForeignKey(
        ObservationCycle, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class Observation(models.Model):
    cycle = models.OneToOneField(
        ObservationCycle, on_delete=models.CASCADE, related_name="observation"
    )
    observed_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    subject = models.CharField(max_length=80, blank=True)
    grade = models.CharField(max_length=10, blank=True)
    section = models.CharField(max_length=80, blank=True, help_text="Class or period, if known.")
    evidence = models.TextField(blank=True, help_text="What was seen and heard.")
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Observation of {self.cycle.teacher}"


class IndicatorRating(models.Model):
    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="ratings")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="ratings")
    level = models.ForeignKey(RatingLevel, on_delete=models.PROTECT, related_name="ratings")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["observation", "indicator"], name="rating_one_per_indicator"
            ),
        ]

    def __str__(self):
        return f"{self.indicator.code}: {self.level.value}"


class Feedback(models.Model):
    """Glows, one grow, one bite-sized action step. Draft until shared; then it is frozen and
    changes are appended as amendments."""

    cycle = models.OneToOneField(
        ObservationCycle, on_delete=models.CASCADE, related_name="feedback"
    )
    glows = models.TextField(blank=True)
    grow = models.TextField(blank=True)
    action_step = models.CharField(max_length=300, blank=True)
    practice_by = models.DateField(null=True, blank=True)
    resources = models.TextField(blank=True, help_text="One link per line.")
    updated_at = models.DateTimeField(auto_now=True)
    shared_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Feedback for {self.cycle.teacher}"

    @property
    def is_shared(self):
        return self.shared_at is not None

    @property
    def resource_links(self):
        return [line.strip() for line in self.resources.splitlines() if line.strip()]


class FeedbackAmendment(models.Model):
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="amendments")
    text = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"Amendment by {self.by} on {self.at:%Y-%m-%d}"


class Reflection(models.Model):
    class Usefulness(models.IntegerChoices):
        NOT_USEFUL = 1, "Not useful"
        SOMEWHAT = 2, "Somewhat useful"
        USEFUL = 3, "Useful"
        VERY_USEFUL = 4, "Very useful"

    cycle = models.OneToOneField(
        ObservationCycle, on_delete=models.CASCADE, related_name="reflection"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    text = models.TextField(blank=True)
    usefulness = models.PositiveSmallIntegerField(choices=Usefulness.choices, null=True, blank=True)
    usefulness_reason = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Reflection of {self.cycle.teacher}"


class FollowUp(models.Model):
    class Mastery(models.TextChoices):
        NOT_YET = "not_yet", "Not yet"
        PARTLY = "partly", "Partly"
        MASTERED = "mastered", "Mastered"

    cycle = models.OneToOneField(
        ObservationCycle, on_delete=models.CASCADE, related_name="follow_up"
    )
    visited_on = models.DateField()
    mastery = models.CharField(max_length=10, choices=Mastery.choices)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Follow-up: {self.get_mastery_display()}"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )

    class Kind(models.TextChoices):
        FEEDBACK_SHARED = "feedback_shared", "Feedback shared"
        REFLECTION = "reflection", "Reflection written"
        DIGEST = "digest", "Daily digest"

    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.message
