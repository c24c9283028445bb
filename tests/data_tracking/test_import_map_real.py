"""A district's real MAP files: three schools, three school years, files told by their header,
grades as NWEA writes them, classes and teachers of record, goals and typical growth; every
figure below is worked out by hand from the fixture (tests/data_tracking/fixtures/README.md).

``fixture_district()`` and ``import_fixture(district)`` are meant to be reused: the growth tests
build on the same files.
"""

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from data_tracking import services
from data_tracking.compile import school_compile
from data_tracking.imports.common import ImportRefused, parse_grade, unpack_files
from data_tracking.models import (
    AssessmentResult,
    DashboardSnapshot,
    ImportBatch,
    Section,
    Student,
    Subject,
)
from teams.models import School, StaffMember
from tests.data_tracking.factories import SectionFactory, StudentFactory
from tests.teams.factories import DistrictFactory, SchoolFactory, StaffMemberFactory, UserFactory

FIXTURE = Path(__file__).parent / "fixtures" / "map_district"
ZIP_FOLDER = "Lakeside CDF 2023-2026"  # the folder level NWEA's zips have
Y1, Y2, Y3 = "2023-2024", "2024-2025", "2025-2026"
MATH, READING = Subject.MATH, Subject.READING
SHORT = {"Maple Elementary": "Maple", "Birch Elementary": "Birch", "Cedar Middle": "Cedar"}

# The staff the fixture's ClassAssignments.csv names: (username, first, last).
STAFF = [
    ("slee", "Sam", "Lee"),
    ("jpark", "Jo", "Park"),
    ("pcole", "Pat", "Cole"),
    ("arivera", "Ana", "Rivera"),
    ("fokoro", "Femi", "Okoro"),
]


def fixture_district():
    """The district the fixture's files name: Maple and Birch Elementary and Cedar Middle, their
    staff, and the classes ClassAssignments.csv lists (a MAP file never creates either)."""
    district = DistrictFactory(name="Lakeside District", slug="lakeside")
    maple = SchoolFactory(district=district, name="Maple Elementary", slug="maple")
    SchoolFactory(district=district, name="Birch Elementary", slug="birch")
    cedar = SchoolFactory(
        district=district,
        name="Cedar Middle",
        slug="cedar",
        level=School.Level.MIDDLE,
        lowest_grade="6",
        highest_grade="8",
    )
    staff = {
        last: StaffMemberFactory(
            district=district,
            user=UserFactory(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@lakeside.example",
            ),
        )
        for username, first, last in STAFF
    }

    def section(school, name, subject, teacher, term="2025-2026"):
        SectionFactory(
            school=school,
            name=name,
            subject=subject,
            teacher=staff.get(teacher),
            term=term,
            source_id=f"{school.slug}-{name}-{term}",
        )

    section(maple, "Grade 2 - Room 4", Subject.OTHER, "Lee")  # self-contained: every subject
    section(maple, "Grade 5 - Room 9", MATH, None, term="")  # two classes of one name, with no
    section(maple, "Grade 5 - ROOM 9", MATH, None, term="FY")  # year to tell them apart
    section(cedar, "Math 6 - Rivera", MATH, "Rivera")
    section(cedar, "ELA 6 - Okoro", READING, "Okoro")
    section(cedar, "Math 7 - Rivera", MATH, "Rivera", term="2024-2025")  # last year's, same name
    section(cedar, "Math 7 - Rivera", MATH, "Rivera", term="2025-2026")
    return district


def fixture_zip():
    """The fixture's CSV files as NWEA delivers them: a zip with a folder level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FIXTURE.glob("*.csv")):
            archive.write(path, arcname=f"{ZIP_FOLDER}/{path.name}")
    return buffer.getvalue()


def import_fixture(district, *, mode="strict"):
    """Import the fixture's zip into ``district`` (from ``fixture_district``): the report."""
    source = unpack_files("lakeside-cdf.zip", fixture_zip())
    return services.import_files(
        district=district, kind=ImportBatch.Kind.MAP_CDF, mode=mode, source=source
    )


@pytest.fixture
def map_district(db):
    return fixture_district()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def groups(district):
    """{(school, grade, subject, school year, window): (results, mean RIT to the cent)} as
    stored: each result where and in which grade it was taken."""
    rows = (
        AssessmentResult.objects.filter(assessment__district=district)
        .values(
            "school__name",
            "grade",
            "assessment__subject",
            "assessment__school_year",
            "assessment__window",
        )
        .annotate(n=Count("id"), total=Sum("score"))
    )
    return {
        (
            SHORT[row["school__name"]],
            row["grade"],
            row["assessment__subject"],
            row["assessment__school_year"],
            row["assessment__window"],
        ): (row["n"], (Decimal(str(row["total"])) / row["n"]).quantize(Decimal("0.01")))
        for row in rows
    }


