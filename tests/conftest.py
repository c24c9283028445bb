import os
import shutil
from types import SimpleNamespace

# Playwright's sync API runs an event loop in the test thread; without this, pytest-django's
# database setup raises SynchronousOnlyOperation in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

from teams.models import Assignment, TeamRole  # noqa: E402
from tests.services import require_service  # noqa: E402
from tests.teams.factories import (  # noqa: E402
    CaseloadFactory,
    DistrictFactory,
    LeadershipTeamFactory,
    SchoolFactory,
    TeamMembershipFactory,
    district_leader_of,
    staff_at,
)

Position = Assignment.Position


@pytest.fixture(autouse=True)
def _celery_runs_in_process():
    """Tasks run in the test process unless a test starts its own worker.

    With REDIS_URL set the settings turn eager mode off; a stray ``.delay()`` would then reach
    a real broker, where a development worker could run it against the development database.
    """
    from dl_portal.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def world(db):
    """The standard cast: two schools of one district and one person in each kind of position.

    Users are returned (log in with them); their profiles are ``user.staff``.
    """
    district = DistrictFactory(name="Lakeside District", slug="lakeside")
    school = SchoolFactory(district=district, name="Maple Elementary", slug="maple")
    other_school = SchoolFactory(district=district, name="Birch Elementary", slug="birch")

    def person(username, first, last, where, position):
        return staff_at(where, position, username=username, first_name=first, last_name=last).user

    principal = person("principal", "Paula", "Prince", school, Position.PRINCIPAL)
    other_principal = person(
        "other_principal", "Otto", "Outhwaite", other_school, Position.PRINCIPAL
    )
    teacher = person("teacher", "Tina", "Tran", school, Position.TEACHER)
    leader = person("leader", "Lena", "Lopez", school, Position.TEACHER)
    coach = person("coach", "Cora", "Cole", school, Position.COACH)
    district_leader = district_leader_of(
        district, username="district_leader", first_name="Dan", last_name="Dover"
    ).user

    team = LeadershipTeamFactory(school=school, name="Instructional Leadership Team")
    membership = TeamMembershipFactory(team=team, staff=leader.staff, role=TeamRole.TEAM_LEAD)
    caseload = CaseloadFactory(school=school, leader=leader.staff, teacher=teacher.staff)
    other_team = LeadershipTeamFactory(school=other_school, name="Birch ILT")

    return SimpleNamespace(
        district=district,
        school=school,
        other_school=other_school,
        principal=principal,
        other_principal=other_principal,
        teacher=teacher,
        leader=leader,
        coach=coach,
        district_leader=district_leader,
        team=team,
        membership=membership,
        caseload=caseload,
        other_team=other_team,
    )


@pytest.fixture
def principal_client(client, world):
    client.force_login(world.principal)
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's Chromium; its own browser download does not work here."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        require_service("chromium", "Chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": executable}
