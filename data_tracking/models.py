"""Students, classes, assessments and their results; imports; compiled dashboard snapshots.

Student data is FERPA-protected: every page that shows students reaches them through
``data_tracking.permissions`` and writes a ``StudentAccessLog`` row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from teams.models import District, School, StaffMember

GRADES = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
GRADE_CHOICES = [(grade, "Kindergarten" if grade == "K" else grade) for grade in GRADES]


class Subject(models.TextChoices):
    MATH = "math", "Mathematics"
    READING = "reading", "Reading"
    LANGUAGE = "language", "Language usage"
    SCIENCE = "science", "Science"
    OTHER = "other", "Other"


class Window(models.TextChoices):
    FALL = "fall", "Fall"
    WINTER = "winter", "Winter"
    SPRING = "spring", "Spring"


# Growth spans, in the order pages show them: (key in a snapshot's metrics["growth"], label).
GROWTH_SPANS = (
    ("fall-winter", "Fall to winter"),
    ("fall-spring", "Fall to spring"),
    ("winter-spring", "Winter to spring"),
    ("spring-spring", "Spring to spring"),
    ("fall-fall", "Fall to fall"),
)


class Student(models.Model):
    class Ethnicity(models.TextChoices):
        AMERICAN_INDIAN = "american_indian", "American Indian or Alaska Native"
        ASIAN = "asian", "Asian"
        BLACK = "black", "Black or African American"
        HISPANIC = "hispanic", "Hispanic or Latino"
        PACIFIC_ISLANDER = "pacific_islander", "Native Hawaiian or Other Pacific Islander"
        WHITE = "white", "White"
        MULTIRACIAL = "multiracial", "Two or more races"
        UNKNOWN = "", "Not reported"

    class Gender(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        NONBINARY = "X", "Non-binary"
        UNKNOWN = "", "Not reported"

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="students")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    local_id = models.CharField(max_length=64, help_text="The district's student number.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    grade = models.CharField(max_length=2, choices=GRADE_CHOICES)
    birth_date = models.DateField(null=True, blank=True)
    english_learner = models.BooleanField(default=False)
    special_education = models.BooleanField(default=False)
    economically_disadvantaged = models.BooleanField(default=False)
    ethnicity = models.CharField(max_length=20, choices=Ethnicity.choices, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "local_id"], name="student_unique_local_id"
            ),
        ]
        indexes = [models.Index(fields=["school", "grade"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class Section(models.Model):
    """A class a teacher teaches in a term."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="sections")
    teacher = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="sections"
    )
    source_id = models.CharField(max_length=120, help_text="The roster's id for the class.")
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=20, choices=Subject.choices)
    grade = models.CharField(max_length=2, choices=GRADE_CHOICES, blank=True)
    term = models.CharField(max_length=40, blank=True)
    students = models.ManyToManyField(Student, through="Enrollment", related_name="sections")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "source_id"], name="section_unique_source"),
        ]

    def __str__(self):
        return self.name


class Enrollment(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "student"], name="enrollment_unique"),
        ]

    def __str__(self):
        return f"{self.student} in {self.section}"


class Assessment(models.Model):
    """One administration: e.g. MAP Growth Math, fall 2026-2027."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="assessments")
    name = models.CharField(max_length=120)
    subject = models.CharField(max_length=20, choices=Subject.choices)
    school_year = models.CharField(max_length=9, help_text="e.g. 2026-2027")
    window = models.CharField(max_length=10, choices=Window.choices)
    administered_on = models.DateField(null=True, blank=True)
    scale = models.CharField(max_length=40, blank=True, help_text="e.g. RIT, scaled score")

    class Meta:
        ordering = ["school_year", "window", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name", "subject", "school_year", "window"],
                name="assessment_unique_administration",
            ),
        ]

    def __str__(self):
        return f"{self.name} · {self.get_window_display()} {self.school_year}"


class PerformanceLevel(models.Model):
    """Cut scores: a score at or above ``min_score`` reaches this level."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="levels")
    rank = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=60)
    min_score = models.DecimalField(max_digits=8, decimal_places=2)
    is_proficient = models.BooleanField(default=False)

    class Meta:
        ordering = ["assessment", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "rank"], name="level_unique_rank"),
        ]

    def __str__(self):
        return f"{self.label} (≥ {self.min_score})"