def result(local_id, subject, school_year, window):
    return AssessmentResult.objects.select_related("school", "section", "teacher__user").get(
        student__local_id=local_id,
        assessment__subject=subject,
        assessment__school_year=school_year,
        assessment__window=window,
    )


def problems(report):
    return [(error.file, error.line, error.column, error.reason) for error in report.errors]


# ── The fixture: three years of a district, imported strict ───────────────────────────────────


def test_the_fixture_imports_strict_and_says_what_it_used(map_district):
    sections, staff = Section.objects.count(), StaffMember.objects.count()

    report = import_fixture(map_district)

    assert report.errors == []
    assert report.counts == {
        "ProgramAssignments.csv: not used (program assignments)": 1,
        "tests set aside as duplicates": 3,  # Ben fall 23, Cruz spring 25, Dee spring 26
        "students created": 6,
        "students updated": 0,
        "students unchanged": 0,
        # 44 test lines − 3 set aside
        "results created": 41,
        "results updated": 0,
        "results unchanged": 0,
        # math: fall, winter, spring 2023-2024 + fall, spring 2024-2025 and 2025-2026; reading:
        # fall 2025-2026
        "assessments created": 8,
        # Fall 2025-2026: Ava, Ben math, Ben reading, Cruz, Dee, Fay at Maple; Spring 2025-2026:
        # Ava, Ben, Cruz, Dee
        "results given a class of record": 10,
        # 2023-2024 and 2024-2025 (15 + 12) and Eli and Fay in spring 2025-2026
        "results without a class of record: no class listed for the student that term": 29,
        "results without a class of record: no class of that name at the test's school": 1,  # Fay
        "results without a class of record: several classes could be it": 1,  # Eli's Room 9
        # the 10 classes' teachers, Eli's Park and Fay's Cole by name
        "results given a teacher of record": 12,
    }
    # Classes and staff come from the roster only.
    assert (Section.objects.count(), StaffMember.objects.count()) == (sections, staff)


def test_each_group_counts_and_means_as_stored(map_district):
    import_fixture(map_district)

    found = groups(map_district)

    assert sum(n for n, _mean in found.values()) == 41
    assert len(found) == 35  # 25 math groups in 2023-25, 8 in 2025-26, 2 reading
    assert {key: found[key] for key in EXPECTED_GROUPS} == EXPECTED_GROUPS


EXPECTED_GROUPS = {
    # Fall 2023-2024: each test at its own school and grade; Ava's 13 is kindergarten.
    ("Maple", "K", MATH, Y1, "fall"): (1, Decimal("140.00")),
    ("Maple", "4", MATH, Y1, "fall"): (1, Decimal("200.00")),  # Ben's growth test, not the 230
    ("Maple", "5", MATH, Y1, "fall"): (1, Decimal("210.00")),
    ("Birch", "3", MATH, Y1, "fall"): (1, Decimal("186.00")),
    ("Birch", "4", MATH, Y1, "fall"): (1, Decimal("196.00")),
    ("Maple", "K", MATH, Y1, "winter"): (1, Decimal("148.00")),
    ("Birch", "3", MATH, Y1, "spring"): (1, Decimal("194.00")),
    # Fall 2024-2025: Ava written 01 is grade 1; (160 + 164) / 2 = 162
    ("Maple", "1", MATH, Y2, "fall"): (2, Decimal("162.00")),
    ("Birch", "4", MATH, Y2, "fall"): (1, Decimal("196.00")),  # Eli, before he moved
    ("Cedar", "6", MATH, Y2, "fall"): (1, Decimal("220.00")),  # Dee, promoted to Cedar
    # Spring 2024-2025: (170 + 172) / 2 = 171; Eli now at Maple; Cruz's lower-error 212
    ("Maple", "1", MATH, Y2, "spring"): (2, Decimal("171.00")),
    ("Maple", "4", MATH, Y2, "spring"): (1, Decimal("202.00")),
    ("Birch", "5", MATH, Y2, "spring"): (1, Decimal("212.00")),
    # Fall 2025-2026: (218 + 214) / 2 = 216; (174 + 176) / 2 = 175
    ("Cedar", "6", MATH, Y3, "fall"): (2, Decimal("216.00")),
    ("Cedar", "7", MATH, Y3, "fall"): (1, Decimal("226.00")),
    ("Maple", "2", MATH, Y3, "fall"): (2, Decimal("175.00")),
    ("Maple", "5", MATH, Y3, "fall"): (1, Decimal("204.00")),
    ("Cedar", "6", READING, Y3, "fall"): (1, Decimal("212.00")),
    ("Birch", "2", READING, Y3, "fall"): (1, Decimal("170.00")),  # Fay, listed at both schools
    # Spring 2025-2026: (224 + 220) / 2 = 222; Dee's lower-error 234; (182 + 184) / 2 = 183
    ("Cedar", "6", MATH, Y3, "spring"): (2, Decimal("222.00")),
    ("Cedar", "7", MATH, Y3, "spring"): (1, Decimal("234.00")),
    ("Maple", "2", MATH, Y3, "spring"): (2, Decimal("183.00")),
}


