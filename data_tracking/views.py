import markdown
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods

from dl_portal.csv_export import csv_writer
from teams import permissions as team_permissions
from teams.models import StaffMember

from . import permissions, selectors, services
from .forms import ImportForm, ReviewForm
from .models import DashboardSnapshot, ImportBatch, StudentAccessLog, Subject

TEMPLATE_CSV = services.RESULTS_TEMPLATE_PATH


@require_http_methods(["GET", "POST"])
def import_list(request):
    districts = permissions.import_districts(request.user)
    if not districts.exists():
        raise PermissionDenied("Imports are for administrators and principals.")
    form = ImportForm(request.POST or None, request.FILES or None, districts=districts)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.import_batch_create(uploaded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"“{batch.original_name}” is queued for import.")
            return redirect("data_tracking:import_detail", pk=batch.pk)
    page = Paginator(permissions.visible_imports(request.user), 20).get_page(
        request.GET.get("page")
    )
    scope = permissions.import_scope(request.user)
    limited_to = None if scope.district_wide else permissions.import_schools(request.user)
    return render(
        request,
        "data_tracking/import_list.html",
        {"form": form, "page": page, "limited_to": limited_to},
    )


def import_detail(request, pk):
    batch = get_object_or_404(permissions.visible_imports(request.user), pk=pk)
    template = (
        "data_tracking/_import_status.html" if request.htmx else "data_tracking/import_detail.html"
    )
    return render(request, template, {"batch": batch, "Status": ImportBatch.Status})


def results_template(request):
    """The plain-CSV template, with its documented columns and example rows."""
    return FileResponse(
        open(TEMPLATE_CSV, "rb"), as_attachment=True, filename="assessment_results_template.csv"
    )


# --- Dashboards ---------------------------------------------------------------------------------


