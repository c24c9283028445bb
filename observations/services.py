"""Writes for observation cycles. Every status change goes through ``cycle_transition``."""

import logging
import smtplib
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from teams.models import Assignment

from .models import (
    TRANSITIONS,
    CycleTransition,
    Feedback,
    FeedbackAmendment,
    FollowUp,
    Indicator,
    IndicatorRating,
    Notification,
    Observation,
    ObservationCycle,
    Reflection,
    Rubric,
    Status,
)

logger = logging.getLogger(__name__)


def cycle_transition(*, cycle, to, by):
    """Move ``cycle`` to status ``to``, or refuse loudly. Records who and when."""
    current = Status(cycle.status)
    to = Status(to)
    if to not in TRANSITIONS[current]:
        allowed = (
            ", ".join(s.label.lower() for s in Status if s in TRANSITIONS[current])
            or "nothing (it is over)"
        )
        raise ValidationError(
            f"A cycle that is “{current.label.lower()}” cannot become “{to.label.lower()}”. "
            f"From here it can go to: {allowed}."
        )
    cycle.status = to
    cycle.status_changed_at = timezone.now()
    cycle.save(update_fields=["status", "status_changed_at"])
    CycleTransition.objects.create(cycle=cycle, from_status=current, to_status=to, by=by)
    return cycle


def _lock(cycle):
    return ObservationCycle.objects.select_for_update().get(pk=cycle.pk)


def notify(*, user, message, url="", kind=""):
    return Notification.objects.create(recipient=user, message=message, url=url, kind=kind)


@transaction.atomic
def cycle_start(*, school, teacher, observer, by, focus=None, planned_for=None, previous=None):
    if teacher == observer:
        raise ValidationError({"teacher": "You cannot observe yourself."})
    on = timezone.localdate()
    if not Assignment.objects.current(on).filter(staff=teacher, school=school).exists():
        raise ValidationError({"teacher": f"{teacher} does not work at {school}."})
    # A focus carried forward keeps the rubric version its cycle used.
    rubric = focus.domain.rubric if focus else current_rubric_for(school)
    if focus and not _rubric_applies(rubric, school):
        raise ValidationError({"focus": "That indicator belongs to another school's rubric."})
    if rubric is None:
        raise ValidationError(
            "No rubric is set up for this school yet. An administrator loads one in the admin site."
        )
    if teacher.cycles_as_teacher.open().filter(observer=observer).exists():
        raise ValidationError(
            {"teacher": f"{teacher} already has an open cycle with you. Finish or cancel it first."}
        )
    try:
        with transaction.atomic():
            cycle = ObservationCycle.objects.create(
                school=school,
                teacher=teacher,
                observer=observer,
                rubric=rubric,
                focus=focus,
                planned_for=planned_for,
                previous=previous,
                created_by=by,
            )
    except IntegrityError as exc:  # a double submit raced past the check above
        raise ValidationError(
            {"teacher": f"{teacher} already has an open cycle with you. Finish or cancel it first."}
        ) from exc
    CycleTransition.objects.create(cycle=cycle, from_status="", to_status=Status.PLANNED, by=by)
    return cycle


def _rubric_applies(rubric, school):
    if rubric.school_id is not None:
        return rubric.school_id == school.pk
    return rubric.district_id == school.district_id


def current_rubric_for(school):
    """The school's own current rubric, else its district's."""
    rubrics = Rubric.objects.filter(is_current=True)
    return (
        rubrics.filter(school=school).first()
        or rubrics.filter(district=school.district_id, school__isnull=True).first()
    )


@transaction.atomic
def observation_save(*, cycle, fields, ratings=None):
    """Save what has been typed so far (autosave calls this too). Never changes the status."""
    cycle = _lock(cycle)
    if cycle.status not in (Status.PLANNED, Status.OBSERVED):
        raise ValidationError("Feedback has been shared: the observation can no longer change.")
    observation, _ = Observation.objects.get_or_create(cycle=cycle)
    for name, value in fields.items():
        setattr(observation, name, value)
    observation.save()
    if ratings is not None:
        _save_ratings(observation, ratings)
    return observation


