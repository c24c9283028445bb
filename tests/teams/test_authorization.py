"""Who gets what on every page: one table lists every named URL and each person's GET status.

A URL added to the project without a row here fails ``test_every_url_is_in_the_matrix``.
"""

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from teams.models import Caseload, LeadershipTeam, TeamMembership

LOGIN = "login"  # expected: redirected to the login page

PEOPLE = (
    "anonymous",
    "teacher",
    "leader",
    "coach",
    "principal",
    "other_principal",
    "district_leader",
)


def no_args(world):
    return []


def school(world):
    return [world.school.slug]


def team(world):
    return [world.team.pk]


def membership(world):
    return [world.membership.pk]


def caseload(world):
    return [world.caseload.pk]


def _shared_cycle(world):
    """The leader has observed the teacher and shared feedback (built once per test)."""
    if not hasattr(world, "cycle"):
        from tests.observations.matrix_data import shared_cycle

        world.cycle = shared_cycle(world)
    return world.cycle


def action_item(world):
    from teams.models import ActionItem

    item = ActionItem.objects.create(team=world.team, text="Share the grade 6 reading plan")
    return [item.pk]


def meeting(world):
    if not hasattr(world, "meeting"):
        from tests.teams.factories import MeetingFactory

        world.meeting = MeetingFactory(team=world.team, facilitator=world.leader.staff)
    return [world.meeting.pk]


def agenda_item(world):
    from teams.models import AgendaItem

    meeting(world)
    item = AgendaItem.objects.create(team=world.team, meeting=world.meeting, title="Reading")
    return [item.pk]


def import_batch(world):
    from django.core.files.base import ContentFile

    from data_tracking.models import ImportBatch

    batch = ImportBatch(
        district=world.district, kind="csv", original_name="fall.csv", uploaded_by=world.principal
    )
    batch.upload.save("fall.csv", ContentFile(b"student_id\n"), save=True)
    return [batch.pk]


def _snapshots(world):
    from data_tracking.models import DashboardSnapshot

    metrics = {"tested": 12, "mean_score": 215.5, "levels": {}, "subgroups": {}, "gains": {}}
    for scope, key in (("school", ""), ("grade", "6")):
        DashboardSnapshot.objects.create(
            school=world.school,
            scope=scope,
            scope_key=key,
            subject="math",
            school_year="2026-2027",
            window="fall",
            metrics=metrics,
            fingerprint=scope,
        )


def grade_six(world):
    _snapshots(world)
    return [world.school.slug, "6"]


def school_snapshot(world):
    from data_tracking.models import DashboardSnapshot

    _snapshots(world)
    return [DashboardSnapshot.objects.get(scope="school").pk]


def teachers_section(world):
    from data_tracking.models import Section

    section = Section.objects.create(
        school=world.school,
        teacher=world.teacher.staff,
        source_id="c-1",
        name="Math 6-1",
        subject="math",
        grade="6",
    )
    return [section.pk]


def district(world):
    return [world.district.slug]


def cycle(world):
    return [_shared_cycle(world).pk]


def observed_teacher(world):
    return [_shared_cycle(world).teacher_id]


def teachers_notification(world):
    return [_shared_cycle(world).teacher.user.notifications.get().pk]


def survey_round(world):
    from tests.leadership.matrix_data import open_survey_round

    return [open_survey_round(world).pk]