def snapshot(school, subject, school_year, window, grade=""):
    """(tested, mean_score) of the current snapshot of the school, or of one of its grades."""
    scope = DashboardSnapshot.Scope.GRADE if grade else DashboardSnapshot.Scope.SCHOOL
    metrics = DashboardSnapshot.objects.get(
        school=school,
        scope=scope,
        scope_key=grade,
        subject=subject,
        school_year=school_year,
        window=window,
        is_current=True,
    ).metrics
    return metrics["tested"], metrics["mean_score"]


def test_compiled_snapshots_match_the_hand_figures(map_district):
    import_fixture(map_district)
    maple, birch, cedar = (School.objects.get(slug=slug) for slug in ("maple", "birch", "cedar"))
    for school in (maple, birch, cedar):
        school_compile(school=school)

    # Maple, fall 2023-2024: Ava 140, Ben 200, Dee 210 → 550 / 3 = 183.33… → 183.3
    assert snapshot(maple, MATH, Y1, "fall") == (3, 183.3)
    assert snapshot(maple, MATH, Y1, "fall", grade="K") == (1, 140.0)
    # Maple, winter 2023-2024: 148 + 204 + 214 = 566 / 3 = 188.67 → 188.7
    assert snapshot(maple, MATH, Y1, "winter") == (3, 188.7)
    # Birch, fall 2023-2024: (196 + 186) / 2 = 191
    assert snapshot(birch, MATH, Y1, "fall") == (2, 191.0)
    # Maple, fall 2024-2025: Ava 160, Fay 164, Ben 210 → 534 / 3 = 178
    assert snapshot(maple, MATH, Y2, "fall") == (3, 178.0)
    assert snapshot(maple, MATH, Y2, "fall", grade="1") == (2, 162.0)
    # Birch, fall 2024-2025: Cruz 206, Eli 196 → 201; in the spring Eli tested at Maple, so
    # Birch has Cruz's 212 alone and Maple 170 + 172 + 216 + 202 = 760 / 4 = 190
    assert snapshot(birch, MATH, Y2, "fall") == (2, 201.0)
    assert snapshot(birch, MATH, Y2, "spring") == (1, 212.0)
    assert snapshot(maple, MATH, Y2, "spring") == (4, 190.0)
    assert snapshot(maple, MATH, Y2, "spring", grade="4") == (1, 202.0)
    # Cedar, fall 2025-2026: 218 + 214 + 226 = 658 / 3 = 219.33 → 219.3; grade 6: 216
    assert snapshot(cedar, MATH, Y3, "fall") == (3, 219.3)
    assert snapshot(cedar, MATH, Y3, "fall", grade="6") == (2, 216.0)
    # Maple, fall 2025-2026: 174 + 176 + 204 = 554 / 3 = 184.67 → 184.7
    assert snapshot(maple, MATH, Y3, "fall") == (3, 184.7)
    # Cedar, spring 2025-2026: 224 + 220 + 234 = 678 / 3 = 226
    assert snapshot(cedar, MATH, Y3, "spring") == (3, 226.0)
    assert snapshot(cedar, MATH, Y3, "spring", grade="7") == (1, 234.0)
    # Fay's reading test belongs to Birch, where she was listed too, and her math to Maple.
    assert snapshot(birch, READING, Y3, "fall") == (1, 170.0)
    assert snapshot(birch, READING, Y3, "fall", grade="2") == (1, 170.0)
    assert not DashboardSnapshot.objects.filter(school=birch, subject=MATH, school_year=Y3).exists()


def test_repeat_tests_keep_one_the_nwea_way(map_district):
    import_fixture(map_district)

    # The growth-measure test over a retest with a lower standard error (3.1 over 2.9)
    assert result("1002", MATH, Y1, "fall").score == 200
    # Neither a growth measure: the lower standard error (3.0 over 3.4)
    assert result("1003", MATH, Y2, "spring").score == 212
    # Both growth measures: the lower standard error (3.2 over 3.5)
    assert result("1004", MATH, Y3, "spring").score == 234


