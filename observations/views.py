from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from teams.models import School, StaffMember
from teams.permissions import get_scope

from . import permissions, selectors, services
from .forms import (
    AmendmentForm,
    CycleStartForm,
    FeedbackForm,
    FollowUpForm,
    ObservationForm,
    ReflectionForm,
)
from .models import Feedback, FollowUp, Notification, Status

HISTORY_PER_PAGE = 20


def _my_staff(request):
    staff_id = get_scope(request.user).staff_id
    if staff_id is None:
        raise PermissionDenied("Your account has no staff profile.")
    return StaffMember.objects.select_related("user").get(pk=staff_id)


def my_caseload(request):
    leader = _my_staff(request)
    return render(
        request,
        "observations/my_caseload.html",
        {"rows": selectors.caseload_overview(leader=leader)},
    )


def cycle_start(request):
    observer = _my_staff(request)
    scope = get_scope(request.user)
    schools = School.objects.filter(
        pk__in=scope.managed_school_ids | scope.staff_school_ids
    ).order_by("name")
    chosen = request.GET.get("school") or request.POST.get("school")
    if chosen is None and len(schools) == 1:
        school = schools[0]  # most people work at one school: no need to ask
    else:
        school = get_object_or_404(schools, pk=chosen)
    rubric = services.current_rubric_for(school)
    form = CycleStartForm(
        request.POST or None,
        teachers=permissions.developable_teachers(request.user, school),
        rubric=rubric,
        initial={"teacher": request.GET.get("teacher")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            cycle = services.cycle_start(
                school=school, observer=observer, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Cycle with {cycle.teacher} started. Log the visit when you go in."
            )
            return redirect(cycle)
    # Not "school": that name puts the school's navigation links in the page header.
    return render(
        request,
        "observations/cycle_start.html",
        {"form": form, "cycle_school": school, "rubric": rubric},
    )


def cycle_detail(request, pk):
    cycle = get_object_or_404(
        selectors.cycle_detail(cycles=permissions.visible_cycles(request.user), pk=pk), pk=pk
    )
    is_observer = permissions.is_observer(request.user, cycle)
    is_teacher = permissions.is_teacher(request.user, cycle)
    # Reading the cycle is reading what the notifications about it pointed to.
    Notification.objects.filter(
        recipient=request.user, read_at__isnull=True, url=cycle.get_absolute_url()
    ).update(read_at=timezone.now())
    feedback = getattr(cycle, "feedback", None)
    context = {
        "cycle": cycle,
        "is_observer": is_observer,
        "is_teacher": is_teacher,
        "observation": getattr(cycle, "observation", None),
        "feedback": feedback,
        # The teacher sees feedback only once it is shared.
        "show_feedback": feedback is not None and (feedback.is_shared or is_observer),
        "reflection": getattr(cycle, "reflection", None),
        "follow_up": getattr(cycle, "follow_up", None),
        "overdue": selectors.overdue_reason(cycle),
        "amendment_form": AmendmentForm() if is_observer else None,
        "carried_forward": _carried_forward(cycle),
        "Status": Status,
    }
    return render(request, "observations/cycle_detail.html", context)


def _carried_forward(cycle):
    """What the previous cycle left this one: its action step and how far it got."""
    previous = cycle.previous
    if previous is None:
        return None
    feedback = Feedback.objects.filter(cycle=previous, shared_at__isnull=False).first()
    follow_up = FollowUp.objects.filter(cycle=previous).first()
    return {"cycle": previous, "feedback": feedback, "follow_up": follow_up}


def _observation_initial(cycle):
    observation = getattr(cycle, "observation", None)
    if observation is None:
        return {"observed_at": timezone.localtime().replace(second=0, microsecond=0)}
    initial = {
        name: getattr(observation, name)
        for name in ["duration_minutes", "subject", "grade", "section", "evidence"]
    }
    if observation.observed_at:
        initial["observed_at"] = timezone.localtime(observation.observed_at)
    for rating in observation.ratings.all():
        initial[f"rating_{rating.indicator_id}"] = rating.level_id
    return initial


def observation_log(request, pk):
    cycle = permissions.get_cycle_for_observer(request.user, pk)
    if cycle.status not in (Status.PLANNED, Status.OBSERVED):
        messages.info(request, "Feedback has been shared: the observation is final.")
        return redirect(cycle)
    form = ObservationForm(
        request.POST or None, rubric=cycle.rubric, initial=_observation_initial(cycle)
    )
    autosave = request.htmx and request.POST.get("autosave")
    if request.method == "POST" and form.is_valid():
        try:
            services.observation_save(
                cycle=cycle, fields=form.observation_fields(), ratings=form.ratings()
            )
            if autosave:
                return _saved_badge()
            if "finish" in request.POST and cycle.status == Status.PLANNED:
                services.observation_complete(cycle=cycle, by=request.user)
                messages.success(request, "Observation logged. Now write the feedback.")
                return redirect("observations:feedback_write", pk=cycle.pk)
        except ValidationError as error:
            if autosave:
                return _saved_badge(error=" ".join(error.messages))
            form.add_error(None, error)
        else:
            messages.success(request, "Observation saved.")
            return redirect(cycle)
    elif autosave:
        return _saved_badge(error="Not saved: check the highlighted fields.")
    return render(request, "observations/observation_form.html", {"cycle": cycle, "form": form})


def _saved_badge(error=""):
    """The small status line the autosave script swaps in."""
    if error:
        return HttpResponse(f'<span class="text-danger">{error}</span>')
    stamp = date_format(timezone.localtime(), "TIME_FORMAT")
    return HttpResponse(f'<span class="text-success">Draft saved at {stamp}</span>')


def _feedback_initial(cycle):
    feedback = getattr(cycle, "feedback", None)
    if feedback is None:
        return {}
    return {
        name: getattr(feedback, name)
        for name in ["glows", "grow", "action_step", "practice_by", "resources"]
    }


def feedback_write(request, pk):
    cycle = permissions.get_cycle_for_observer(request.user, pk)
    feedback = getattr(cycle, "feedback", None)
    if feedback is not None and feedback.is_shared:
        messages.info(
            request, "This feedback is shared. Add an amendment below if something changed."
        )
        return redirect(cycle)
    form = FeedbackForm(request.POST or None, initial=_feedback_initial(cycle))
    autosave = request.htmx and request.POST.get("autosave")
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_save(cycle=cycle, fields=form.cleaned_data)
            if autosave:
                return _saved_badge()
            if "share" in request.POST:
                services.feedback_share(cycle=cycle, by=request.user)
                messages.success(
                    request, f"Feedback shared with {cycle.teacher}. They have been notified."
                )
                return redirect(cycle)
        except ValidationError as error:
            if autosave:
                return _saved_badge(error=" ".join(error.messages))
            form.add_error(None, error)
        else:
            messages.success(request, "Draft saved. Only you can see it until you share it.")
            return redirect(cycle)
    elif autosave:
        return _saved_badge(error="Not saved: check the highlighted fields.")
    return render(request, "observations/feedback_form.html", {"cycle": cycle, "form": form})


@require_POST
def feedback_amend(request, pk):
    cycle = permissions.get_cycle_for_observer(request.user, pk)
    form = AmendmentForm(request.POST)
    if form.is_valid():
        try:
            services.feedback_amend(cycle=cycle, text=form.cleaned_data["text"], by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Amendment added to the shared feedback.")
    else:
        messages.error(request, "Write the amendment before adding it.")
    return redirect(cycle)


@require_POST
def feedback_acknowledge(request, pk):
    cycle = permissions.get_cycle_for_teacher(request.user, pk)
    try:
        services.reflection_acknowledge(cycle=cycle)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thanks — your observer can see you have read the feedback.")
    return redirect(cycle)


def reflection_write(request, pk):
    cycle = permissions.get_cycle_for_teacher(request.user, pk)
    form = ReflectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_submit(cycle=cycle, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Reflection saved and shared with your observer.")
            return redirect(cycle)
    return render(request, "observations/reflection_form.html", {"cycle": cycle, "form": form})


def follow_up_record(request, pk):
    cycle = permissions.get_cycle_for_observer(request.user, pk)
    form = FollowUpForm(request.POST or None, teacher=cycle.teacher)
    if request.method == "POST" and form.is_valid():
        try:
            _, next_cycle = services.follow_up_record(
                cycle=cycle, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if next_cycle:
                messages.success(
                    request, "Follow-up recorded. The next cycle is open with the same focus."
                )
                return redirect(next_cycle)
            messages.success(request, "Follow-up recorded.")
            return redirect(cycle)
    return render(request, "observations/follow_up_form.html", {"cycle": cycle, "form": form})


def cycle_cancel(request, pk):
    cycle = permissions.get_cycle_for_observer(request.user, pk)
    if not cycle.can_move_to(Status.CANCELLED):
        messages.info(request, "Only a cycle that is planned or observed can be cancelled.")
        return redirect(cycle)
    if request.method == "POST":
        try:
            services.cycle_cancel(cycle=cycle, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Cycle cancelled. It stays in the history.")
        return redirect(cycle)
    return render(request, "observations/cycle_cancel.html", {"cycle": cycle})


@require_POST
def cycle_close(request, pk):
    cycle = permissions.get_cycle_for_observer(request.user, pk)
    try:
        services.cycle_close(cycle=cycle, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Cycle closed.")
    return redirect(cycle)


def my_feedback(request):
    teacher = _my_staff(request)
    return render(
        request,
        "observations/my_feedback.html",
        {"cycles": selectors.teacher_feedback(teacher=teacher)},
    )


def teacher_history(request, staff_pk):
    teacher = get_object_or_404(
        permissions.teachers_with_history(request.user).select_related("user"), pk=staff_pk
    )
    cycles = permissions.visible_cycles(request.user).filter(teacher=teacher)
    page = Paginator(selectors.teacher_history(cycles=cycles), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "observations/teacher_history.html", {"teacher": teacher, "page": page})


def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user)
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return render(request, "observations/notifications.html", {"page": page})


@require_POST
def notification_open(request, pk):
    notification = get_object_or_404(Notification.objects.filter(recipient=request.user), pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return redirect(notification.url or "observations:notifications")


@require_POST
def notification_read_all(request):
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("observations:notifications")


TREND_WEEKS = (2, 4, 6, 8, 12)


def _weeks(request, default=6):
    try:
        weeks = int(request.GET.get("weeks", default))
    except ValueError:
        return default
    return weeks if weeks in TREND_WEEKS else default


def school_trends(request, slug):
    school = permissions.get_school_for_trends(request.user, slug)
    weeks = _weeks(request)
    return render(
        request,
        "observations/school_trends.html",
        {
            "school": school,
            "trends": selectors.school_trends(school=school, weeks=weeks),
            "show_names": permissions.may_name_teachers_in_trends(request.user, school),
            "week_choices": TREND_WEEKS,
        },
    )


def district_trends(request, slug):
    district = permissions.get_district_for_trends(request.user, slug)
    weeks = _weeks(request)
    schools = list(district.schools.order_by("name"))
    return render(
        request,
        "observations/district_trends.html",
        {
            "district": district,
            "trends": selectors.district_trends(schools=schools, weeks=weeks),
            "week_choices": TREND_WEEKS,
        },
    )


def coaching_quality(request):
    """Private to the observer: what teachers said about the usefulness of their feedback."""
    observer = _my_staff(request)
    return render(
        request,
        "observations/coaching_quality.html",
        {"quality": selectors.coaching_quality(observer=observer)},
    )
