"""The leadership map: every indicator on a small hand-built school, the turnover-resilience rule,
who may open the page, and its query count.

``oak_school`` builds one school whose every row is chosen to test one clause of a definition in
``leadership/indicators.py``; the expected figures below are worked out by hand from it. The
clock is fixed at NOW (spring term 2026) so "this term" never depends on the day the tests run.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from leadership import indicators
from leadership.indicators import Breaks, term_of, what_breaks
from observations.models import FollowUp, ObservationCycle, Status
from teams.models import ActionItem, AgendaItem, Assignment, Meeting, TeamRole
from tests.observations.factories import ObservationCycleFactory, small_rubric
from tests.teams.factories import (
    AssignmentFactory,
    CaseloadFactory,
    DistrictFactory,
    LeadershipTeamFactory,
    SchoolFactory,
    StaffMemberFactory,
    TeamMembershipFactory,
    UserFactory,
    district_leader_of,
)

pytestmark = pytest.mark.django_db

Position = Assignment.Position
NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 10, 0))


def at(year, month, day, hour=9):
    return timezone.make_aware(datetime.datetime(year, month, day, hour, 0))


def person(school, first, last, position=Position.TEACHER):
    staff = StaffMemberFactory(
        user=UserFactory(username=f"{first}.{last}".lower(), first_name=first, last_name=last),
        district=school.district,
    )
    AssignmentFactory(
        staff=staff, school=school, position=position, start_date=datetime.date(2020, 1, 1)
    )
    return staff


def cycle(school, observer, teacher, status, created, changed=None):
    made = ObservationCycleFactory(
        school=school,
        observer=observer,
        teacher=teacher,
        status=status,
        rubric=school.district.rubrics.first(),
    )
    ObservationCycle.objects.filter(pk=made.pk).update(
        created_at=created, status_changed_at=changed or created
    )
    return made


def oak_school():
    """Seven staff at Oak (plus a district leader, who never counts). See the module docstring."""
    district = DistrictFactory(name="Elm District", slug="elm")
    school = SchoolFactory(district=district, name="Oak Elementary", slug="oak")
    small_rubric(district)
    o = SimpleNamespace(district=district, school=school)
    o.pat = person(school, "Pat", "Park", Position.PRINCIPAL)
    o.ann = person(school, "Ann", "Adams")
    o.ben = person(school, "Ben", "Brown")
    o.cal = person(school, "Cal", "Cruz")
    o.dee = person(school, "Dee", "Diaz")
    o.eve = person(school, "Eve", "Ewing")
    o.kim = person(school, "Kim", "Kole", Position.COACH)
    o.dana = district_leader_of(district, username="dana", first_name="Dana", last_name="Dorn")

    o.ilt = LeadershipTeamFactory(school=school, name="Instructional Leadership Team")
    o.grade3 = LeadershipTeamFactory(school=school, name="Grade 3", kind="grade_level")
    o.plc = LeadershipTeamFactory(school=school, name="Math PLC", kind="content")
    TeamMembershipFactory(team=o.ilt, staff=o.ann, role=TeamRole.TEAM_LEAD)
    TeamMembershipFactory(team=o.ilt, staff=o.ben, role=TeamRole.MEMBER)
    TeamMembershipFactory(team=o.ilt, staff=o.pat, role=TeamRole.MEMBER)
    TeamMembershipFactory(team=o.grade3, staff=o.ann, role=TeamRole.GRADE_LEVEL_LEAD)
    o.cal_content_lead = TeamMembershipFactory(
        team=o.grade3, staff=o.cal, role=TeamRole.CONTENT_LEAD
    )
    TeamMembershipFactory(team=o.grade3, staff=o.dee, role=TeamRole.MEMBER)
    # A data lead is a leadership function but does not lead the team.
    TeamMembershipFactory(team=o.plc, staff=o.ben, role=TeamRole.DATA_LEAD)
    TeamMembershipFactory(team=o.plc, staff=o.dee, role=TeamRole.MEMBER)
    # Eve facilitated the PLC once; an ended role is history, not a function.
    TeamMembershipFactory(
        team=o.plc,
        staff=o.eve,
        role=TeamRole.FACILITATOR,
        start_date=datetime.date(2024, 9, 1),
        end_date=datetime.date(2025, 6, 30),
        closed_at=at(2025, 6, 30),
    )

    CaseloadFactory(school=school, leader=o.kim, teacher=o.cal)
    CaseloadFactory(school=school, leader=o.kim, teacher=o.dee)
    CaseloadFactory(school=school, leader=o.ann, teacher=o.dee)
    CaseloadFactory(school=school, leader=o.kim, teacher=o.eve, closed_at=at(2025, 12, 1))

    # Alive this term; this school year but closed last term; cancelled; last school year.
    cycle(school, o.kim, o.cal, Status.PLANNED, at(2026, 2, 1))
    o.ben_observed_dee = cycle(
        school, o.ben, o.dee, Status.CLOSED, at(2025, 9, 10), at(2025, 10, 1)
    )
    cycle(school, o.kim, o.eve, Status.CANCELLED, at(2026, 2, 1))
    cycle(school, o.kim, o.ben, Status.CLOSED, at(2024, 9, 1), at(2024, 10, 1))
    FollowUp.objects.create(
        cycle=o.ben_observed_dee, visited_on=datetime.date(2025, 9, 30), mastery="mastered"
    )

    def meeting(team, facilitator, when, status=Meeting.Status.SCHEDULED):
        return Meeting.objects.create(
            team=team, facilitator=facilitator, starts_at=when, status=status
        )

    o.ilt_meeting = meeting(o.ilt, o.ann, at(2026, 3, 17))
    meeting(o.grade3, o.cal, at(2026, 3, 18))
    meeting(o.plc, o.dee, at(2026, 2, 10), Meeting.Status.HELD)
    o.plc_meeting = meeting(o.plc, o.ben, at(2026, 3, 20))
    meeting(o.plc, o.eve, at(2026, 3, 1), Meeting.Status.CANCELLED)
    meeting(o.ilt, o.pat, at(2025, 10, 1), Meeting.Status.HELD)  # last term

    pat_item = ActionItem.objects.create(
        team=o.ilt, text="Plan the data day", owner=o.pat, due_date=datetime.date(2026, 3, 30)
    )
    eve_item = ActionItem.objects.create(
        team=o.plc, text="Old item", owner=o.eve, due_date=datetime.date(2025, 9, 15)
    )
    ActionItem.objects.filter(pk__in=[pat_item.pk, eve_item.pk]).update(created_at=at(2025, 9, 1))
    AgendaItem.objects.create(
        team=o.ilt, meeting=o.ilt_meeting, title="Fractions data", owner=o.kim
    )

    # Someone at another school of the district leads nothing here and never appears.
    pine = SchoolFactory(district=district, name="Pine Elementary", slug="pine")
    o.pine = pine
    o.zed = person(pine, "Zed", "Zane", Position.PRINCIPAL)
    return o


@pytest.fixture
def oak(db):
    return oak_school()


def oak_rows(oak):
    return indicators.load_rows([oak.school], NOW)[oak.school.pk]


# --- Terms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, name, start, end, year_start",
    [
        ((2026, 3, 10), "Spring 2026", (2026, 1, 1), (2026, 7, 31), (2025, 8, 1)),
        ((2026, 7, 31), "Spring 2026", (2026, 1, 1), (2026, 7, 31), (2025, 8, 1)),
        ((2026, 8, 1), "Fall 2026", (2026, 8, 1), (2026, 12, 31), (2026, 8, 1)),
        ((2026, 12, 31), "Fall 2026", (2026, 8, 1), (2026, 12, 31), (2026, 8, 1)),
    ],
)
def test_terms(day, name, start, end, year_start):
    term = term_of(datetime.date(*day))
    assert term.name == name
    assert (term.start, term.end) == (datetime.date(*start), datetime.date(*end))
    assert term.year_start == datetime.date(*year_start)
    assert term.year_end == datetime.date(year_start[0] + 1, 7, 31)


# --- Leadership functions and the share -----------------------------------------------------------


def test_staff_are_the_people_with_a_current_position_at_the_school(oak):
    rows = oak_rows(oak)
    names = [p.name for p in rows.people.values()]
    assert names == [
        "Ann Adams",
        "Ben Brown",
        "Cal Cruz",
        "Dee Diaz",
        "Eve Ewing",
        "Kim Kole",
        "Pat Park",
    ]  # no district leader, nobody from Pine


def test_each_persons_leadership_functions(oak):
    functions = indicators.leadership_functions(oak_rows(oak))
    assert functions == {
        oak.ann.pk: [
            "Grade-level lead, Grade 3",
            "Team lead, Instructional Leadership Team",
            "Leads a caseload of 1 teacher",
            "Facilitates 1 meeting this term",
        ],
        oak.ben.pk: ["Data lead, Math PLC", "Facilitates 1 meeting this term"],
        oak.cal.pk: ["Content lead, Grade 3", "Facilitates 1 meeting this term"],
        oak.dee.pk: ["Facilitates 1 meeting this term"],
        oak.eve.pk: [],
        oak.kim.pk: [
            "Leads a caseload of 2 teachers",
            "Observer in 1 cycle this term",
            "Owns 1 agenda item this term",
        ],
        oak.pat.pk: ["Owns 1 action item this term"],
    }


def test_share_of_staff_leading(oak):
    assert indicators.share_leading(oak_rows(oak)) == (6, 7, 86)


def test_share_of_an_empty_school_is_unknown_not_zero(db):
    school = SchoolFactory()
    rows = indicators.load_rows([school], NOW)[school.pk]
    assert indicators.share_leading(rows) == (0, 0, None)


# --- Turnover resilience --------------------------------------------------------------------------


def test_what_breaks_for_each_person(oak):
    rows = oak_rows(oak)
    assert what_breaks(rows, oak.ann.pk) == Breaks(
        # Grade 3 keeps Cal (content lead); Dee keeps Kim as a caseload leader.
        teams=("Instructional Leadership Team",),
        meetings=(next(m for m in rows.meetings if m.pk == oak.ilt_meeting.pk),),
    )
    assert what_breaks(rows, oak.kim.pk) == Breaks(teachers=("Cal Cruz",))
    # The PLC has no lead at all: its next meeting hangs on the one person facilitating it.
    assert what_breaks(rows, oak.ben.pk) == Breaks(
        meetings=(next(m for m in rows.meetings if m.pk == oak.plc_meeting.pk),)
    )
    for safe in (oak.cal, oak.dee, oak.eve, oak.pat):
        assert not what_breaks(rows, safe.pk), safe


def test_single_points_of_failure_most_at_stake_first(oak):
    spofs = indicators.single_points_of_failure(oak_rows(oak))
    assert [(p.name, b.total) for p, b in spofs] == [
        ("Ann Adams", 2),
        ("Ben Brown", 1),
        ("Kim Kole", 1),
    ]


def test_when_the_other_lead_leaves_the_team_hangs_on_one_person(oak):
    oak.cal_content_lead.closed_at = at(2026, 3, 1)
    oak.cal_content_lead.save()
    assert what_breaks(oak_rows(oak), oak.ann.pk).teams == (
        "Grade 3",
        "Instructional Leadership Team",
    )


def _leads(rows):
    """What has a lead now: teams with a lead role, teachers with a caseload leader."""
    teams = {r.team_name for r in rows.roles if r.is_lead}
    teachers = {rows.name(c.teacher_id) for c in rows.caseloads}
    return teams, teachers


def test_removing_a_person_loses_exactly_what_what_breaks_lists(oak):
    """Drop each person's rows and compare what lost its lead with the prediction."""
    rows = oak_rows(oak)
    for person_id in rows.people:
        predicted = what_breaks(rows, person_id)
        teams_before, teachers_before = _leads(rows)
        without = indicators.SchoolRows(
            school=rows.school,
            now=rows.now,
            term=rows.term,
            people={k: v for k, v in rows.people.items() if k != person_id},
            roles=[r for r in rows.roles if r.staff_id != person_id],
            caseloads=[c for c in rows.caseloads if c.leader_id != person_id],
        )
        without.people[person_id] = rows.people[person_id]  # keep names resolvable
        teams_after, teachers_after = _leads(without)
        assert set(predicted.teams) == teams_before - teams_after
        assert set(predicted.teachers) == teachers_before - teachers_after


