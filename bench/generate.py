"""Generate a synthetic district in the benchmark database, with PostgreSQL COPY.

    .venv/bin/python bench/generate.py small      # 1 school, 600 students
    .venv/bin/python bench/generate.py district   # 50 schools, 30,000 students
    .venv/bin/python bench/generate.py large      # 300 schools, 200,000 students

Every size has 2 subjects × 3 windows × 3 school years of results (each student takes about 95% of
the tests), four performance levels per assessment, a math and a reading class per homeroom of
about 25, three teacher leaders per school with caseloads, and the subgroup flags. The database is
emptied first (TRUNCATE … CASCADE): it is the benchmark's own, never the development one.
"""

import argparse
import datetime
import io
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import benchdb  # noqa: E402

SIZES = {
    "small": (1, 600),
    "district": (50, 30_000),
    "large": (300, 200_000),
}
SUBJECTS = ("math", "reading")
WINDOWS = ("fall", "winter", "spring")
YEARS = ("2024-2025", "2025-2026", "2026-2027")
# rank, label, cut score, proficient
LEVELS = ((1, "Below", 0, False), (2, "Approaching", 195, False), (3, "Meets", 208, True))
LEVELS += ((4, "Exceeds", 220, True),)
GROWTH = {"fall": 0.0, "winter": 4.0, "spring": 7.0}
SCHOOL_GRADES = {
    "elementary": ["K", "1", "2", "3", "4", "5"],
    "middle": ["6", "7", "8"],
    "high": ["9", "10", "11", "12"],
}
CLASS_SIZE = 25
LEADERS_PER_SCHOOL = 3
TESTED_SHARE = 0.95
PASSWORD = "bench"
ADMIN_USERNAME = "bench_admin"