def _save_ratings(observation, ratings):
    """``ratings`` maps indicator id → rating level (or None to clear)."""
    rubric = observation.cycle.rubric
    indicators_of_rubric = set(
        Indicator.objects.filter(domain__rubric=rubric).values_list("pk", flat=True)
    )
    for indicator_id, level in ratings.items():
        if indicator_id not in indicators_of_rubric:
            raise ValidationError("That indicator belongs to another rubric.")
        if level is None:
            IndicatorRating.objects.filter(
                observation=observation, indicator_id=indicator_id
            ).delete()
            continue
        if level.rubric_id != rubric.pk:
            raise ValidationError("That rating level belongs to another rubric.")
        IndicatorRating.objects.update_or_create(
            observation=observation, indicator_id=indicator_id, defaults={"level": level}
        )


@transaction.atomic
def observation_complete(*, cycle, by):
    cycle = _lock(cycle)
    observation = Observation.objects.filter(cycle=cycle).first()
    if observation is None or not observation.evidence.strip():
        raise ValidationError({"evidence": "Write down what you saw and heard before finishing."})
    if observation.observed_at is None:
        raise ValidationError({"observed_at": "When did the observation happen?"})
    observation.completed_at = timezone.now()
    observation.save(update_fields=["completed_at"])
    return cycle_transition(cycle=cycle, to=Status.OBSERVED, by=by)


@transaction.atomic
def feedback_save(*, cycle, fields):
    cycle = _lock(cycle)
    feedback = Feedback.objects.filter(cycle=cycle).first()
    if feedback is not None and feedback.is_shared:
        raise ValidationError("This feedback has been shared; add an amendment instead.")
    if cycle.status not in (Status.PLANNED, Status.OBSERVED):
        raise ValidationError("This cycle is no longer open for a feedback draft.")
    feedback = feedback or Feedback(cycle=cycle)
    for name, value in fields.items():
        setattr(feedback, name, value)
    feedback.save()
    return feedback


@transaction.atomic
def feedback_share(*, cycle, by):
    from .tasks import send_feedback_shared_email

    cycle = _lock(cycle)
    feedback = Feedback.objects.filter(cycle=cycle).first()
    missing = {}
    if feedback is None or not feedback.glows.strip():
        missing["glows"] = "Name at least one strength (glow)."
    if feedback is None or not feedback.grow.strip():
        missing["grow"] = "Name the one area to grow."
    if feedback is None or not feedback.action_step.strip():
        missing["action_step"] = "Give one bite-sized action step."
    if feedback is None or feedback.practice_by is None:
        missing["practice_by"] = "By when should the teacher practise the step?"
    if missing:
        raise ValidationError(missing)
    cycle_transition(cycle=cycle, to=Status.FEEDBACK_SHARED, by=by)
    feedback.shared_at = timezone.now()
    feedback.save(update_fields=["shared_at"])
    url = reverse("observations:cycle_detail", args=[cycle.pk])
    notify(
        user=cycle.teacher.user,
        message=f"{cycle.observer} shared feedback with you.",
        url=url,
        kind=Notification.Kind.FEEDBACK_SHARED,
    )
    from outbox.services import outbox_enqueue  # sent after the commit, or once the broker is back

    outbox_enqueue(send_feedback_shared_email, cycle.pk)
    return feedback


@transaction.atomic
def feedback_amend(*, cycle, text, by):
    feedback = Feedback.objects.filter(cycle=cycle, shared_at__isnull=False).first()
    if feedback is None:
        raise ValidationError("Only shared feedback takes amendments; edit the draft instead.")
    if not text.strip():
        raise ValidationError({"text": "Write the amendment."})
    return FeedbackAmendment.objects.create(feedback=feedback, text=text.strip(), by=by)


@transaction.atomic
def reflection_acknowledge(*, cycle):
    cycle = _lock(cycle)
    if cycle.status in (Status.PLANNED, Status.OBSERVED, Status.CANCELLED):
        raise ValidationError("There is no shared feedback to acknowledge yet.")
    reflection, _ = Reflection.objects.get_or_create(cycle=cycle)
    if reflection.acknowledged_at is None:
        reflection.acknowledged_at = timezone.now()
        reflection.save(update_fields=["acknowledged_at"])
    return reflection


