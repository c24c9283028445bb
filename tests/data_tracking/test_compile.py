"""Dashboard compiles: every metric against numbers worked out by hand, versions, failure,
concurrency, query counts and the tasks.

The fixture (``term``) is one school, ten students, four math classes and a reading class, and
math results in three windows. Its table, from which every expected number below is worked out:

    student grade EL SPED ED   fall  winter spring   math class   (reading class R: s1–s4)
    s1      3     x       x    195   205    212      A
    s2      3     x       x    202   198    196      A
    s3      3             x    212   215    220      A and C
    s4      3        x         208   204    —        B
    s5      3                  221   225    —        B
    s6      4     x       x    190   196    —        A
    s7      4             x    215   209    —        B
    s8      4        x         225   222    —        B
    s9      4                  210   212    —        B
    s10     4                  —     230    228      B

Cut scores (every window): Below ≥ 0, Approaching ≥ 200, Meets ≥ 210 and Exceeds ≥ 220; Meets
and Exceeds are proficient. Teachers: A and R are T1's, B is T2's, C (an intervention class) is
T3's. Leader L develops T1 and T3; leader L2's caseload of T2 has ended.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from data_tracking import compile as compile_module
from data_tracking import tasks
from data_tracking.compile import SUBGROUP_FLAGS, CompileBusy, school_compile
from data_tracking.models import (
    Assessment,
    AssessmentResult,
    DashboardSnapshot,
    Enrollment,
    PerformanceLevel,
    Section,
    Student,
)
from tests.services import require_service
from tests.teams.factories import CaseloadFactory, SchoolFactory, staff_at

Scope = DashboardSnapshot.Scope
YEAR = "2026-2027"
LEVELS = [(1, "Below", 0, False), (2, "Approaching", 200, False), (3, "Meets", 210, True)]
LEVELS.append((4, "Exceeds", 220, True))

# name: (grade, english_learner, special_education, economically_disadvantaged, fall, winter,
# spring, math classes)
STUDENTS = {
    "s1": ("3", True, False, True, 195, 205, 212, "A"),
    "s2": ("3", True, False, True, 202, 198, 196, "A"),
    "s3": ("3", False, False, True, 212, 215, 220, "AC"),
    "s4": ("3", False, True, False, 208, 204, None, "B"),
    "s5": ("3", False, False, False, 221, 225, None, "B"),
    "s6": ("4", True, False, True, 190, 196, None, "A"),
    "s7": ("4", False, False, True, 215, 209, None, "B"),
    "s8": ("4", False, True, False, 225, 222, None, "B"),
    "s9": ("4", False, False, False, 210, 212, None, "B"),
    "s10": ("4", False, False, False, None, 230, 228, "B"),
}
WINDOWS = ("fall", "winter", "spring")


def levels(*counts):
    """The expected level distribution of ``counts`` (Below … Exceeds) out of their sum."""
    tested = sum(counts)
    return {
        str(rank): {"label": label, "count": count, "percent": round(count * 100 / tested, 1)}
        for (rank, label, _, _), count in zip(LEVELS, counts, strict=True)
    }


def subgroup(group_n, rest_n, group_percent=None, rest_percent=None, gap=None):
    return {
        "group": {"n": group_n, "percent_proficient": group_percent},
        "rest": {"n": rest_n, "percent_proficient": rest_percent},
        "gap": gap,
    }


def span(pairs, not_matched, median, mean, el, sped, ed):
    """A growth span of this fixture: no percentiles and no typical growth in it, and every
    subgroup below five pairs on one side, so ``el``, ``sped`` and ``ed`` (group pairs, rest
    pairs) show counts only."""
    return {
        "pairs": pairs,
        "not_matched": not_matched,
        "median_change": median,
        "mean_change": mean,
        "mean_percentile_change": None,
        "with_typical": 0,
        "met_typical": 0,
        "percent_met_typical": None,
        "subgroups": {
            flag: {
                side: {"pairs": n, "median_change": None, "percent_met_typical": None}
                for side, n in zip(("group", "rest"), counts, strict=True)
            }
            for flag, counts in zip(SUBGROUP_FLAGS, (el, sped, ed), strict=True)
        },
    }


NO_GOALS = {"areas": [], "weakest": None}


def make_assessment(district, window, subject="math", name="MAP Growth Math"):
    assessment = Assessment.objects.create(
        district=district, name=name, subject=subject, school_year=YEAR, window=window
    )
    PerformanceLevel.objects.bulk_create(
        PerformanceLevel(
            assessment=assessment, rank=rank, label=label, min_score=cut, is_proficient=proficient
        )
        for rank, label, cut, proficient in LEVELS
    )
    return assessment


def make_student(school, local_id, grade="3", **flags):
    return Student.objects.create(
        district=school.district,
        school=school,
        local_id=local_id,
        first_name="Test",
        last_name=local_id,
        grade=grade,
        **flags,
    )


def make_section(school, source_id, teacher, subject="math"):
    return Section.objects.create(
        school=school, teacher=teacher, source_id=source_id, name=source_id, subject=subject
    )


@pytest.fixture
def term(db):
    school = SchoolFactory(name="Maple Elementary")
    district = school.district
    t1, t2, t3, leader, leader2 = (staff_at(school) for _ in range(5))
    CaseloadFactory(school=school, leader=leader, teacher=t1)
    CaseloadFactory(school=school, leader=leader, teacher=t3)
    CaseloadFactory(
        school=school,
        leader=leader2,
        teacher=t2,
        end_date=timezone.localdate() - datetime.timedelta(days=1),
        closed_at=timezone.now(),
    )
    sections = {
        "A": make_section(school, "A", t1),
        "B": make_section(school, "B", t2),
        "C": make_section(school, "C", t3),
        "R": make_section(school, "R", t1, subject="reading"),
    }
    assessments = {window: make_assessment(district, window) for window in WINDOWS}
    students = {}
    for name, (grade, el, sped, ed, *scores, classes) in STUDENTS.items():
        student = make_student(
            school,
            name,
            grade,
            english_learner=el,
            special_education=sped,
            economically_disadvantaged=ed,
        )
        students[name] = student
        for section in classes + ("R" if name in {"s1", "s2", "s3", "s4"} else ""):
            Enrollment.objects.create(section=sections[section], student=student)
        for window, score in zip(WINDOWS, scores, strict=True):
            if score is not None:
                AssessmentResult.objects.create(
                    assessment=assessments[window],
                    student=student,
                    school=school,
                    grade=student.grade,
                    score=score,
                )
    # Another school's student of the same district: never part of this school's numbers.
    elsewhere = make_student(SchoolFactory(district=district), "x1", "3")
    AssessmentResult.objects.create(
        assessment=assessments["winter"],
        student=elsewhere,
        school=elsewhere.school,
        grade="3",
        score=300,
    )
    return {
        "school": school,
        "sections": sections,
        "assessments": assessments,
        "students": students,
        "leader": leader,
        "leader2": leader2,
    }


def current(school, scope, scope_key="", window="winter", subject="math"):
    return DashboardSnapshot.objects.get(
        school=school,
        scope=scope,
        scope_key=str(scope_key),
        subject=subject,
        school_year=YEAR,
        window=window,
        is_current=True,
    )


def current_metrics(term, scope, scope_key="", window="winter"):
    return current(term["school"], scope, scope_key, window).metrics


# ── Metrics, against the table above ─────────────────────────────────────────────────────────


def test_school_winter_metrics(term):
    school_compile(school=term["school"])
    assert current_metrics(term, Scope.SCHOOL) == {
        # 205+198+215+204+225+196+209+222+212+230 = 2116 over 10
        "tested": 10,
        "mean_score": 211.6,
        "levels": levels(2, 3, 2, 3),
        "proficient": 5,
        "percent_proficient": 50.0,
        # s1–s9 have both: +10 −4 +3 −4 +4 +6 −6 −3 +2 = 8 over 9 = 0.89
        "gains": {"fall_to_winter": {"n_matched": 9, "mean_gain": 0.9}},
        "subgroups": {
            "english_learner": subgroup(3, 7),  # s1, s2, s6: too few to show
            "special_education": subgroup(2, 8),  # s4, s8
            # s1 s2 s3 s6 s7: only s3 proficient; the rest s4 s5 s8 s9 s10: all but s4
            "economically_disadvantaged": subgroup(5, 5, 20.0, 80.0, -60.0),
        },
        # below Meets and lower than in fall: s2 (202→198), s4 (208→204), s7 (215→209)
        "students_at_risk": 3,
        "assessment_ids": [term["assessments"]["winter"].pk],
        "growth": {
            # s1–s9 matched, s10 has no fall result. Changes sorted: −6 −4 −4 −3 2 3 4 6 10:
            # the fifth, 2, is the median; the mean is 8 / 9 = 0.89. EL s1 s2 s6 (3 | 6), SPED
            # s4 s8 (2 | 7), ED s1 s2 s3 s6 s7 (5 | 4): a side below five in each.
            "fall-winter": span(9, 1, 2.0, 0.9, (3, 6), (2, 7), (5, 4)),
        },
        "goals": NO_GOALS,
        "by_grade": [
            # 205+198+215+204+225 = 1047; proficient s3 s5
            {"grade": "3", "tested": 5, "mean_score": 209.4, "percent_proficient": 40.0},
            # 196+209+222+212+230 = 1069; proficient s8 s9 s10
            {"grade": "4", "tested": 5, "mean_score": 213.8, "percent_proficient": 60.0},
        ],
    }


def test_school_fall_metrics_have_no_gains_and_suppress_a_small_rest(term):
    school_compile(school=term["school"])
    assert current_metrics(term, Scope.SCHOOL, window="fall") == {
        # 195+202+212+208+221+190+215+225+210 = 1878 over 9 = 208.67
        "tested": 9,
        "mean_score": 208.7,
        "levels": levels(2, 2, 3, 2),
        "proficient": 5,
        "percent_proficient": 55.6,
        "gains": {},
        "subgroups": {
            "english_learner": subgroup(3, 6),
            "special_education": subgroup(2, 7),
            # five disadvantaged students, but only four others tested (s10 missed fall)
            "economically_disadvantaged": subgroup(5, 4),
        },
        "students_at_risk": None,
        "assessment_ids": [term["assessments"]["fall"].pk],
        "growth": {},  # fall to fall needs last year's fall test, which the district has not
        "goals": NO_GOALS,
        "by_grade": [
            # 195+202+212+208+221 = 1038; proficient s3 s5
            {"grade": "3", "tested": 5, "mean_score": 207.6, "percent_proficient": 40.0},
            # 190+215+225+210 = 840; proficient s7 s8 s9
            {"grade": "4", "tested": 4, "mean_score": 210.0, "percent_proficient": 75.0},
        ],
    }


def test_school_spring_metrics_pair_with_both_earlier_windows(term):
    school_compile(school=term["school"])
    assert current_metrics(term, Scope.SCHOOL, window="spring") == {
        # s1 212, s2 196, s3 220, s10 228
        "tested": 4,
        "mean_score": 214.0,
        "levels": levels(1, 0, 1, 2),
        "proficient": 3,
        "percent_proficient": 75.0,
        "gains": {
            # s1 +17, s2 −6, s3 +8 = 19 over 3
            "fall_to_spring": {"n_matched": 3, "mean_gain": 6.3},
            # s1 +7, s2 −2, s3 +5, s10 −2 = 8 over 4
            "winter_to_spring": {"n_matched": 4, "mean_gain": 2.0},
        },
        "subgroups": {
            "english_learner": subgroup(2, 2),
            "special_education": subgroup(0, 4),
            "economically_disadvantaged": subgroup(3, 1),
        },
        # fell since winter: s2 (below) and s10 (still Exceeds, so not at risk)
        "students_at_risk": 1,
        "assessment_ids": [term["assessments"]["spring"].pk],
        "growth": {
            # s1 +17, s2 −6, s3 +8 (s10 has no fall result): median 8, mean 19 / 3 = 6.33
            "fall-spring": span(3, 1, 8.0, 6.3, (2, 1), (0, 3), (3, 0)),
            # s1 +7, s2 −2, s3 +5, s10 −2: sorted −2 −2 5 7, median (−2 + 5) / 2 = 1.5; mean 2
            "winter-spring": span(4, 0, 1.5, 2.0, (2, 2), (0, 4), (3, 1)),
        },
        "goals": NO_GOALS,
        "by_grade": [
            # 212+196+220 = 628 over 3 = 209.33; proficient s1 s3
            {"grade": "3", "tested": 3, "mean_score": 209.3, "percent_proficient": 66.7},
            {"grade": "4", "tested": 1, "mean_score": 228.0, "percent_proficient": 100.0},
        ],
    }


def test_grade_metrics(term):
    school_compile(school=term["school"])
    assert current_metrics(term, Scope.GRADE, "3") == {
        "tested": 5,
        "mean_score": 209.4,
        "levels": levels(1, 2, 1, 1),  # 198 | 205 204 | 215 | 225
        "proficient": 2,
        "percent_proficient": 40.0,
        # +10 −4 +3 −4 +4 = 9 over 5
        "gains": {"fall_to_winter": {"n_matched": 5, "mean_gain": 1.8}},
        "subgroups": {
            "english_learner": subgroup(2, 3),
            "special_education": subgroup(1, 4),
            "economically_disadvantaged": subgroup(3, 2),
        },
        "students_at_risk": 2,  # s2, s4
        "assessment_ids": [term["assessments"]["winter"].pk],
        # sorted −4 −4 3 4 10: median 3
        "growth": {"fall-winter": span(5, 0, 3.0, 1.8, (2, 3), (1, 4), (3, 2))},
        "goals": NO_GOALS,
    }
    grade_4 = current_metrics(term, Scope.GRADE, "4")
    # s6–s9 matched: +6 −6 −3 +2 = −1 over 4 = −0.25, rounded half away from zero
    assert grade_4["gains"] == {"fall_to_winter": {"n_matched": 4, "mean_gain": -0.3}}
    assert grade_4["students_at_risk"] == 1  # s7
    assert "by_grade" not in grade_4


def test_section_metrics(term):
    school_compile(school=term["school"])
    sections = term["sections"]
    section_a = current_metrics(term, Scope.SECTION, sections["A"].pk)
    assert section_a == {
        # s1 205, s2 198, s3 215, s6 196 = 814 over 4
        "tested": 4,
        "mean_score": 203.5,
        "levels": levels(2, 1, 1, 0),
        "proficient": 1,
        "percent_proficient": 25.0,
        # +10 −4 +3 +6 = 15 over 4 = 3.75
        "gains": {"fall_to_winter": {"n_matched": 4, "mean_gain": 3.8}},
        "subgroups": {
            "english_learner": subgroup(3, 1),
            "special_education": subgroup(0, 4),
            "economically_disadvantaged": subgroup(4, 0),
        },
        "students_at_risk": 1,  # s2
        "assessment_ids": [term["assessments"]["winter"].pk],
        # sorted −4 3 6 10: median (3 + 6) / 2 = 4.5
        "growth": {"fall-winter": span(4, 0, 4.5, 3.8, (3, 1), (0, 4), (4, 0))},
        "goals": NO_GOALS,
    }
    section_b = current_metrics(term, Scope.SECTION, sections["B"].pk)
    # s4 204, s5 225, s7 209, s8 222, s9 212, s10 230 = 1302 over 6
    assert (section_b["tested"], section_b["mean_score"]) == (6, 217.0)
    assert section_b["percent_proficient"] == 66.7
    # s4 −4, s5 +4, s7 −6, s8 −3, s9 +2 = −7 over 5
    assert section_b["gains"] == {"fall_to_winter": {"n_matched": 5, "mean_gain": -1.4}}
    assert section_b["students_at_risk"] == 2
    assert current_metrics(term, Scope.SECTION, sections["C"].pk)["tested"] == 1


def test_a_class_only_counts_assessments_of_its_subject(term):
    school_compile(school=term["school"])
    reading_class = term["sections"]["R"]
    assert not DashboardSnapshot.objects.filter(
        scope=Scope.SECTION, scope_key=str(reading_class.pk)
    ).exists()


def test_caseload_counts_each_student_once(term):
    """Leader L develops T1 (class A) and T3 (class C): s3 sits in both and counts once."""
    school_compile(school=term["school"])
    caseload = current_metrics(term, Scope.CASELOAD, term["leader"].pk)
    assert caseload["tested"] == 4
    assert caseload == current_metrics(term, Scope.SECTION, term["sections"]["A"].pk)
    spring = current_metrics(term, Scope.CASELOAD, term["leader"].pk, window="spring")
    assert spring["tested"] == 3  # s1 s2 s3
    # L2's caseload has ended.
    assert not DashboardSnapshot.objects.filter(
        scope=Scope.CASELOAD, scope_key=str(term["leader2"].pk)
    ).exists()


def test_every_scope_and_window_gets_one_snapshot(term):
    result = school_compile(school=term["school"])
    sections, leader = term["sections"], term["leader"]
    per_window = {
        (Scope.SCHOOL, ""),
        (Scope.GRADE, "3"),
        (Scope.GRADE, "4"),
        (Scope.SECTION, str(sections["A"].pk)),
        (Scope.SECTION, str(sections["B"].pk)),
        (Scope.SECTION, str(sections["C"].pk)),
        (Scope.CASELOAD, str(leader.pk)),
    }
    expected = {(*scope, window) for scope in per_window for window in WINDOWS}
    snapshots = DashboardSnapshot.objects.filter(school=term["school"])
    assert set(snapshots.values_list("scope", "scope_key", "window")) == expected
    assert result.as_dict() == {
        "school_id": term["school"].pk,
        "created": 21,
        "superseded": 0,
        "unchanged": 0,
    }
    assert not DashboardSnapshot.objects.exclude(school=term["school"]).exists()


def test_a_level_stored_with_the_result_wins_over_the_cut_scores(term):
    """An imported file may state the level itself (a state test's own determination)."""
    AssessmentResult.objects.filter(
        student=term["students"]["s2"], assessment=term["assessments"]["winter"]
    ).update(level_rank=3)
    school_compile(school=term["school"])
    metrics = current_metrics(term, Scope.SCHOOL)
    assert metrics["levels"] == levels(1, 3, 3, 3)
    assert (metrics["proficient"], metrics["students_at_risk"]) == (6, 2)


def test_without_proficient_levels_the_proficiency_metrics_are_empty(term):
    PerformanceLevel.objects.filter(assessment=term["assessments"]["winter"]).update(
        is_proficient=False
    )
    school_compile(school=term["school"])
    metrics = current_metrics(term, Scope.SCHOOL)
    assert metrics["proficient"] is metrics["percent_proficient"] is None
    assert metrics["students_at_risk"] is None
    assert metrics["subgroups"]["economically_disadvantaged"]["gap"] is None
    assert metrics["levels"] == levels(2, 3, 2, 3)


def test_a_student_in_a_grade_the_portal_does_not_know_counts_for_the_school_only(term):
    # Only a bulk load could store such a grade on a result.
    AssessmentResult.objects.filter(student=term["students"]["s10"]).update(grade="13")
    school_compile(school=term["school"])
    assert current_metrics(term, Scope.SCHOOL)["tested"] == 10
    assert current_metrics(term, Scope.GRADE, "4")["tested"] == 4
    assert set(
        DashboardSnapshot.objects.filter(scope=Scope.GRADE).values_list("scope_key", flat=True)
    ) == {
        "3",
        "4",
    }


def test_metrics_hold_numbers_only_never_a_student(term):
    school_compile(school=term["school"])
    documented = {
        "tested",
        "mean_score",
        "levels",
        "proficient",
        "percent_proficient",
        "gains",
        "subgroups",
        "students_at_risk",
        "assessment_ids",
        "growth",
        "goals",
    }
    for scope, metrics in DashboardSnapshot.objects.values_list("scope", "metrics"):
        expected = documented | ({"by_grade"} if scope == Scope.SCHOOL else set())
        assert set(metrics) == expected
        assert "Test" not in str(metrics)  # every student's first name


# ── Versions ─────────────────────────────────────────────────────────────────────────────────


def test_recompiling_unchanged_data_writes_nothing(term):
    school_compile(school=term["school"])
    before = list(DashboardSnapshot.objects.order_by("pk").values_list("pk", "compiled_at"))
    result = school_compile(school=term["school"])
    assert result.as_dict() == {
        "school_id": term["school"].pk,
        "created": 0,
        "superseded": 0,
        "unchanged": 21,
    }
    assert not result.changed
    after = list(DashboardSnapshot.objects.order_by("pk").values_list("pk", "compiled_at"))
    assert after == before


def test_changed_data_makes_a_new_version_and_keeps_the_old(term):
    school_compile(school=term["school"])
    old_school = current(term["school"], Scope.SCHOOL)
    untouched = current(term["school"], Scope.GRADE, "4")
    # s1's winter score 205 → 225: school mean (2116 + 20) / 10; grade 3, class A, L's caseload
    # and, through the winter→spring gains, their spring snapshots change too.
    AssessmentResult.objects.filter(
        student=term["students"]["s1"], assessment=term["assessments"]["winter"]
    ).update(score=Decimal("225"))

    result = school_compile(school=term["school"])

    assert (result.created, result.superseded) == (8, 8)
    new_school = current(term["school"], Scope.SCHOOL)
    assert new_school.pk != old_school.pk
    assert new_school.metrics["mean_score"] == 213.6
    assert new_school.fingerprint != old_school.fingerprint
    old_school.refresh_from_db()
    assert not old_school.is_current
    assert old_school.metrics["mean_score"] == 211.6
    assert current(term["school"], Scope.GRADE, "4").pk == untouched.pk


def test_a_scope_without_results_any_more_is_no_longer_current(term):
    school_compile(school=term["school"])
    section_c = term["sections"]["C"]
    Enrollment.objects.filter(section=section_c).delete()

    result = school_compile(school=term["school"])

    assert (result.created, result.superseded) == (0, 3)
    snapshots = DashboardSnapshot.objects.filter(scope=Scope.SECTION, scope_key=str(section_c.pk))
    assert snapshots.count() == 3
    assert not snapshots.filter(is_current=True).exists()


def test_a_compile_that_dies_half_way_leaves_the_last_good_snapshots(term, monkeypatch):
    school_compile(school=term["school"])
    good = set(DashboardSnapshot.objects.filter(is_current=True).values_list("pk", flat=True))
    Student.objects.filter(pk=term["students"]["s4"].pk).update(english_learner=True)

    real_insert = compile_module._snapshots_insert

    def write_half_then_die(school, created):
        real_insert(school, created[: len(created) // 2])
        assert DashboardSnapshot.objects.count() > len(good)  # half the new versions are in
        raise RuntimeError("worker lost")

    monkeypatch.setattr(compile_module, "_snapshots_insert", write_half_then_die)
    with pytest.raises(RuntimeError):
        school_compile(school=term["school"])

    assert set(DashboardSnapshot.objects.values_list("pk", flat=True)) == good
    assert set(DashboardSnapshot.objects.filter(is_current=True).values_list("pk", flat=True)) == (
        good
    )
    monkeypatch.undo()
    assert school_compile(school=term["school"]).created > 0


# ── Two compiles of one school ───────────────────────────────────────────────────────────────


def test_a_second_compile_of_the_same_school_is_refused(term):
    """Another connection holds the school's compile lock: the compile says so, writes nothing."""
    if connection.vendor != "postgresql":
        require_service("postgresql", "the compile lock is a PostgreSQL advisory lock")
    school = term["school"]
    locked, release = threading.Event(), threading.Event()

    def other_compile():
        from django.db import connection as other_connection

        try:
            with transaction.atomic(), other_connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", compile_module.lock_key(school.pk)
                )
                locked.set()
                release.wait(timeout=30)
        finally:
            other_connection.close()

    holder = threading.Thread(target=other_compile)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with pytest.raises(CompileBusy, match="already being compiled"):
            school_compile(school=school)
        assert not DashboardSnapshot.objects.exists()
        # Another school compiles meanwhile.
        other = SchoolFactory(district=school.district)
        assert school_compile(school=other).created == 0
    finally:
        release.set()
        holder.join(timeout=30)
    assert school_compile(school=school).created == 21


# ── Query counts ─────────────────────────────────────────────────────────────────────────────


def school_of_size(students):
    """A school with two math classes, one caseload, fall and winter results for ``students``."""
    school = SchoolFactory()
    teacher_a, teacher_b, leader = (staff_at(school) for _ in range(3))
    CaseloadFactory(school=school, leader=leader, teacher=teacher_a)
    classes = [make_section(school, "A", teacher_a), make_section(school, "B", teacher_b)]
    assessments = [make_assessment(school.district, window) for window in ("fall", "winter")]
    rows = Student.objects.bulk_create(
        Student(
            district=school.district,
            school=school,
            local_id=f"q{n}",
            first_name="Q",
            last_name=str(n),
            grade=str(3 + n % 3),
            english_learner=n % 4 == 0,
            special_education=n % 7 == 0,
            economically_disadvantaged=n % 2 == 0,
        )
        for n in range(students)
    )
    Enrollment.objects.bulk_create(
        Enrollment(section=classes[n % 2], student=student) for n, student in enumerate(rows)
    )
    AssessmentResult.objects.bulk_create(
        AssessmentResult(
            assessment=assessment,
            student=student,
            school=school,
            grade=student.grade,
            score=190 + (n * 7) % 40 + i,
        )
        for i, assessment in enumerate(assessments)
        for n, student in enumerate(rows)
    )
    return school


@pytest.mark.django_db
def test_query_count_does_not_grow_with_students(django_assert_max_num_queries):
    """Savepoint; on PostgreSQL two SET LOCAL and the lock; assessments, levels, the aggregation,
    current snapshots, one insert; release: 10 (7 on SQLite), at any size. PostgreSQL's insert is
    a COPY through psycopg2's own cursor, which Django's query log does not see."""
    counts = []
    for size in (20, 200):
        school = school_of_size(size)
        with django_assert_max_num_queries(10) as first:
            assert school_compile(school=school).created == 14  # 7 scopes × 2 windows
        with CaptureQueriesContext(connection) as again:
            assert school_compile(school=school).created == 0
        assert current(school, Scope.SCHOOL).metrics["tested"] == size
        counts.append((len(first), len(again)))
    assert counts[0] == counts[1]
    insert_logged = connection.vendor != "postgresql"
    assert counts[0][1] == counts[0][0] - insert_logged  # nothing to insert


# ── Tasks ────────────────────────────────────────────────────────────────────────────────────


def test_compile_school_task(term):
    result = tasks.compile_school.apply(args=[term["school"].pk])
    assert result.get()["created"] == 21
    assert tasks.compile_school.apply(args=[term["school"].pk]).get()["created"] == 0


@pytest.mark.django_db
def test_compile_school_task_for_a_school_that_is_gone():
    assert tasks.compile_school.apply(args=[987654]).get() is None


def test_compile_school_retries_while_another_compile_runs(term, monkeypatch):
    calls = []
    real_compile = compile_module.school_compile

    def busy_once(*, school):
        calls.append(school.pk)
        if len(calls) == 1:
            raise CompileBusy(school.pk)
        return real_compile(school=school)

    monkeypatch.setattr(compile_module, "school_compile", busy_once)
    # throw=False: apply() then runs the retry in-process, as a worker would after the countdown.
    result = tasks.compile_school.apply(args=[term["school"].pk], throw=False)
    assert result.get()["created"] == 21
    assert calls == [term["school"].pk] * 2


def test_compile_all_schools_fans_out_one_task_per_school(term):
    second = SchoolFactory(district=term["school"].district)
    student = make_student(second, "y1")
    AssessmentResult.objects.create(
        assessment=term["assessments"]["fall"],
        student=student,
        school=second,
        grade=student.grade,
        score=Decimal("215"),
    )

    queued = tasks.compile_all_schools.apply().get()

    # The fixture has a third school (the one "elsewhere" in the district).
    assert set(queued) >= {term["school"].pk, second.pk}
    assert DashboardSnapshot.objects.filter(school=term["school"]).count() == 21
    assert current(second, Scope.SCHOOL, window="fall").metrics["tested"] == 1


def test_an_import_queues_the_compile_of_the_schools_it_touched_after_commit(
    term, django_capture_on_commit_callbacks
):
    school_id = term["school"].pk
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transaction.on_commit(lambda: tasks.compile_schools([school_id, school_id]))
        assert not DashboardSnapshot.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1
    assert DashboardSnapshot.objects.filter(school_id=school_id, is_current=True).count() == 21