# "leader" is a teacher with a role on the team and a caseload; "other_principal" runs another
# school of the same district; the coach and the district leader read but do not manage.
# fmt: off
MATRIX = {
    #                                       anon   teacher leader coach principal other district
    "home":                    (no_args,    LOGIN, 200,    200,   200,  200,      200,  200),
    "login":                   (no_args,    200,   200,    200,   200,  200,      200,  200),
    "logout":                  (no_args,    LOGIN, 405,    405,   405,  405,      405,  405),
    "password_change":         (no_args,    LOGIN, 200,    200,   200,  200,      200,  200),
    "password_change_done":    (no_args,    LOGIN, 200,    200,   200,  200,      200,  200),
    "teams:school_detail":     (school,     LOGIN, 200,    200,   200,  200,      404,  200),
    "teams:staff_list":        (school,     LOGIN, 200,    200,   200,  200,      404,  200),
    "teams:team_list":         (school,     LOGIN, 200,    200,   200,  200,      404,  200),
    "teams:caseload_list":     (school,     LOGIN, 200,    200,   200,  200,      404,  200),
    "teams:team_create":       (school,     LOGIN, 403,    403,   403,  200,      404,  403),
    "teams:caseload_assign":   (school,     LOGIN, 403,    403,   403,  200,      404,  403),
    "teams:team_detail":       (team,       LOGIN, 404,    200,   200,  200,      404,  200),
    "teams:team_edit":         (team,       LOGIN, 404,    403,   403,  200,      404,  403),
    "teams:membership_assign": (team,       LOGIN, 404,    403,   403,  200,      404,  403),
    "teams:membership_end":    (membership, LOGIN, 404,    403,   403,  200,      404,  403),
    # the teacher is in this caseload, so can see it (403); the leader leads it.
    "teams:caseload_end":      (caseload,   LOGIN, 403,    403,   403,  200,      404,  403),
    "teams:action_item_toggle": (action_item, LOGIN, 405, 405, 405, 405, 405, 405),
    # Meetings: anyone who sees the team reads them; the team lead (leader) and the principal
    # schedule and run them. POST-only writes answer 405 to a GET.
    "teams:meeting_schedule":  (team,       LOGIN, 404,    200,   403,  200,      404,  403),
    "teams:meeting_detail":    (meeting,    LOGIN, 404,    200,   200,  200,      404,  200),
    "teams:meeting_edit":      (meeting,    LOGIN, 404,    200,   403,  200,      404,  403),
    "teams:meeting_cancel":    (meeting,    LOGIN, 404,    200,   403,  200,      404,  403),
    "teams:meeting_start":     (meeting,    LOGIN, 405,    405,   405,  405,      405,  405),
    "teams:meeting_finish":    (meeting,    LOGIN, 405,    405,   405,  405,      405,  405),
    "teams:agenda_item_add":   (meeting,    LOGIN, 405,    405,   405,  405,      405,  405),
    "teams:meeting_attendance": (meeting,   LOGIN, 405,    405,   405,  405,      405,  405),
    "teams:decision_add":      (meeting,    LOGIN, 405,    405,   405,  405,      405,  405),
    "teams:meeting_action_item_add": (meeting, LOGIN, 405, 405,   405,  405,      405,  405),
    "teams:meeting_notes":     (meeting,    LOGIN, 405,    405,   405,  405,      405,  405),
    "teams:agenda_item_record": (agenda_item, LOGIN, 405,  405,   405,  405,      405,  405),
    "teams:agenda_item_move":  (agenda_item, LOGIN, 405,   405,   405,  405,      405,  405),
    "teams:agenda_item_remove": (agenda_item, LOGIN, 405,  405,   405,  405,      405,  405),
    # Observation cycles: the leader observes the teacher and has shared feedback. Coaches and
    # district leaders never see individual feedback; only the observer runs the cycle.
    "observations:my_caseload":   (no_args, LOGIN, 200, 200, 200, 200, 200, 200),
    "observations:my_feedback":   (no_args, LOGIN, 200, 200, 200, 200, 200, 200),
    "observations:notifications": (no_args, LOGIN, 200, 200, 200, 200, 200, 200),
    "observations:notifications_read_all": (no_args, LOGIN, 405, 405, 405, 405, 405, 405),
    "observations:notification_open": (teachers_notification, LOGIN, 405, 405, 405, 405, 405, 405),
    # the district leader works at no school, so has nowhere to start a cycle
    "observations:cycle_start":  (no_args, LOGIN, 200, 200, 200, 200, 200, 404),
    "observations:cycle_detail": (cycle,   LOGIN, 200, 200, 404, 200, 404, 404),
    # shared feedback freezes the observation and the feedback: the observer is sent back
    "observations:observation_log":  (cycle, LOGIN, 403, 302, 404, 403, 404, 404),
    "observations:feedback_write":   (cycle, LOGIN, 403, 302, 404, 403, 404, 404),
    "observations:feedback_amend":   (cycle, LOGIN, 405, 405, 405, 405, 405, 405),
    "observations:feedback_acknowledge": (cycle, LOGIN, 405, 405, 405, 405, 405, 405),
    "observations:reflection_write": (cycle, LOGIN, 200, 403, 404, 403, 404, 404),
    "observations:follow_up_record": (cycle, LOGIN, 403, 200, 404, 403, 404, 404),
    "observations:cycle_cancel":     (cycle, LOGIN, 403, 302, 404, 403, 404, 404),
    "observations:cycle_close":      (cycle, LOGIN, 405, 405, 405, 405, 405, 405),
    "observations:teacher_history":  (observed_teacher, LOGIN, 200, 200, 404, 200, 404, 404),
    "observations:coaching_quality": (no_args, LOGIN, 200, 200, 200, 200, 200, 200),
    # trends: the school's principals and the district; names only for the school itself
    "observations:school_trends":   (school,   LOGIN, 403, 403, 403, 200, 404, 200),
    "observations:district_trends": (district, LOGIN, 404, 404, 404, 404, 404, 200),
    # Student data: dashboards for the school's leaders, coaches and district; names stay inside
    # the school; imports for principals (their district) and administrators.
    "data_tracking:import_list":    (no_args,  LOGIN, 403, 403, 403, 200, 200, 403),
    "data_tracking:import_detail":  (import_batch, LOGIN, 404, 404, 404, 200, 200, 404),
    "data_tracking:results_template": (no_args, LOGIN, 200, 200, 200, 200, 200, 200),
    "data_tracking:school_dashboard": (school, LOGIN, 403, 403, 200, 200, 404, 200),
    "data_tracking:grade_dashboard": (grade_six, LOGIN, 403, 403, 200, 200, 404, 200),
    "data_tracking:access_log":     (school,   LOGIN, 403, 403, 403, 200, 404, 403),
    "data_tracking:review_list":    (no_args,  LOGIN, 403, 403, 403, 200, 200, 403),
    "data_tracking:snapshot_review": (school_snapshot, LOGIN, 404, 404, 403, 200, 404, 403),
    "data_tracking:section_dashboard": (teachers_section, LOGIN, 200, 200, 200, 200, 404, 404),
    "data_tracking:my_classes":     (no_args,  LOGIN, 200, 200, 200, 200, 200, 200),
    # how the figures are worked out: documentation, no data
    "data_tracking:metrics_help":   (no_args,  LOGIN, 200, 200, 200, 200, 200, 200),
    # Leadership survey: every staff member answers (district leaders work at no school);
    # results for the school's leaders, coaches and district, 404 for everyone else.
    "leadership:survey":             (school, LOGIN, 200, 200, 200, 200, 404, 200),
    "leadership:survey_round_open":  (school, LOGIN, 403, 403, 403, 200, 404, 403),
    "leadership:survey_trend":       (school, LOGIN, 404, 404, 200, 200, 404, 200),
    "leadership:survey_answer":      (survey_round, LOGIN, 200, 200, 200, 200, 404, 404),
    "leadership:survey_results":     (survey_round, LOGIN, 404, 404, 200, 200, 404, 200),
    "leadership:survey_round_close": (survey_round, LOGIN, 403, 403, 403, 200, 404, 403),
    # Leadership map: who would leave what without a lead is for the school's leaders, coaches
    # and district (teachers, leaders included, get 404); the pipeline for its managers only;
    # the district comparison for the district's leaders.
    "leadership:school_map":          (school,   LOGIN, 404, 404, 200, 200, 404, 200),
    "leadership:talent_pipeline":     (school,   LOGIN, 404, 404, 404, 200, 404, 404),
    "leadership:district_comparison": (district, LOGIN, 404, 404, 404, 404, 404, 200),
}
# fmt: on