def _csv_response(filename, header, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv_writer(response)  # neutralises cells a spreadsheet would run as formulas
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _log_student_access(request, school, students):
    StudentAccessLog.objects.create(
        user=request.user,
        school=school,
        path=request.get_full_path()[:300],
        student_ids=[student.pk for student in students],
    )


def _csv_table(request, stem, tables, default):
    """The table named by ``?table=`` (``default`` when absent) of ``tables`` —
    ``{name: (header, rows)}`` — as a CSV download; 404 for a table the page does not have."""
    name = request.GET.get("table", default)
    if name not in tables:
        raise Http404("This page has no such table.")
    header, rows = tables[name]
    return _csv_response(f"{stem}.csv" if name == default else f"{stem}-{name}.csv", header, rows)


def _cell(value):
    """A value for a CSV cell; empty rather than "None" when there is none."""
    return "" if value is None else value


def _window_table(snapshots):
    """One row per window: the trend under the school, grade and class charts, with each
    window's growth headline (its longest span)."""
    header = ["school_year", "window", "tested", "mean_score", "percent_proficient"]
    header += ["growth_span", "median_change", "percent_met_typical"]
    rows = []
    for s in snapshots:
        span, _label, growth = s.growth_headline or ("", "", {})
        rows.append(
            (
                s.school_year,
                s.get_window_display(),
                s.metrics.get("tested"),
                s.metrics.get("mean_score"),
                _cell(s.metrics.get("percent_proficient")),
                span,
                _cell(growth.get("median_change")),
                _cell(growth.get("percent_met_typical")),
            )
        )
    return header, rows


GROWTH_HEADER = ["span", "pairs", "not_matched", "median_change", "mean_change"]
GROWTH_HEADER += ["mean_percentile_change", "with_typical", "met_typical", "percent_met_typical"]


def _growth_tables(snapshot):
    """The snapshot's growth spans and goal areas, as the tables under ``_growth.html``."""
    if snapshot is None:
        return {"growth": (GROWTH_HEADER, []), "goals": (["goal_area", "students"], [])}
    goals = snapshot.metrics.get("goals") or {}
    return {
        "growth": (
            GROWTH_HEADER,
            [
                (span, *(_cell(figures.get(name)) for name in GROWTH_HEADER[1:]))
                for span, _label, figures in snapshot.growth
            ],
        ),
        "goals": (
            ["goal_area", "students", "mean_score", "weakest"],
            [
                (area["name"], area["n"], _cell(area["mean_rit"]), area["name"] == goals["weakest"])
                for area in goals.get("areas", [])
            ],
        ),
    }


def _school_tables(view):
    metrics = view.current.metrics if view.current else {}
    return {
        **_growth_tables(view.current),
        "trend": _window_table(view.trend),
        "levels": (
            ["level", "students", "percent"],
            [
                (level["label"], level["count"], _cell(level["percent"]))
                for level in metrics.get("levels", {}).values()
            ],
        ),
        "subgroups": (
            ["subgroup", "group_students", "group_percent_proficient", "rest_students"]
            + ["rest_percent_proficient", "gap_points"],
            [
                (
                    row["label"],
                    row.get("group", {}).get("n"),
                    _cell(row.get("group", {}).get("percent_proficient")),
                    row.get("rest", {}).get("n"),
                    _cell(row.get("rest", {}).get("percent_proficient")),
                    _cell(row.get("gap")),
                )
                for row in view.subgroup_rows
            ],
        ),
        "gains": (
            ["between", "students", "mean_gain"],
            [
                (pair.replace("_", " "), gain["n_matched"], _cell(gain["mean_gain"]))
                for pair, gain in metrics.get("gains", {}).items()
            ],
        ),
        "subgroup_trend": (
            ["school_year", "window", "subgroup", "group_students", "group_percent_proficient"]
            + ["rest_students", "rest_percent_proficient", "gap_points"],
            [
                (
                    s.school_year,
                    s.get_window_display(),
                    view.subgroup_label,
                    g.get("group", {}).get("n"),
                    _cell(g.get("group", {}).get("percent_proficient")),
                    g.get("rest", {}).get("n"),
                    _cell(g.get("rest", {}).get("percent_proficient")),
                    _cell(g.get("gap")),
                )
                for s, g in view.subgroup_trend
            ],
        ),
        "grades": (
            ["grade", "tested", "mean_score", "percent_proficient", "students_at_risk"],
            [
                (
                    s.scope_key,
                    s.metrics.get("tested"),
                    s.metrics.get("mean_score"),
                    _cell(s.metrics.get("percent_proficient")),
                    _cell(s.metrics.get("students_at_risk")),
                )
                for s in view.grade_rows
            ],
        ),
    }


def _label_levels(students, levels):
    """Give each student row its level's label (``levels`` from the snapshot's metrics)."""
    labels = {int(rank): level["label"] for rank, level in levels.items()}
    for student in students:
        student.level_label = labels.get(student.level_rank, student.level_rank)
    return students


def _student_growth_table(growth):
    """One row per student and span of ``selectors.student_growth``."""
    header = ["span", "student_id", "last_name", "first_name", "start", "end", "change"]
    header += ["typical_growth", "met_typical"]
    rows = [
        (
            label,
            row["student"].local_id,
            row["student"].last_name,
            row["student"].first_name,
            row["start"],
            row["end"],
            row["change"],
            _cell(row["typical"]),
            _cell(row["met"]),
        )
        for label, matched in growth
        for row in matched
    ]
    return header, rows


def _student_table(students):
    """Header and rows of a student list labelled by ``_label_levels``."""
    header = ["student_id", "last_name", "first_name", "score", "level", "previous_score"]
    header += ["change", "english_learner", "special_education", "economically_disadvantaged"]
    rows = [
        (
            s.local_id,
            s.last_name,
            s.first_name,
            s.score,
            _cell(s.level_label),
            _cell(getattr(s, "previous_score", None)),
            _cell(getattr(s, "change", None)),
            s.english_learner,
            s.special_education,
            s.economically_disadvantaged,
        )
        for s in students
    ]
    return header, rows


def school_dashboard(request, slug):
    school = permissions.get_school_for_dashboard(request.user, slug)
    view = selectors.DashboardView(school=school, params=request.GET)
    if request.GET.get("format") == "csv":
        stem = f"{school.slug}-{view.subject}" if view.subject else school.slug
        return _csv_table(request, f"{stem}-trend", _school_tables(view), "trend")
    return render(
        request,
        "data_tracking/school_dashboard.html",
        {
            "school": school,
            "view": view,
            "can_see_students": permissions.can_see_students(request.user, school),
            "chart_data": selectors.chart_data(view),
            "Subject": Subject,
        },
    )


def grade_dashboard(request, slug, grade):
    school = permissions.get_school_for_dashboard(request.user, slug)
    view = selectors.DashboardView(school=school, params={**request.GET.dict(), "grade": grade})
    if view.grade != grade or view.current is None:
        raise Http404("No compiled data for this grade, subject and window.")
    year, window = view.period
    sections = list(selectors.grade_sections(school=school, grade=grade, subject=view.subject))
    by_section = selectors.section_snapshots(
        sections=sections, subject=view.subject, school_year=year, window=window
    )
    show_students = permissions.can_see_students(request.user, school)
    wants_csv = request.GET.get("format") == "csv"
    students = []
    if show_students and (not wants_csv or request.GET.get("table") == "students"):
        students = list(
            selectors.student_results(
                students=selectors.grade_students(
                    school=school,
                    grade=grade,
                    subject=view.subject,
                    school_year=year,
                    window=window,
                ),
                subject=view.subject,
                school_year=year,
                window=window,
                previous=selectors.previous_period(year, window),
                school=school,
            )
        )
        _log_student_access(request, school, students)
    levels = view.current.metrics.get("levels", {})
    if wants_csv:
        tables = {
            **_growth_tables(view.current),
            "classes": (
                ["class", "teacher", "tested", "mean_score", "percent_proficient"]
                + ["students_at_risk"],
                [
                    (
                        section.name,
                        section.teacher.full_name if section.teacher else "",
                        *(
                            (
                                m.get("tested"),
                                m.get("mean_score"),
                                _cell(m.get("percent_proficient")),
                                _cell(m.get("students_at_risk")),
                            )
                            if (m := getattr(by_section.get(section.pk), "metrics", None))
                            else ("", "", "", "")
                        ),
                    )
                    for section in sections
                ],
            ),
        }
        if show_students:
            tables["students"] = _student_table(_label_levels(students, levels))
        stem = f"{school.slug}-grade-{grade}-{view.subject}-{year}-{window}"
        return _csv_table(request, stem, tables, "classes")
    return render(
        request,
        "data_tracking/grade_dashboard.html",
        {
            "school": school,
            "view": view,
            "sections": [(section, by_section.get(section.pk)) for section in sections],
            "students": _label_levels(students, levels),
            "show_students": show_students,
        },
    )


def section_dashboard(request, pk):
    section = permissions.get_section_for_read(request.user, pk)
    snapshots = list(
        DashboardSnapshot.objects.filter(
            scope=DashboardSnapshot.Scope.SECTION, scope_key=str(section.pk), is_current=True
        ).order_by("school_year", "window")
    )
    snapshots.sort(key=selectors._period_key)
    # The window the grade page came from (?period=year:window), else the latest.
    chosen = {f"{s.school_year}:{s.window}": s for s in snapshots}.get(request.GET.get("period"))
    current = chosen or (snapshots[-1] if snapshots else None)
    wants_csv = request.GET.get("format") == "csv"
    students, growth = [], []
    table = request.GET.get("table", "students")
    if current and (not wants_csv or table == "student_growth"):
        growth = selectors.student_growth(
            students=section.students.all(),
            subject=current.subject,
            school_year=current.school_year,
            window=current.window,
            school=section.school,
        )
        if wants_csv:
            _log_student_access(
                request, section.school, [row["student"] for _, rows in growth for row in rows]
            )
    if current and (not wants_csv or table == "students"):
        students = list(
            selectors.student_results(
                students=section.students.all(),
                subject=current.subject,
                school_year=current.school_year,
                window=current.window,
                previous=selectors.previous_period(current.school_year, current.window),
                school=section.school,
            )
        )
        _log_student_access(request, section.school, students)
    levels = current.metrics.get("levels", {}) if current else {}
    if wants_csv:
        tables = {
            "students": _student_table(_label_levels(students, levels)),
            "windows": _window_table(snapshots),
            **_growth_tables(current),
            "student_growth": _student_growth_table(growth),
        }
        return _csv_table(request, f"section-{section.pk}", tables, "students")
    return render(
        request,
        "data_tracking/section_dashboard.html",
        {
            "section": section,
            "school": section.school,
            "snapshots": snapshots,
            "current": current,
            "students": _label_levels(students, levels),
            "growth": growth,
            "can_see_dashboard": permissions.can_see_dashboard(request.user, section.school),
        },
    )


def access_log(request, slug):
    school = team_permissions.get_school_for_write(request.user, slug)
    entries = StudentAccessLog.objects.filter(school=school).select_related("user")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "data_tracking/access_log.html", {"school": school, "page": page})