def test_each_result_stays_where_and_when_it_was_taken(map_district):
    import_fixture(map_district)

    def placed(local_id, subject, school_year, window):
        found = result(local_id, subject, school_year, window)
        return SHORT[found.school.name], found.grade

    assert placed("1001", MATH, Y1, "spring") == ("Maple", "K")  # written 13
    assert placed("1001", MATH, Y3, "spring") == ("Maple", "2")
    assert placed("1005", MATH, Y2, "fall") == ("Birch", "4")  # moved mid-year…
    assert placed("1005", MATH, Y2, "spring") == ("Maple", "4")  # …to Maple
    assert placed("1006", MATH, Y3, "fall") == ("Maple", "2")  # at two schools that term
    assert placed("1006", READING, Y3, "fall") == ("Birch", "2")
    assert placed("1004", MATH, Y1, "fall") == ("Maple", "5")  # before Cedar
    # The students are where the latest term lists them.
    current = {s.local_id: (SHORT[s.school.name], s.grade) for s in Student.objects.all()}
    assert current == {
        "1001": ("Maple", "2"),
        "1002": ("Cedar", "6"),
        "1003": ("Cedar", "6"),
        "1004": ("Cedar", "7"),
        "1005": ("Maple", "5"),
        "1006": ("Maple", "2"),
    }


def test_classes_and_teachers_of_record(map_district):
    import_fixture(map_district)

    def of_record(local_id, subject, school_year, window):
        found = result(local_id, subject, school_year, window)
        section = found.section and (found.section.name, found.section.term)
        return section, found.teacher and found.teacher.user.last_name

    # Ben's math and reading classes among his three (Homeroom 6B is no class of the portal)
    assert of_record("1002", MATH, Y3, "fall") == (("Math 6 - Rivera", "2025-2026"), "Rivera")
    assert of_record("1002", READING, Y3, "fall") == (("ELA 6 - Okoro", "2025-2026"), "Okoro")
    # A self-contained class teaches every subject
    assert of_record("1001", MATH, Y3, "fall") == (("Grade 2 - Room 4", "2025-2026"), "Lee")
    assert of_record("1006", MATH, Y3, "fall") == (("Grade 2 - Room 4", "2025-2026"), "Lee")
    # Two classes called Math 7 - Rivera: this year's
    assert of_record("1004", MATH, Y3, "spring") == (("Math 7 - Rivera", "2025-2026"), "Rivera")
    # Two classes called Grade 5 - Room 9 (in any case) and nothing to tell them apart: no class,
    # but the teacher by name
    assert of_record("1005", MATH, Y3, "fall") == (None, "Park")
    # Room 12 is no class of Birch's: the teacher by name
    assert of_record("1006", READING, Y3, "fall") == (None, "Cole")
    # No class listed that term
    assert of_record("1005", MATH, Y3, "spring") == (None, None)
    assert of_record("1002", MATH, Y1, "fall") == (None, None)


def test_typical_growth_goals_and_projections_are_kept(map_district):
    import_fixture(map_district)

    def typical(found):
        return (
            found.typical_fall_to_winter,
            found.typical_fall_to_spring,
            found.typical_winter_to_spring,
            found.typical_spring_to_spring,
            found.typical_fall_to_fall,
        )

    ava_fall = result("1001", MATH, Y1, "fall")
    assert typical(ava_fall) == (10, 18, None, None, 20)
    assert typical(result("1001", MATH, Y1, "winter")) == (None, None, 8, None, None)
    assert typical(result("1001", MATH, Y1, "spring")) == (None, None, None, 19, None)
    assert (ava_fall.goals, ava_fall.projections) == ([], [])
    # The kept retest's own figures, not the one set aside
    assert typical(result("1004", MATH, Y3, "spring"))[3] == 5

    ben = result("1002", MATH, Y3, "fall")
    assert ben.goals == [
        {"name": "Operations and Algebraic Thinking", "rit": 221, "adjective": "Avg"},
        {"name": "The Real and Complex Number Systems", "rit": 215, "adjective": "LoAvg"},
    ]
    assert ben.projections == [{"study": "State Test Spring 2026", "level": "Level 2"}]
    assert ben.percentile == 52
    assert result("1002", READING, Y3, "fall").projections == []


def test_importing_the_fixture_again_changes_nothing(map_district):
    import_fixture(map_district)
    before = list(AssessmentResult.objects.order_by("pk").values())

    again = import_fixture(map_district)

    assert again.errors == []
    assert (again.counts["results unchanged"], again.counts["results updated"]) == (41, 0)
    assert again.counts["students unchanged"] == 6
    assert again.schools_touched == set()
    assert list(AssessmentResult.objects.order_by("pk").values()) == before


