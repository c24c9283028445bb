"""Dashboard reviews: what a principal sees as new, what a review saves, and a finding sent on
to a team as its action item.

The data: five students of the ``world`` school with math results in fall and winter and reading
results in winter, compiled, so the school has three school-scope snapshots.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import dateformat
from django.utils.html import escape
from django.utils.timezone import localtime
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from data_tracking import services
from data_tracking.compile import school_compile
from data_tracking.models import DashboardReview, DashboardSnapshot, StudentAccessLog, Subject
from teams.models import ActionItem, Assignment
from tests.data_tracking.factories import StudentFactory, benchmark, record
from tests.data_tracking.reading import metrics_shown, table_rows
from tests.teams.factories import staff_at

pytestmark = pytest.mark.django_db

YEAR = "2026-2027"
Scope = DashboardSnapshot.Scope


@pytest.fixture
def compiled(world):
    math_fall, math_winter = benchmark(world.district, "fall"), benchmark(world.district, "winter")
    reading = benchmark(world.district, "winter", Subject.READING)
    for i, (fall, winter) in enumerate([(195, 205), (212, 215), (221, 225), (208, 204)]):
        student = StudentFactory(school=world.school, last_name=f"Family{i}", grade="3")
        record(math_fall, student, fall)
        record(math_winter, student, winter)
        record(reading, student, winter - 20)
    school_compile(school=world.school)
    return {"math_winter": math_winter}


def school_snapshot(world, subject="math", window="winter"):
    return DashboardSnapshot.objects.get(
        school=world.school, scope=Scope.SCHOOL, subject=subject, window=window, is_current=True
    )


def as_user(client, user):
    client.force_login(user)
    return client


def review_list(client, user):
    return as_user(client, user).get(reverse("data_tracking:review_list"))


def review_url(snapshot):
    return reverse("data_tracking:snapshot_review", args=[snapshot.pk])


def listed(response):
    """{"Subject, window year": is it marked new} for each row of the review list."""
    rows = table_rows(response, "Current school snapshots")
    return {row[1].removesuffix(" New"): row[1].endswith(" New") for row in rows}


# ── The list ─────────────────────────────────────────────────────────────────────────────────


def test_every_current_school_snapshot_is_new_before_any_review(client, world, compiled):
    response = review_list(client, world.principal)

    assert listed(response) == {
        "Mathematics, fall 2026-2027": True,
        "Mathematics, winter 2026-2027": True,
        "Reading, winter 2026-2027": True,
    }
    assert [row[3] for row in table_rows(response, "Current school snapshots")] == ["never"] * 3
    assertContains(response, f'href="{review_url(school_snapshot(world))}"')


def test_a_reviewed_snapshot_is_no_longer_new(client, world, compiled):
    snapshot = school_snapshot(world)

    as_user(client, world.principal).post(review_url(snapshot), {"comment": "Winter is up."})
    response = review_list(client, world.principal)

    assert listed(response)["Mathematics, winter 2026-2027"] is False
    reviewed_on = dateformat.format(localtime(DashboardReview.objects.get().reviewed_at), "M j")
    row = next(r for r in table_rows(response, "school snapshots") if "Mathematics, w" in r[1])
    assert row[3].startswith(reviewed_on)  # "your last review", instead of "never"


def test_reviewing_one_subject_and_window_leaves_the_others_new(client, world, compiled):
    services.review_create(snapshot=school_snapshot(world), reviewer=world.principal)

    assert listed(review_list(client, world.principal)) == {
        "Mathematics, fall 2026-2027": True,
        "Mathematics, winter 2026-2027": False,
        "Reading, winter 2026-2027": True,
    }


def test_someone_elses_review_does_not_count_as_mine(client, world, compiled):
    assistant = staff_at(world.school, Assignment.Position.ASSISTANT_PRINCIPAL).user
    services.review_create(snapshot=school_snapshot(world), reviewer=assistant, comment="Seen.")

    assert listed(review_list(client, world.principal))["Mathematics, winter 2026-2027"] is True
    assert listed(review_list(client, assistant))["Mathematics, winter 2026-2027"] is False


def test_a_recompile_after_my_review_is_new_again(client, world, compiled):
    reviewed = school_snapshot(world)
    services.review_create(snapshot=reviewed, reviewer=world.principal)
    assert listed(review_list(client, world.principal))["Mathematics, winter 2026-2027"] is False

    latecomer = StudentFactory(school=world.school, grade="3")
    record(compiled["math_winter"], latecomer, 230)
    school_compile(school=world.school)
    response = review_list(client, world.principal)

    recompiled = school_snapshot(world)
    assert recompiled.pk != reviewed.pk
    assert listed(response)["Mathematics, winter 2026-2027"] is True
    # The superseded version is not listed beside the current one.
    assert len(table_rows(response, "Current school snapshots")) == 3
    assertContains(response, review_url(recompiled))
    assertNotContains(response, review_url(reviewed))


def test_the_list_holds_only_the_principals_own_schools(client, world, compiled):
    DashboardSnapshot.objects.create(
        school=world.other_school,
        scope=Scope.SCHOOL,
        subject="science",
        school_year=YEAR,
        window="fall",
        metrics={"tested": 3},
        fingerprint="birch",
    )

    response = review_list(client, world.principal)

    assert "Science, fall 2026-2027" not in listed(response)
    assertNotContains(response, "Birch Elementary")
    assert listed(review_list(client, world.other_principal)) == {"Science, fall 2026-2027": True}


def test_a_principal_without_compiled_data_is_told_why_the_list_is_empty(client, world):
    response = review_list(client, world.principal)

    assertContains(response, "No compiled dashboards yet.")


# ── Reviewing ────────────────────────────────────────────────────────────────────────────────


def test_the_review_page_shows_the_snapshot_and_the_schools_teams(client, world, compiled):
    response = as_user(client, world.principal).get(review_url(school_snapshot(world)))

    assertContains(response, "Maple Elementary: Mathematics, winter 2026-2027")
    # 205+215+225+204 = 849 over 4 = 212.25; 215 and 225 reach Meets
    assert metrics_shown(response)["Mean score"] == "212.3"
    assert metrics_shown(response)["Proficient"] == "50.0%"
    assertContains(response, f">{world.team.name}</option>")
    assertNotContains(response, world.other_team.name)
    assert not StudentAccessLog.objects.exists()


def test_the_dashboard_link_opens_the_reviewed_subject_and_window(client, world, compiled):
    fall = school_snapshot(world, window="fall")
    response = as_user(client, world.principal).get(review_url(fall))

    dashboard = response.context["dashboard_url"]
    assertContains(response, f'href="{escape(dashboard)}"')
    # 195+212+221+208 over 4: the fall numbers, not the latest window's
    assert metrics_shown(client.get(dashboard))["Mean score"] == "209.0"


def test_a_review_with_a_comment_is_saved(client, world, compiled):
    snapshot = school_snapshot(world)

    response = as_user(client, world.principal).post(
        review_url(snapshot), {"comment": "  Grade 3 fell behind.  "}
    )

    assertRedirects(response, reverse("data_tracking:review_list"), fetch_redirect_response=False)
    review = DashboardReview.objects.get()
    assert (review.snapshot, review.reviewer, review.comment) == (
        snapshot,
        world.principal,
        "Grade 3 fell behind.",
    )
    assert not ActionItem.objects.exists()
    assertContains(client.get(response.url), "Review saved.")
    # Later readers of the snapshot see the comment, with who wrote it.
    page = client.get(review_url(snapshot))
    assertContains(page, "Earlier reviews")
    assertContains(page, "Paula Prince")
    assertContains(page, "Grade 3 fell behind.")


def test_sending_a_finding_to_a_team_makes_it_the_teams_action_item(client, world, compiled):
    snapshot = school_snapshot(world)
    due = datetime.date(2027, 2, 15)

    response = as_user(client, world.principal).post(
        review_url(snapshot),
        {
            "comment": "Fewer students at risk.",
            "team": world.team.pk,
            "action_text": "Plan reteaching for the four students at risk",
            "due_date": due.isoformat(),
        },
    )

    assertRedirects(response, reverse("data_tracking:review_list"), fetch_redirect_response=False)
    item = ActionItem.objects.get()
    dashboard = reverse("data_tracking:school_dashboard", args=["maple"])
    assert (item.team, item.text, item.due_date, item.created_by) == (
        world.team,
        "Plan reteaching for the four students at risk",
        due,
        world.principal,
    )
    assert item.source_label == "Mathematics, winter 2026-2027 review"
    assert item.source_url == f"{dashboard}?subject=math&period={YEAR}:winter"
    assert DashboardReview.objects.get().comment == "Fewer students at risk."
    assertContains(
        client.get(response.url),
        "“Plan reteaching for the four students at risk” is now an action item of "
        "Instructional Leadership Team, waiting for its next meeting to be scheduled.",
    )

    # The team sees it, with the way back to the dashboard it came from.
    team_page = as_user(client, world.leader).get(
        reverse("teams:team_detail", args=[world.team.pk])
    )
    assertContains(team_page, "Plan reteaching for the four students at risk")
    assertContains(team_page, "due Feb 15")
    link = f'<a href="{dashboard}?subject=math&amp;period={YEAR}:winter">'
    assertContains(team_page, f"{link}Mathematics, winter 2026-2027 review</a>")
    # No meeting is scheduled: the topic waits on the team page for the next one.
    assertContains(team_page, "Waiting for the next meeting (1)")


def test_a_team_of_another_school_is_refused(client, world, compiled):
    response = as_user(client, world.principal).post(
        review_url(school_snapshot(world)),
        {"comment": "Share with Birch", "team": world.other_team.pk, "action_text": "Compare"},
    )

    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assertContains(response, "Select a valid choice.")
    assert not DashboardReview.objects.exists()
    assert not ActionItem.objects.exists()


def test_a_team_without_a_task_is_refused(client, world, compiled):
    response = as_user(client, world.principal).post(
        review_url(school_snapshot(world)), {"team": world.team.pk, "action_text": "  "}
    )

    assertContains(response, "Say what the team should do with this finding.")
    assert not DashboardReview.objects.exists()
    assert not ActionItem.objects.exists()


def test_the_service_refuses_another_schools_team_and_writes_nothing(world, compiled):
    with pytest.raises(ValidationError) as refused:
        services.review_create(
            snapshot=school_snapshot(world),
            reviewer=world.principal,
            comment="Compare",
            team=world.other_team,
            action_text="Compare with Maple",
        )

    assert refused.value.message_dict == {"team": ["Choose a team of this school."]}
    assert not DashboardReview.objects.exists()
    assert not ActionItem.objects.exists()


def test_the_review_list_pages_new_first_and_filters_by_school_year(client, world):
    """Three school years of snapshots (two subjects × three windows each, plus other scopes
    that never show): 18 school snapshots, the reviewed ones after the new ones."""
    years = ["2024-2025", "2025-2026", "2026-2027"]
    snapshots = [
        DashboardSnapshot.objects.create(
            school=world.school,
            scope="school",
            subject=subject,
            school_year=year,
            window=window,
            metrics={"tested": 10},
            fingerprint=f"{year}{subject}{window}",
        )
        for year in years
        for subject in ("math", "reading")
        for window in ("fall", "winter", "spring")
    ]
    for snapshot in snapshots[:6]:  # the oldest year: all reviewed
        services.review_create(snapshot=snapshot, reviewer=world.principal)
    client.force_login(world.principal)

    first = client.get(reverse("data_tracking:review_list"))
    assert [s.is_new for s in first.context["page"]] == [True] * 12 + [False] * 6
    assert first.context["years"] == list(reversed(years))

    only = client.get(reverse("data_tracking:review_list"), {"year": "2024-2025"})
    assert {s.school_year for s in only.context["page"]} == {"2024-2025"}
    assert len(only.context["page"]) == 6
    assertContains(only, '<option value="2024-2025" selected>2024-2025</option>', html=True)

    unknown = client.get(reverse("data_tracking:review_list"), {"year": "1999-2000"})
    assert unknown.context["year"] == "" and len(unknown.context["page"]) == 18

    DashboardSnapshot.objects.bulk_create(
        DashboardSnapshot(
            school=world.school,
            scope="school",
            subject="math",
            school_year=f"{2000 + n}-{2001 + n}",
            window="fall",
            fingerprint=str(n),
        )
        for n in range(10)
    )
    paged = client.get(reverse("data_tracking:review_list"))
    assert len(paged.context["page"]) == 25
    assertContains(paged, "Page 1 of 2")
    second = client.get(reverse("data_tracking:review_list"), {"page": 2})
    assert len(second.context["page"]) == 3
