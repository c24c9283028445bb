"""The observation pages run a fixed number of queries, however many cycles there are.

Each page is measured at a small and a large size; the pin is the exact count measured when the
test was written, the same at both sizes. A change that adds a query per row (an N+1) fails at the
large size; any new query fails at both (and a saved query asks for a lower pin).

Every count includes the session, the user, the two scope queries (profile, positions) and the
unread-notification count in the navigation bar.
"""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from observations import services
from observations.models import CycleTransition, Status
from tests.observations.factories import (
    IndicatorFactory,
    cycle_in,
    feedback_fields,
    indicators_of,
    level_of,
    small_rubric,
)
from tests.teams.factories import CaseloadFactory, SchoolFactory, staff_at

pytestmark = pytest.mark.django_db

QUERY_PINS = {
    "my_caseload": 9,
    "school_trends": 13,
    "district_trends": 11,
    "cycle_detail as observer": 14,  # one marks its notifications read
    "cycle_detail as teacher": 14,
    "cycle_detail as principal": 14,
    "my_feedback": 7,
    "teacher_history": 8,
    "coaching_quality": 8,
}

OPEN = [Status.PLANNED, Status.OBSERVED, Status.FEEDBACK_SHARED, Status.REFLECTED]
OPEN += [Status.FOLLOWED_UP]
SHARED = [Status.FEEDBACK_SHARED, Status.REFLECTED, Status.FOLLOWED_UP, Status.CLOSED]


def bulk_teacher(school, i):
    return staff_at(school, first_name=f"Bulk{i}", last_name=f"Teacher{i:03}")


def bulk_observer(school, i):
    return staff_at(school, first_name=f"Obs{i}", last_name=f"Erver{i:03}")


def caseload(world, n):
    """``n`` teachers in the leader's caseload, each with an open cycle in some status."""
    focus = indicators_of(small_rubric(world.district))[1]
    for i in range(n):
        teacher = bulk_teacher(world.school, i)
        CaseloadFactory(school=world.school, leader=world.leader.staff, teacher=teacher)
        cycle_in(
            OPEN[i % 5], school=world.school, teacher=teacher, observer=world.leader, focus=focus
        )
    return reverse("observations:my_caseload"), world.leader, f"Bulk{n - 1} Teacher{n - 1:03}"


def school_with_teachers(world, n):
    """``n`` more teachers: the even ones observed and followed up, the odd ones only planned."""
    small_rubric(world.district)
    for i in range(n):
        status = Status.FOLLOWED_UP if i % 2 == 0 else Status.PLANNED
        cycle_in(
            status, school=world.school, teacher=bulk_teacher(world.school, i), observer=world.coach
        )
    odd = n - 1 if n % 2 == 0 else n - 2
    url = reverse("observations:school_trends", args=[world.school.slug])
    return url, world.principal, f"Bulk{odd} Teacher{odd:03}"


def district(world, n, schools):
    """``n`` cycles at school A, and ``schools`` more schools with a cycle each."""
    school_with_teachers(world, n)
    for s in range(schools):
        extra = SchoolFactory(district=world.district, name=f"Bulk school {s:02}")
        cycle_in(Status.REFLECTED, school=extra)
    url = reverse("observations:district_trends", args=[world.district.slug])
    return url, world.district_leader, f"Bulk school {schools - 1:02}"


