"""What people notice on the student data pages, through the test client: the compiled numbers,
the filters, the CSV exports, who sees students by name, the access log, and the import pages.

The fixture (``term``) is the ``world`` school with five students, three math classes and math
results in fall and winter (reading in winter for two students), compiled. Its table, from which
every expected number below is worked out:

    student      grade EL  fall winter  reading   math class
    Ada Alvarez  3     x   195  205     180       3A (Tina Tran's)
    Ben Brooks   3         212  215     —         3A
    Cleo Chen    3     x   221  225     —         3B (Omar Otis's)
    Dev Diaz     4         208  204     190       4  (Omar Otis's)
    Eve Evans    4     x   205  230     —         4

Cut scores: Below ≥ 0, Approaching ≥ 200, Meets ≥ 210, Exceeds ≥ 220; Meets and up are
proficient. Lena Lopez (``world.leader``) develops Tina Tran (``world.teacher``), not Omar Otis.
"""

import csv
import io
import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from data_tracking.compile import school_compile
from data_tracking.models import AssessmentResult, ImportBatch, StudentAccessLog, Subject, Window
from teams.models import Assignment
from teams.services import caseload_end
from tests.data_tracking.factories import (
    YEAR,
    EnrollmentFactory,
    SectionFactory,
    StudentFactory,
    benchmark,
    record,
)
from tests.data_tracking.reading import csv_rows, metrics_shown, table_rows, text
from tests.teams.factories import DistrictFactory, days_ago, staff_at

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
# (first, last): (grade, english learner, fall, winter, reading winter, math class)
STUDENTS = {
    ("Ada", "Alvarez"): ("3", True, 195, 205, 180, "3A"),
    ("Ben", "Brooks"): ("3", False, 212, 215, None, "3A"),
    ("Cleo", "Chen"): ("3", True, 221, 225, None, "3B"),
    ("Dev", "Diaz"): ("4", False, 208, 204, 190, "4"),
    ("Eve", "Evans"): ("4", True, 205, 230, None, "4"),
}
LAST_NAMES = [last for _, last in STUDENTS]
# Winter's growth headline, fall to winter: the fixture's results state no typical growth, so
# the share who met it is not known.
GROWTH_CELL = "— fall to winter"
# Fall to winter changes: +10, +3, +4, −4, +25; sorted −4, 3, 4, 10, 25: the median is 4.
GROWTH_CSV = ["fall-winter", "4.0", ""]


# ── Building data (benchmark, level_of and record are in factories.py) ──────────────────────


@pytest.fixture
def term(world):
    school = world.school
    otis = staff_at(school, first_name="Omar", last_name="Otis")
    sections = {
        "3A": SectionFactory(school=school, teacher=world.teacher.staff, name="Math 3A", grade="3"),
        "3B": SectionFactory(school=school, teacher=otis, name="Math 3B", grade="3"),
        "4": SectionFactory(school=school, teacher=otis, name="Math 4", grade="4"),
    }
    fall, winter = (benchmark(world.district, window) for window in (Window.FALL, Window.WINTER))
    reading = benchmark(world.district, Window.WINTER, Subject.READING)
    students = {}
    for (first, last), (grade, el, *scores, section) in STUDENTS.items():
        student = StudentFactory(
            school=school, first_name=first, last_name=last, grade=grade, english_learner=el
        )
        students[last] = student
        EnrollmentFactory(section=sections[section], student=student)
        for assessment, score in zip((fall, winter, reading), scores, strict=True):
            if score is not None:
                record(assessment, student, score)
    school_compile(school=school)
    return {"sections": sections, "students": students, "otis": otis}


def as_user(client, user):
    client.force_login(user)
    return client


# ── Reading the page (helpers in reading.py) ─────────────────────────────────────────────────


def dashboard(client, user, **params):
    url = reverse("data_tracking:school_dashboard", args=["maple"])
    return as_user(client, user).get(url, params)


def grade_page(client, user, grade="3", **params):
    url = reverse("data_tracking:grade_dashboard", args=["maple", grade])
    return as_user(client, user).get(url, params)


def section_page(client, user, section, **params):
    url = reverse("data_tracking:section_dashboard", args=[section.pk])
    return as_user(client, user).get(url, params)


