"""Rubrics as JSON (import, export, versions), their admin pages, and the demo term of cycles."""

import copy
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from observations import services
from observations.models import (
    FollowUp,
    Indicator,
    IndicatorRating,
    ObservationCycle,
    Reflection,
    Rubric,
    Status,
)
from observations.rubric_io import (
    example_rubric_data,
    rubric_export,
    rubric_import,
    rubric_new_version,
)
from teams.models import Caseload
from tests.teams.factories import DistrictFactory

pytestmark = pytest.mark.django_db

LINEAGE = "dl-portal-example"


@pytest.fixture
def example():
    return example_rubric_data()


@pytest.fixture
def rubric(world, example):
    return rubric_import(data=example, district=world.district)


def start_rated_cycle(world, rubric):
    """A cycle at ``world.school`` with one rating against ``rubric``."""
    cycle = services.cycle_start(
        school=world.school, teacher=world.teacher.staff, observer=world.leader.staff, by=None
    )
    indicator = Indicator.objects.get(domain__rubric=rubric, code="SD1")
    services.observation_save(
        cycle=cycle,
        fields={"evidence": "9:02 Turn-and-talk.", "observed_at": timezone.now()},
        ratings={indicator.pk: rubric.levels.get(value=2)},
    )
    return cycle


# --- Import ---------------------------------------------------------------------------------------


def test_the_example_imports_with_its_levels_domains_and_indicators(world, example):
    rubric = rubric_import(data=example, district=world.district)

    assert (rubric.lineage, rubric.version, rubric.is_current) == (LINEAGE, 1, True)
    assert rubric.district == world.district and rubric.school is None
    assert rubric.name == "DL Portal Example Rubric"
    assert [(lv.value, lv.label) for lv in rubric.levels.all()] == [
        (1, "Not yet evident"),
        (2, "Emerging"),
        (3, "Proficient"),
        (4, "Exemplary"),
    ]
    assert [d.name for d in rubric.domains.all()] == [
        "Classroom culture",
        "Rigor of content",
        "Student discourse",
        "Checking for understanding",
    ]
    codes = Indicator.objects.filter(domain__rubric=rubric).values_list("code", flat=True)
    assert list(codes) == [f"{p}{n}" for p in ("CC", "RC", "SD", "CU") for n in (1, 2, 3)]
    assert all(i.description for i in Indicator.objects.filter(domain__rubric=rubric))


def test_a_school_gets_its_own_rubric_which_then_applies_there(world, example):
    rubric = rubric_import(data=example, school=world.school)

    assert rubric.school == world.school and rubric.district is None
    assert services.current_rubric_for(world.school) == rubric
    assert services.current_rubric_for(world.other_school) is None


def test_a_rubric_is_scoped_to_exactly_one_district_or_school(world, example):
    with pytest.raises(ValidationError, match="one district or one school"):
        rubric_import(data=example)
    with pytest.raises(ValidationError, match="one district or one school"):
        rubric_import(data=example, district=world.district, school=world.school)


def broken(change):
    """The example with ``change`` applied to a deep copy."""
    data = copy.deepcopy(example_rubric_data())
    change(data)
    return data


