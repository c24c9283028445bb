"""The leadership self-assessment survey: rounds, anonymous responses and their answers.

Anonymity is built into the tables, not only the pages:

- ``Participation`` records *that* a staff member answered a round (to stop a second answer);
  ``SurveyResponse`` records *what* was answered. Nothing links the two: a response has no user,
  no timestamp, and a random UUID primary key, and its answers have random UUID keys too.
- Nor does the database's own bookkeeping link them. While a round is open, answers wait in
  ``PendingResponse``, sealed (``sealing``); only when the round is finalized do they all become
  responses, in one transaction and a random order (``services.round_finalize``). So on
  PostgreSQL every response of a round shares one ``xmin`` with the others and none with a
  participation, and the physical row order is shuffled.
- A response keeps only a broad position group (``SurveyResponse.Position``), never the exact
  team or role.
- Results leave the database only for finalized rounds, and only for groups of
  ``MIN_RESPONSES`` or more (see ``selectors``). A finalized round is final: it stays closed.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from teams.models import School, StaffMember

from .survey_items import ELEMENTS, SCALE_VALUES


class SurveyRoundQuerySet(models.QuerySet):
    def accepting_answers(self, today=None):
        today = today or timezone.localdate()
        return self.filter(
            closed_at__isnull=True,
            finalized_at__isnull=True,
            opens_on__lte=today,
            closes_on__gte=today,
        )

    def finished(self, today=None):
        """Closed by hand, or past the last day to answer: no more answers; results once
        finalized."""
        today = today or timezone.localdate()
        return self.filter(
            Q(closed_at__isnull=False) | Q(finalized_at__isnull=False) | Q(closes_on__lt=today)
        )

    def awaiting_finalization(self, today=None):
        return self.finished(today).filter(finalized_at__isnull=True)


class SurveyRound(models.Model):
    """One administration of the survey at one school (at most two per school year)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="survey_rounds")
    title = models.CharField(max_length=80, help_text="For example “Fall 2026”.")
    school_year = models.CharField(max_length=9, help_text="Set from the opening date.")
    opens_on = models.DateField(default=timezone.localdate)
    closes_on = models.DateField(help_text="The last day staff can answer.")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the round's pending answers became responses. From then on the round is final: it
    # takes no answers, its dates do not change, and its results never change.
    finalized_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SurveyRoundQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school"],
                condition=Q(closed_at__isnull=True),
                name="survey_round_one_unclosed_per_school",
            ),
            models.UniqueConstraint(
                fields=["school", "title"], name="survey_round_unique_title_per_school"
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")),
                name="survey_round_closes_after_opening",
            ),
            # A finalized round cannot be reopened by clearing closed_at (admin, shell, SQL).
            models.CheckConstraint(
                condition=Q(finalized_at__isnull=True) | Q(closed_at__isnull=False),
                name="survey_round_finalized_stays_closed",
            ),
        ]

    def __str__(self):
        return f"{self.title} — {self.school}"

    def get_absolute_url(self):
        return reverse("leadership:survey_results", args=[self.pk])

    def status(self, today=None):
        """ "scheduled", "open" or "closed"."""
        today = today or timezone.localdate()
        if self.finalized_at is not None or self.closed_at is not None or self.closes_on < today:
            return "closed"
        return "scheduled" if self.opens_on > today else "open"

    @property
    def is_open(self):
        return self.status() == "open"

    def is_finished_on(self, today=None):
        return self.status(today) == "closed"

    @property
    def is_finished(self):
        return self.is_finished_on()


class Participation(models.Model):
    """That a staff member has answered a round. Deliberately says nothing about what."""

    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="participations")
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="survey_participations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "staff"], name="participation_once_per_round")
        ]

    def __str__(self):
        return f"{self.staff} answered {self.round}"


class SurveyResponse(models.Model):
    """One anonymous set of answers: no user, no time, a random key. Written only when its round
    is finalized, together with every other response of the round."""

    class Position(models.TextChoices):
        TEACHER = "teacher", "Teachers"
        TEACHER_LEADER = "teacher_leader", "Teacher leaders"
        COACH = "coach", "Coaches"
        SCHOOL_LEADER = "school_leader", "Principals and assistant principals"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="responses")
    position = models.CharField(max_length=20, choices=Position.choices)

    class Meta:
        # Never by id or insertion order anywhere: a random but stable order.
        ordering = ["id"]

    def __str__(self):
        return f"A response to {self.round}"


class Answer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    item = models.CharField(max_length=60, help_text="The item's stable key (survey_items.py).")
    element = models.CharField(
        max_length=20, choices=[(e.key, e.name) for e in ELEMENTS], db_index=True
    )
    value = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["element", "item"]
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="answer_once_per_item"),
            models.CheckConstraint(
                condition=Q(value__gte=min(SCALE_VALUES)) & Q(value__lte=max(SCALE_VALUES)),
                name="answer_value_on_scale",
            ),
        ]

    def __str__(self):
        return f"{self.item}: {self.value}"


class PendingResponse(models.Model):
    """One set of answers waiting, sealed, for its round to be finalized. Written in the same
    transaction as its ``Participation``, so it holds nothing readable but a position group
    (which the staff tables already give away): no user, no time, a random key, and answers
    only the application's key can open. Deleted when the round is finalized."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(
        SurveyRound, on_delete=models.CASCADE, related_name="pending_responses"
    )
    position = models.CharField(max_length=20, choices=SurveyResponse.Position.choices)
    sealed_answers = models.TextField(help_text="Fernet token (leadership.sealing).")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"A pending response to {self.round}"