def test_a_changed_typical_growth_or_goal_is_an_update(map_district):
    import_fixture(map_district)
    source = unpack_files("lakeside-cdf.zip", fixture_zip())
    results = source["CombinedAssessmentResults.csv"]
    source["CombinedAssessmentResults.csv"] = results.replace(
        b"50001,9/12/2023,38,140,3.3,62,20,,18,10,", b"50001,9/12/2023,38,140,3.3,62,20,,17,10,"
    ).replace(b"Spring 2026,Level 2", b"Spring 2026,Level 3")

    report = services.import_files(
        district=map_district, kind=ImportBatch.Kind.MAP_CDF, mode="strict", source=source
    )

    assert (report.counts["results updated"], report.counts["results unchanged"]) == (2, 39)
    assert result("1001", MATH, Y1, "fall").typical_fall_to_spring == 17
    assert result("1002", MATH, Y3, "fall").projections[0]["level"] == "Level 3"


# ── Grades as NWEA and student information systems write them ─────────────────────────────────


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("K", "K"),
        ("kg", "K"),
        ("0", "K"),
        ("00", "K"),
        ("Kindergarten", "K"),
        ("PK", "PK"),
        ("Pre-K", "PK"),
        ("pre k", "PK"),
        ("P", "PK"),
        ("TK", "PK"),
        ("-1", "PK"),
        ("06", "6"),
        (" 5 ", "5"),
        ("012", "12"),
    ],
)
def test_grade_spellings(value, expected):
    assert parse_grade(value) == parse_grade(value, nwea=True) == expected


@pytest.mark.parametrize(("value", "expected"), [("13", "K"), ("14", "PK")])
def test_older_nwea_files_number_kindergarten_13(value, expected):
    assert parse_grade(value, nwea=True) == expected
    with pytest.raises(ValueError, match="is not a grade"):
        parse_grade(value)  # elsewhere 13 is no grade


@pytest.mark.parametrize("value", ["15", "G5", "-2", "٥", "K-1"])
def test_what_is_not_a_grade(value):
    with pytest.raises(ValueError) as error:
        parse_grade(value, nwea=True)
    assert str(error.value) == f"“{value}” is not a grade (expected PK, K or 1 to 12)"


@pytest.fixture
def lakeside(db):
    district = DistrictFactory(name="Lakeside District", slug="lakeside")
    SchoolFactory(district=district, name="Maple Elementary", slug="maple")
    SchoolFactory(district=district, name="Birch Elementary", slug="birch")
    return district


STUDENTS_HEADER = (
    "TermName,SchoolName,StudentLastName,StudentFirstName,StudentID,StudentGender,Grade\n"
)
RESULTS_HEADER = (
    "TermName,StudentID,SchoolName,Discipline,GrowthMeasureYN,TestStartDate,TestRITScore,"
    "TestStandardError,TestPercentile,TypicalFallToSpringGrowth,Goal1Name,Goal1RitScore,"
    "Goal1Adjective\n"
)
FALL = "Fall 2026-2027"


def students(*rows):
    return STUDENTS_HEADER + "".join(
        f"{FALL},{school},Last,{first},{local_id},F,{grade}\n"
        for local_id, first, school, grade in rows
    )


def map_tests(*rows):
    """(local id, school, discipline, RIT, typical fall to spring, goal 1 RIT) each."""
    return RESULTS_HEADER + "".join(
        f"{FALL},{local_id},{school},{discipline},TRUE,9/10/2026,{rit},3.1,50,{typical},"
        f"Geometry,{goal},Avg\n"
        for local_id, school, discipline, rit, typical, goal in rows
    )


STUDENTS = students(
    ("2001", "Ana", "Maple Elementary", "13"), ("2002", "Bo", "Maple Elementary", "4")
)
RESULTS = map_tests(
    ("2001", "Maple Elementary", "Mathematics", 150, 18, 152),
    ("2002", "Maple Elementary", "Reading", 200, 9, 198),
)


def run(district, files, *, mode="strict"):
    source = {
        name: data.encode() if isinstance(data, str) else data for name, data in files.items()
    }
    return services.import_files(
        district=district, kind=ImportBatch.Kind.MAP_CDF, mode=mode, source=source
    )


def test_a_13_in_a_map_file_is_kindergarten(lakeside):
    report = run(lakeside, {"StudentsBySchool.csv": STUDENTS, "AssessmentResults.csv": RESULTS})

    assert report.errors == []
    assert Student.objects.get(local_id="2001").grade == "K"
    assert AssessmentResult.objects.get(student__local_id="2001").grade == "K"