# --- Reviews ------------------------------------------------------------------------------------


REVIEWS_PER_PAGE = 25


def review_list(request):
    schools = permissions.reviewable_schools(request.user)
    if not schools.exists():
        raise PermissionDenied("Dashboard reviews are for principals and assistant principals.")
    snapshots = selectors.snapshots_new_since_review(schools=schools, reviewer=request.user)
    years = sorted(
        set(snapshots.order_by().values_list("school_year", flat=True).distinct()), reverse=True
    )
    year = request.GET.get("year", "")
    if year in years:
        snapshots = snapshots.filter(school_year=year)
    else:
        year = ""
    page = Paginator(snapshots, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "data_tracking/review_list.html",
        {"page": page, "years": years, "year": year},
    )


@require_http_methods(["GET", "POST"])
def snapshot_review(request, pk):
    snapshot = permissions.get_snapshot_for_review(request.user, pk)
    form = ReviewForm(request.POST or None, school=snapshot.school)
    dashboard_url = snapshot.get_dashboard_url()
    if request.method == "POST" and form.is_valid():
        try:
            _, item = services.review_create(
                snapshot=snapshot,
                reviewer=request.user,
                source_url=dashboard_url,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            message = "Review saved."
            if item:
                message += f" “{item.text}” is now an action item of {item.team}"
                meeting = item.agenda_item.meeting
                if meeting:
                    when = localtime(meeting.starts_at)
                    message += f" and on the agenda of its meeting on {when:%b %-d}."
                else:
                    message += ", waiting for its next meeting to be scheduled."
            messages.success(request, message)
            return redirect("data_tracking:review_list")
    return render(
        request,
        "data_tracking/snapshot_review.html",
        {
            "snapshot": snapshot,
            "school": snapshot.school,
            "form": form,
            "reviews": snapshot.reviews.select_related("reviewer"),
            "dashboard_url": dashboard_url,
            "subgroup_labels": selectors.SUBGROUP_LABELS,
        },
    )


# --- A teacher's and a teacher leader's classes ---------------------------------------------------


def my_classes(request):
    """Your own classes' results and, if you develop teachers, their classes beside their
    observation cycles with you. Aggregates only: student names are on each class's page."""
    staff_id = team_permissions.get_scope(request.user).staff_id
    context = {"own": [], "caseload": [], "caseload_summary": [], "has_profile": bool(staff_id)}
    if staff_id:
        staff = StaffMember.objects.get(pk=staff_id)
        sections = permissions.visible_sections(request.user)
        context.update(selectors.my_classes(staff=staff, sections=sections))
    return render(request, "data_tracking/my_classes.html", context)


METRICS_DOC = settings.BASE_DIR / "docs" / "metrics.md"


def metrics_help(request):
    """docs/metrics.md as a page: how every figure on the dashboards is worked out. The file is
    part of the portal (never user input), so its HTML is shown as it is rendered."""
    html = markdown.markdown(
        METRICS_DOC.read_text(encoding="utf-8"),
        extensions=["tables", "toc", "fenced_code"],
        output_format="html",
    )
    return render(request, "data_tracking/metrics_help.html", {"html": html})
