"""Team action items: members and the school's leaders tick them off; others only read."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from teams import services
from teams.models import ActionItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(world):
    return services.action_item_create(
        team=world.team,
        text="Share the grade 6 reading plan",
        created_by=world.principal,
        owner=world.leader.staff,
        source_label="Grade 6 reading, fall",
        source_url="/somewhere/",
    )


def toggle(client, user, item, done="1"):
    client.force_login(user)
    return client.post(reverse("teams:action_item_toggle", args=[item.pk]), {"done": done})


def test_the_team_page_lists_open_items_with_owner_and_source(client, world, item):
    client.force_login(world.coach)
    response = client.get(world.team.get_absolute_url())
    assertContains(response, "Share the grade 6 reading plan")
    assertContains(response, "Grade 6 reading, fall")
    assertNotContains(response, "Mark done")  # the coach reads but is not on the team


@pytest.mark.parametrize("person", ["leader", "principal"])
def test_a_member_or_the_principal_marks_an_item_done_and_open_again(client, world, item, person):
    assert toggle(client, getattr(world, person), item).status_code == 302
    item.refresh_from_db()
    assert item.is_done
    toggle(client, getattr(world, person), item, done="0")
    item.refresh_from_db()
    assert not item.is_done


@pytest.mark.parametrize(("person", "status"), [("coach", 403), ("other_principal", 404)])
def test_others_cannot_tick_items(client, world, item, person, status):
    assert toggle(client, getattr(world, person), item).status_code == status
    item.refresh_from_db()
    assert not item.is_done


def test_an_item_needs_words_and_an_owner_on_the_team(world):
    with pytest.raises(ValidationError, match="Say what the team should do"):
        services.action_item_create(team=world.team, text="  ", created_by=world.principal)
    with pytest.raises(ValidationError, match="is not a member of"):
        services.action_item_create(
            team=world.team, text="x", created_by=world.principal, owner=world.teacher.staff
        )
    assert not ActionItem.objects.exists()