def test_a_plain_csv_reads_grades_the_same_way_but_13_is_no_grade(lakeside):
    StudentFactory(school=lakeside.schools.get(slug="maple"), local_id="2001")
    text = (
        "student_id,assessment,subject,window,school_year,score,grade_at_test\n"
        "2001,Benchmark,math,fall,2026-2027,40,TK\n"
        "2001,Quiz,math,fall,2026-2027,41,13\n"
    )

    report = services.import_files(
        district=lakeside,
        kind=ImportBatch.Kind.CSV,
        mode="skip",
        source={"results.csv": text.encode()},
    )

    assert problems(report) == [
        ("results.csv", 3, "grade_at_test", "“13” is not a grade (expected PK, K or 1 to 12)")
    ]
    assert AssessmentResult.objects.get().grade == "PK"


# ── Files told by their header, whatever their name ───────────────────────────────────────────


@pytest.mark.parametrize(
    ("results_name", "students_name"),
    [
        ("CombinedAssessmentResults.csv", "StudentsBySchool.csv"),
        ("AssessmentResults_2024.csv", "StudentsBySchool_2024.csv"),
        ("map export (1).csv", "roster.CSV"),
        ("assessmentresults.csv", "StudentBySchool.csv"),
    ],
)
def test_each_file_is_recognised_under_another_name(lakeside, results_name, students_name):
    report = run(lakeside, {results_name: RESULTS, students_name: STUDENTS})

    assert report.errors == []
    assert (report.counts["students created"], report.counts["results created"]) == (2, 2)


def test_class_assignments_under_another_name(lakeside):
    SectionFactory(school=lakeside.schools.get(slug="maple"), name="Room 1", subject="math")
    classes = 'StudentID,ClassName,TeacherName\n2001,Room 1,"Lee, Sam"\n'

    run(lakeside, {"a.csv": RESULTS, "b.csv": STUDENTS, "c.csv": classes})

    assert AssessmentResult.objects.get(student__local_id="2001").section.name == "Room 1"


def test_files_the_portal_does_not_use_are_counted_by_name(lakeside):
    report = run(
        lakeside,
        {
            "AssessmentResults.csv": RESULTS,
            "StudentsBySchool.csv": STUDENTS,
            "AccommodationAssignment.csv": "TermName,StudentID,TestName,Accommodation\n",
            "StudentTestAccommodations.csv": "TermName,StudentID,AccommodationName\n",
            "ProgramAssignments.csv": "TermName,StudentID,SchoolName,ProgramName\n2001,x,y,z\n",
            "notes.csv": "Teacher,Comment\nLee,fine\n",
            "readme.pdf": b"%PDF-1.4",
            "ClassAssignments.xlsx": b"PK\x03\x04",
        },
    )

    assert report.errors == []
    assert {label: n for label, n in report.counts.items() if "not used" in label} == {
        "AccommodationAssignment.csv: not used (test accommodations)": 1,
        "StudentTestAccommodations.csv: not used (test accommodations)": 1,
        "ProgramAssignments.csv: not used (program assignments)": 1,
        "notes.csv: not used (not a file of the CDF: it has no TestRITScore, StudentFirstName or "
        "ClassName column)": 1,
        "readme.pdf: not used (not a CSV file)": 1,
        "ClassAssignments.xlsx: not used (not a CSV file: save it as CSV to import it)": 1,
    }


def test_a_damaged_header_is_reported_by_its_columns_or_its_name(lakeside):
    damaged = RESULTS.replace("TestRITScore", "RIT Score")  # still has its other test columns
    no_names = STUDENTS.replace("StudentFirstName", "First").replace("StudentLastName", "Last")

    with pytest.raises(ImportRefused) as refused:
        run(lakeside, {"export.csv": damaged, "StudentsBySchool.csv": no_names})

    assert problems(refused.value.report) == [
        ("StudentsBySchool.csv", 1, "StudentLastName", "this required column is missing"),
        ("StudentsBySchool.csv", 1, "StudentFirstName", "this required column is missing"),
        ("export.csv", 1, "TestRITScore", "this required column is missing"),
    ]


# ── A refusal says what is wrong and what to do ───────────────────────────────────────────────