class AssessmentResult(models.Model):
    """One student's result on one assessment, with where and when it was taken: the school,
    grade, class and teacher of record at the time of the test. They never follow the student
    afterwards, so a past window's figures never change when a student moves on."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="results")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="results")
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="results", help_text="Where it was taken."
    )
    grade = models.CharField(
        max_length=2, choices=GRADE_CHOICES, help_text="The student's grade when tested."
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="results",
        help_text="The class of record, where the file says so.",
    )
    teacher = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The teacher of record, where the file says so.",
    )
    score = models.DecimalField(max_digits=8, decimal_places=2)
    level_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    percentile = models.PositiveSmallIntegerField(null=True, blank=True)
    standard_error = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    tested_on = models.DateField(null=True, blank=True)
    # The growth the file expects of this student from this test (NWEA's Typical*Growth columns):
    # growth is judged against the start test's own figure for the span.
    typical_fall_to_winter = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    typical_fall_to_spring = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    typical_winter_to_spring = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    typical_spring_to_spring = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    typical_fall_to_fall = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    goals = models.JSONField(
        default=list,
        db_default=[],  # for rows written by a COPY merge that does not carry the column
        blank=True,
        help_text="Goal (strand) scores: [{name, rit, adjective}], in the file's order.",
    )
    projections = models.JSONField(
        default=list,
        db_default=[],  # for rows written by a COPY merge that does not carry the column
        blank=True,
        help_text="Projected proficiency: [{study, level}], as the file states them.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "student"], name="result_one_per_student"
            ),
        ]
        indexes = [
            # A compile reads one school's results: this lets PostgreSQL find them by student,
            # index-only, instead of scanning the whole table for every school
            # (docs/performance.md). SQLite skips covering indexes (models.W040, silenced there).
            models.Index(
                fields=["student", "assessment"],
                include=["score", "level_rank"],
                name="result_by_student",
            ),
            # ... and a school's compile reads the results taken there.
            models.Index(fields=["school", "assessment"], name="result_by_school"),
        ]

    def __str__(self):
        return f"{self.student}: {self.score}"


class ImportBatch(models.Model):
    class Kind(models.TextChoices):
        ONEROSTER = "oneroster", "OneRoster 1.1 roster"
        MAP_CDF = "map_cdf", "NWEA MAP Comprehensive Data File"
        CSV = "csv", "Assessment results (plain CSV)"

    class Mode(models.TextChoices):
        STRICT = "strict", "Strict: import nothing if any row is wrong"
        SKIP = "skip", "Skip bad rows: import the valid ones, report the rest"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        SUCCEEDED = "succeeded", "Imported"
        FAILED = "failed", "Not imported"

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="imports")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.STRICT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    upload = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_command_line = models.BooleanField(
        default=False,
        help_text="Run with a management command on the server: it may change every school of "
        "the district. An upload may change the schools its uploader manages.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker started it (again after a worker died)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="[{file, line, column, reason}]")
    schools_touched = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"{self.get_kind_display()} · {self.original_name}"


class DashboardSnapshot(models.Model):
    """A compiled view of student progress for one scope, subject and window. Pages read these,
    never raw results. A recompile of unchanged data is a no-op (same ``fingerprint``)."""

    class Scope(models.TextChoices):
        SCHOOL = "school", "School"
        GRADE = "grade", "Grade"
        SECTION = "section", "Class"
        CASELOAD = "caseload", "Caseload"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="snapshots")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    scope_key = models.CharField(max_length=40, blank=True, help_text="grade, section or leader id")
    subject = models.CharField(max_length=20, choices=Subject.choices)
    school_year = models.CharField(max_length=9)
    window = models.CharField(max_length=10, choices=Window.choices)
    metrics = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64)
    compiled_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-compiled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "scope", "scope_key", "subject", "school_year", "window"],
                condition=Q(is_current=True),
                name="snapshot_one_current_per_scope",
            ),
        ]
        indexes = [models.Index(fields=["school", "is_current", "scope"])]

    def __str__(self):
        return f"{self.school} · {self.scope} {self.scope_key} · {self.subject} {self.window}"

    def get_dashboard_url(self):
        """The dashboard page that shows this snapshot's scope, subject and window."""
        query = f"?subject={self.subject}&period={self.school_year}:{self.window}"
        if self.scope == self.Scope.GRADE:
            path = reverse("data_tracking:grade_dashboard", args=[self.school.slug, self.scope_key])
        elif self.scope == self.Scope.SECTION:
            path = reverse("data_tracking:section_dashboard", args=[self.scope_key])
            query = f"?period={self.school_year}:{self.window}"
        else:
            path = reverse("data_tracking:school_dashboard", args=[self.school.slug])
        return path + query

    @property
    def growth(self):
        """``[(span, label, figures)]`` for the growth spans ending in this window that have
        matched pairs, in GROWTH_SPANS order."""
        growth = self.metrics.get("growth") or {}
        return [
            (span, label, growth[span])
            for span, label in GROWTH_SPANS
            if growth.get(span, {}).get("pairs")
        ]

    @property
    def growth_headline(self):
        """The span a meeting or a review leads with: the longest within the year, else the
        year-on-year one, else winter to spring. None without matched pairs."""
        spans = {span: (span, label, figures) for span, label, figures in self.growth}
        for span in ("fall-spring", "fall-winter", "fall-fall", "spring-spring", "winter-spring"):
            if span in spans:
                return spans[span]
        return None


class DashboardReview(models.Model):
    snapshot = models.ForeignKey(
        DashboardSnapshot, on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reviewed_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self):
        return f"Review of {self.snapshot} by {self.reviewer}"


class StudentAccessLog(models.Model):
    """Who looked at which students, when: every student-level page writes one row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=300)
    student_ids = models.JSONField(default=list)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["school", "at"])]

    def __str__(self):
        return f"{self.user} viewed {len(self.student_ids)} students at {self.at:%Y-%m-%d %H:%M}"
