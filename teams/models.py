"""Districts, schools, staff and the leadership structure of a school.

History is never deleted: a role or caseload that ends gets an end date and a closing stamp, and a
new row records the next one. "Active" means not yet closed.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class District(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class School(models.Model):
    class Level(models.TextChoices):
        ELEMENTARY = "elementary", "Elementary"
        MIDDLE = "middle", "Middle"
        HIGH = "high", "High"
        K8 = "k8", "K-8"
        OTHER = "other", "Other"

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    level = models.CharField(max_length=20, choices=Level.choices)
    lowest_grade = models.CharField(max_length=2, default="K")
    highest_grade = models.CharField(max_length=2, default="5")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="school_unique_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("teams:school_detail", args=[self.slug])

    @property
    def grade_span(self):
        return f"{self.lowest_grade}–{self.highest_grade}"


class ContentArea(models.TextChoices):
    ELA = "ela", "English language arts"
    MATH = "math", "Mathematics"
    SCIENCE = "science", "Science"
    SOCIAL_STUDIES = "social_studies", "Social studies"
    WORLD_LANGUAGES = "world_languages", "World languages"
    ARTS = "arts", "Arts"
    PE_HEALTH = "pe_health", "PE and health"
    SPECIAL_EDUCATION = "special_education", "Special education"
    ENGLISH_LEARNERS = "english_learners", "English learners"
    CTE = "cte", "Career and technical education"
    GENERAL = "general", "General (self-contained)"


class GradeBand(models.TextChoices):
    EARLY = "k2", "K–2"
    UPPER_ELEMENTARY = "3_5", "3–5"
    MIDDLE = "6_8", "6–8"
    HIGH = "9_12", "9–12"


class StaffMember(models.Model):
    """A person's professional profile; the login is Django's user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="staff")
    content_areas = models.JSONField(default=list, blank=True)
    grade_bands = models.JSONField(default=list, blank=True)
    expertise = models.CharField(
        max_length=300,
        blank=True,
        help_text="Areas of expertise a principal looks at when forming teams.",
    )
    years_in_role = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def content_area_labels(self):
        labels = dict(ContentArea.choices)
        return [labels.get(code, code) for code in self.content_areas]

    @property
    def grade_band_labels(self):
        labels = dict(GradeBand.choices)
        return [labels.get(code, code) for code in self.grade_bands]


class AssignmentQuerySet(models.QuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(Q(start_date__lte=on), Q(end_date__isnull=True) | Q(end_date__gte=on))


class Assignment(models.Model):
    """A staff member's position at a school (or, for district leaders, the district)."""

    class Position(models.TextChoices):
        PRINCIPAL = "principal", "Principal"
        ASSISTANT_PRINCIPAL = "assistant_principal", "Assistant principal"
        TEACHER = "teacher", "Teacher"
        COACH = "coach", "Coach"
        DISTRICT_LEADER = "district_leader", "District leader"

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="assignments")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="assignments")
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="assignments", null=True, blank=True
    )
    position = models.CharField(max_length=30, choices=Position.choices)
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["school__name", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(position="district_leader") | Q(school__isnull=False),
                name="assignment_school_required",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["school", "position"])]

    def __str__(self):
        where = self.school or self.district
        return f"{self.staff} — {self.get_position_display()}, {where}"


class LeadershipTeam(models.Model):
    class Kind(models.TextChoices):
        ILT = "ilt", "Instructional leadership team"
        GRADE_LEVEL = "grade_level", "Grade-level team"
        CONTENT = "content", "Content team / PLC"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="teams")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120)
    focus = models.TextField(
        blank=True, help_text="The team's vision and goals for the year, in a few sentences."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="team_unique_name_per_school"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("teams:team_detail", args=[self.pk])


class TeamRole(models.TextChoices):
    TEAM_LEAD = "team_lead", "Team lead"
    FACILITATOR = "facilitator", "Facilitator"
    DATA_LEAD = "data_lead", "Data lead"
    NOTE_TAKER = "note_taker", "Note-taker"
    CONTENT_LEAD = "content_lead", "Content lead"
    GRADE_LEVEL_LEAD = "grade_level_lead", "Grade-level lead"
    MEMBER = "member", "Member"


class ActiveQuerySet(models.QuerySet):
    """Shared vocabulary for rows that close instead of being deleted."""

    def active(self):
        return self.filter(closed_at__isnull=True)

    def ended(self):
        return self.filter(closed_at__isnull=False)

    def due_to_close(self, today=None):
        today = today or timezone.localdate()
        return self.active().filter(end_date__lt=today)


class TeamMembership(models.Model):
    """A person's role on a team between two dates. Ending it keeps the row."""

    team = models.ForeignKey(LeadershipTeam, on_delete=models.CASCADE, related_name="memberships")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=30, choices=TeamRole.choices, default=TeamRole.MEMBER)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ActiveQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "staff"],
                condition=Q(closed_at__isnull=True),
                name="membership_one_active_per_person_per_team",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="membership_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["staff", "closed_at"])]

    def __str__(self):
        return f"{self.staff} — {self.get_role_display()}, {self.team}"

    @property
    def is_active(self):
        return self.closed_at is None