# --- Network --------------------------------------------------------------------------------------


def test_network_ties(oak):
    graph = indicators.network(oak_rows(oak))
    ties = {(t["kind"], t["source_name"], t["target_name"], t["label"]) for t in graph["ties"]}
    assert ties == {
        # observer → teacher, this school year (the cancelled and last year's cycles are out)
        ("feedback", "Kim Kole", "Cal Cruz", "1 observation cycle this school year"),
        ("feedback", "Ben Brown", "Dee Diaz", "1 observation cycle this school year"),
        # lead ↔ member; the PLC has no lead, so no team ties
        ("team", "Ann Adams", "Ben Brown", "Instructional Leadership Team"),
        ("team", "Ann Adams", "Pat Park", "Instructional Leadership Team"),
        ("team", "Ann Adams", "Cal Cruz", "Grade 3"),
        ("team", "Ann Adams", "Dee Diaz", "Grade 3"),
        ("team", "Cal Cruz", "Dee Diaz", "Grade 3"),
    }
    assert graph["degree"][oak.ann.pk] == 4
    assert graph["degree"][oak.eve.pk] == 0


# --- The page -------------------------------------------------------------------------------------


def test_page_shows_share_resilience_and_ties(client, world):
    TeamMembershipFactory(team=world.team, staff=world.teacher.staff)
    client.force_login(world.principal)
    response = client.get(reverse("leadership:school_map", args=[world.school.slug]))
    # The leader is the only lead of the ILT and the only leader of the teacher's caseload.
    assertContains(response, 'id="network-data"')
    assertContains(response, "Team: Instructional Leadership Team")
    assertContains(response, "Tina Tran")
    assertContains(response, "js/leadership_map.js")
    spof = response.context["map"]["spofs"]
    assert [(p.name, b.teams, b.teachers) for p, b in spof] == [
        ("Lena Lopez", ("Instructional Leadership Team",), ("Tina Tran",))
    ]
    # principal, teacher, leader, coach: only the leader leads; the district leader is not staff
    assert (response.context["map"]["leading"], response.context["map"]["staff"]) == (1, 4)