def test_no_results_file_says_which_columns_it_looks_for(lakeside, tmp_path):
    folder = tmp_path / "cdf"
    folder.mkdir()
    (folder / "StudentsBySchool.csv").write_text(STUDENTS)
    (folder / "scores.csv").write_text("id,score\n2001,150\n")
    out = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("import_map_cdf", str(folder), district="lakeside", stdout=out)

    assert out.getvalue().splitlines() == [
        "AssessmentResults.csv: the upload has no test results: no file has the columns "
        "TermName, StudentID and TestRITScore (it holds: StudentsBySchool.csv, scores.csv). Add "
        "AssessmentResults.csv from the same NWEA export, under any name"
    ]
    assert "--mode skip" not in str(refused.value)  # skipping rows cannot bring a file


def test_unknown_students_say_where_to_find_them(lakeside):
    with pytest.raises(ImportRefused) as without_students:
        run(lakeside, {"AssessmentResults.csv": RESULTS})
    only_ana = students(("2001", "Ana", "Maple Elementary", "K"))
    with pytest.raises(ImportRefused) as not_listed:
        run(lakeside, {"AssessmentResults.csv": RESULTS, "StudentsBySchool.csv": only_ana})

    assert problems(without_students.value.report)[0] == (
        "AssessmentResults.csv",
        2,
        "StudentID",
        "no student with id 2001 in Lakeside District: add StudentsBySchool.csv from the same "
        "NWEA export, or import the roster first",
    )
    assert problems(not_listed.value.report) == [
        (
            "AssessmentResults.csv",
            3,
            "StudentID",
            "no student with id 2002 in Lakeside District, and StudentsBySchool.csv does not list "
            "them: export it for the same terms and schools as the results, or import the roster "
            "first",
        )
    ]


def test_an_unknown_school_says_to_import_the_roster(lakeside):
    at_oak = RESULTS.replace("2002,Maple Elementary", "2002,Oak Elementary")

    with pytest.raises(ImportRefused) as refused:
        run(lakeside, {"AssessmentResults.csv": at_oak, "StudentsBySchool.csv": STUDENTS})

    assert problems(refused.value.report) == [
        (
            "AssessmentResults.csv",
            3,
            "SchoolName",
            "no school named “Oak Elementary” in Lakeside District: import the roster (or add the "
            "school) first, or correct the name",
        )
    ]


# ── Class and teacher of record: certain, or left blank and counted ───────────────────────────


CLASSES_HEADER = "TermName,StudentID,SchoolName,ClassName,TeacherName,TeacherEmail\n"


def with_classes(district, *rows):
    """Import RESULTS with a ClassAssignments.csv of ``rows`` (student, school, class, teacher
    name, teacher e-mail): the report."""
    classes = CLASSES_HEADER + "".join(
        f'{FALL},{local_id},{school},{name},"{teacher}",{email}\n'
        for local_id, school, name, teacher, email in rows
    )
    return run(
        district,
        {
            "AssessmentResults.csv": RESULTS,
            "StudentsBySchool.csv": STUDENTS,
            "ClassAssignments.csv": classes,
        },
    )


def of_record(local_id):
    found = AssessmentResult.objects.get(student__local_id=local_id)
    return found.section_id, found.teacher_id


def test_the_teacher_by_email_before_the_class_teacher_and_the_name(lakeside):
    maple = lakeside.schools.get(slug="maple")
    twins = [
        StaffMemberFactory(district=lakeside, user__first_name="Sam", user__last_name="Lee")
        for _ in range(2)
    ]
    room = SectionFactory(school=maple, name="Room 1", subject="math", teacher=twins[1])
    math_only = SectionFactory(school=maple, name="Room 2", subject="math", teacher=None)

    report = with_classes(
        lakeside,
        ("2001", "Maple Elementary", "ROOM  1", "Lee, Sam", twins[0].user.email.upper()),
        ("2002", "Maple Elementary", "Room 2", "Lee, Sam", ""),  # math class, reading test
        ("2002", "Maple Elementary", "Art", "Lee, Sam", "nobody@example.org"),
    )

    assert of_record("2001") == (room.pk, twins[0].pk)  # the e-mail wins, the class any case
    # Two classes, neither of reading: no class; two staff members called Sam Lee: no teacher
    assert of_record("2002") == (None, None)
    assert math_only.results.count() == 0
    assert report.counts["results without a class of record: several classes could be it"] == 1
    label = "results without a teacher of record: several staff members could be it"
    assert report.counts[label] == 1


