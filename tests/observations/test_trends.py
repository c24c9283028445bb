"""Every figure of the trend pages, checked against numbers worked out by hand.

Maple Elementary (``world.school``) has five teachers, all observed by the coach:

=============  ===============  ==================  =======================  ====================
teacher        observed         feedback shared     follow-up                ratings
=============  ===============  ==================  =======================  ====================
Tina Tran      3 days ago       1 day later         mastered, 1 day ago      A: 2, B: 4
Amy Abbott     10 days ago      4 days later        partly, 3 days ago       A: 3
Lena Lopez     20 days ago      —                   —                        A: 3
Abe Archer     70 days ago      2 days later        not yet, 20 days ago     A: 1
Zoe Zimmer     never (a planned cycle only)
=============  ===============  ==================  =======================  ====================

In the last 6 weeks: 3 of 5 teachers observed; not observed: Zimmer (never), then Archer (oldest);
feedback on 2 visits, (1 + 4) / 2 = 2.5 days on average, 1 of 2 within 3 days; follow-ups by visit
date: Tina, Amy and Abe, one each of mastered, partly, not yet (33% each); ratings: A at levels
2, 3, 3 and B at level 4 (Abe's rating is older than the window).

In the last 2 weeks: Tina and Amy only; not observed: Zimmer, Archer, Lopez; follow-ups: mastered
and partly (50% each); ratings: A at 2 and 3, B at 4.

Birch Elementary has two teachers: Bo Birch observed 5 days ago, feedback 2 days later, step
mastered; Cy Cyprus never observed. Cedar Middle has no teachers at all.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from observations import selectors, services
from observations.models import Feedback, Observation
from teams.models import Assignment
from tests.observations.factories import (
    cycle_in,
    feedback_fields,
    indicators_of,
    level_of,
    small_rubric,
)
from tests.teams.factories import AssignmentFactory, SchoolFactory, staff_at

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
ACTION_STEP = "Pause for think time before you take any hand."
GLOWS = "Calm, warm start at the door."


def record(
    school, teacher, observer, *, observed_days_ago, ratings, shared_after=None, follow_up=None
):
    """A cycle driven through the services, then dated by hand.

    ``ratings`` maps an indicator to a level value; ``follow_up`` is (mastery, days ago).
    """
    now, today = timezone.now(), timezone.localdate()
    cycle = cycle_in("observed", school=school, teacher=teacher, observer=observer)
    rubric = cycle.rubric
    services.observation_save(
        cycle=cycle,
        fields={},
        ratings={
            indicator.pk: level_of(rubric, ratings[indicator]) if indicator in ratings else None
            for indicator in indicators_of(rubric)
        },
    )
    observed_at = now - observed_days_ago * DAY
    Observation.objects.filter(cycle=cycle).update(observed_at=observed_at)
    if shared_after is not None:
        services.feedback_save(
            cycle=cycle, fields=feedback_fields(action_step=ACTION_STEP, glows=GLOWS)
        )
        services.feedback_share(cycle=cycle, by=observer.user)
        Feedback.objects.filter(cycle=cycle).update(shared_at=observed_at + shared_after * DAY)
    if follow_up is not None:
        mastery, days_ago = follow_up
        services.follow_up_record(
            cycle=cycle, visited_on=today - days_ago * DAY, mastery=mastery, by=observer.user
        )
    return cycle


@pytest.fixture
def district(world):
    """The schools of the table above."""
    rubric = small_rubric(world.district)
    a, _, b, _ = indicators_of(rubric)  # A is 1.1 (domain 1), B is 2.1 (domain 2)
    school, coach = world.school, world.coach.staff
    world.amy = staff_at(school, first_name="Amy", last_name="Abbott")
    world.abe = staff_at(school, first_name="Abe", last_name="Archer")
    world.zoe = staff_at(school, first_name="Zoe", last_name="Zimmer")
    tina, lena = world.teacher.staff, world.leader.staff

    world.tina_cycle = record(
        school,
        tina,
        coach,
        observed_days_ago=3,
        ratings={a: 2, b: 4},
        shared_after=1,
        follow_up=("mastered", 1),
    )
    record(
        school,
        world.amy,
        coach,
        observed_days_ago=10,
        ratings={a: 3},
        shared_after=4,
        follow_up=("partly", 3),
    )
    record(school, lena, coach, observed_days_ago=20, ratings={a: 3})
    world.abe_cycle = record(
        school,
        world.abe,
        coach,
        observed_days_ago=70,
        ratings={a: 1},
        shared_after=2,
        follow_up=("not_yet", 20),
    )
    cycle_in("planned", school=school, teacher=world.zoe, observer=coach)

    birch = world.other_school
    bo = staff_at(birch, first_name="Bo", last_name="Birch")
    staff_at(birch, first_name="Cy", last_name="Cyprus")
    record(
        birch,
        bo,
        world.other_principal.staff,
        observed_days_ago=5,
        ratings={a: 4},
        shared_after=2,
        follow_up=("mastered", 2),
    )
    world.cedar = SchoolFactory(district=world.district, name="Cedar Middle", slug="cedar")
    world.indicators = {"A": a, "B": b}
    return world


def names(teachers):
    return [teacher.full_name for teacher in teachers]


def mastery_table(result):
    rows, total = result
    return {row["mastery"]: (row["count"], row["percent"]) for row in rows}, total


# --- school_trends ----------------------------------------------------------------------------


def test_school_trends_over_six_weeks(district):
    trends = selectors.school_trends(school=district.school, weeks=6)

    assert trends["weeks"] == 6
    assert trends["since"] == timezone.localdate() - 42 * DAY
    assert trends["teacher_count"] == 5
    assert trends["observed_teachers"] == 3
    # Never observed first, then the longest ago, whatever the alphabet says.
    assert names(trends["not_observed"]) == ["Zoe Zimmer", "Abe Archer"]
    zoe, abe = trends["not_observed"]
    assert zoe.last_observed is None
    assert abe.last_observed == Observation.objects.get(cycle=district.abe_cycle).observed_at

    speed = trends["feedback"]
    assert speed["observed"] == 3  # Tina, Amy and Lena's visits; Abe's is older
    assert speed["count"] == 2  # Lena's feedback is not shared yet
    assert speed["average"] == datetime.timedelta(days=2.5)
    assert speed["average_days"] == 2.5
    assert speed["within_days"] == 1  # 1 day yes, 4 days no

    assert mastery_table(trends["mastery"]) == (
        {"not_yet": (1, 33), "partly": (1, 33), "mastered": (1, 33)},
        3,
    )
    labels = [row["label"] for row in trends["mastery"][0]]
    assert labels == ["Not yet", "Partly", "Mastered"]

    ratings = trends["ratings"]
    assert ratings["levels"] == [2, 3, 4]  # nobody was rated 1 in the window
    assert [(row["code"], row["cells"], row["total"]) for row in ratings["indicators"]] == [
        ("1.1", [1, 2, 0], 3),
        ("2.1", [0, 0, 1], 1),
    ]
    assert ratings["indicators"][0]["name"] == "Indicator 1.1"
    assert ratings["indicators"][0]["counts"] == {2: 1, 3: 2}


def test_school_trends_over_two_weeks(district):
    trends = selectors.school_trends(school=district.school, weeks=2)

    assert trends["since"] == timezone.localdate() - 14 * DAY
    assert trends["observed_teachers"] == 2
    assert names(trends["not_observed"]) == ["Zoe Zimmer", "Abe Archer", "Lena Lopez"]
    speed = trends["feedback"]
    assert (speed["observed"], speed["count"], speed["within_days"]) == (2, 2, 1)
    assert speed["average_days"] == 2.5
    assert mastery_table(trends["mastery"]) == (
        {"not_yet": (0, 0), "partly": (1, 50), "mastered": (1, 50)},
        2,
    )
    assert trends["ratings"]["levels"] == [2, 3, 4]
    cells = [(row["code"], row["cells"]) for row in trends["ratings"]["indicators"]]
    assert cells == [("1.1", [1, 1, 0]), ("2.1", [0, 0, 1])]


def test_school_trends_of_a_quiet_school(district):
    trends = selectors.school_trends(school=district.cedar, weeks=6)

    assert (trends["teacher_count"], trends["observed_teachers"]) == (0, 0)
    assert trends["not_observed"] == []
    assert trends["feedback"]["average"] is None
    assert trends["feedback"]["average_days"] is None
    assert (trends["feedback"]["count"], trends["feedback"]["within_days"]) == (0, 0)
    assert mastery_table(trends["mastery"]) == (
        {"not_yet": (0, 0), "partly": (0, 0), "mastered": (0, 0)},
        0,
    )
    assert trends["ratings"] == {"levels": [], "indicators": []}


# --- district_trends --------------------------------------------------------------------------


def test_district_trends_one_row_per_school(district):
    schools = list(district.district.schools.order_by("name"))
    trends = selectors.district_trends(schools=schools, weeks=6)

    assert trends["weeks"] == 6
    rows = {row["school"].name: row for row in trends["rows"]}
    assert list(rows) == ["Birch Elementary", "Cedar Middle", "Maple Elementary"]
    fields = ["teachers", "observed", "coverage", "feedback_shared", "average_days"]
    fields += ["follow_ups", "mastered"]

    def figures(name):
        return {field: rows[name][field] for field in fields}

    assert figures("Maple Elementary") == {
        "teachers": 5,
        "observed": 3,
        "coverage": 60,
        "feedback_shared": 2,
        "average_days": 2.5,
        "follow_ups": 3,
        "mastered": 1,
    }
    assert figures("Birch Elementary") == {
        "teachers": 2,
        "observed": 1,
        "coverage": 50,
        "feedback_shared": 1,
        "average_days": 2.0,
        "follow_ups": 1,
        "mastered": 1,
    }
    assert figures("Cedar Middle") == {
        "teachers": 0,
        "observed": 0,
        "coverage": None,
        "feedback_shared": 0,
        "average_days": None,
        "follow_ups": 0,
        "mastered": 0,
    }


def test_district_trends_agree_with_each_school_page(district):
    """The district's row for a school is the school page's figures, over any window."""
    schools = list(district.district.schools.order_by("name"))
    for weeks in (2, 6, 12):
        rows = selectors.district_trends(schools=schools, weeks=weeks)["rows"]
        for row in rows:
            school = selectors.school_trends(school=row["school"], weeks=weeks)
            assert row["teachers"] == school["teacher_count"]
            assert row["observed"] == school["observed_teachers"]
            assert row["feedback_shared"] == school["feedback"]["count"]
            assert row["average_days"] == school["feedback"]["average_days"]
            assert row["follow_ups"] == school["mastery"][1]
            mastered = {r["mastery"]: r["count"] for r in school["mastery"][0]}["mastered"]
            assert row["mastered"] == mastered


# --- the pages ---------------------------------------------------------------------------------


def school_url(school, **query):
    url = reverse("observations:school_trends", args=[school.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def district_url(district, **query):
    url = reverse("observations:district_trends", args=[district.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_district_page_shows_aggregates_and_no_names_or_feedback(client, district):
    client.force_login(district.district_leader)
    response = client.get(district_url(district.district))

    assert response.status_code == 200
    html = response.content.decode()
    # Maple, Cedar and Birch rows, in that table order: Birch, Cedar, Maple.
    assert html.index("Birch Elementary") < html.index("Cedar Middle")
    assert html.index("Cedar Middle") < html.index("Maple Elementary")
    for figure in ["60%", "50%", "2.5 days", "2.0 days", "1 of 3", "1 of 1", "0 of 0"]:
        assertContains(response, figure)
    for private in [
        "Tina Tran",
        "Amy Abbott",
        "Zoe Zimmer",
        "Abe Archer",
        "Bo Birch",
        "Cora Cole",
        ACTION_STEP,
        GLOWS,
        feedback_fields()["grow"],
    ]:
        assertNotContains(response, private)


def test_the_principal_sees_who_has_not_been_observed(client, district):
    client.force_login(district.principal)
    response = client.get(school_url(district.school))

    assert response.status_code == 200
    assert response.context["show_names"] is True
    html = response.content.decode()
    assert html.index("Zoe Zimmer") < html.index("Abe Archer")
    assertContains(response, "never")
    for figure in ["3 of 5", "2.5 days", "1 of 2"]:
        assertContains(response, figure)
    assertContains(response, '<td class="text-end">2</td>', count=1)  # A at level 3
    # Teachers observed in the window are not listed.
    assertNotContains(response, "Amy Abbott")
    assertNotContains(response, ACTION_STEP)


def test_the_district_leader_sees_counts_instead_of_names(client, district):
    client.force_login(district.district_leader)
    response = client.get(school_url(district.school))

    assert response.status_code == 200
    assert response.context["show_names"] is False
    assertContains(response, "2 of 5 teachers.")
    assertContains(response, "Names stay inside the school.")
    assertContains(response, "3 of 5")
    for private in ["Zoe Zimmer", "Abe Archer", "Tina Tran", "Lena Lopez", ACTION_STEP, GLOWS]:
        assertNotContains(response, private)


@pytest.mark.parametrize("who", ["principal", "district_leader"])
def test_the_weeks_filter_changes_the_school_window(client, district, who):
    client.force_login(getattr(district, who))
    response = client.get(school_url(district.school, weeks=2))

    trends = response.context["trends"]
    assert trends["weeks"] == 2
    assert trends["since"] == timezone.localdate() - 14 * DAY
    assert trends["observed_teachers"] == 2
    assertContains(response, '<option value="2" selected>Last 2 weeks</option>', html=True)
    assertContains(response, "2 of 5")


def test_the_weeks_filter_changes_the_district_window(client, district):
    client.force_login(district.district_leader)
    response = client.get(district_url(district.district, weeks=2))

    assert response.context["trends"]["weeks"] == 2
    maple = response.context["trends"]["rows"][2]
    assert maple["school"] == district.school
    assert (maple["observed"], maple["coverage"], maple["follow_ups"]) == (2, 40, 2)
    assertContains(response, "40%")
    # Each school links to its own page over the same window.
    assertContains(response, school_url(district.school, weeks=2))


@pytest.mark.parametrize("value", ["abc", "5", "-2", "", "6.5"])
def test_an_invalid_weeks_value_falls_back_to_six(client, district, value):
    client.force_login(district.principal)
    response = client.get(school_url(district.school, weeks=value))
    assert response.status_code == 200
    assert response.context["trends"]["weeks"] == 6
    assert response.context["trends"]["observed_teachers"] == 3

    client.force_login(district.district_leader)
    response = client.get(district_url(district.district, weeks=value))
    assert response.status_code == 200
    assert response.context["trends"]["weeks"] == 6


# --- people who work at two schools, or have left ---------------------------------------------


def test_a_visit_at_another_school_does_not_count_as_last_observed_here(district):
    """Amy also teaches at Birch, where nobody has visited her: Birch lists her as never
    observed, not with the date of her visit at Maple (inside the window it lists her for)."""
    AssignmentFactory(staff=district.amy, school=district.other_school)

    birch = selectors.school_trends(school=district.other_school, weeks=6)

    assert birch["observed_teachers"] == 1
    assert [(t.full_name, t.last_observed) for t in birch["not_observed"]] == [
        ("Amy Abbott", None),
        ("Cy Cyprus", None),
    ]


def test_a_teacher_who_left_counts_the_same_on_both_pages(district):
    """Tina stopped teaching at Maple yesterday: neither page counts her visit any more."""
    Assignment.objects.filter(staff=district.teacher.staff, school=district.school).update(
        end_date=timezone.localdate() - DAY
    )

    school = selectors.school_trends(school=district.school, weeks=6)
    (row,) = selectors.district_trends(schools=[district.school], weeks=6)["rows"]

    assert (school["teacher_count"], school["observed_teachers"]) == (4, 2)
    assert (row["teachers"], row["observed"], row["coverage"]) == (4, 2, 50)
