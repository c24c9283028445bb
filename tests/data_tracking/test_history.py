"""A result belongs to where and when it was taken: importing a new year, with students promoted
and one moved to another school, never changes last year's figures."""

import pytest

from data_tracking import services
from data_tracking.compile import school_compile
from data_tracking.models import AssessmentResult, DashboardSnapshot, ImportBatch
from tests.data_tracking.test_import_map_cdf import RESULTS_HEADER, STUDENTS_HEADER
from tests.teams.factories import DistrictFactory, SchoolFactory

LAST_YEAR, THIS_YEAR = "2025-2026", "2026-2027"


@pytest.fixture
def schools(db):
    district = DistrictFactory(name="Lakeside District", slug="lakeside")
    return (
        SchoolFactory(district=district, name="Maple Elementary"),
        SchoolFactory(district=district, name="Birch Elementary"),
    )


def student(term, school, local_id, grade):
    return f"{term},Lakeside SD,{school},Last,Kid{local_id},,{local_id},3/14/2014,Asian,F,{grade}\n"


def map_row(term, school, local_id, rit, date):
    return (
        f"{term},{local_id},{school},Mathematics: Math K-12,Mathematics,TRUE,Survey with Goals,"
        f"Growth: Math 2-5,T{local_id},{date},45,{rit},3.0,50,8,Goal,{rit},3.0,{rit}-{rit},Avg\n"
    )


def import_cdf(district, students, tests):
    report = services.import_files(
        district=district,
        kind=ImportBatch.Kind.MAP_CDF,
        mode="strict",
        source={
            "StudentsBySchool.csv": (STUDENTS_HEADER + students).encode(),
            "AssessmentResults.csv": (RESULTS_HEADER + tests).encode(),
        },
    )
    assert report.errors == []
    return report


def snapshots_of(school_year):
    return {
        (s.school_id, s.scope, s.scope_key, s.window): (s.pk, s.fingerprint, s.metrics)
        for s in DashboardSnapshot.objects.filter(school_year=school_year, is_current=True)
    }


def test_last_years_snapshots_do_not_change_when_students_move_on(schools):
    maple, birch = schools
    district = maple.district
    fall, spring = f"Fall {LAST_YEAR}", f"Spring {LAST_YEAR}"
    import_cdf(
        district,
        students=(
            student(fall, "Maple Elementary", "1", "5")
            + student(fall, "Maple Elementary", "2", "5")
            + student(fall, "Maple Elementary", "3", "6")
            + student(spring, "Maple Elementary", "1", "5")
            + student(spring, "Maple Elementary", "2", "5")
            + student(spring, "Maple Elementary", "3", "6")
        ),
        tests=(
            map_row(fall, "Maple Elementary", "1", 200, "9/10/2025")
            + map_row(fall, "Maple Elementary", "2", 210, "9/10/2025")
            + map_row(fall, "Maple Elementary", "3", 220, "9/10/2025")
            + map_row(spring, "Maple Elementary", "1", 208, "5/10/2026")
            + map_row(spring, "Maple Elementary", "2", 215, "5/10/2026")
            + map_row(spring, "Maple Elementary", "3", 226, "5/10/2026")
        ),
    )
    for school in schools:
        school_compile(school=school)
    before = snapshots_of(LAST_YEAR)
    assert {key[:3] for key in before} == {
        (maple.pk, "school", ""),
        (maple.pk, "grade", "5"),
        (maple.pk, "grade", "6"),
    }
    assert before[maple.pk, "grade", "5", "spring"][2]["tested"] == 2

    # A year on: everyone is promoted, and student 2 now goes to Birch.
    this_fall = f"Fall {THIS_YEAR}"
    import_cdf(
        district,
        students=(
            student(this_fall, "Maple Elementary", "1", "6")
            + student(this_fall, "Birch Elementary", "2", "6")
            + student(this_fall, "Maple Elementary", "3", "7")
        ),
        tests=(
            map_row(this_fall, "Maple Elementary", "1", 212, "9/10/2026")
            + map_row(this_fall, "Birch Elementary", "2", 214, "9/10/2026")
            + map_row(this_fall, "Maple Elementary", "3", 228, "9/10/2026")
        ),
    )
    for school in schools:
        school_compile(school=school)

    assert snapshots_of(LAST_YEAR) == before  # the same rows, fingerprints and figures
    now = snapshots_of(THIS_YEAR)
    assert now[birch.pk, "grade", "6", "fall"][2]["tested"] == 1
    assert now[maple.pk, "grade", "6", "fall"][2]["tested"] == 1
    assert now[maple.pk, "grade", "7", "fall"][2]["tested"] == 1
    # Each result keeps the school and grade it was taken in.
    assert sorted(
        AssessmentResult.objects.filter(student__local_id="2").values_list(
            "assessment__school_year", "assessment__window", "school__name", "grade"
        )
    ) == [
        (LAST_YEAR, "fall", "Maple Elementary", "5"),
        (LAST_YEAR, "spring", "Maple Elementary", "5"),
        (THIS_YEAR, "fall", "Birch Elementary", "6"),
    ]


def test_a_student_listed_at_two_schools_in_one_term_keeps_each_test_at_its_own_rows_school(
    schools,
):
    maple, birch = schools
    fall = f"Fall {THIS_YEAR}"
    reading = map_row(fall, "Birch Elementary", "9", 205, "9/12/2026").replace(
        "Mathematics: Math K-12,Mathematics", "Reading,Reading"
    )
    import_cdf(
        maple.district,
        students=student(fall, "Maple Elementary", "9", "4")
        + student(fall, "Birch Elementary", "9", "4"),
        tests=map_row(fall, "Maple Elementary", "9", 201, "9/10/2026") + reading,
    )

    placed = dict(
        AssessmentResult.objects.values_list("assessment__subject", "school__name").order_by()
    )
    assert placed == {"math": "Maple Elementary", "reading": "Birch Elementary"}
