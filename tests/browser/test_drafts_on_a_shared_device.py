"""Feedback drafts kept on a shared classroom tablet: signing out forgets them, and a draft is
only ever put back for the person who wrote it, and not after a week."""

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from observations.models import Status
from teams.models import Assignment
from tests.browser.pages import sign_in
from tests.observations.factories import cycle_in
from tests.teams.factories import CaseloadFactory, SchoolFactory, staff_at

pytestmark = pytest.mark.browser

DRAFT_PREFIX = "dl-portal-draft:"
GLOWS = "Every student showed an answer at 9:02, so you knew in seconds who had it."


@pytest.fixture
def cast(transactional_db):
    """A teacher leader with an observed cycle whose feedback is still to write."""
    school = SchoolFactory(name="Maple Elementary", slug="maple")
    leader = staff_at(
        school, Assignment.Position.TEACHER, username="lena", first_name="Lena", last_name="Lopez"
    )
    teacher = staff_at(school, first_name="Tina", last_name="Tran")
    CaseloadFactory(school=school, leader=leader, teacher=teacher)
    cycle = cycle_in(Status.OBSERVED, school=school, teacher=teacher, observer=leader)
    return SimpleNamespace(leader=leader, teacher=teacher, cycle=cycle)


def feedback_url(live_server, cycle):
    return live_server.url + reverse("observations:feedback_write", args=[cycle.pk])


def draft_keys(page):
    return sorted(
        page.evaluate(f"Object.keys(localStorage).filter((k) => k.startsWith('{DRAFT_PREFIX}'))")
    )


def store_draft(page, key, values, days_old=0):
    page.evaluate(
        """([key, values, daysOld]) => localStorage.setItem(key, JSON.stringify(
            {savedAt: Date.now() - daysOld * 24 * 60 * 60 * 1000, values}))""",
        [key, values, days_old],
    )


def block_autosave(page, cycle):
    """Fail every autosave POST as a dropped network would: the draft lives only on the device."""

    def refuse_posts(route):
        if route.request.method == "POST":
            route.abort()
        else:
            route.continue_()

    page.route(re.compile(rf"/cycles/{cycle.pk}/feedback/$"), refuse_posts)


def without_clear_site_data(page, seen):
    """Strip Clear-Site-Data from the sign-out answer, as a browser that ignores it would, so only
    the sign-out form's own clean-up is left. ``seen`` collects the header's values."""

    def strip(route):
        response = route.fetch(max_redirects=0)
        seen.append(response.headers.get("clear-site-data"))
        headers = {k: v for k, v in response.headers.items() if k.lower() != "clear-site-data"}
        route.fulfill(response=response, headers=headers)

    page.route(re.compile(r"/accounts/logout/$"), strip)


def sign_out(page):
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Lena Lopez", exact=True).click()
    nav.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


@pytest.mark.parametrize("header", ["sent", "ignored"], ids=["clear-site-data", "form-alone"])
def test_signing_out_forgets_a_draft_that_never_reached_the_server(page, live_server, cast, header):
    cycle = cast.cycle
    sign_in(page, live_server.url, cast.leader.user, "Lena")
    block_autosave(page, cycle)
    seen = []
    if header == "ignored":
        without_clear_site_data(page, seen)

    page.goto(feedback_url(live_server, cycle))
    page.get_by_label("Glows").fill(GLOWS)
    expect(page.locator("#autosave-status")).to_contain_text("Offline")
    assert draft_keys(page) == [f"{DRAFT_PREFIX}{cast.leader.user.pk}:feedback-{cycle.pk}"]
    assert not hasattr(cycle, "feedback")  # the text is only on this device

    sign_out(page)

    assert draft_keys(page) == []
    if header == "ignored":
        assert seen == ['"storage"']  # the server sent it; only the form cleaned up


def test_a_draft_is_put_back_only_for_its_writer_and_only_within_a_week(page, live_server, cast):
    cycle, me = cast.cycle, cast.leader.user.pk
    form_key = f"feedback-{cycle.pk}"
    sign_in(page, live_server.url, cast.leader.user, "Lena")
    someone_else = f"{DRAFT_PREFIX}{cast.teacher.user.pk}:{form_key}"
    store_draft(page, someone_else, {"glows": "Someone else's notes"})
    ownerless = f"{DRAFT_PREFIX}{form_key}"  # kept before drafts had owners
    store_draft(page, ownerless, {"glows": "Whose notes?"})
    store_draft(page, f"{DRAFT_PREFIX}{me}:{form_key}", {"glows": "My notes of last term"}, 8)

    page.goto(feedback_url(live_server, cycle))

    status = page.locator("#autosave-status")
    expect(page.get_by_label("Glows")).to_have_value("")
    expect(status).to_have_text("Drafts save as you type. Only you see a draft.")
    # My week-old copy is gone; nobody else's fresh one is touched.
    assert draft_keys(page) == sorted([someone_else, ownerless])

    # My own recent copy does come back.
    store_draft(page, f"{DRAFT_PREFIX}{me}:{form_key}", {"glows": GLOWS}, 6)
    page.reload()

    expect(page.get_by_label("Glows")).to_have_value(GLOWS)
    expect(status).to_contain_text("Unsaved notes from this device were put back.")