def test_the_class_teacher_and_then_the_only_staff_member_of_the_name(lakeside):
    maple = lakeside.schools.get(slug="maple")
    kim = StaffMemberFactory(district=lakeside, user__first_name="Kim", user__last_name="Ode")
    StaffMemberFactory(user__first_name="Kim", user__last_name="Ode")  # another district's
    room = SectionFactory(school=maple, name="Room 1", subject="math", teacher=kim)
    SectionFactory(school=lakeside.schools.get(slug="birch"), name="Reading 4", subject="reading")

    report = with_classes(
        lakeside,
        ("2001", "Maple Elementary", "Room 1", "Someone, Else", "unknown@example.org"),
        ("2002", "Birch Elementary", "Reading 4", "Kim Ode", ""),  # a Birch class: not Maple's
    )

    assert of_record("2001") == (room.pk, kim.pk)
    assert of_record("2002") == (None, None)  # tested at Maple, where no class is listed
    expected = {
        "results given a class of record": 1,
        "results given a teacher of record": 1,
        "results without a class of record: no class listed for the student that term": 1,
    }
    assert {label: report.counts.get(label) for label in expected} == expected


def test_a_class_of_another_name_leaves_the_class_blank_and_finds_the_teacher(lakeside):
    kim = StaffMemberFactory(district=lakeside, user__first_name="Kim", user__last_name="Ode")

    report = with_classes(lakeside, ("2001", "", "Homeroom", "Ode, Kim", ""))

    assert of_record("2001") == (None, kim.pk)
    label = "results without a class of record: no class of that name at the test's school"
    assert report.counts[label] == 1


# ── Typical growth and goal scores are checked ────────────────────────────────────────────────


def test_typical_growth_and_goal_scores_out_of_bounds_are_reported(lakeside):
    results = map_tests(
        ("2001", "Maple Elementary", "Mathematics", 150, 120, 152),
        ("2002", "Maple Elementary", "Reading", 200, "abc", 99),
        ("2002", "Maple Elementary", "Mathematics", 201, "-3.5", ""),
    )

    with pytest.raises(ImportRefused) as refused:
        run(lakeside, {"AssessmentResults.csv": results, "StudentsBySchool.csv": STUDENTS})

    assert problems(refused.value.report) == [
        (
            "AssessmentResults.csv",
            2,
            "TypicalFallToSpringGrowth",
            "120 is not a typical growth (a RIT change from -50 to 100)",
        ),
        ("AssessmentResults.csv", 3, "TypicalFallToSpringGrowth", "“abc” is not a number"),
        ("AssessmentResults.csv", 3, "Goal1RitScore", "99 is outside the RIT scale (100 to 350)"),
    ]

    report = run(
        lakeside,
        {"AssessmentResults.csv": results, "StudentsBySchool.csv": STUDENTS},
        mode="skip",
    )
    assert report.counts["results created"] == 1
    kept = AssessmentResult.objects.get()
    assert (kept.typical_fall_to_spring, kept.goals) == (
        Decimal("-3.5"),
        [{"name": "Geometry", "rit": None, "adjective": "Avg"}],
    )


# ── Plain CSV: a typical-growth column per span ───────────────────────────────────────────────


def test_a_plain_csv_may_give_the_typical_growth_of_each_span(lakeside):
    StudentFactory(school=lakeside.schools.get(slug="maple"), local_id="2001")
    StudentFactory(school=lakeside.schools.get(slug="maple"), local_id="2002")
    text = (
        "student_id,assessment,subject,window,school_year,score,Typical Fall to Spring,"
        "TypicalFallToWinterGrowth,typical_growth_spring_to_spring\n"
        "2001,Benchmark,math,fall,2026-2027,40,12.5,6,\n"
        "2002,Benchmark,math,fall,2026-2027,41,,,\n"
    )

    def csv_import(text, mode="strict"):
        return services.import_files(
            district=lakeside,
            kind=ImportBatch.Kind.CSV,
            mode=mode,
            source={"results.csv": text.encode()},
        )

    csv_import(text)
    typical = dict(
        AssessmentResult.objects.values_list("student__local_id", "typical_fall_to_spring")
    )
    assert typical == {"2001": Decimal("12.5"), "2002": None}
    assert AssessmentResult.objects.get(student__local_id="2001").typical_fall_to_winter == 6
    assert csv_import(text).counts["results unchanged"] == 2

    # A file without the columns leaves the figures as they are.
    plain = "student_id,assessment,subject,window,school_year,score\n"
    plain += "2001,Benchmark,math,fall,2026-2027,40\n"
    assert csv_import(plain).counts["results unchanged"] == 1
    assert AssessmentResult.objects.get(student__local_id="2001").typical_fall_to_spring == 12.5

    with pytest.raises(ImportRefused) as refused:
        csv_import(text.replace("12.5", "101"))
    assert problems(refused.value.report) == [
        (
            "results.csv",
            2,
            "Typical Fall to Spring",
            "101 is not a typical growth (a RIT change from -50 to 100)",
        )
    ]
