"""The leadership map's network drawing in a real browser: one dot per person, one line per tie,
the single point of failure ringed, and the drawing labelled by the summary beside it."""

import pytest
from playwright.sync_api import expect

from teams.models import TeamRole
from tests.browser.pages import sign_in
from tests.teams.factories import TeamMembershipFactory

pytestmark = pytest.mark.browser


def test_network_is_drawn_with_a_text_alternative(page, live_server, transactional_db, world):
    TeamMembershipFactory(team=world.team, staff=world.teacher.staff, role=TeamRole.MEMBER)
    TeamMembershipFactory(team=world.team, staff=world.coach.staff, role=TeamRole.MEMBER)

    sign_in(page, live_server.url, world.principal, "Paula")
    page.goto(f"{live_server.url}/schools/maple/leadership-map/")
    graph = page.locator("#network-graph svg")
    expect(graph).to_have_attribute("role", "img")
    expect(graph).to_have_attribute("aria-labelledby", "network-summary")
    expect(graph.locator("circle")).to_have_count(4)  # principal, teacher, leader, coach
    expect(graph.locator("line")).to_have_count(2)  # leader ↔ teacher, leader ↔ coach
    # The leader is the ILT's only lead: the one ringed in red (a wider stroke).
    ringed = graph.locator("g g", has_text="Lena Lopez").locator("circle")
    expect(ringed).to_have_attribute("stroke-width", "4")
    page.locator("#network-graph").screenshot(path="/tmp/leadership_map_graph.png")