class Caseload(models.Model):
    """A teacher a teacher leader (or coach) is responsible for developing, between two dates."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="caseloads")
    leader = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="caseload")
    teacher = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="developed_by")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ActiveQuerySet.as_manager()

    class Meta:
        ordering = ["leader__user__last_name", "teacher__user__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "leader", "teacher"],
                condition=Q(closed_at__isnull=True),
                name="caseload_one_active_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(leader=models.F("teacher")), name="caseload_leader_is_not_teacher"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="caseload_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.leader} develops {self.teacher}"

    @property
    def is_active(self):
        return self.closed_at is None


class ActionItem(models.Model):
    """A follow-up a team owns: who does what by when. Findings from elsewhere in the portal (a
    dashboard review, say) arrive here with a link back to where they came from."""

    team = models.ForeignKey(LeadershipTeam, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    source_label = models.CharField(max_length=200, blank=True)
    source_url = models.CharField(max_length=300, blank=True)
    meeting = models.ForeignKey(
        "Meeting",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
        help_text="The meeting that raised it, if one did.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_at", "due_date", "-created_at"]
        indexes = [models.Index(fields=["team", "done_at"])]

    def __str__(self):
        return self.text

    @property
    def is_done(self):
        return self.done_at is not None


class Meeting(models.Model):
    """One sitting of a team: its agenda, attendance, notes, decisions and the action items
    raised. Meetings scheduled together as a recurring series share a ``series`` id."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    team = models.ForeignKey(LeadershipTeam, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=45)
    location = models.CharField(max_length=120, blank=True)
    purpose = models.CharField(
        max_length=200, blank=True, help_text="What this meeting is for, in a line."
    )
    facilitator = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="facilitated_meetings",
    )
    note_taker = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    series = models.UUIDField(null=True, blank=True, db_index=True)
    notes = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["team", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=480),
                name="meeting_duration_5_to_480",
            ),
        ]

    def __str__(self):
        return f"{self.team} — {timezone.localtime(self.starts_at):%a %-d %b %Y, %H:%M}"

    def get_absolute_url(self):
        return reverse("teams:meeting_detail", args=[self.pk])

    @property
    def ends_at(self):
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)

    @property
    def is_open(self):
        """Scheduled or in progress: the agenda can still change."""
        return self.status in (self.Status.SCHEDULED, self.Status.IN_PROGRESS)


class AgendaItem(models.Model):
    """A topic for a meeting, time-boxed and owned. ``meeting`` is empty while the item waits for
    the team's next meeting (a finding sent to a team that has none scheduled)."""

    team = models.ForeignKey(LeadershipTeam, on_delete=models.CASCADE, related_name="agenda_items")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="agenda_items"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    minutes = models.PositiveSmallIntegerField(default=10)
    owner = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="agenda_items"
    )
    snapshot = models.ForeignKey(
        "data_tracking.DashboardSnapshot",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agenda_items",
    )
    link_label = models.CharField(max_length=200, blank=True)
    link_url = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    discussed_at = models.DateTimeField(null=True, blank=True)
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carried_to",
        help_text="The topic of an earlier meeting that did not get to it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=240), name="agenda_item_minutes"
            ),
        ]

    def __str__(self):
        return self.title


class Decision(models.Model):
    """What a team decided at a meeting, in a sentence or two."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    text = models.CharField(max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self):
        return self.text


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PRESENT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "staff"], name="attendance_once_per_person")
        ]

    def __str__(self):
        return f"{self.staff}: {self.get_status_display()}"