def url_for(name, world):
    build_args = MATRIX[name][0]
    return reverse(name, args=build_args(world))


def expected(name, person):
    return MATRIX[name][1 + PEOPLE.index(person)]


def log_in(client, world, person):
    if person != "anonymous":
        client.force_login(getattr(world, person))
    return client


def assert_status(response, status):
    if status == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL) + "?next=")
    else:
        assert response.status_code == status


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("name", MATRIX)
def test_get(client, world, name, person):
    response = log_in(client, world, person).get(url_for(name, world))
    assert_status(response, expected(name, person))


def _named_patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_url_is_in_the_matrix():
    names = set(_named_patterns(get_resolver()))
    # static/media helpers are served, not authorised; they only exist when DEBUG is on
    names -= {"static", "media", "serve"}
    assert names, "the URL walker found no named URLs"
    missing = sorted(names - MATRIX.keys())
    assert not missing, f"add these URLs to MATRIX in {__name__}: {missing}"
    stale = sorted(MATRIX.keys() - names)
    assert not stale, f"MATRIX lists URLs that no longer exist: {stale}"


# --- Writes by people who may not write ----------------------------------------------------------


def post_data(name, world):
    """A valid form for each write page, so only the permission check can stop the write."""
    today = timezone.localdate().isoformat()
    return {
        "teams:team_create": {"name": "Math PLC", "kind": "content", "focus": ""},
        "teams:team_edit": {"name": "Renamed team", "kind": "ilt", "focus": "x"},
        "teams:membership_assign": {
            "staff": world.teacher.staff.pk,
            "role": "member",
            "start_date": today,
        },
        "teams:membership_end": {"end_date": today},
        "teams:caseload_assign": {
            "leader": world.coach.staff.pk,
            "teacher": world.teacher.staff.pk,
            "start_date": today,
        },
        "teams:caseload_end": {"end_date": today},
    }[name]


WRITE_PAGES = [
    "teams:team_create",
    "teams:team_edit",
    "teams:membership_assign",
    "teams:membership_end",
    "teams:caseload_assign",
    "teams:caseload_end",
]


def snapshot():
    return [
        list(model.objects.order_by("pk").values())
        for model in (LeadershipTeam, TeamMembership, Caseload)
    ]


@pytest.mark.parametrize(
    "person", ["anonymous", "teacher", "leader", "coach", "other_principal", "district_leader"]
)
@pytest.mark.parametrize("name", WRITE_PAGES)
def test_post_by_someone_who_may_not_write_changes_nothing(client, world, name, person):
    assert expected(name, person) in (LOGIN, 403, 404), "the matrix lets this person write"
    before = snapshot()
    response = log_in(client, world, person).post(url_for(name, world), post_data(name, world))
    assert_status(response, expected(name, person))
    assert snapshot() == before


@pytest.mark.parametrize("name", WRITE_PAGES)
def test_the_same_post_by_the_principal_writes(client, world, name):
    """Proves the forms above were valid: the refusals came from the permission checks."""
    before = snapshot()
    response = log_in(client, world, "principal").post(url_for(name, world), post_data(name, world))
    assert response.status_code == 302
    assert snapshot() != before


# --- Admin ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["anonymous", "principal"])
def test_admin_sends_non_staff_to_the_admin_login(client, world, person):
    response = log_in(client, world, person).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