def set_path(*path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def delete_path(*path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BROKEN = [
    (delete_path("format"), '"format" is missing'),
    (set_path("format", value="csv"), '"format" must be "dl-portal-rubric", not "csv"'),
    (set_path("format_version", value=2), '"format_version" 2 is not supported'),
    (delete_path("lineage"), '"lineage" is missing'),
    (set_path("lineage", value="my rubric!"), '"lineage" may contain only letters'),
    (set_path("name", value="   "), '"name" is empty'),
    (set_path("name", value="x" * 201), '"name" is 201 characters long; the limit is 200'),
    (set_path("levels", value={"1": "low"}), '"levels" must be a list'),
    (set_path("levels", value=[{"value": 1, "label": "Only"}]), "at least two rating levels"),
    (set_path("levels", 1, "value", value=1), 'levels[1]: "value" 1 is used by another level'),
    (set_path("levels", 0, "value", value="high"), 'levels[0]: "value" must be a whole number'),
    (set_path("levels", 0, "value", value=True), 'levels[0]: "value" must be a whole number'),
    (delete_path("levels", 2, "label"), 'levels[2]: "label" is missing'),
    (set_path("domains", value=[]), '"domains" is empty'),
    (set_path("domains", 1, value="Rigor"), "domains[1]: must be an object, not str"),
    (delete_path("domains", 0, "indicators"), 'domains[0]: "indicators" is missing'),
    (
        delete_path("domains", 2, "indicators", 0, "code"),
        'domains[2].indicators[0]: "code" is missing',
    ),
    (
        set_path("domains", 1, "indicators", 0, "code", value="cc1"),
        'domains[1].indicators[0]: "code" cc1 is used by another indicator',
    ),
    (
        set_path("domains", 3, "indicators", 2, "code", value="CHECKING-FOR-U"),
        'domains[3].indicators[2]: "code" is 14 characters long; the limit is 12',
    ),
    (
        set_path("domains", 0, "indicators", 1, "name", value=7),
        'domains[0].indicators[1]: "name" must be text, not int',
    ),
]


@pytest.mark.parametrize(("change", "message"), BROKEN, ids=[m for _, m in BROKEN])
def test_a_broken_file_is_refused_naming_what_is_wrong_and_writes_nothing(world, change, message):
    with pytest.raises(ValidationError) as refused:
        rubric_import(data=broken(change), district=world.district)

    assert any(message in problem for problem in refused.value.messages), refused.value.messages
    assert not Rubric.objects.exists()


def test_every_problem_is_reported_at_once(world):
    def two_problems(data):
        del data["name"]
        del data["domains"][2]["indicators"][0]["code"]

    with pytest.raises(ValidationError) as refused:
        rubric_import(data=broken(two_problems), district=world.district)

    assert refused.value.messages == [
        '"name" is missing',
        'domains[2].indicators[0]: "code" is missing',
    ]


def test_a_file_that_is_not_one_object_is_refused(world):
    with pytest.raises(ValidationError, match="one JSON object"):
        rubric_import(data=[example_rubric_data()], district=world.district)


# --- Versions -------------------------------------------------------------------------------------


def test_reimporting_a_lineage_creates_the_next_version_and_old_cycles_keep_theirs(
    world, rubric, example
):
    cycle = start_rated_cycle(world, rubric)
    before = rubric_export(rubric=rubric)

    example["levels"][0]["label"] = "Not seen"
    version_2 = rubric_import(data=example, district=world.district)

    rubric.refresh_from_db()
    assert (version_2.lineage, version_2.version, version_2.is_current) == (LINEAGE, 2, True)
    assert rubric.is_current is False
    assert rubric_export(rubric=rubric) == before  # v1 itself is untouched
    cycle.refresh_from_db()
    assert cycle.rubric == rubric
    rating = IndicatorRating.objects.get(observation__cycle=cycle)
    assert (rating.indicator.domain.rubric, rating.level.rubric) == (rubric, rubric)
    assert services.current_rubric_for(world.school) == version_2
    assert version_2.levels.get(value=1).label == "Not seen"


def test_a_lineage_belongs_to_one_scope_unless_imported_under_another(world, rubric, example):
    other = DistrictFactory()
    with pytest.raises(ValidationError, match="already belongs to a rubric of Lakeside District"):
        rubric_import(data=example, district=other)

    own = rubric_import(data=example, district=other, lineage="other-example")
    assert (own.lineage, own.version, own.district) == ("other-example", 1, other)
    assert Rubric.objects.get(pk=rubric.pk).is_current


def test_export_then_import_round_trips_into_an_equal_new_version(world, rubric, example):
    exported = rubric_export(rubric=rubric)
    assert exported == example  # the shipped file is exactly what the portal exports

    version_2 = rubric_import(data=json.loads(json.dumps(exported)), district=world.district)

    assert version_2.version == 2
    assert rubric_export(rubric=version_2) == exported


def test_new_version_deep_copies_levels_domains_and_indicators(world, rubric):
    cycle = start_rated_cycle(world, rubric)

    copy_ = rubric_new_version(rubric=rubric)

    rubric.refresh_from_db()
    assert (copy_.version, copy_.is_current, rubric.is_current) == (2, True, False)
    assert (copy_.district, copy_.school) == (rubric.district, rubric.school)
    assert rubric_export(rubric=copy_) == rubric_export(rubric=rubric)
    old_ids = set(Indicator.objects.filter(domain__rubric=rubric).values_list("pk", flat=True))
    new_ids = set(Indicator.objects.filter(domain__rubric=copy_).values_list("pk", flat=True))
    assert len(new_ids) == 12 and not old_ids & new_ids
    assert not set(copy_.levels.values_list("pk", flat=True)) & set(
        rubric.levels.values_list("pk", flat=True)
    )

    # Editing the copy leaves what the old cycle was rated against alone.
    Indicator.objects.filter(domain__rubric=copy_, code="SD1").update(name="Everyone talks")
    assert Indicator.objects.get(domain__rubric=rubric, code="SD1").name != "Everyone talks"
    assert ObservationCycle.objects.get(pk=cycle.pk).rubric == rubric


def test_new_version_copies_an_unfinished_draft_as_it_is(world):
    draft = Rubric.objects.create(district=world.district, lineage="draft", name="Draft")
    draft.domains.create(name="Empty so far")

    copy_ = rubric_new_version(rubric=draft)

    assert copy_.version == 2
    assert list(copy_.domains.values_list("name", flat=True)) == ["Empty so far"]


# --- Commands -------------------------------------------------------------------------------------


def test_commands_export_a_rubric_and_import_it_back_as_a_new_version(world, rubric, tmp_path):
    out = StringIO()
    call_command("rubric_export", LINEAGE, stdout=out)
    assert json.loads(out.getvalue()) == rubric_export(rubric=rubric)

    path = tmp_path / "rubric.json"
    call_command("rubric_export", LINEAGE, "--version", "1", "-o", str(path), stderr=StringIO())
    out = StringIO()
    call_command("rubric_import", str(path), "--district", world.district.slug, stdout=out)

    assert "as version 2 of dl-portal-example" in out.getvalue()
    assert "4 levels, 4 domains, 12 indicators" in out.getvalue()
    current = Rubric.objects.get(lineage=LINEAGE, is_current=True)
    assert current.version == 2
    assert rubric_export(rubric=current) == rubric_export(rubric=rubric)


def test_import_command_scopes_to_a_school_and_reports_problems(world, tmp_path):
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps(broken(delete_path("domains", 2, "indicators", 0, "code"))))
    with pytest.raises(CommandError, match=r'domains\[2\]\.indicators\[0\]: "code" is missing'):
        call_command("rubric_import", str(path), "--school", world.school.slug)

    path.write_text("{")
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("rubric_import", str(path), "--school", world.school.slug)
    with pytest.raises(CommandError, match="no school with the slug “nowhere”"):
        call_command("rubric_import", str(path), "--school", "nowhere")

    path.write_text(json.dumps(example_rubric_data()))
    call_command(
        "rubric_import",
        str(path),
        "--school",
        world.school.slug,
        "--lineage",
        "maple-rubric",
        stdout=StringIO(),
    )
    assert Rubric.objects.get(lineage="maple-rubric").school == world.school


def test_export_command_explains_unknown_lineages_and_versions(rubric):
    with pytest.raises(CommandError, match="no rubric with the lineage “nope”"):
        call_command("rubric_export", "nope")
    with pytest.raises(CommandError, match=r"has no version 5 \(it has 1\)"):
        call_command("rubric_export", LINEAGE, "--version", "5")


# --- Admin ----------------------------------------------------------------------------------------


def test_admin_shows_a_rubric_in_use_read_only_with_the_reason(admin_client, world, rubric):
    start_rated_cycle(world, rubric)

    page = admin_client.get(f"/admin/observations/rubric/{rubric.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "in use by 1 observation cycle" in html
    assert "Create a new version (for editing)" in html
    assert 'name="name"' not in html  # no editable field
    refused = admin_client.post(f"/admin/observations/rubric/{rubric.pk}/change/", {"name": "x"})
    assert refused.status_code == 403
    assert Rubric.objects.get(pk=rubric.pk).name == "DL Portal Example Rubric"


def test_admin_action_creates_an_editable_new_version(admin_client, world, rubric):
    start_rated_cycle(world, rubric)

    response = admin_client.post(
        "/admin/observations/rubric/",
        {"action": "create_new_version", "_selected_action": [rubric.pk]},
        follow=True,
    )

    copy_ = Rubric.objects.get(lineage=LINEAGE, version=2)
    assert "Created DL Portal Example Rubric (v2)" in response.content.decode()
    page = admin_client.get(f"/admin/observations/rubric/{copy_.pk}/change/")
    assert 'name="name"' in page.content.decode()
    assert "in use by" not in page.content.decode()


def test_admin_refuses_a_second_rubric_with_an_existing_lineage(admin_client, world, rubric):
    response = admin_client.post(
        "/admin/observations/rubric/add/",
        {
            "district": world.district.pk,
            "lineage": LINEAGE,
            "name": "Copy",
            "levels-TOTAL_FORMS": "0",
            "levels-INITIAL_FORMS": "0",
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "A rubric with this lineage exists" in response.content.decode()
    assert Rubric.objects.filter(lineage=LINEAGE).count() == 1


# --- The demo term --------------------------------------------------------------------------------


def test_demo_term_has_every_state_and_what_the_journeys_need(db, settings, example):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    users = get_user_model().objects.filter(username__in=["leader", "teacher"])
    leader, teacher = (u.staff for u in sorted(users, key=lambda u: u.username))

    cycles = ObservationCycle.objects.all()
    assert set(cycles.values_list("status", flat=True)) == set(Status.values)
    assert set(cycles.values_list("rubric__name", flat=True)) == {"DL Portal Example Rubric"}
    middle = cycles.filter(school__level="middle")
    assert middle.count() > cycles.exclude(school__level="middle").count()
    now = timezone.now()
    # Dated back over the term, not stamped with the moment the demo was built.
    assert not cycles.filter(created_at__gt=now - timedelta(hours=1)).exists()
    assert cycles.filter(created_at__lt=now - timedelta(weeks=8)).exists()

    # The leader has open cycles with several caseload teachers.
    caseload = Caseload.objects.active().filter(leader=leader).values("teacher")
    open_with_caseload = cycles.open().filter(observer=leader, teacher__in=caseload)
    assert open_with_caseload.values("teacher").distinct().count() >= 3

    # The teacher has new feedback to acknowledge, following an older cycle rated at follow-up.
    waiting = cycles.get(teacher=teacher, status=Status.FEEDBACK_SHARED)
    assert waiting.feedback.action_step and waiting.feedback.practice_by
    assert not Reflection.objects.filter(cycle=waiting, acknowledged_at__isnull=False).exists()
    closed = cycles.get(teacher=teacher, status=Status.CLOSED)
    assert FollowUp.objects.filter(cycle=closed).exists()
    assert (waiting.previous, waiting.focus) == (closed, closed.focus)
    assert waiting.feedback.shared_at > closed.follow_up.recorded_at

    # The demo's rubric has its own lineage, so a real district can still import the example.
    rubric = rubric_import(data=example, district=DistrictFactory())
    assert (rubric.lineage, rubric.version) == (LINEAGE, 1)
