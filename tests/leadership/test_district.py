"""The district comparison: each figure on the hand-built Oak school, a school with nothing yet,
who may open it, that it shows no names or feedback, and its query count."""

import datetime

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from data_tracking.models import DashboardReview, DashboardSnapshot
from leadership import indicators
from tests.leadership.test_map import NOW, at, oak_school, person
from tests.teams.factories import SchoolFactory

pytestmark = pytest.mark.django_db


def snapshot(school, compiled, *, scope="school", key="", subject="math", current=True):
    made = DashboardSnapshot.objects.create(
        school=school,
        scope=scope,
        scope_key=key,
        subject=subject,
        school_year="2025-2026",
        window="winter",
        metrics={},
        fingerprint=f"{scope}{key}{subject}{current}",
        is_current=current,
    )
    DashboardSnapshot.objects.filter(pk=made.pk).update(compiled_at=compiled)
    return made


def review(snapshot_, reviewer, when):
    made = DashboardReview.objects.create(snapshot=snapshot_, reviewer=reviewer)
    DashboardReview.objects.filter(pk=made.pk).update(reviewed_at=when)


@pytest.fixture
def oak(db):
    o = oak_school()
    reviewer = o.pat.user
    math = snapshot(o.school, at(2026, 2, 1))
    review(math, reviewer, at(2026, 2, 4))  # first review after 3 days…
    review(math, reviewer, at(2026, 2, 20))  # …a later one does not count
    snapshot(o.school, at(2026, 2, 1), subject="reading")  # not reviewed
    old = snapshot(o.school, at(2025, 10, 1), current=False)  # replaced: ignored
    review(old, reviewer, at(2025, 12, 1))
    grade = snapshot(o.school, at(2026, 2, 1), scope="grade", key="3")  # not school-wide
    review(grade, reviewer, at(2026, 2, 2))
    return o


def comparison_row(oak, school):
    result = indicators.district_comparison(schools=[oak.school, oak.pine], now=NOW)
    return next(row for row in result["rows"] if row["school"] == school)


def test_every_figure_for_oak(oak):
    row = comparison_row(oak, oak.school)
    assert {k: v for k, v in row.items() if k != "school"} == {
        "staff": 7,
        "leading": 6,
        "percent_leading": 86,
        "single_points_of_failure": 3,  # Ann, Ben, Kim
        # Ann, Ben, Cal, Dee, Eve teach; only Cal has a cycle running this term.
        "teachers": 5,
        "covered": 1,
        "coverage": 20,
        "snapshots": 2,
        "reviewed": 1,
        "percent_reviewed": 50,
        "median_review_days": 3.0,
    }


def test_a_school_with_nothing_yet_shows_unknowns_not_zeros(oak):
    row = comparison_row(oak, oak.pine)
    assert row["staff"] == 1  # Zed, its principal
    assert row["percent_leading"] == 0
    assert (row["coverage"], row["percent_reviewed"], row["median_review_days"]) == (
        None,
        None,
        None,
    )


def test_median_of_several_reviews(oak):
    for i, days in enumerate([1, 5, 10]):
        made = snapshot(oak.pine, at(2026, 2, 1), subject=f"s{i}")
        review(made, oak.zed.user, at(2026, 2, 1) + datetime.timedelta(days=days))
    assert comparison_row(oak, oak.pine)["median_review_days"] == 5.0


def test_page_compares_schools_without_names_or_feedback(client, world):
    from tests.observations.matrix_data import shared_cycle

    shared_cycle(world)
    client.force_login(world.district_leader)
    response = client.get(reverse("leadership:district_comparison", args=[world.district.slug]))
    assertContains(response, "Maple Elementary")
    assertContains(response, "Birch Elementary")
    assertContains(response, reverse("leadership:school_map", args=["maple"]))
    for text in ("Lena Lopez", "Tina Tran", "Tight entry routine", "Cold-call three"):
        assertNotContains(response, text)


def test_leaders_of_another_district_get_404(client, world):
    from tests.teams.factories import DistrictFactory, district_leader_of

    elsewhere = district_leader_of(DistrictFactory())
    client.force_login(elsewhere.user)
    response = client.get(reverse("leadership:district_comparison", args=[world.district.slug]))
    assert response.status_code == 404


# Session, user, scope (profile, positions), district, schools, notification badge, seven row
# queries and one for the snapshots.
DISTRICT_QUERIES = 15


@pytest.mark.parametrize("schools", [1, 8])
def test_queries_do_not_grow_with_the_district(client, world, django_assert_num_queries, schools):
    for i in range(schools):
        school = SchoolFactory(district=world.district, name=f"Bulk School {i:02}")
        for j in range(3):
            person(school, f"B{i}", f"Teacher{j}")
        snapshot(school, at(2026, 2, 1))
    client.force_login(world.district_leader)
    url = reverse("leadership:district_comparison", args=[world.district.slug])
    with django_assert_num_queries(DISTRICT_QUERIES):
        response = client.get(url)
    assertContains(response, f"Bulk School {schools - 1:02}")