def _text(value):
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def copy(cursor, table, columns, rows, chunk=200_000):
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``; returns the row count."""
    count = 0
    buffer = io.StringIO()
    quoted = ", ".join(f'"{column}"' for column in columns)
    statement = f"COPY {table} ({quoted}) FROM STDIN"
    for row in rows:
        buffer.write("\t".join(map(_text, row)))
        buffer.write("\n")
        count += 1
        if count % chunk == 0:
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(statement, buffer)
    return count


def level_rank(score):
    rank = None
    for level_rank_, _, cut, _ in LEVELS:
        if score >= cut:
            rank = level_rank_
    return rank


def generate(size, seed=2026):
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    schools_n, students_n = SIZES[size]
    rng = random.Random(seed)
    started = time.perf_counter()
    password = make_password(PASSWORD)
    now = datetime.datetime.now(datetime.UTC).isoformat()
    counts = {}

    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg2's own, for copy_expert
        cursor.execute(
            "TRUNCATE teams_district, auth_user, django_session RESTART IDENTITY CASCADE"
        )
        counts["districts"] = copy(
            cursor, "teams_district", ["id", "name", "slug"], [(1, "Bench District", "bench")]
        )

        schools, students, sections, enrollments = [], [], [], []
        users, staff, assignments, caseloads = [], [], [], []
        users.append(
            (1, password, None, True, ADMIN_USERNAME, "Bench", "Admin", "", True, True, now)
        )
        student_id = section_id = staff_id = caseload_id = 0
        # student id → (grade, ability, offsets) for the scores below
        profile = {}
        placement = {}  # student id → (school id, grade): where their results are taken
        per_school = [
            students_n // schools_n + (i < students_n % schools_n) for i in range(schools_n)
        ]
        for school_id, school_students in enumerate(per_school, start=1):
            level = ("elementary", "elementary", "elementary", "middle", "high")[
                (school_id - 1) % 5
            ]
            grades = SCHOOL_GRADES[level]
            schools.append(
                (
                    school_id,
                    1,
                    f"Bench School {school_id}",
                    f"bench-{school_id}",
                    level,
                    grades[0],
                    grades[-1],
                )
            )
            teachers = []
            per_grade = [
                school_students // len(grades) + (i < school_students % len(grades))
                for i in range(len(grades))
            ]

            def new_staff(position, school_id=school_id):
                nonlocal staff_id
                staff_id += 1
                user_id = staff_id + 1
                users.append(
                    (
                        user_id,
                        password,
                        None,
                        False,
                        f"bench_{position}_{staff_id}",
                        "Staff",
                        str(staff_id),
                        "",
                        False,
                        True,
                        now,
                    )
                )
                staff.append((staff_id, user_id, 1, "[]", "[]", "", 0))
                assignments.append((staff_id, staff_id, 1, school_id, position, "2024-08-01"))
                return staff_id

            for grade, grade_students in zip(grades, per_grade, strict=True):
                homerooms = max(1, math.ceil(grade_students / CLASS_SIZE))
                homeroom_sections = []
                for homeroom in range(homerooms):
                    teacher = new_staff("teacher")
                    teachers.append(teacher)
                    # A few struggling classes: the first homeroom of a grade at every 4th school.
                    struggling = homeroom == 0 and school_id % 4 == 0
                    ids = []
                    for subject in SUBJECTS:
                        section_id += 1
                        ids.append(section_id)
                        sections.append(
                            (
                                section_id,
                                school_id,
                                teacher,
                                f"{grade}-{homeroom}-{subject}",
                                f"Grade {grade} {subject} {homeroom + 1}",
                                subject,
                                grade,
                                "2026-2027",
                            )
                        )
                    homeroom_sections.append((ids, struggling))
                for position in range(grade_students):
                    student_id += 1
                    ids, struggling = homeroom_sections[position * homerooms // grade_students]
                    el = rng.random() < 0.15
                    sped = rng.random() < 0.12
                    ed = rng.random() < 0.45
                    students.append(
                        (
                            student_id,
                            1,
                            school_id,
                            f"S{student_id:07d}",
                            "Student",
                            f"No{student_id}",
                            grade,
                            el,
                            sped,
                            ed,
                            "",
                            "",
                        )
                    )
                    for section in ids:
                        enrollments.append((len(enrollments) + 1, section, student_id))
                    offset = -6 * el - 9 * sped - 4 * ed - 4 * struggling
                    profile[student_id] = (rng.gauss(0, 1), offset, rng.gauss(0, 1.5))
                    placement[student_id] = (school_id, grade)
            leaders = [new_staff("teacher") for _ in range(LEADERS_PER_SCHOOL)]
            for n, teacher in enumerate(teachers):
                caseload_id += 1
                caseloads.append(
                    (caseload_id, school_id, leaders[n % len(leaders)], teacher, "2026-08-15")
                )

        counts["schools"] = copy(
            cursor,
            "teams_school",
            ["id", "district_id", "name", "slug", "level", "lowest_grade", "highest_grade"],
            schools,
        )
        counts["users"] = copy(
            cursor,
            "auth_user",
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            users,
        )
        counts["staff"] = copy(
            cursor,
            "teams_staffmember",
            [
                "id",
                "user_id",
                "district_id",
                "content_areas",
                "grade_bands",
                "expertise",
                "years_in_role",
            ],
            staff,
        )
        counts["assignments"] = copy(
            cursor,
            "teams_assignment",
            ["id", "staff_id", "district_id", "school_id", "position", "start_date"],
            assignments,
        )
        counts["caseloads"] = copy(
            cursor,
            "teams_caseload",
            ["id", "school_id", "leader_id", "teacher_id", "start_date"],
            caseloads,
        )
        counts["students"] = copy(
            cursor,
            "data_tracking_student",
            [
                "id",
                "district_id",
                "school_id",
                "local_id",
                "first_name",
                "last_name",
                "grade",
                "english_learner",
                "special_education",
                "economically_disadvantaged",
                "ethnicity",
                "gender",
            ],
            students,
        )
        counts["sections"] = copy(
            cursor,
            "data_tracking_section",
            ["id", "school_id", "teacher_id", "source_id", "name", "subject", "grade", "term"],
            sections,
        )
        counts["enrollments"] = copy(
            cursor,
            "data_tracking_enrollment",
            ["id", "section_id", "student_id"],
            enrollments,
        )

        assessments, levels = [], []
        for year in YEARS:
            first = int(year[:4])
            dates = {
                "fall": datetime.date(first, 9, 15),
                "winter": datetime.date(first + 1, 1, 20),
                "spring": datetime.date(first + 1, 5, 10),
            }
            for subject in SUBJECTS:
                for window in WINDOWS:
                    assessment_id = len(assessments) + 1
                    name = f"MAP Growth {subject.title()}"
                    assessments.append(
                        (assessment_id, 1, name, subject, year, window, dates[window], "RIT")
                    )
                    for rank, label, cut, proficient in LEVELS:
                        levels.append(
                            (len(levels) + 1, assessment_id, rank, label, cut, proficient)
                        )
        counts["assessments"] = copy(
            cursor,
            "data_tracking_assessment",
            ["id", "district_id", "name", "subject", "school_year", "window"]
            + ["administered_on", "scale"],
            assessments,
        )
        counts["levels"] = copy(
            cursor,
            "data_tracking_performancelevel",
            ["id", "assessment_id", "rank", "label", "min_score", "is_proficient"],
            levels,
        )

        def results():
            result_id = 0
            for assessment_id, _, _, subject, year, window, tested_on, _ in assessments:
                drift = (YEARS.index(year) - 2) * 1.0 + (1.5 if subject == "math" else 0.0)
                growth = GROWTH[window]
                for sid, (ability, offset, own_growth) in profile.items():
                    if rng.random() >= TESTED_SHARE:
                        continue
                    score = round(
                        206
                        + 10 * ability
                        + offset
                        + drift
                        + growth * (1 + own_growth / 4)
                        + rng.gauss(0, 3.5),
                        1,
                    )
                    result_id += 1
                    school_id, grade = placement[sid]
                    yield (
                        result_id,
                        assessment_id,
                        sid,
                        school_id,
                        grade,
                        score,
                        level_rank(score),
                        tested_on,
                    )

        counts["results"] = copy(
            cursor,
            "data_tracking_assessmentresult",
            [
                "id",
                "assessment_id",
                "student_id",
                "school_id",
                "grade",
                "score",
                "level_rank",
                "tested_on",
            ],
            results(),
        )
        for table in (
            "teams_district",
            "teams_school",
            "auth_user",
            "teams_staffmember",
            "teams_assignment",
            "teams_caseload",
            "data_tracking_student",
            "data_tracking_section",
            "data_tracking_enrollment",
            "data_tracking_assessment",
            "data_tracking_performancelevel",
            "data_tracking_assessmentresult",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    benchdb.setup(migrate=True)
    counts = generate(options.size, seed=options.seed)
    print(", ".join(f"{name} {value:,}" for name, value in counts.items()))


if __name__ == "__main__":
    main()
