"""Headers that keep student data off shared devices: nothing a signed-in person is shown is
stored by a cache, and signing out tells the browser to forget this site's storage."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from dl_portal.middleware import NoStoreForSignedInMiddleware
from tests.data_tracking.factories import EnrollmentFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def section(world):
    section = SectionFactory(school=world.school, teacher=world.teacher.staff, grade="3")
    EnrollmentFactory(section=section, student__grade="3")
    return section


@pytest.mark.parametrize(
    ("url_name", "args", "params"),
    [
        ("home", [], {}),
        ("data_tracking:school_dashboard", ["maple"], {}),
        ("data_tracking:section_dashboard", ["section"], {}),
        ("data_tracking:section_dashboard", ["section"], {"format": "csv"}),
        ("data_tracking:my_classes", [], {}),
    ],
)
def test_pages_and_csvs_for_a_signed_in_person_are_not_stored(
    client, world, section, url_name, args, params
):
    client.force_login(world.principal)
    url = reverse(url_name, args=[section.pk if arg == "section" else arg for arg in args])

    response = client.get(url, params)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def middleware_answer(user, response):
    request = RequestFactory().get("/")
    request.user = user
    return NoStoreForSignedInMiddleware(lambda request: response)(request)


def test_an_anonymous_answer_is_left_to_the_view(world):
    answer = middleware_answer(AnonymousUser(), HttpResponse())

    assert not answer.has_header("Cache-Control")


def test_a_view_that_chose_its_own_cache_control_keeps_it(world):
    response = HttpResponse()
    response["Cache-Control"] = "max-age=60"

    assert middleware_answer(world.principal, response)["Cache-Control"] == "max-age=60"


def test_signing_out_clears_the_sites_storage(client, world):
    client.force_login(world.teacher)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert response["Clear-Site-Data"] == '"storage"'
    assert "_auth_user_id" not in client.session