# ── School dashboard ─────────────────────────────────────────────────────────────────────────


def test_the_dashboard_shows_the_latest_window_of_the_first_subject(client, world, term):
    response = dashboard(client, world.principal)

    assert metrics_shown(response) == {
        # 205+215+225+204+230 = 1079 over 5; 215, 225 and 230 reach Meets
        "Students tested": "5",
        "Mean score": "215.8",
        "Proficient": "60.0%",
        # Dev: below Meets and down from 208
        "At risk (below proficient and falling)": "1",
    }
    assert table_rows(response, "in each window") == [
        # 195+212+221+208+205 = 1041 over 5; 212 and 221 reach Meets
        ["Fall 2026-2027", "5", "208.2", "40.0%", "—"],
        ["Winter 2026-2027", "5", "215.8", "60.0%", GROWTH_CELL],
    ]
    assert table_rows(response, "at each performance level") == [
        ["Below", "0", "0.0%"],
        ["Approaching", "2", "40.0%"],
        ["Meets", "1", "20.0%"],
        ["Exceeds", "2", "40.0%"],
    ]
    assert table_rows(response, "Results by grade") == [
        ["Grade 3", "3", "215.0", "66.7%", "0"],
        ["Grade 4", "2", "217.0", "50.0%", "1"],
    ]
    # +10 +3 +4 −4 +25 = 38 over 5
    assert table_rows(response, "Mean gain between windows") == [["Fall to winter", "5", "7.6"]]


def test_the_dashboard_reads_the_snapshot_not_the_raw_results(client, world, term):
    latecomer = StudentFactory(school=world.school, grade="4", last_name="Fox")
    winter = AssessmentResult.objects.filter(assessment__window=Window.WINTER).first().assessment
    record(winter, latecomer, 250)

    before = metrics_shown(dashboard(client, world.principal))
    school_compile(school=world.school)
    after = metrics_shown(dashboard(client, world.principal))

    assert (before["Students tested"], before["Mean score"]) == ("5", "215.8")
    # 1079 + 250 = 1329 over 6
    assert (after["Students tested"], after["Mean score"]) == ("6", "221.5")