def test_district_leader_sees_no_feedback_text(client, world):
    from tests.observations.matrix_data import shared_cycle

    shared_cycle(world)
    client.force_login(world.district_leader)
    response = client.get(reverse("leadership:school_map", args=[world.school.slug]))
    assert response.status_code == 200
    assertContains(response, "Feedback: 1 observation cycle this school year")
    for text in ("Tight entry routine", "Checking for understanding", "Cold-call three", "9:02"):
        assertNotContains(response, text)


# Session, user, scope (profile, positions), school, the notification badge, seven row queries.
MAP_QUERIES = 13


def populate(world, n):
    """``n`` more teachers at the school, each on a team, in a caseload, observed and owning
    an item; plus a meeting per teacher."""
    school, now = world.school, timezone.now()
    team = LeadershipTeamFactory(school=school, name="Grade 4")
    for i in range(n):
        teacher = person(school, f"Bulk{i}", f"Teacher{i:03}")
        TeamMembershipFactory(
            team=team, staff=teacher, role=TeamRole.FACILITATOR if i == 0 else TeamRole.MEMBER
        )
        CaseloadFactory(school=school, leader=world.leader.staff, teacher=teacher)
        ObservationCycleFactory(
            school=school, observer=world.leader.staff, teacher=teacher, rubric=world.rubric
        )
        Meeting.objects.create(
            team=team, facilitator=teacher, starts_at=now + datetime.timedelta(hours=i + 1)
        )
        ActionItem.objects.create(team=team, text=f"Item {i}", owner=teacher, due_date=now.date())


@pytest.mark.parametrize("n", [2, 30])
def test_map_queries_do_not_grow_with_the_school(client, world, django_assert_num_queries, n):
    world.rubric = small_rubric(world.district)
    populate(world, n)
    client.force_login(world.principal)
    with django_assert_num_queries(MAP_QUERIES):
        response = client.get(reverse("leadership:school_map", args=[world.school.slug]))
    assertContains(response, f"Bulk{n - 1} Teacher{n - 1:03}")
    assert response.context["map"]["staff"] == 4 + n


@pytest.mark.parametrize(
    "name, args",
    [
        ("leadership:school_map", ["maple"]),
        ("leadership:talent_pipeline", ["maple"]),
        ("leadership:district_comparison", ["lakeside"]),
    ],
)
def test_superusers_see_every_leadership_page(client, world, name, args):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get(reverse(name, args=args)).status_code == 200
