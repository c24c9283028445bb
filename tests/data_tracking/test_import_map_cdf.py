"""NWEA MAP CDF import: students and results, the dedupe rule, messy and broken files, strict and
skip, re-import, older terms, folder / zip / two files, query counts."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from data_tracking import services
from data_tracking.imports.common import ImportRefused
from data_tracking.imports.map_cdf import parse_grade, parse_term
from data_tracking.models import Assessment, AssessmentResult, ImportBatch, Student
from tests.data_tracking.factories import AssessmentFactory, StudentFactory, levels_for
from tests.teams.factories import DistrictFactory, SchoolFactory

STUDENTS_HEADER = (
    "TermName,DistrictName,SchoolName,StudentLastName,StudentFirstName,StudentMI,StudentID,"
    "StudentDateOfBirth,StudentEthnicGroup,StudentGender,Grade\n"
)
STUDENTS = STUDENTS_HEADER + (
    "Fall 2026-2027,Lakeside SD,Maple Elementary,Lopez,Ana,M,2001,3/14/2016,"
    "Hispanic or Latino,F,5\n"
    "Fall 2026-2027,Lakeside SD,MAPLE ELEMENTARY,Nguyen,Bao,,2002,2016-07-02,Asian,M,5\n"
    "Fall 2026-2027,Lakeside SD,Birch Elementary,Okafor,Chidi,,2003,11/30/2020,Multi-ethnic,,K\n"
)
RESULTS_HEADER = (
    "TermName,StudentID,SchoolName,MeasurementScale,Discipline,GrowthMeasureYN,TestType,"
    "TestName,TestID,TestStartDate,TestDurationMinutes,TestRITScore,TestStandardError,"
    "TestPercentile,FallToFallProjectedGrowth,Goal1Name,Goal1RitScore,Goal1StdErr,Goal1Range,"
    "Goal1Adjective\n"
)


def map_test(student, discipline, growth, rit, se, percentile, date, term="Fall 2026-2027"):
    scale = {"Mathematics": "Mathematics: Math K-12"}.get(discipline, discipline)
    return (
        f"{term},{student},Maple Elementary,{scale},{discipline},{growth},Survey with Goals,"
        f"Growth: {discipline} 2-5,{rit}{se},{date},45,{rit},{se},{percentile},8,"
        f"Operations and Algebraic Thinking,{rit},6.8,{rit}-{rit},Avg\n"
    )


RESULTS = RESULTS_HEADER + (
    # 2001 math: the growth-measure test is kept although the other has a lower standard error
    map_test(2001, "Mathematics", "TRUE", 201, "3.1", 55, "9/10/2026")
    + map_test(2001, "Mathematics", "FALSE", 215, "2.9", 70, "9/20/2026")
    # 2001 reading: neither is a growth measure, so the lowest standard error is kept
    + map_test(2001, "Reading", "FALSE", 190, "3.4", 40, "9/11/2026")
    + map_test(2001, "Reading", "FALSE", 196, "3.0", 48, "9/21/2026")
    + map_test(2002, "Language Usage", "TRUE", 205, "3.2", 60, "9/12/2026")
    + map_test(2003, "Science", "Y", 160, "3.5", 35, "9/13/2026")
    + map_test(2003, "Mathematics", "TRUE", 150, "3.3", 20, "2026-09-14")
)
# Lines of AssessmentResults.csv: header 1, then 2001 math 2–3, reading 4–5, 2002 6, 2003 7–8.


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def district(db):
    district = DistrictFactory(name="Lakeside District", slug="lakeside")
    SchoolFactory(district=district, name="Maple Elementary", slug="maple")
    SchoolFactory(district=district, name="Birch Elementary", slug="birch")
    SchoolFactory(name="Maple Elementary")  # another district's Maple is never matched
    return district


def run(district, files=None, *, mode="strict"):
    files = {"StudentsBySchool.csv": STUDENTS, "AssessmentResults.csv": RESULTS} | (files or {})
    source = {
        name: data.encode() if isinstance(data, str) else data for name, data in files.items()
    }
    source = {name: data for name, data in source.items() if data is not None}
    return services.import_files(
        district=district, kind=ImportBatch.Kind.MAP_CDF, mode=mode, source=source
    )


def results_by_student(district):
    return {
        (r.student.local_id, r.assessment.subject): (
            r.score,
            r.standard_error,
            r.percentile,
            r.tested_on,
        )
        for r in AssessmentResult.objects.filter(assessment__district=district).select_related(
            "student", "assessment"
        )
    }


def problems(report):
    return [(error.file, error.line, error.column, error.reason) for error in report.errors]


def test_cdf_imports_students_and_one_result_per_subject_and_term(district):
    report = run(district)

    assert report.errors == []
    assert report.counts == {
        "tests set aside as duplicates": 2,
        "students created": 3,
        "students updated": 0,
        "students unchanged": 0,
        "results created": 5,
        "results updated": 0,
        "results unchanged": 0,
        "assessments created": 4,
    }
    maple, birch = (district.schools.get(slug=slug) for slug in ("maple", "birch"))
    assert report.schools_touched == {maple.pk, birch.pk}

    ana = Student.objects.get(district=district, local_id="2001")
    assert (ana.first_name, ana.last_name, ana.school, ana.grade) == ("Ana", "Lopez", maple, "5")
    assert (ana.birth_date, ana.gender, ana.ethnicity) == (
        datetime.date(2016, 3, 14),
        "F",
        Student.Ethnicity.HISPANIC,
    )
    bao = Student.objects.get(district=district, local_id="2002")
    assert (bao.school, bao.ethnicity, bao.gender) == (maple, "asian", "M")  # name in any case
    chidi = Student.objects.get(district=district, local_id="2003")
    assert (chidi.school, chidi.grade, chidi.ethnicity, chidi.gender) == (
        birch,
        "K",
        "multiracial",
        "",
    )

    assessments = Assessment.objects.filter(district=district)
    assert {(a.name, a.subject, a.school_year, a.window, a.scale) for a in assessments} == {
        ("MAP Growth", subject, "2026-2027", "fall", "RIT")
        for subject in ("math", "reading", "language", "science")
    }
    assert assessments.get(subject="math").administered_on == datetime.date(2026, 9, 10)
    assert results_by_student(district) == {
        ("2001", "math"): (Decimal(201), Decimal("3.1"), 55, datetime.date(2026, 9, 10)),
        ("2001", "reading"): (Decimal(196), Decimal("3.0"), 48, datetime.date(2026, 9, 21)),
        ("2002", "language"): (Decimal(205), Decimal("3.2"), 60, datetime.date(2026, 9, 12)),
        ("2003", "science"): (Decimal(160), Decimal("3.5"), 35, datetime.date(2026, 9, 13)),
        ("2003", "math"): (Decimal(150), Decimal("3.3"), 20, datetime.date(2026, 9, 14)),
    }


def test_dedupe_prefers_growth_measure_then_lowest_standard_error(district):
    results = RESULTS_HEADER + (
        map_test(2001, "Mathematics", "FALSE", 230, "", 90, "9/1/2026")  # no SE: loses to any
        + map_test(2001, "Mathematics", "FALSE", 220, "2.5", 80, "9/2/2026")
        + map_test(2001, "Mathematics", "TRUE", 210, "3.9", 60, "9/3/2026")  # growth: kept
        + map_test(2001, "Mathematics", "TRUE", 212, "3.9", 62, "9/4/2026")  # tie: earlier kept
        + map_test(2002, "Reading", "FALSE", 199, "", 50, "9/5/2026")
        + map_test(2002, "Reading", "FALSE", 201, "3.2", 52, "9/6/2026")  # lowest SE: kept
        + map_test(2002, "Reading", "FALSE", 203, "3.4", 54, "9/7/2026")
        + map_test(2002, "Reading", "TRUE", 205, "3.0", 55, "9/8/2026", term="Winter 2026-2027")
    )

    report = run(district, {"AssessmentResults.csv": results})

    assert report.counts["tests set aside as duplicates"] == 5
    fall = AssessmentResult.objects.filter(assessment__window="fall")
    scores = {(r.student.local_id, r.assessment.subject): r.score for r in fall}
    assert scores == {("2001", "math"): 210, ("2002", "reading"): 201}
    winter = AssessmentResult.objects.get(assessment__window="winter")
    assert (winter.student.local_id, winter.score) == ("2002", 205)  # another term: kept too


def test_reimport_changes_nothing(district):
    run(district)
    before = results_by_student(district)
    students_before = list(Student.objects.order_by("pk").values())

    again = run(district)

    assert again.counts == {
        "tests set aside as duplicates": 2,
        "students created": 0,
        "students updated": 0,
        "students unchanged": 3,
        "results created": 0,
        "results updated": 0,
        "results unchanged": 5,
    }
    assert again.schools_touched == set()
    assert results_by_student(district) == before
    assert list(Student.objects.order_by("pk").values()) == students_before
    assert Assessment.objects.filter(district=district).count() == 4


def test_changed_student_and_score_are_updates_touching_both_schools(district):
    run(district)
    moved = STUDENTS.replace("Maple Elementary,Lopez", "Birch Elementary,Lopez")
    rescored = RESULTS.replace(",201,3.1,55,", ",204,3.1,57,")

    report = run(district, {"StudentsBySchool.csv": moved, "AssessmentResults.csv": rescored})

    assert report.counts["students updated"] == 1
    assert report.counts["results updated"] == 1
    maple, birch = (district.schools.get(slug=slug) for slug in ("maple", "birch"))
    assert report.schools_touched == {maple.pk, birch.pk}
    assert Student.objects.get(local_id="2001").school == birch
    assert results_by_student(district)[("2001", "math")][:3] == (204, Decimal("3.1"), 57)


def test_a_file_from_an_older_term_creates_students_but_does_not_move_existing_ones(district):
    AssessmentFactory(district=district, name="MAP Growth", school_year="2027-2028", window="fall")
    StudentFactory(school=district.schools.get(slug="birch"), local_id="2001", grade="6")

    report = run(district)

    assert report.counts["students not updated (from an older term)"] == 1
    assert report.counts["students created"] == 2
    ana = Student.objects.get(local_id="2001")
    assert (ana.grade, ana.school.slug) == ("6", "birch")
    assert results_by_student(district)[("2001", "math")][0] == 201  # the results still import


def test_results_alone_need_students_that_exist(district):
    StudentFactory(school=district.schools.get(slug="maple"), local_id="2001")

    report = run(district, {"StudentsBySchool.csv": None}, mode="skip")

    fix = ": add StudentsBySchool.csv from the same NWEA export, or import the roster first"
    assert problems(report) == [
        (
            "AssessmentResults.csv",
            6,
            "StudentID",
            f"no student with id 2002 in Lakeside District{fix}",
        ),
        (
            "AssessmentResults.csv",
            7,
            "StudentID",
            f"no student with id 2003 in Lakeside District{fix}",
        ),
        (
            "AssessmentResults.csv",
            8,
            "StudentID",
            f"no student with id 2003 in Lakeside District{fix}",
        ),
    ]
    assert set(results_by_student(district)) == {("2001", "math"), ("2001", "reading")}
    assert "students created" not in report.counts


BROKEN_STUDENTS = STUDENTS_HEADER + (
    "Fall 2026-2027,Lakeside SD,Oak Elementary,Lopez,Ana,M,2001,3/14/2016,Asian,F,5\n"
    "Fall 2026-2027,Lakeside SD,Maple Elementary,Nguyen,Bao,,2002,2016-31-02,Martian,Q,15\n"
    "Fall 2026-2027,Lakeside SD,Maple Elementary,,Chidi,,2003,,,,K\n"
)
BROKEN_RESULTS = RESULTS_HEADER + (
    map_test(2001, "Mathematics", "TRUE", 201, "3.1", 55, "9/10/2026")
    + map_test(2002, "Mathematics", "maybe", "high", "3.1", 101, "9/10/2026")
    + map_test(2002, "Social Studies", "TRUE", 200, "3.1", 50, "9/10/2026")
    + map_test(2002, "Reading", "TRUE", 200, "3.1", 50, "9/10/2026", term="Autumn 2026")
    + map_test(2002, "Reading", "TRUE", 200, "3.1", 50, "9/10/2026", term="Summer 2026-2027")
)
RESULTS_FILE, STUDENTS_FILE = "AssessmentResults.csv", "StudentsBySchool.csv"
BROKEN_PROBLEMS = [
    (
        RESULTS_FILE,
        2,
        "StudentID",
        "no student with id 2001 in Lakeside District (their StudentsBySchool.csv row was not "
        "imported)",
    ),
    (RESULTS_FILE, 3, "GrowthMeasureYN", "“maybe” is not yes or no"),
    (RESULTS_FILE, 3, "TestRITScore", "“high” is not a number"),
    (
        RESULTS_FILE,
        3,
        "TestPercentile",
        "“101” is not a percentile (a whole number from 1 to 99)",
    ),
    (RESULTS_FILE, 3, "Goal1RitScore", "“high” is not a number"),  # goal scores are checked too
    (
        RESULTS_FILE,
        4,
        "Discipline",
        "“Social Studies” is not a MAP subject the portal tracks (Mathematics, Reading, "
        "Language Usage or Science)",
    ),
    (
        RESULTS_FILE,
        5,
        "TermName",
        "“Autumn 2026” is not a MAP term (expected e.g. Fall 2026-2027)",
    ),
    (
        STUDENTS_FILE,
        2,
        "SchoolName",
        "no school named “Oak Elementary” in Lakeside District: import the roster (or add the "
        "school) first, or correct the name",
    ),
    (STUDENTS_FILE, 3, "Grade", "“15” is not a grade (expected PK, K or 1 to 12)"),
    (
        STUDENTS_FILE,
        3,
        "StudentDateOfBirth",
        "“2016-31-02” is not a date (expected e.g. 2026-09-14 or 9/14/2026)",
    ),
    (STUDENTS_FILE, 4, "StudentLastName", "required, but blank"),
]


def test_strict_mode_reports_every_problem_and_writes_nothing(district):
    with pytest.raises(ImportRefused) as refused:
        run(
            district,
            {"StudentsBySchool.csv": BROKEN_STUDENTS, "AssessmentResults.csv": BROKEN_RESULTS},
        )

    assert problems(refused.value.report) == BROKEN_PROBLEMS
    assert not Student.objects.filter(district=district).exists()
    assert not Assessment.objects.exists()
    assert not AssessmentResult.objects.exists()


def test_skip_mode_imports_what_is_valid(district):
    files = {
        "StudentsBySchool.csv": BROKEN_STUDENTS.replace("Oak Elementary", "Maple Elementary"),
        "AssessmentResults.csv": BROKEN_RESULTS,
    }

    report = run(district, files, mode="skip")

    assert problems(report) == BROKEN_PROBLEMS[1:7] + BROKEN_PROBLEMS[8:]
    assert list(Student.objects.filter(district=district).values_list("local_id", flat=True)) == [
        "2001"
    ]
    assert set(results_by_student(district)) == {("2001", "math")}
    assert report.counts["summer-term tests set aside"] == 1


def test_unrecognised_ethnic_group_and_gender_are_recorded_as_not_reported(district):
    students = STUDENTS.replace("Hispanic or Latino,F", "Martian,Q")

    report = run(district, {"StudentsBySchool.csv": students})

    assert report.counts["ethnic groups not recognised (recorded as not reported)"] == 1
    assert report.counts["genders not recognised (recorded as not reported)"] == 1
    ana = Student.objects.get(local_id="2001")
    assert (ana.ethnicity, ana.gender) == ("", "")


@pytest.mark.parametrize("mode", ["strict", "skip"])
def test_a_missing_file_or_column_refuses_the_import(district, mode):
    with pytest.raises(ImportRefused) as refused:
        run(district, {"AssessmentResults.csv": None}, mode=mode)
    assert problems(refused.value.report) == [
        (
            "AssessmentResults.csv",
            0,
            "",
            "the upload has no test results: no file has the columns TermName, StudentID and "
            "TestRITScore (it holds: StudentsBySchool.csv). Add AssessmentResults.csv from the "
            "same NWEA export, under any name",
        )
    ]

    no_score = RESULTS.replace("TestRITScore", "RIT")
    no_grade = STUDENTS.replace(",Grade\n", ",Level\n")
    with pytest.raises(ImportRefused) as refused:
        run(
            district,
            {"StudentsBySchool.csv": no_grade, "AssessmentResults.csv": no_score},
            mode=mode,
        )
    assert problems(refused.value.report) == [
        ("AssessmentResults.csv", 1, "TestRITScore", "this required column is missing"),
        ("StudentsBySchool.csv", 1, "Grade", "this required column is missing"),
    ]
    assert not Student.objects.exists()


def test_messy_files_import(district):
    """A BOM, Windows-1252 names, CRLF, columns in another order and case, blank optional
    fields, Discipline left blank (read from MeasurementScale), performance levels from cuts."""
    students = (
        "StudentID,Grade,SchoolName,StudentFirstName,StudentLastName,StudentGender,"
        "StudentEthnicGroup,StudentDateOfBirth,TermName,Extra\r\n"
        "2001,05,maple elementary,José,Peña,Female,Not Specified or Other,,,x\r\n"
        "\r\n"
    ).encode("cp1252")
    results = (
        "\ufefftermname,studentid,measurementscale,discipline,growthmeasureyn,teststartdate,"
        "testritscore,teststandarderror,testpercentile\r\n"
        "Fall 2026-27,2001,Mathematics: Math K-12,,,,201,,\r\n"
    ).encode()
    math = AssessmentFactory(district=district, name="MAP Growth", school_year="2026-2027")
    levels_for(math, ("Low", 100), ("Average", 190), ("High", 220))

    report = run(district, {"StudentsBySchool.csv": students, "AssessmentResults.csv": results})

    assert report.errors == []
    jose = Student.objects.get(local_id="2001")
    assert (jose.first_name, jose.last_name, jose.grade, jose.gender, jose.ethnicity) == (
        "José",
        "Peña",
        "5",
        "F",
        "",
    )
    result = AssessmentResult.objects.get()
    assert (result.assessment, result.score, result.level_rank) == (math, 201, 2)
    assert (result.standard_error, result.percentile, result.tested_on) == (None, None, None)


def test_a_student_listed_twice_takes_the_latest_term(district):
    students = STUDENTS + (
        "Winter 2026-2027,Lakeside SD,Birch Elementary,Lopez,Ana,M,2001,3/14/2016,Hispanic or "
        "Latino,F,6\n"
    )
    run(district, {"StudentsBySchool.csv": students})

    ana = Student.objects.get(local_id="2001")
    assert (ana.school.slug, ana.grade) == ("birch", "6")


def test_query_count_does_not_grow_with_the_rows(district):
    AssessmentFactory(district=district, name="Earlier")  # both runs find assessments

    def queries(count, term):
        students = STUDENTS_HEADER + "".join(
            f"{term},SD,Maple Elementary,Last{n},First{n},,{n},,,F,5\n" for n in range(count)
        )
        results = RESULTS_HEADER + "".join(
            map_test(n, "Reading", "TRUE", 200, "3.0", 50, "", term=term) for n in range(count)
        )
        with CaptureQueriesContext(connection) as captured:
            run(district, {"StudentsBySchool.csv": students, "AssessmentResults.csv": results})
        return len(captured)

    # 50 rows still fit one SQLite INSERT of every result column (999 parameters).
    assert queries(5, "Fall 2026-2027") == queries(50, "Winter 2026-2027")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Fall 2026-2027", ("2026-2027", 0)),
        ("winter 2026-27", ("2026-2027", 1)),
        ("Spring  2026/2027", ("2026-2027", 2)),
        ("Summer 2026-2027", ("2026-2027", 3)),
    ],
)
def test_term_names(value, expected):
    assert parse_term(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("K", "K"),
        ("KG", "K"),
        ("0", "K"),
        ("PK", "PK"),
        ("Pre-K", "PK"),
        ("-1", "PK"),
        ("05", "5"),
        ("12", "12"),
    ],
)
def test_grades(value, expected):
    assert parse_grade(value) == expected


# The command: a folder, a zip, or the two files


def cdf_folder(tmp_path):
    folder = tmp_path / "cdf"
    folder.mkdir()
    (folder / "StudentsBySchool.csv").write_text(STUDENTS)
    (folder / "AssessmentResults.csv").write_text(RESULTS)
    # NWEA writes a header alone when the district rosters no classes
    (folder / "ClassAssignments.csv").write_text("TermName,StudentID,ClassName,TeacherName\n")
    (folder / "ProgramAssignments.csv").write_text("TermName,StudentID,ProgramName\n")  # ignored
    return folder


def test_command_imports_a_folder_and_prints_the_report(district, tmp_path):
    out = io.StringIO()

    call_command("import_map_cdf", str(cdf_folder(tmp_path)), district="lakeside", stdout=out)

    lines = out.getvalue().splitlines()
    assert "tests set aside as duplicates: 2" in lines
    assert "students created: 3" in lines
    assert "results created: 5" in lines
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.status, batch.original_name) == ("map_cdf", "succeeded", "cdf.zip")


def test_command_imports_a_zip_or_the_two_files(district, tmp_path):
    folder = cdf_folder(tmp_path)
    archive = tmp_path / "cdf_export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.iterdir():
            zipped.write(path, arcname=f"District CDF/{path.name}")

    call_command("import_map_cdf", str(archive), district="lakeside", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "import_map_cdf",
        str(folder / "AssessmentResults.csv"),
        str(folder / "StudentsBySchool.csv"),
        district="lakeside",
        stdout=out,
    )

    assert "results unchanged: 5" in out.getvalue().splitlines()
    assert AssessmentResult.objects.count() == 5


def test_command_refusal_exits_non_zero_listing_each_problem(district, tmp_path):
    folder = cdf_folder(tmp_path)
    (folder / "StudentsBySchool.csv").write_text(BROKEN_STUDENTS)
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_map_cdf", str(folder), district="lakeside", stdout=out)

    assert (
        "StudentsBySchool.csv:2 SchoolName: no school named “Oak Elementary” in Lakeside District: "
        "import the roster (or add the school) first, or correct the name"
        in out.getvalue().splitlines()
    )
    assert not Student.objects.exists()
