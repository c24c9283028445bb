"""Steps the browser journeys share."""

import re

from playwright.sync_api import expect

from tests.teams.factories import PASSWORD


def sign_in(page, base_url, user, first_name):
    """Sign in from the home page's redirect to the login form; wait for the welcome."""
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {first_name}")).to_be_visible()
