"""Views of the leadership self-assessment survey."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from teams.permissions import get_scope

from .. import permissions, selectors, services
from ..forms import RoundOpenForm, SurveyAnswerForm
from ..models import Participation
from ..sealing import SealBroken
from ..survey_items import ELEMENTS, MIN_RESPONSES, SCALE, items_of

logger = logging.getLogger(__name__)


def _answered_round_ids(user, school):
    staff_id = get_scope(user).staff_id
    if staff_id is None:
        return set()
    return set(
        Participation.objects.filter(staff_id=staff_id, round__school=school).values_list(
            "round_id", flat=True
        )
    )


def survey_home(request, slug):
    """The school's rounds; managers open and close them, staff answer the open one."""
    school = permissions.get_school_for_read(request.user, slug)
    rounds = list(selectors.school_rounds(school=school))
    can_run = permissions.can_run_survey(request.user, school)
    can_answer = permissions.can_answer(request.user, school)
    unclosed = next((r for r in rounds if r.closed_at is None and not r.is_finished), None)
    form = None
    if can_run and unclosed is None:
        form = RoundOpenForm()
        form.helper.form_action = reverse("leadership:survey_round_open", args=[school.slug])
    return render(
        request,
        "leadership/survey/home.html",
        {
            "school": school,
            "rounds": rounds,
            "unclosed": unclosed,
            "can_run": can_run,
            "can_answer": can_answer,
            "can_see_results": permissions.can_see_results(request.user, school),
            "answered_ids": _answered_round_ids(request.user, school) if can_answer else set(),
            "form": form,
            "min_responses": MIN_RESPONSES,
        },
    )


@require_http_methods(["GET", "POST"])
def round_open(request, slug):
    school = permissions.get_school_for_write(request.user, slug)
    form = RoundOpenForm(request.POST or None)
    if form.is_valid():
        try:
            survey_round = services.round_open(
                school=school, opened_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"“{survey_round.title}” is open. Staff of {school} see it on their survey page "
                "and answer it once each.",
            )
            return redirect("leadership:survey", slug=school.slug)
    return render(request, "leadership/survey/round_open.html", {"school": school, "form": form})


@require_http_methods(["GET", "POST"])
def round_close(request, pk):
    survey_round = permissions.get_round_for_close(request.user, pk)
    school = survey_round.school
    if request.method == "POST":
        try:
            services.round_close(survey_round=survey_round, closed_by=request.user)
        except ValidationError as error:
            messages.info(request, error.messages[0])
        else:
            messages.success(request, f"“{survey_round.title}” is closed; no more answers.")
        return redirect("leadership:survey", slug=school.slug)
    return render(
        request,
        "leadership/survey/round_close.html",
        {
            "school": school,
            "survey_round": survey_round,
            "responses": selectors.response_count(survey_round=survey_round),
            "min_responses": MIN_RESPONSES,
        },
    )


@require_http_methods(["GET", "POST"])
def answer(request, pk):
    survey_round = permissions.get_round_for_answer(request.user, pk)
    school = survey_round.school
    staff_id = get_scope(request.user).staff_id
    context = {"school": school, "survey_round": survey_round, "scale": SCALE}
    if Participation.objects.filter(round=survey_round, staff_id=staff_id).exists():
        context["notice"] = services.already_answered_message(survey_round)
        return render(request, "leadership/survey/answer.html", context)
    if not survey_round.is_open:
        context["notice"] = f"“{survey_round.title}” is not open for answers."
        return render(request, "leadership/survey/answer.html", context)

    form = SurveyAnswerForm(request.POST or None)
    if form.is_valid():
        try:
            services.response_submit(
                survey_round=survey_round, staff=request.user.staff, answers=form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                "Thank you. Your answers are recorded without your name, and are only shown "
                f"as part of groups of {MIN_RESPONSES} or more.",
            )
            return redirect("leadership:survey", slug=school.slug)
    context.update(
        form=form,
        sections=[
            (element, [(item, form[item.key]) for item in items_of(element.key)])
            for element in ELEMENTS
        ],
    )
    return render(request, "leadership/survey/answer.html", context)


def results(request, pk):
    survey_round = permissions.get_round_for_results(request.user, pk)
    context = {
        "school": survey_round.school,
        "survey_round": survey_round,
        "elements": ELEMENTS,
        "scale": SCALE,
        "min_responses": MIN_RESPONSES,
    }
    if survey_round.is_finished and survey_round.finalized_at is None:
        # Beat finalizes rounds that ended by date within minutes; don't make anyone wait.
        _finalize(request, survey_round)
    if survey_round.finalized_at is not None:
        context["results"] = selectors.round_results(survey_round=survey_round)
    else:
        # Results wait for the close: figures that change as each person answers would let a
        # reader work out one person's answers from the difference.
        context["responses"] = selectors.response_count(survey_round=survey_round)
    return render(request, "leadership/survey/results.html", context)


def _finalize(request, survey_round):
    """Finalize a finished round before its figures are shown; if its answers cannot be opened
    (the server's key changed), say so and show nothing rather than fail the page."""
    try:
        services.round_finalize(survey_round=survey_round)
    except SealBroken:
        logger.exception("Survey round %s cannot be finalized", survey_round.pk)
        messages.error(
            request,
            f"The answers to “{survey_round.title}” cannot be opened on this server: its secret "
            "key has changed. Nothing is lost. Ask your administrator to add the previous key "
            "to SECRET_KEY_FALLBACKS; the results appear once it is back.",
        )


def trend(request, slug):
    school = permissions.get_school_for_results(request.user, slug)
    rounds, rows = selectors.school_trend(school=school)
    unfinalized = [r for r in rounds if r.finalized_at is None]
    if unfinalized:
        # Shown once, a round's figures never change: finalize it before showing any.
        for survey_round in unfinalized:
            _finalize(request, survey_round)
        rounds, rows = selectors.school_trend(school=school)
    return render(
        request,
        "leadership/survey/trend.html",
        {"school": school, "rounds": rounds, "rows": rows, "min_responses": MIN_RESPONSES},
    )