def test_every_chart_has_a_table_with_its_numbers(client, world, term):
    response = dashboard(client, world.principal)
    page = response.content.decode()

    sections = re.findall(r"<section.*?</section>", page, re.S)
    charts = [section for section in sections if "<canvas" in section]
    assert len(charts) == 4  # trend, levels, gaps and growth (fall to winter)
    for section in charts:
        assert "<table" in section and "<caption" in section, section

    drawn = json.loads(re.search(r'id="chart-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert drawn["trend"] == {
        "labels": ["Fall 2026-2027", "Winter 2026-2027"],
        "mean": [208.2, 215.8],
        "proficient": [40.0, 60.0],
        "met_typical": [None, None],  # no typical growth in the fixture's results
        "subgroup": "",
        "subgroup_proficient": [],
    }
    assert drawn["growth"]["labels"] == ["Fall to winter"]
    assert drawn["levels"] == {
        "labels": ["Below", "Approaching", "Meets", "Exceeds"],
        "counts": [0, 2, 1, 2],
    }
    # Three English learners against two others: too few to show either side.
    assert drawn["gaps"]["group"][0] is None and drawn["gaps"]["rest"][0] is None
    assert table_rows(response, "each subgroup")[0] == [
        "English learners (3)",
        "—",
        "—",
        "too few students",
    ]


@pytest.mark.parametrize(
    "params, tested, mean, proficient",
    [
        # Ada 180 and Dev 190: both Below
        ({"subject": "reading"}, "2", "185.0", "0.0%"),
        ({"period": f"{YEAR}:fall"}, "5", "208.2", "40.0%"),
        # 205+215+225 over 3; Ben and Cleo reach Meets
        ({"grade": "3"}, "3", "215.0", "66.7%"),
        ({"grade": "4", "period": f"{YEAR}:fall"}, "2", "206.5", "0.0%"),
        # Filters that match nothing fall back to the defaults.
        ({"subject": "science", "period": "1999-2000:fall", "grade": "11"}, "5", "215.8", "60.0%"),
    ],
)
def test_filters_change_the_numbers(client, world, term, params, tested, mean, proficient):
    metrics = metrics_shown(dashboard(client, world.principal, **params))

    assert (metrics["Students tested"], metrics["Mean score"], metrics["Proficient"]) == (
        tested,
        mean,
        proficient,
    )


def test_a_grade_filter_shows_that_grade_and_drops_the_grade_table(client, world, term):
    response = dashboard(client, world.principal, grade="3")

    assertContains(response, "Student progress · grade 3")
    assertNotContains(response, "Results by grade")
    assert table_rows(response, "in each window") == [
        ["Fall 2026-2027", "3", "209.3", "66.7%", "—"],  # 195+212+221 = 628 over 3
        ["Winter 2026-2027", "3", "215.0", "66.7%", GROWTH_CELL],
    ]


def test_the_subgroup_filter_highlights_that_subgroup(client, world, term):
    def highlighted(response):
        """The subgroups whose row in the gaps table stands out."""
        rows = re.findall(r'<tr class="table-info">(.*?)</tr>', response.content.decode(), re.S)
        return [text(row).split(" (")[0] for row in rows]

    assert highlighted(dashboard(client, world.principal)) == []
    response = dashboard(client, world.principal, subgroup="special_education")
    assert highlighted(response) == ["Special education"]
    assertContains(response, '<option value="special_education" selected>')
    # The numbers stay the school's: highlighting is not a filter of students.
    assert metrics_shown(response)["Students tested"] == "5"


def test_a_subject_and_window_without_results_say_so(client, world, term):
    response = dashboard(client, world.principal, subject="reading", period=f"{YEAR}:fall")

    assertContains(response, "No results for this subject and window.")
    assert metrics_shown(response) == {}


def test_a_school_without_compiled_data_shows_the_empty_state(client, world):
    response = dashboard(client, world.principal)

    assertContains(response, "No compiled dashboards for Maple Elementary yet.")
    assertNotContains(response, "<canvas")
    assertNotContains(response, "Download the window table as CSV")


def test_the_csv_export_has_the_window_rows(client, world, term):
    response = dashboard(client, world.principal, format="csv")

    assert response["Content-Disposition"] == 'attachment; filename="maple-math-trend.csv"'
    assert csv_rows(response) == [
        ["school_year", "window", "tested", "mean_score", "percent_proficient"]
        + ["growth_span", "median_change", "percent_met_typical"],
        [YEAR, "Fall", "5", "208.2", "40.0", "", "", ""],
        [YEAR, "Winter", "5", "215.8", "60.0", *GROWTH_CSV],
    ]


def test_the_csv_export_follows_the_subject_and_grade(client, world, term):
    reading = csv_rows(dashboard(client, world.principal, format="csv", subject="reading"))
    grade_four = csv_rows(dashboard(client, world.principal, format="csv", grade="4"))

    assert reading[1:] == [[YEAR, "Winter", "2", "185.0", "0.0", "", "", ""]]
    # fall 208+205 = 413 over 2, nobody proficient; winter 204+230 over 2, Eve proficient;
    # fall to winter: Dev −4, Eve +25, a median of 10.5
    assert grade_four[1:] == [
        [YEAR, "Fall", "2", "206.5", "0.0", "", "", ""],
        [YEAR, "Winter", "2", "217.0", "50.0", "fall-winter", "10.5", ""],
    ]


# ── Grade and class pages ────────────────────────────────────────────────────────────────────


def test_the_grade_page_shows_its_classes_and_students_lowest_first(client, world, term):
    response = grade_page(client, world.principal)

    assertContains(response, "Grade 3: Mathematics, winter 2026-2027")
    assert metrics_shown(response)["Mean score"] == "215.0"
    assert table_rows(response, "Results by class") == [
        # 205+215 over 2, Ben proficient; Cleo alone
        ["Math 3A", "Tina Tran", "2", "210.0", "50.0%", "0"],
        ["Math 3B", "Omar Otis", "1", "225.0", "100.0%", "0"],
    ]
    assert table_rows(response, "Grade 3 students") == [
        ["Alvarez, Ada", term["students"]["Alvarez"].local_id, "205", "Approaching", "195", "10"]
        + ["EL"],
        ["Brooks, Ben", term["students"]["Brooks"].local_id, "215", "Meets", "212", "3", ""],
        ["Chen, Cleo", term["students"]["Chen"].local_id, "225", "Exceeds", "221", "4", "EL"],
    ]


def test_the_grade_page_follows_the_subject_and_window(client, world, term):
    response = grade_page(client, world.principal, subject="math", period=f"{YEAR}:fall")

    assertContains(response, "Grade 3: Mathematics, fall 2026-2027")
    names = [row[0] for row in table_rows(response, "Grade 3 students")]
    assert names == ["Alvarez, Ada", "Brooks, Ben", "Chen, Cleo"]
    # no earlier window in the year: no previous score, no change
    assert table_rows(response, "Grade 3 students")[0][4:6] == ["—", "—"]


@pytest.mark.parametrize(
    "grade, params",
    [
        ("7", {}),
        # Grade 3 has reading results in winter only.
        ("3", {"subject": "reading", "period": f"{YEAR}:fall"}),
    ],
)
def test_a_grade_without_compiled_data_is_not_found(client, world, term, grade, params):
    assert grade_page(client, world.principal, grade=grade, **params).status_code == 404
    assert not StudentAccessLog.objects.exists()


@pytest.mark.parametrize(
    "position",
    [
        Assignment.Position.PRINCIPAL,
        Assignment.Position.ASSISTANT_PRINCIPAL,
        Assignment.Position.COACH,
    ],
)
def test_the_school_leaders_and_coaches_see_students_by_name(client, world, term, position):
    viewer = staff_at(world.school, position).user

    response = grade_page(client, viewer)

    assertContains(response, "Alvarez, Ada")
    assertContains(response, "Chen, Cleo")


def test_district_leaders_see_the_numbers_but_never_a_student_name(client, world, term):
    pages = [
        dashboard(client, world.district_leader),
        dashboard(client, world.district_leader, grade="4"),
        grade_page(client, world.district_leader, grade="3"),
        grade_page(client, world.district_leader, grade="4"),
    ]

    assert metrics_shown(pages[0])["Mean score"] == "215.8"
    assert metrics_shown(pages[2])["Mean score"] == "215.0"
    assertContains(pages[2], "Math 3A")
    assertContains(pages[2], "Student names stay inside the school")
    for response in pages:
        assert response.status_code == 200
        for name in LAST_NAMES:
            assertNotContains(response, name)
    # The class pages, where the names are, stay closed.
    for section in term["sections"].values():
        assert section_page(client, world.district_leader, section).status_code == 404


def test_a_teacher_sees_the_students_of_their_own_class(client, world, term):
    response = section_page(client, world.teacher, term["sections"]["3A"])

    assertContains(response, "Tina Tran · Mathematics · grade 3 · Maple Elementary")
    assert metrics_shown(response)["Mean score"] == "210.0"
    assert table_rows(response, "across windows") == [
        ["Fall 2026-2027", "2", "203.5", "50.0%"],  # 195+212 over 2
        ["Winter 2026-2027", "2", "210.0", "50.0%"],
    ]
    assert [row[:6] for row in table_rows(response, "Students of this class")] == [
        ["Alvarez, Ada", term["students"]["Alvarez"].local_id, "205", "Approaching", "195", "10"],
        ["Brooks, Ben", term["students"]["Brooks"].local_id, "215", "Meets", "212", "3"],
    ]
    assertNotContains(response, "Chen")


def test_a_teacher_leader_sees_the_classes_of_their_caseload_only(client, world, term):
    response = section_page(client, world.leader, term["sections"]["3A"])

    assertContains(response, "Alvarez, Ada")
    assert section_page(client, world.leader, term["sections"]["3B"]).status_code == 404
    assert section_page(client, world.teacher, term["sections"]["4"]).status_code == 404


def test_a_class_a_teacher_dropped_falls_out_of_the_leaders_sight(client, world, term):
    caseload_end(caseload=world.caseload, end_date=days_ago(0), ended_by=world.principal)

    assert section_page(client, world.leader, term["sections"]["3A"]).status_code == 404


def test_the_class_csv_has_a_row_per_student(client, world, term):
    section = term["sections"]["3A"]

    response = section_page(client, world.teacher, section, format="csv")

    assert response["Content-Disposition"] == f'attachment; filename="section-{section.pk}.csv"'
    rows = csv_rows(response)
    assert rows[0] == [
        "student_id",
        "last_name",
        "first_name",
        "score",
        "level",
        "previous_score",
        "change",
        "english_learner",
        "special_education",
        "economically_disadvantaged",
    ]
    assert [
        row[1:3] + [str(float(row[3])), row[4], str(float(row[5])), str(float(row[6]))] + row[7:]
        for row in rows[1:]
    ] == [
        ["Alvarez", "Ada", "205.0", "Approaching", "195.0", "10.0", "True", "False", "False"],
        ["Brooks", "Ben", "215.0", "Meets", "212.0", "3.0", "False", "False", "False"],
    ]


def test_every_table_of_the_dashboards_downloads_as_csv(client, world, term):
    school = dashboard(client, world.principal, format="csv", table="levels")
    assert school["Content-Disposition"] == 'attachment; filename="maple-math-trend-levels.csv"'
    assert csv_rows(school)[0] == ["level", "students", "percent"]
    assert [row[0] for row in csv_rows(school)[1:]] == ["Below", "Approaching", "Meets", "Exceeds"]
    for table, first_column in (
        ("subgroups", "subgroup"),
        ("gains", "between"),
        ("grades", "grade"),
    ):
        rows = csv_rows(dashboard(client, world.principal, format="csv", table=table))
        assert rows[0][0] == first_column
        assert len(rows) > 1, table
    assert dashboard(client, world.principal, format="csv", table="nope").status_code == 404

    classes = csv_rows(grade_page(client, world.principal, format="csv"))
    assert classes[1][:2] == ["Math 3A", "Tina Tran"]
    students = csv_rows(grade_page(client, world.principal, format="csv", table="students"))
    assert [row[1] for row in students[1:]] == ["Alvarez", "Brooks", "Chen"]

    windows = csv_rows(
        section_page(client, world.teacher, term["sections"]["3A"], format="csv", table="windows")
    )
    assert [row[:3] for row in windows[1:]] == [
        ["2026-2027", "Fall", "2"],
        ["2026-2027", "Winter", "2"],
    ]


def test_the_grade_csv_of_students_is_for_those_who_may_see_them(client, world, term):
    response = grade_page(client, world.district_leader, format="csv", table="students")
    assert response.status_code == 404
    names = [s.last_name for s in term["students"].values()]
    page = grade_page(client, world.district_leader, format="csv").content.decode()
    assert not any(name in page for name in names)


def test_a_class_without_compiled_data_says_so(client, world, term):
    empty = SectionFactory(school=world.school, teacher=world.teacher.staff, name="Math 3C")

    response = section_page(client, world.teacher, empty)

    assertContains(response, "No compiled results for this class yet.")
    assert not StudentAccessLog.objects.exists()


# ── The student access log ───────────────────────────────────────────────────────────────────


def ids(*last_names, term):
    return sorted(term["students"][name].pk for name in last_names)


def test_the_grade_page_logs_who_saw_which_students(client, world, term):
    grade_page(client, world.coach, subject="math")

    entry = StudentAccessLog.objects.get()
    assert (entry.user, entry.school) == (world.coach, world.school)
    assert sorted(entry.student_ids) == ids("Alvarez", "Brooks", "Chen", term=term)
    assert (
        entry.path
        == reverse("data_tracking:grade_dashboard", args=["maple", "3"]) + "?subject=math"
    )


@pytest.mark.parametrize("params", [{}, {"format": "csv"}])
def test_the_class_page_and_its_csv_log_who_saw_which_students(client, world, term, params):
    section_page(client, world.leader, term["sections"]["3A"], **params)

    entry = StudentAccessLog.objects.get()
    assert (entry.user, entry.school) == (world.leader, world.school)
    assert sorted(entry.student_ids) == ids("Alvarez", "Brooks", term=term)


def test_each_view_of_a_student_list_is_a_new_entry(client, world, term):
    grade_page(client, world.principal)
    grade_page(client, world.principal, grade="4")

    assert [sorted(e.student_ids) for e in StudentAccessLog.objects.order_by("pk")] == [
        ids("Alvarez", "Brooks", "Chen", term=term),
        ids("Diaz", "Evans", term=term),
    ]


@pytest.mark.parametrize(
    "viewer, name, args, params",
    [
        ("principal", "data_tracking:school_dashboard", ["maple"], {}),
        ("principal", "data_tracking:school_dashboard", ["maple"], {"format": "csv"}),
        ("coach", "data_tracking:school_dashboard", ["maple"], {"grade": "3"}),
        ("district_leader", "data_tracking:grade_dashboard", ["maple", "3"], {}),
        ("principal", "data_tracking:access_log", ["maple"], {}),
        ("principal", "data_tracking:review_list", [], {}),
        ("principal", "data_tracking:import_list", [], {}),
    ],
)
def test_pages_without_a_student_list_log_nothing(client, world, term, viewer, name, args, params):
    response = as_user(client, getattr(world, viewer)).get(reverse(name, args=args), params)

    assert response.status_code == 200
    assert not StudentAccessLog.objects.exists()


def test_the_principal_sees_who_looked_at_student_data(client, world, term):
    section_page(client, world.teacher, term["sections"]["3A"])
    grade_page(client, world.coach, grade="4")
    # Another school's log stays with that school.
    StudentAccessLog.objects.create(
        user=world.other_principal, school=world.other_school, path="/elsewhere/", student_ids=[1]
    )

    response = as_user(client, world.principal).get(
        reverse("data_tracking:access_log", args=["maple"])
    )

    rows = [row[1:] for row in table_rows(response, "access log of Maple Elementary")]
    section_url = reverse("data_tracking:section_dashboard", args=[term["sections"]["3A"].pk])
    grade_url = reverse("data_tracking:grade_dashboard", args=["maple", "4"])
    assert rows == [["Cora Cole", grade_url, "2"], ["Tina Tran", section_url, "2"]]
    assertNotContains(response, "/elsewhere/")


def test_an_empty_access_log_says_so(client, world):
    response = as_user(client, world.principal).get(
        reverse("data_tracking:access_log", args=["maple"])
    )

    assertContains(response, "No one has opened a student list yet.")


# ── Imports ──────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def batch_of(district, name, **fields):
    batch = ImportBatch(district=district, kind=ImportBatch.Kind.CSV, original_name=name, **fields)
    batch.upload.save(name, ContentFile(b"student_id\n"), save=True)
    return batch


def test_the_import_list_shows_the_districts_imports_only(client, world, media):
    batch_of(world.district, "fall.csv", uploaded_by=world.principal)
    batch_of(
        world.district, "winter.csv", status=ImportBatch.Status.SUCCEEDED, uploaded_by=world.coach
    )
    batch_of(DistrictFactory(), "elsewhere.csv")

    response = as_user(client, world.principal).get(reverse("data_tracking:import_list"))

    assertContains(response, "fall.csv")
    assertContains(response, "Assessment results (plain CSV) · ", count=2)
    assertContains(response, "Paula Prince")
    assertContains(response, '<span class="badge import-succeeded">Imported</span>', html=True)
    assertNotContains(response, "elsewhere.csv")


def test_an_upload_is_queued_and_opens_its_status_page(
    client, world, media, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("spring.csv", b"student_id,score\n", content_type="text/csv")
    form = {"district": world.district.pk, "kind": "csv", "mode": "strict", "upload": upload}

    with django_capture_on_commit_callbacks() as queued:
        response = as_user(client, world.principal).post(reverse("data_tracking:import_list"), form)

    batch = ImportBatch.objects.get()
    detail = reverse("data_tracking:import_detail", args=[batch.pk])
    assertRedirects(response, detail, fetch_redirect_response=False)
    assert (batch.original_name, batch.status, batch.uploaded_by) == (
        "spring.csv",
        ImportBatch.Status.PENDING,
        world.principal,
    )
    assert len(queued) == 1  # the import task, sent once the upload is saved
    response = client.get(detail)
    assertContains(response, "“spring.csv” is queued for import.")
    assertContains(response, "Waiting for a worker to start the import")


def test_an_upload_that_is_not_csv_or_zip_is_refused(client, world, media):
    upload = SimpleUploadedFile("scores.xlsx", b"PK", content_type="application/octet-stream")
    form = {"district": world.district.pk, "kind": "csv", "mode": "strict", "upload": upload}

    response = as_user(client, world.principal).post(reverse("data_tracking:import_list"), form)

    assertContains(response, "Upload a .csv or a .zip file.")
    assert not ImportBatch.objects.exists()


def test_the_status_partial_polls_while_the_import_runs(client, world, media):
    batch = batch_of(world.district, "fall.csv", status=ImportBatch.Status.RUNNING)
    ImportBatch.objects.filter(pk=batch.pk).update(rows_done=40, rows_total=100)
    url = reverse("data_tracking:import_detail", args=[batch.pk])

    partial = as_user(client, world.principal).get(url, **HX)
    page = client.get(url)

    assertContains(partial, "Rows read: 40 of 100")
    assertContains(partial, 'hx-trigger="every 2s"')
    assertNotContains(partial, "<html")
    assertContains(page, "<html")
    assertContains(page, 'id="import-status"')
    assertContains(page, "Rows read: 40 of 100")


def test_the_status_partial_stops_polling_and_reports_the_outcome(client, world, media):
    errors = [{"file": "fall.csv", "line": 7, "column": "score", "reason": "not a number"}]
    batch = batch_of(
        world.district,
        "fall.csv",
        status=ImportBatch.Status.FAILED,
        counts={"results created": 0},
        errors=errors,
    )

    partial = as_user(client, world.principal).get(
        reverse("data_tracking:import_detail", args=[batch.pk]), **HX
    )

    assertNotContains(partial, "hx-trigger")
    assertContains(partial, "1 problem: nothing was imported")
    assert table_rows(partial, "could not be imported") == [
        ["fall.csv", "7", "score", "not a number"]
    ]
    assert table_rows(partial, "What the import did") == [["Results created", "0"]]


def test_the_results_template_downloads_with_its_columns(client, world):
    response = as_user(client, world.teacher).get(reverse("data_tracking:results_template"))

    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="assessment_results_template.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "student_id",
        "assessment",
        "subject",
        "window",
        "school_year",
        "date",
        "score",
        "performance_level",
    ]
    assert len(rows) > 1  # example rows


def test_a_subgroup_filter_shows_the_groups_own_figures(client, world, term):
    response = dashboard(client, world.principal, subgroup="english_learner")
    page = response.content.decode()

    snapshots = response.context["view"].trend
    figures = [s.metrics["subgroups"]["english_learner"] for s in snapshots]
    drawn = json.loads(re.search(r'id="chart-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert drawn["trend"]["subgroup"] == "English learners"
    assert drawn["trend"]["subgroup_proficient"] == [
        f["group"]["percent_proficient"] for f in figures
    ]
    assert "English learners and the other students across windows" in page
    current = figures[-1]
    assert f"{current['group']['n']} of {snapshots[-1].metrics['tested']} students tested." in page

    rows = csv_rows(
        dashboard(
            client,
            world.principal,
            subgroup="english_learner",
            format="csv",
            table="subgroup_trend",
        )
    )
    assert [row[3] for row in rows[1:]] == [str(f["group"]["n"]) for f in figures]
    assert {row[2] for row in rows[1:]} == {"English learners"}


def test_a_class_opens_on_the_window_it_was_chosen_in(client, world, term):
    section = term["sections"]["3A"]

    latest = section_page(client, world.principal, section)
    fall = section_page(client, world.principal, section, period="2026-2027:fall")

    assertContains(latest, "Students, winter 2026-2027")
    assertContains(fall, "Students, fall 2026-2027")
    dashboard_url = reverse("data_tracking:school_dashboard", args=[world.school.slug])
    assertContains(fall, f'href="{dashboard_url}"')  # the breadcrumb back to the dashboard
    grade = grade_page(client, world.principal, period="2026-2027:fall")
    assertContains(grade, "?period=2026-2027:fall")


def test_a_teachers_breadcrumb_does_not_offer_the_dashboard_they_cannot_open(client, world, term):
    response = section_page(client, world.teacher, term["sections"]["3A"])
    dashboard_url = reverse("data_tracking:school_dashboard", args=[world.school.slug])
    assertNotContains(response, f'href="{dashboard_url}"')
