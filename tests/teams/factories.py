"""Factories for the teams app. Every user's password is "pw"."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from teams.models import (
    Assignment,
    Caseload,
    District,
    LeadershipTeam,
    Meeting,
    School,
    StaffMember,
    TeamMembership,
)

PASSWORD = "pw"


def days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district-{n}")


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    slug = factory.Sequence(lambda n: f"school-{n}")
    level = School.Level.ELEMENTARY


class StaffMemberFactory(DjangoModelFactory):
    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    district = factory.SubFactory(DistrictFactory)


class AssignmentFactory(DjangoModelFactory):
    class Meta:
        model = Assignment

    staff = factory.SubFactory(StaffMemberFactory)
    school = factory.SubFactory(SchoolFactory, district=factory.SelfAttribute("..staff.district"))
    district = factory.LazyAttribute(lambda a: a.school.district if a.school else a.staff.district)
    position = Assignment.Position.TEACHER
    start_date = factory.LazyFunction(lambda: days_ago(365))


class LeadershipTeamFactory(DjangoModelFactory):
    class Meta:
        model = LeadershipTeam

    school = factory.SubFactory(SchoolFactory)
    kind = LeadershipTeam.Kind.ILT
    name = factory.Sequence(lambda n: f"Team {n}")


class TeamMembershipFactory(DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(LeadershipTeamFactory)
    staff = factory.SubFactory(StaffMemberFactory)
    role = "member"
    start_date = factory.LazyFunction(lambda: days_ago(30))


class CaseloadFactory(DjangoModelFactory):
    class Meta:
        model = Caseload

    school = factory.SubFactory(SchoolFactory)
    leader = factory.SubFactory(StaffMemberFactory)
    teacher = factory.SubFactory(StaffMemberFactory)
    start_date = factory.LazyFunction(lambda: days_ago(30))


def staff_at(school, position=Assignment.Position.TEACHER, **user_fields):
    """A person with a login, a profile and a current position at ``school``."""
    staff = StaffMemberFactory(user=UserFactory(**user_fields), district=school.district)
    AssignmentFactory(staff=staff, school=school, position=position)
    return staff


def district_leader_of(district, **user_fields):
    """A person with a district-wide position and no school."""
    staff = StaffMemberFactory(user=UserFactory(**user_fields), district=district)
    AssignmentFactory(
        staff=staff,
        school=None,
        district=district,
        position=Assignment.Position.DISTRICT_LEADER,
    )
    return staff


class MeetingFactory(DjangoModelFactory):
    """A scheduled meeting tomorrow afternoon."""

    class Meta:
        model = Meeting

    team = factory.SubFactory(LeadershipTeamFactory)
    starts_at = factory.LazyFunction(
        lambda: (
            timezone.now().replace(hour=15, minute=30, second=0, microsecond=0)
            + datetime.timedelta(days=1)
        )
    )
    duration_minutes = 45
