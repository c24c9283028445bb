"""Factories for the observations app.

``small_rubric`` builds a whole rubric; ``cycle_in`` drives a cycle to a status through the real
services, so every row a status implies (observation, feedback, transitions, …) is there.
"""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from observations import services
from observations.models import (
    Domain,
    Indicator,
    ObservationCycle,
    RatingLevel,
    Rubric,
    Status,
)
from tests.teams.factories import DistrictFactory, SchoolFactory, staff_at

LEVEL_LABELS = {1: "Beginning", 2: "Developing", 3: "Proficient", 4: "Exemplary"}


class RubricFactory(DjangoModelFactory):
    """A current, district-wide rubric."""

    class Meta:
        model = Rubric

    district = factory.SubFactory(DistrictFactory)
    school = None
    lineage = factory.Sequence(lambda n: f"rubric-{n}")
    version = 1
    name = factory.Sequence(lambda n: f"Rubric {n}")
    is_current = True


class RatingLevelFactory(DjangoModelFactory):
    class Meta:
        model = RatingLevel

    rubric = factory.SubFactory(RubricFactory)
    value = factory.Sequence(lambda n: n % 4 + 1)
    label = factory.LazyAttribute(lambda level: LEVEL_LABELS.get(level.value, "Level"))


class DomainFactory(DjangoModelFactory):
    class Meta:
        model = Domain

    rubric = factory.SubFactory(RubricFactory)
    name = factory.Sequence(lambda n: f"Domain {n}")
    order = factory.Sequence(lambda n: n)


class IndicatorFactory(DjangoModelFactory):
    class Meta:
        model = Indicator

    domain = factory.SubFactory(DomainFactory)
    code = factory.Sequence(lambda n: f"I{n}")
    name = factory.Sequence(lambda n: f"Indicator {n}")
    order = factory.Sequence(lambda n: n)


def small_rubric(district=None, **fields):
    """A rubric with levels 1–4 and two domains of two indicators each.

    Scoped to ``district`` (a new one if not given), or to a school passed as ``school=``.
    """
    if district is None and fields.get("school") is None:
        district = DistrictFactory()
    rubric = RubricFactory(district=district, **fields)
    for value, label in LEVEL_LABELS.items():
        RatingLevelFactory(rubric=rubric, value=value, label=label)
    for d in (1, 2):
        domain = DomainFactory(rubric=rubric, name=f"Domain {d}", order=d)
        for i in (1, 2):
            IndicatorFactory(domain=domain, code=f"{d}.{i}", name=f"Indicator {d}.{i}", order=i)
    return rubric


def indicators_of(rubric):
    return list(Indicator.objects.filter(domain__rubric=rubric).order_by("domain__order", "order"))


def level_of(rubric, value):
    return rubric.levels.get(value=value)


class ObservationCycleFactory(DjangoModelFactory):
    """A bare cycle row in any status (no observation, feedback or transitions). For realistic
    rows use ``cycle_in``."""

    class Meta:
        model = ObservationCycle

    school = factory.SubFactory(SchoolFactory)
    teacher = factory.LazyAttribute(lambda cycle: staff_at(cycle.school))
    observer = factory.LazyAttribute(lambda cycle: staff_at(cycle.school))
    rubric = factory.LazyAttribute(lambda cycle: small_rubric(cycle.school.district))
    status = Status.PLANNED
    created_by = factory.LazyAttribute(lambda cycle: cycle.observer.user)


# The order in which ``cycle_in`` walks a cycle; cancelled branches off "planned".
PATH = [
    Status.PLANNED,
    Status.OBSERVED,
    Status.FEEDBACK_SHARED,
    Status.REFLECTED,
    Status.FOLLOWED_UP,
    Status.CLOSED,
]


def _staff(person):
    """Accept a StaffMember or a User with a staff profile."""
    return person.staff if isinstance(person, get_user_model()) else person


def observation_fields(**overrides):
    return {
        "observed_at": timezone.now() - datetime.timedelta(hours=2),
        "duration_minutes": 20,
        "subject": "Mathematics",
        "grade": "4",
        "section": "4B",
        "evidence": "09:05 Do-now on the board.\n09:12 Six of 24 students explain their thinking.",
        **overrides,
    }


def feedback_fields(**overrides):
    return {
        "glows": "Warm, quick start; every student was writing within a minute.",
        "grow": "More students explaining their reasoning.",
        "action_step": "Use turn-and-talk after each worked example.",
        "practice_by": timezone.localdate() + datetime.timedelta(days=7),
        "resources": "https://example.org/turn-and-talk",
        **overrides,
    }


def cycle_in(status, *, school=None, teacher=None, observer=None, focus=None, mastery="partly"):
    """A fresh cycle driven to ``status`` through the services, acted on by its own people.

    Creates a school, people and a district rubric where none are given or none exists.
    """
    status = Status(status)
    school = school or SchoolFactory()
    teacher = _staff(teacher) if teacher else staff_at(school)
    observer = _staff(observer) if observer else staff_at(school)
    if focus is None and services.current_rubric_for(school) is None:
        small_rubric(school.district)
    by = observer.user

    cycle = services.cycle_start(
        school=school, teacher=teacher, observer=observer, focus=focus, by=by
    )
    if status == Status.CANCELLED:
        return services.cycle_cancel(cycle=cycle, by=by)
    for step in PATH[1 : PATH.index(status) + 1]:
        if step == Status.OBSERVED:
            rated = focus or indicators_of(cycle.rubric)[0]
            services.observation_save(
                cycle=cycle,
                fields=observation_fields(),
                ratings={rated.pk: level_of(cycle.rubric, 3)},
            )
            services.observation_complete(cycle=cycle, by=by)
        elif step == Status.FEEDBACK_SHARED:
            services.feedback_save(cycle=cycle, fields=feedback_fields())
            services.feedback_share(cycle=cycle, by=by)
        elif step == Status.REFLECTED:
            services.reflection_submit(
                cycle=cycle,
                text="I will plan the turn-and-talk prompts in advance.",
                usefulness=4,
                usefulness_reason="Concrete and doable tomorrow.",
                by=teacher.user,
            )
        elif step == Status.FOLLOWED_UP:
            services.follow_up_record(
                cycle=cycle, visited_on=timezone.localdate(), mastery=mastery, by=by
            )
        elif step == Status.CLOSED:
            services.cycle_close(cycle=cycle, by=by)
    cycle.refresh_from_db()
    return cycle
