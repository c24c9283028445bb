"""The student data pages run a fixed number of queries, however much data there is.

Each page is measured at a small and a large size; the pin is the exact count measured when the
test was written, the same at both sizes. A change that adds a query per row (an N+1: per grade,
class, student, log entry, review or import) fails at the large size; any new query fails at both
(and a saved query asks for a lower pin).

Every count includes the session, the user, the two scope queries (profile, positions) and the
unread-notification count in the navigation bar.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse
from pytest_django.asserts import assertContains

from data_tracking.compile import school_compile
from data_tracking.models import (
    AssessmentResult,
    DashboardReview,
    DashboardSnapshot,
    Enrollment,
    ImportBatch,
    Section,
    Student,
    StudentAccessLog,
    Subject,
)
from tests.data_tracking.factories import benchmark, level_of
from tests.teams.factories import LeadershipTeamFactory, staff_at

pytestmark = pytest.mark.django_db

QUERY_PINS = {
    # the school, may it have a dashboard, its snapshots
    "school_dashboard": 8,
    # + the grade's classes, their snapshots, the students with their scores, the log entry
    "grade_dashboard": 12,
    # the class, its snapshots, its students with their growth, with their scores, the log entry
    "section_dashboard": 10,
    "section_dashboard csv": 8,  # no page: no notification count
    # the school, the entries and their count
    "access_log": 8,
    # any school to review, its school years, the snapshots with the last review of each and
    # their count (pages of 25)
    "review_list": 9,
    # the snapshot (visible classes as a subquery), may this person review it, its reviews,
    # the teams
    "snapshot_review": 9,
    # the districts (any, how many, the one), the imports and their count, the schools the
    # principal's imports may change
    "import_list": 11,
}

# (grades, classes per grade, students per grade); as many log entries, reviews, imports and teams
# as students per grade
SIZES = {"small": (1, 1, 5), "large": (3, 3, 40)}
GRADES = ["3", "4", "5"]


def bulk_users(prefix, n):
    return get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"{prefix}{i}", first_name=prefix.title(), last_name=f"No{i:03}", password="!"
        )
        for i in range(n)
    )


def populate(world, size):
    """``grades`` grades of ``students`` students each, ``classes`` math classes per grade (the
    teacher's first grade-3 class holds every grade-3 student), results in math fall and winter
    and reading winter, compiled. At the small size, math fall only."""
    grades, classes, students = SIZES[size]
    school, district = world.school, world.district
    otis = staff_at(school, first_name="Omar", last_name="Otis")
    sections = Section.objects.bulk_create(
        Section(
            school=school,
            teacher=world.teacher.staff if (grade, c) == ("3", 0) else otis,
            source_id=f"math-{grade}-{c}",
            name=f"Math {grade}-{c}",
            subject=Subject.MATH,
            grade=grade,
        )
        for grade in GRADES[:grades]
        for c in range(classes)
    )
    pupils = Student.objects.bulk_create(
        Student(
            district=district,
            school=school,
            local_id=f"{grade}-{i:03}",
            first_name=f"Pupil{i:03}",
            last_name=f"Grade{grade}",
            grade=grade,
            english_learner=i % 3 == 0,
        )
        for grade in GRADES[:grades]
        for i in range(students)
    )
    enrollments = []
    for grade in GRADES[:grades]:
        first, *others = [section for section in sections if section.grade == grade]
        of_grade = [pupil for pupil in pupils if pupil.grade == grade]
        enrollments += [Enrollment(section=first, student=pupil) for pupil in of_grade]
        for c, section in enumerate(others):
            enrollments += [Enrollment(section=section, student=p) for p in of_grade[c::2]]
    Enrollment.objects.bulk_create(enrollments)
    tests = [benchmark(district, "fall")]
    if size == "large":
        tests += [benchmark(district, "winter"), benchmark(district, "winter", Subject.READING)]
    scores = [  # spread over the four levels
        (assessment, pupil, 190 + (7 * i + 5 * t) % 40)
        for t, assessment in enumerate(tests)
        for i, pupil in enumerate(pupils)
    ]
    AssessmentResult.objects.bulk_create(
        AssessmentResult(
            assessment=a,
            student=pupil,
            school_id=pupil.school_id,
            grade=pupil.grade,
            score=score,
            level_rank=level_of(score),
        )
        for a, pupil, score in scores
    )
    school_compile(school=school)
    return sections[0]


def bulk_other_rows(world, n):
    """``n`` access log entries, reviews of one school snapshot and imports, each by a different
    person, and ``n`` teams at the school to send a finding to."""
    users = bulk_users("viewer", n)
    StudentAccessLog.objects.bulk_create(
        StudentAccessLog(user=user, school=world.school, path=f"/viewed/{i}/", student_ids=[i])
        for i, user in enumerate(users)
    )
    snapshot = DashboardSnapshot.objects.filter(school=world.school, scope="school").first()
    DashboardReview.objects.bulk_create(
        DashboardReview(snapshot=snapshot, reviewer=user, comment=f"Review number {i:03}")
        for i, user in enumerate(users)
    )
    for i in range(n - 1):
        LeadershipTeamFactory(school=world.school, name=f"PLC {i:03}")
    for i, user in enumerate(users):
        batch = ImportBatch(
            district=world.district, kind="csv", original_name=f"file{i:03}.csv", uploaded_by=user
        )
        batch.upload.save(batch.original_name, ContentFile(b"student_id\n"), save=True)
    return snapshot


def url(name, *args, query=""):
    return reverse(f"data_tracking:{name}", args=args) + query


# name: (world, data) → (url, viewer, a text only the last of the bulk rows puts on the page)
PAGES = {
    "school_dashboard": lambda w, d: (
        url("school_dashboard", "maple"),
        w.principal,
        f"Grade {GRADES[d.grades - 1]}",
    ),
    "grade_dashboard": lambda w, d: (
        url("grade_dashboard", "maple", "3"),
        w.principal,
        f"Math 3-{d.classes - 1}",
    ),
    "section_dashboard": lambda w, d: (
        url("section_dashboard", d.section.pk),
        w.teacher,
        f"Grade3, Pupil{d.students - 1:03}",
    ),
    "section_dashboard csv": lambda w, d: (
        url("section_dashboard", d.section.pk, query="?format=csv"),
        w.teacher,
        f"Grade3,Pupil{d.students - 1:03}",
    ),
    "access_log": lambda w, d: (
        url("access_log", "maple"),
        w.principal,
        f"/viewed/{d.students - 1}/",
    ),
    "review_list": lambda w, d: (
        url("review_list"),
        w.principal,
        "Reading, winter" if d.size == "large" else "Mathematics, fall",
    ),
    "snapshot_review": lambda w, d: (
        url("snapshot_review", d.snapshot.pk),
        w.principal,
        f"Review number {d.students - 1:03}",
    ),
    "import_list": lambda w, d: (
        url("import_list"),
        w.principal,
        f"file{d.students - 1:03}.csv",
    ),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_page_queries_do_not_grow_with_the_data(
    client, world, settings, tmp_path, django_assert_num_queries, name, size
):
    settings.MEDIA_ROOT = tmp_path
    grades, classes, students = SIZES[size]
    data = SimpleNamespace(size=size, grades=grades, classes=classes, students=students)
    data.section = populate(world, size)
    data.snapshot = bulk_other_rows(world, students)
    page_url, viewer, shows = PAGES[name](world, data)
    client.force_login(viewer)

    with django_assert_num_queries(QUERY_PINS[name]):
        response = client.get(page_url)

    assertContains(response, shows)
