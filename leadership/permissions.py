"""Who may run, answer and read the leadership survey (built on ``teams.permissions``).

- The school's page of rounds: anyone who can see the school (its staff, coaches, district).
- Opening and closing rounds: the school's principal and assistant principals, and superusers.
- Answering: anyone with a current assignment at the school (teachers, leaders, coaches,
  principals), once per round. District leaders work at no school, so they do not answer.
- Results: the school's principal and assistant principals, its coaches, the district's leaders
  and superusers. Everyone else gets 404, as if there were no results at all.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from teams import permissions as team_permissions
from teams.models import District
from teams.permissions import get_scope

from .models import SurveyRound

get_school_for_read = team_permissions.get_school_for_read
get_school_for_write = team_permissions.get_school_for_write
can_run_survey = team_permissions.can_manage_school


# Results, like the leadership map, are for the people who oversee the school.
results_schools = team_permissions.overseen_schools
can_see_results = team_permissions.oversees_school


def can_answer(user, school):
    return school.pk in get_scope(user).staff_school_ids


def get_school_for_results(user, slug):
    return get_object_or_404(results_schools(user).select_related("district"), slug=slug)


def visible_rounds(user):
    """Rounds of every school the person can see; what they may do with one is checked apart."""
    return SurveyRound.objects.filter(
        school__in=team_permissions.visible_schools(user).values("pk")
    ).select_related("school")


def get_round_for_results(user, pk):
    return get_object_or_404(
        SurveyRound.objects.filter(school__in=results_schools(user).values("pk")).select_related(
            "school__district"
        ),
        pk=pk,
    )


def get_round_for_answer(user, pk):
    """Only the school's own staff reach the form; for anyone else the round does not exist."""
    scope = get_scope(user)
    return get_object_or_404(
        SurveyRound.objects.filter(school_id__in=scope.staff_school_ids).select_related("school"),
        pk=pk,
    )


def get_round_for_close(user, pk):
    round_ = get_object_or_404(visible_rounds(user), pk=pk)
    if not can_run_survey(user, round_.school):
        raise PermissionDenied("Only the school's principal or assistant principal can do this.")
    return round_


def rounds_to_answer(user):
    """Open rounds at the person's schools that they have not answered yet."""
    scope = get_scope(user)
    if scope.staff_id is None:
        return SurveyRound.objects.none()
    return (
        SurveyRound.objects.accepting_answers()
        .filter(school_id__in=scope.staff_school_ids)
        .exclude(participations__staff_id=scope.staff_id)
        .select_related("school")
    )


# --- Leadership map, district comparison, talent pipeline -----------------------------------------
# The map shows who would leave a team without a lead, so it is for the people who oversee the
# school: its principal and assistant principals, its coaches, the district's leaders and
# superusers. Teachers (teacher leaders included) get 404, like anyone outside the school.
# The talent pipeline ranks the school's own teachers for their principal: managers and
# superusers only; everyone else gets 404 rather than 403, because the page is not a write page
# the person can see but not use: for them it does not exist. District comparison: the
# district's leaders and superusers. No page here ever shows feedback text.


def get_school_for_map(user, slug):
    return get_object_or_404(
        team_permissions.overseen_schools(user).select_related("district"), slug=slug
    )


def get_school_for_pipeline(user, slug):
    return get_object_or_404(
        team_permissions.managed_schools(user).select_related("district"), slug=slug
    )


def get_district_for_comparison(user, slug):
    scope = get_scope(user)
    districts = District.objects.all()
    if not scope.is_admin:
        districts = districts.filter(pk__in=scope.led_district_ids)
    return get_object_or_404(districts, slug=slug)
