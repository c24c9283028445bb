"""Journey 1 in a real browser: a principal builds a grade-level team and assigns roles."""

import re

import pytest
from playwright.sync_api import expect

from teams.models import Assignment, Caseload, TeamMembership
from tests.teams.factories import PASSWORD, SchoolFactory, staff_at

pytestmark = pytest.mark.browser

Position = Assignment.Position


@pytest.fixture
def middle_school(transactional_db):
    school = SchoolFactory(name="Cedar Middle School", slug="cedar", level="middle")
    principal = staff_at(
        school, Position.PRINCIPAL, username="pat", first_name="Pat", last_name="Okafor"
    )
    people = {
        "Maya Chen": (["math"], "Number talks; math discourse"),
        "Luis Ortega": (["ela"], "Guided reading; writing workshop"),
        "Grace Whitfield": (["science"], "Lab inquiry; claim-evidence-reasoning"),
        "Omar Haddad": (["special_education"], "Co-teaching; IEP goal writing"),
    }
    staff = {}
    for name, (areas, expertise) in people.items():
        first, last = name.split()
        member = staff_at(
            school, Position.TEACHER, username=first.lower(), first_name=first, last_name=last
        )
        member.content_areas, member.expertise = areas, expertise
        member.save()
        staff[name] = member
    return school, principal.user, staff


def test_principal_builds_a_team_assigns_roles_and_sees_history(
    page, live_server, middle_school, shot
):
    school, principal, staff = middle_school

    # Sign in.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(principal.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Pat")).to_be_visible()

    # Open the school's teams (empty) and create a grade-level team.
    page.get_by_role("link", name="Build and review teams").click()
    expect(page.get_by_text("No teams here yet.")).to_be_visible()
    page.get_by_role("link", name="Create the first team").click()
    page.get_by_label("Name").fill("Grade 7 team")
    page.get_by_label("Kind of team").select_option(label="Grade-level team")
    page.get_by_label("Focus for the year").fill("Every grade 7 student writes an argument a week.")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Grade 7 team")).to_be_visible()
    expect(page.get_by_text("No one holds a role on this team yet.")).to_be_visible()

    # Assign a team lead, found by filtering on expertise.
    page.get_by_role("link", name="Assign a role").first.click()
    page.get_by_label("Filter by name, content area or expertise").fill("writing workshop")
    expect(page.get_by_label("Maya Chen")).to_be_hidden()
    page.get_by_label("Luis Ortega").check()
    page.get_by_label("Team role").select_option(label="Team lead")
    shot("assign-form")
    page.get_by_role("button", name="Assign role").click()
    expect(page.get_by_text("Luis Ortega is now team lead of Grade 7 team.")).to_be_visible()

    # Assign a data lead; the staff list shows expertise beside the name.
    page.get_by_role("link", name="Assign a role").first.click()
    maya_row = page.get_by_role("row").filter(has_text="Maya Chen")
    expect(maya_row).to_contain_text("Number talks; math discourse")
    page.get_by_label("Maya Chen").check()
    page.get_by_label("Team role").select_option(label="Data lead")
    page.get_by_role("button", name="Assign role").click()
    members = page.get_by_role("table", name=re.compile("Current members"))
    expect(members.get_by_role("row")).to_have_count(3)  # header + two members

    # Assigning Luis again is refused with a clear message, and nothing typed is lost.
    page.get_by_role("link", name="Assign a role").first.click()
    page.get_by_label("Luis Ortega").check()
    page.get_by_label("Team role").select_option(label="Facilitator")
    page.get_by_role("button", name="Assign role").click()
    expect(page.get_by_role("alert")).to_contain_text("already holds the role Team lead")
    expect(page.get_by_label("Luis Ortega")).to_be_checked()
    expect(page.get_by_label("Team role")).to_have_value("facilitator")
    page.get_by_role("link", name="Cancel").click()

    # End Maya's role: a confirmation page, then the history keeps it.
    page.get_by_role("link", name="End role of Maya Chen").click()
    expect(page.get_by_role("heading", name=re.compile("End Maya Chen"))).to_be_visible()
    page.get_by_role("button", name="End role").click()
    expect(page.get_by_text(re.compile("Maya Chen’s role as data lead ended"))).to_be_visible()
    expect(members.get_by_role("row")).to_have_count(2)
    history = page.get_by_role("table", name=re.compile("History of roles"))
    expect(history.get_by_role("row").filter(has_text="Maya Chen")).to_contain_text("Data lead")
    expect(history.get_by_role("row").filter(has_text="Luis Ortega")).to_contain_text("current")
    shot("team-detail")

    membership = TeamMembership.objects.get(staff=staff["Maya Chen"])
    assert membership.closed_at is not None and membership.ended_by == principal

    # Give the new team lead a caseload of teachers.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseloads").click()
    page.get_by_role("link", name="Assign the first caseload").click()
    page.get_by_label("Teacher leader or coach").select_option(label="Luis Ortega")
    page.get_by_label("Teacher*", exact=True).select_option(label="Omar Haddad")
    page.get_by_role("button", name="Add to caseload").click()
    expect(page.get_by_text("Omar Haddad added to Luis Ortega’s caseload.")).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("Luis Ortega"))).to_contain_text(
        "Omar Haddad"
    )
    shot("caseloads")
    assert (
        Caseload.objects.active()
        .filter(leader=staff["Luis Ortega"], teacher=staff["Omar Haddad"], school=school)
        .exists()
    )