def detailed_cycle(world, n):
    """One cycle with ``n`` ratings and ``n`` amendments, and ``n`` transitions more than its own
    (rows of history, as a long-running cycle would gather)."""
    rubric = small_rubric(world.district)
    domain = indicators_of(rubric)[0].domain
    for i in range(n - 4):
        IndicatorFactory(domain=domain, code=f"X{i}", name=f"Extra indicator {i}", order=10 + i)
    cycle = cycle_in(
        Status.OBSERVED, school=world.school, teacher=world.teacher, observer=world.leader
    )
    ratings = {
        indicator.pk: level_of(rubric, 1 + i % 4)
        for i, indicator in enumerate(indicators_of(rubric)[:n])
    }
    services.observation_save(cycle=cycle, fields={}, ratings=ratings)
    services.feedback_save(cycle=cycle, fields=feedback_fields())
    services.feedback_share(cycle=cycle, by=world.leader)
    services.reflection_submit(
        cycle=cycle,
        text="I will try it.",
        usefulness=3,
        usefulness_reason="Clear.",
        by=world.teacher,
    )
    for i in range(n):
        services.feedback_amend(cycle=cycle, text=f"Amendment number {i}", by=world.leader)
    people = [world.leader, world.teacher, world.principal]
    CycleTransition.objects.bulk_create(
        CycleTransition(
            cycle=cycle, from_status="reflected", to_status="reflected", by=people[i % 3]
        )
        for i in range(n)
    )
    last_rated = indicators_of(rubric)[n - 1]
    return cycle, {
        f"Amendment number {n - 1}": 1,
        "Amended by Lena Lopez": n,
        f"<td>{last_rated.code} {last_rated.name}</td>": 1,
        '<span class="fw-semibold">Reflected</span>': n + 1,  # the timeline
    }


def shared_with_teacher(world, n):
    """``n`` cycles of the teacher with shared feedback, each from a different observer."""
    small_rubric(world.district)
    for i in range(n):
        cycle_in(
            SHARED[i % 4],
            school=world.school,
            teacher=world.teacher,
            observer=bulk_observer(world.school, i),
        )
    return f"Obs{n - 1} Erver{n - 1:03}"


def rated_by_teachers(world, n):
    """``n`` teachers reflected on the leader's feedback and rated its usefulness."""
    small_rubric(world.district)
    for i in range(n):
        cycle_in(
            Status.REFLECTED,
            school=world.school,
            teacher=bulk_teacher(world.school, i),
            observer=world.leader,
        )
    return reverse("observations:coaching_quality"), world.leader, f"Bulk{n - 1} Teacher{n - 1:03}"


def cycle_page(viewer):
    def build(world, n):
        cycle, shows = detailed_cycle(world, n)
        return reverse("observations:cycle_detail", args=[cycle.pk]), getattr(world, viewer), shows

    return build


def my_feedback(world, n):
    shows = shared_with_teacher(world, n)
    return reverse("observations:my_feedback"), world.teacher, shows


def teacher_history(world, n):
    shows = shared_with_teacher(world, n)
    url = reverse("observations:teacher_history", args=[world.teacher.staff.pk])
    return url, world.principal, shows


# name: (build(world, size) → (url, viewer, what only the bulk rows put on the page), small, large)
# "What" is a text, or {text: how many times it appears (None: at least once)}.
PAGES = {
    "my_caseload": (caseload, 3, 40),
    "school_trends": (school_with_teachers, 3, 40),
    # 4 vs 40 cycles at school A, and 3 vs 12 schools in the district.
    "district_trends": (lambda world, n: district(world, n, schools=n // 4), 4, 40),
    "cycle_detail as observer": (cycle_page("leader"), 1, 30),
    "cycle_detail as teacher": (cycle_page("teacher"), 1, 30),
    "cycle_detail as principal": (cycle_page("principal"), 1, 30),
    "my_feedback": (my_feedback, 2, 40),
    "teacher_history": (teacher_history, 2, 40),
    "coaching_quality": (rated_by_teachers, 2, 40),
}


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("name", PAGES)
def test_page_queries_do_not_grow_with_the_cycles(
    client, world, django_assert_num_queries, name, size
):
    build, small, large = PAGES[name]
    url, viewer, shows = build(world, small if size == "small" else large)
    client.force_login(viewer)
    with django_assert_num_queries(QUERY_PINS[name]):
        response = client.get(url)
    for text, count in ({shows: None} if isinstance(shows, str) else shows).items():
        assertContains(response, text, count=count)
