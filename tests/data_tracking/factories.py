"""Factories for the data_tracking app. Districts and schools come from tests.teams.factories.

A student belongs to its school's district: pass ``school=`` (the district follows) or
``district=`` alone (a new school of that district is made).
"""

import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from data_tracking.models import (
    Assessment,
    AssessmentResult,
    Enrollment,
    PerformanceLevel,
    Section,
    Student,
    Subject,
    Window,
)
from tests.teams.factories import DistrictFactory, SchoolFactory


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = Student

    school = factory.SubFactory(SchoolFactory)
    district = factory.SelfAttribute("school.district")
    local_id = factory.Sequence(lambda n: f"S{n:06d}")
    first_name = factory.Sequence(lambda n: f"Student{n}")
    last_name = factory.Sequence(lambda n: f"Family{n}")
    grade = "5"

    @classmethod
    def _generate(cls, strategy, params):
        if "district" in params and "school" not in params:
            params = {"school__district": params["district"], **params}
        return super()._generate(strategy, params)


class SectionFactory(DjangoModelFactory):
    class Meta:
        model = Section

    school = factory.SubFactory(SchoolFactory)
    teacher = None
    source_id = factory.Sequence(lambda n: f"class-{n}")
    name = factory.Sequence(lambda n: f"Class {n}")
    subject = Subject.MATH
    grade = "5"
    term = "2026-2027"


class EnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrollment

    section = factory.SubFactory(SectionFactory)
    student = factory.SubFactory(StudentFactory, school=factory.SelfAttribute("..section.school"))


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = Assessment

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Benchmark {n}")
    subject = Subject.MATH
    school_year = "2026-2027"
    window = Window.FALL
    administered_on = datetime.date(2026, 9, 15)
    scale = "scaled score"


class PerformanceLevelFactory(DjangoModelFactory):
    """Give ``rank`` and ``min_score``; labels default to "Level <rank>"."""

    class Meta:
        model = PerformanceLevel

    assessment = factory.SubFactory(AssessmentFactory)
    rank = factory.Sequence(lambda n: n + 1)
    label = factory.LazyAttribute(lambda level: f"Level {level.rank}")
    min_score = factory.LazyAttribute(lambda level: Decimal(100 * level.rank))
    is_proficient = False


def levels_for(assessment, *cuts, proficient_from=None):
    """Performance levels from ``(label, min_score)`` pairs, lowest first; levels from rank
    ``proficient_from`` up are proficient."""
    return [
        PerformanceLevelFactory(
            assessment=assessment,
            rank=rank,
            label=label,
            min_score=Decimal(str(min_score)),
            is_proficient=proficient_from is not None and rank >= proficient_from,
        )
        for rank, (label, min_score) in enumerate(cuts, start=1)
    ]


class AssessmentResultFactory(DjangoModelFactory):
    class Meta:
        model = AssessmentResult

    assessment = factory.SubFactory(AssessmentFactory)
    student = factory.SubFactory(
        StudentFactory, school__district=factory.SelfAttribute("...assessment.district")
    )
    # Taken where the student is, in their grade, unless a test says otherwise.
    school = factory.SelfAttribute("student.school")
    grade = factory.SelfAttribute("student.grade")
    score = Decimal("200")
    level_rank = None
    tested_on = factory.LazyAttribute(lambda result: result.assessment.administered_on)


# ── A benchmark with four levels, and results that carry their level ────────────────────────

YEAR = "2026-2027"
CUTS = [("Below", 0), ("Approaching", 200), ("Meets", 210), ("Exceeds", 220)]


def benchmark(district, window, subject=Subject.MATH):
    """A benchmark administration of ``subject`` with the four levels of ``CUTS``."""
    assessment = AssessmentFactory(
        district=district,
        name=f"MAP Growth {subject}",
        subject=subject,
        school_year=YEAR,
        window=window,
    )
    levels_for(assessment, *CUTS, proficient_from=3)
    return assessment


def level_of(score):
    """The rank of the highest level of ``CUTS`` that ``score`` reaches."""
    return max(rank for rank, (_, cut) in enumerate(CUTS, start=1) if score >= cut)


def record(assessment, student, score):
    """A result with its level, as the importers store it."""
    return AssessmentResultFactory(
        assessment=assessment, student=student, score=score, level_rank=level_of(score)
    )
