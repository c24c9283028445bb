from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import permissions, selectors, services
from .forms import CaseloadAssignForm, EndDateForm, MembershipAssignForm, TeamForm
from .models import TeamMembership

STAFF_PER_PAGE = 50
HISTORY_PER_PAGE = 25


def home(request):
    scope = permissions.get_scope(request.user)
    schools = list(permissions.visible_schools(request.user))
    my_roles = (
        TeamMembership.objects.active()
        .filter(staff_id=scope.staff_id)
        .select_related("team__school")
        .order_by("team__name")
    )
    caseloads = permissions.visible_caseloads(request.user).active()
    overseen_ids = scope.managed_school_ids | scope.coached_school_ids
    context = {
        "scope": scope,
        # Principals usually lead one school: the gap counts cost two queries per school.
        "managed_schools": [
            (school, selectors.school_gaps(school=school))
            for school in schools
            if school.pk in scope.managed_school_ids
        ],
        "coached_schools": [s for s in schools if s.pk in scope.coached_school_ids],
        "district_schools": [
            s for s in schools if s.district_id in scope.led_district_ids or scope.is_admin
        ],
        "other_schools": [
            s for s in schools if s.pk in scope.staff_school_ids and s.pk not in overseen_ids
        ],
        "led_districts": {s.district for s in schools if s.district_id in scope.led_district_ids},
        "my_roles": list(my_roles),
        "my_meetings": selectors.next_meetings(staff_id=scope.staff_id),
        "my_caseload": list(caseloads.filter(leader_id=scope.staff_id)),
        "developed_by": list(caseloads.filter(teacher_id=scope.staff_id)),
    }
    return render(request, "teams/home.html", context)


def school_detail(request, slug):
    school = permissions.get_school_for_read(request.user, slug)
    teams = selectors.team_list(teams=permissions.visible_teams(request.user).filter(school=school))
    return render(
        request,
        "teams/school_detail.html",
        {
            "school": school,
            "summary": selectors.school_summary(school=school),
            "teams": teams,
            "can_manage": permissions.can_manage_school(request.user, school),
            "oversees": permissions.oversees_school(request.user, school),
        },
    )


def staff_list(request, slug):
    school = permissions.get_school_for_read(request.user, slug)
    page = Paginator(selectors.school_staff(school=school), STAFF_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "teams/staff_list.html", {"school": school, "page": page})


def team_list(request, slug):
    school = permissions.get_school_for_read(request.user, slug)
    teams = selectors.team_list(teams=permissions.visible_teams(request.user).filter(school=school))
    return render(
        request,
        "teams/team_list.html",
        {
            "school": school,
            "teams": teams,
            "can_manage": permissions.can_manage_school(request.user, school),
        },
    )


@require_http_methods(["GET", "POST"])
def team_create(request, slug):
    school = permissions.get_school_for_write(request.user, slug)
    form = TeamForm(request.POST or None, submit_label="Create team")
    if form.is_valid():
        try:
            team = services.team_create(school=school, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)  # beside the fields it names
        else:
            messages.success(request, f"Team “{team}” created. Now assign its members and roles.")
            return redirect(team)
    return render(request, "teams/team_form.html", {"school": school, "form": form})


def team_detail(request, pk):
    team = permissions.get_team_for_read(request.user, pk)
    history = Paginator(selectors.team_history(team=team), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "teams/team_detail.html",
        {
            "team": team,
            "school": team.school,
            "members": selectors.team_members(team=team),
            "action_items": selectors.team_action_items(team=team),
            "can_tick_items": permissions.can_update_action_items(request.user, team),
            "meetings": selectors.team_meetings(team=team),
            "decisions": selectors.team_decisions(team=team),
            "waiting_topics": selectors.waiting_agenda_items(team=team),
            "can_schedule": permissions.can_schedule_meetings(request.user, team),
            "history": history,
            "can_manage": permissions.can_manage_school(request.user, team.school),
        },
    )


@require_http_methods(["GET", "POST"])
def team_edit(request, pk):
    team = permissions.get_team_for_write(request.user, pk)
    # Not bound to the instance: a refused rename must not rename the team on the page.
    initial = {"name": team.name, "kind": team.kind, "focus": team.focus}
    form = TeamForm(request.POST or None, initial=initial, submit_label="Save changes")
    if form.is_valid():
        try:
            services.team_update(team=team, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)  # beside the fields it names
        else:
            messages.success(request, f"Team “{team}” saved.")
            return redirect(team)
    return render(
        request, "teams/team_form.html", {"school": team.school, "team": team, "form": form}
    )