@transaction.atomic
def reflection_submit(*, cycle, text, usefulness=None, usefulness_reason="", by):
    cycle = _lock(cycle)
    if not text.strip():
        raise ValidationError({"text": "Write a few words of reflection."})
    if usefulness is not None and usefulness not in Reflection.Usefulness.values:
        raise ValidationError({"usefulness": "Choose how useful the feedback was, from 1 to 4."})
    reflection, _ = Reflection.objects.get_or_create(cycle=cycle)
    cycle_transition(cycle=cycle, to=Status.REFLECTED, by=by)
    now = timezone.now()
    reflection.acknowledged_at = reflection.acknowledged_at or now
    reflection.text = text.strip()
    reflection.usefulness = usefulness
    reflection.usefulness_reason = usefulness_reason.strip()
    reflection.submitted_at = now
    reflection.save()
    notify(
        user=cycle.observer.user,
        message=f"{cycle.teacher} reflected on your feedback.",
        kind=Notification.Kind.REFLECTION,
        url=reverse("observations:cycle_detail", args=[cycle.pk]),
    )
    return reflection


@transaction.atomic
def follow_up_record(*, cycle, visited_on, mastery, notes="", by, open_next=False):
    """Rate the action step; optionally open the next cycle with the same focus."""
    if mastery not in FollowUp.Mastery.values:
        raise ValidationError({"mastery": "Rate the action step: not yet, partly or mastered."})
    cycle = _lock(cycle)
    cycle_transition(cycle=cycle, to=Status.FOLLOWED_UP, by=by)
    follow_up = FollowUp.objects.create(
        cycle=cycle, visited_on=visited_on, mastery=mastery, notes=notes
    )
    next_cycle = None
    if open_next:
        cycle_transition(cycle=cycle, to=Status.CLOSED, by=by)
        next_cycle = cycle_start(
            school=cycle.school,
            teacher=cycle.teacher,
            observer=cycle.observer,
            focus=cycle.focus,
            previous=cycle,
            by=by,
        )
    return follow_up, next_cycle


@transaction.atomic
def cycle_close(*, cycle, by):
    return cycle_transition(cycle=_lock(cycle), to=Status.CLOSED, by=by)


@transaction.atomic
def cycle_cancel(*, cycle, by):
    return cycle_transition(cycle=_lock(cycle), to=Status.CANCELLED, by=by)


def digest_send(*, today=None):
    """One reminder a day per person who has something waiting: an in-app notification and an
    e-mail. Running it twice on one day reminds nobody twice. Returns how many were reminded."""
    today = today or timezone.localdate()
    waiting = defaultdict(list)
    follow_ups_due = ObservationCycle.objects.filter(
        status__in=[Status.FEEDBACK_SHARED, Status.REFLECTED], feedback__practice_by__lt=today
    ).select_related("teacher__user", "observer__user", "feedback")
    for cycle in follow_ups_due:
        waiting[cycle.observer.user].append(
            f"Follow up with {cycle.teacher}: the step was due {cycle.feedback.practice_by:%b %-d}."
        )
    reflections_due = ObservationCycle.objects.filter(status=Status.FEEDBACK_SHARED).select_related(
        "teacher__user", "observer__user"
    )
    for cycle in reflections_due:
        waiting[cycle.teacher.user].append(f"Reflect on {cycle.observer}’s feedback.")
    already = set(
        Notification.objects.filter(
            kind=Notification.Kind.DIGEST, created_at__date=today
        ).values_list("recipient_id", flat=True)
    )
    reminded = 0
    for user, lines in waiting.items():
        if user.pk in already:
            continue
        notify(
            user=user,
            message=f"{len(lines)} thing{'s' if len(lines) > 1 else ''} waiting for you.",
            url=reverse("home"),
            kind=Notification.Kind.DIGEST,
        )
        reminded += 1
        if user.email:
            try:
                send_mail(
                    subject="DL Portal: what is waiting for you today",
                    message="\n".join([*lines, "", settings.PORTAL_BASE_URL]),
                    from_email=None,
                    recipient_list=[user.email],
                )
            except (OSError, smtplib.SMTPException):
                # The in-app reminder stands; tomorrow's digest repeats what is still waiting.
                logger.exception("Digest e-mail to %s failed", user.email)
    return reminded