@require_http_methods(["GET", "POST"])
def membership_assign(request, pk):
    team = permissions.get_team_for_write(request.user, pk)
    form = MembershipAssignForm(request.POST or None, team=team)
    if form.is_valid():
        try:
            membership = services.membership_assign(
                team=team, assigned_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)  # beside the fields it names
        else:
            messages.success(
                request,
                f"{membership.staff} is now {membership.get_role_display().lower()} of {team}.",
            )
            return redirect(team)
    return render(
        request,
        "teams/membership_assign.html",
        {"team": team, "school": team.school, "form": form},
    )


@require_http_methods(["GET", "POST"])
def membership_end(request, pk):
    membership = permissions.get_membership_for_write(request.user, pk)
    team = membership.team
    form = EndDateForm(request.POST or None, submit_label="End role")
    if membership.is_active and form.is_valid():
        try:
            services.membership_end(
                membership=membership,
                end_date=form.cleaned_data["end_date"],
                ended_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)  # beside the fields it names
        else:
            verb = "ends" if form.cleaned_data["end_date"] > timezone.localdate() else "ended"
            messages.success(
                request,
                f"{membership.staff}’s role as {membership.get_role_display().lower()} "
                f"{verb} on {form.cleaned_data['end_date']:%b %-d, %Y}. It stays in the history.",
            )
            return redirect(team)
    return render(
        request,
        "teams/end_confirm.html",
        {
            "form": form,
            "school": team.school,
            "object": membership,
            "title": f"End {membership.staff}’s role on {team}",
            "cancel_url": team.get_absolute_url(),
        },
    )


def caseload_list(request, slug):
    school = permissions.get_school_for_read(request.user, slug)
    caseloads = permissions.visible_caseloads(request.user).filter(school=school)
    return render(
        request,
        "teams/caseload_list.html",
        {
            "school": school,
            "groups": selectors.school_caseloads(caseloads=caseloads),
            "can_manage": permissions.can_manage_school(request.user, school),
        },
    )


@require_http_methods(["GET", "POST"])
def caseload_assign(request, slug):
    school = permissions.get_school_for_write(request.user, slug)
    initial = {"leader": request.GET.get("leader")}
    form = CaseloadAssignForm(request.POST or None, school=school, initial=initial)
    if form.is_valid():
        try:
            caseload = services.caseload_assign(
                school=school, assigned_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)  # beside the fields it names
        else:
            messages.success(request, f"{caseload.teacher} added to {caseload.leader}’s caseload.")
            return redirect("teams:caseload_list", slug=school.slug)
    return render(request, "teams/caseload_form.html", {"school": school, "form": form})


@require_http_methods(["GET", "POST"])
def caseload_end(request, pk):
    caseload = permissions.get_caseload_for_write(request.user, pk)
    form = EndDateForm(request.POST or None, submit_label="End caseload assignment")
    if caseload.is_active and form.is_valid():
        try:
            services.caseload_end(
                caseload=caseload, end_date=form.cleaned_data["end_date"], ended_by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)  # beside the fields it names
        else:
            messages.success(
                request, f"{caseload.teacher} is no longer in {caseload.leader}’s caseload."
            )
            return redirect("teams:caseload_list", slug=caseload.school.slug)
    return render(
        request,
        "teams/end_confirm.html",
        {
            "form": form,
            "school": caseload.school,
            "object": caseload,
            "title": f"Take {caseload.teacher} out of {caseload.leader}’s caseload",
            "cancel_url": reverse("teams:caseload_list", args=[caseload.school.slug]),
        },
    )


@require_POST
def action_item_toggle(request, pk):
    item = permissions.get_action_item_for_update(request.user, pk)
    done = request.POST.get("done") == "1"
    services.action_item_set_done(item=item, done=done)
    messages.success(request, f"“{item.text}” marked {'done' if done else 'open again'}.")
    # Ticked off on a meeting page: back to that meeting's action items, never to another site.
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect(item.team)
