"""Growth and goal strands in the compiled snapshots, and the growth report, against figures
worked out by hand from the table below.

One district, two schools, North (N) and South (S); one test, "MAP Growth" math, in five
windows: fall and spring of 2025-2026 (the students in grade 4), fall, winter and spring of
2026-2027 (grade 5). Each cell: score, where it was taken, then the typical growth the file
states for the spans starting there (fw fall→winter, fs fall→spring, ws winter→spring, ss
spring→spring, ff fall→fall) and the percentile (p).

    student EL   F1 2025       S1 2026      F2 2026            W2 2027        S2 2027    class
    n1      x*   190 N ff11    200 N ss8    200 N fw5 fs10 p40  206 N p45     212 N      A
    n2      x                  198 N ss13   202 N fw5 fs10 p50  204 N p48     210 N      A
    n3      x                               198 N fw5 fs10 p30  207 N p40     215 N      A
    n4      x                               205 N fw4 p60       205 N         209 N      A
    n5      x                               210 N fw4 fs10      214 N         220 N      A
    n6           185 S ff12    190 S ss10   190 N fw6           198 N         203 N      B
    n7           188 N                      195 N fw6           196 N         —          B
    n8                                      220 N               223 N         —          B
    n9                                      215 N               232 N         —          B
    n10                                     208 N fw5           213 N, in A   —          B
    n11                                     —                   200 N         —          B
    n12                                     —                   —             205 N      B
    m2                                      196 S fs9           199 S ws6     207 N      B
    s1                         201 S ss7    200 S fw5           205 S         209 S      —

x: English learner; n1 (*) is also in special education. n6 moved from South to North over the
summer, m2 between winter and spring. Classes A (teacher T1) and B (T2) are North's math
classes, by enrollment; n10's winter test was taken in class A (its class of record), so it
counts there and not in B. Leader L's caseload is T1. The winter tests at North carry goal
areas (see GOALS).
"""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from data_tracking.compile import MIN_GROUP_SIZE, school_compile
from data_tracking.growth import SPANS
from data_tracking.models import GROWTH_SPANS, AssessmentResult, DashboardSnapshot
from tests.data_tracking.factories import (
    AssessmentFactory,
    AssessmentResultFactory,
    EnrollmentFactory,
    SectionFactory,
    StudentFactory,
)
from tests.teams.factories import CaseloadFactory, DistrictFactory, SchoolFactory, staff_at

pytestmark = pytest.mark.django_db

Scope = DashboardSnapshot.Scope
Y1, Y2 = "2025-2026", "2026-2027"
TYPICAL = {
    "fw": "typical_fall_to_winter",
    "fs": "typical_fall_to_spring",
    "ws": "typical_winter_to_spring",
    "ss": "typical_spring_to_spring",
    "ff": "typical_fall_to_fall",
}
# (EL, SPED, class, current school) and the results: window → (score, school, extras).
STUDENTS = {
    "n1": (True, True, "A", "N"),
    "n2": (True, False, "A", "N"),
    "n3": (True, False, "A", "N"),
    "n4": (True, False, "A", "N"),
    "n5": (True, False, "A", "N"),
    "n6": (False, False, "B", "N"),
    "n7": (False, False, "B", "N"),
    "n8": (False, False, "B", "N"),
    "n9": (False, False, "B", "N"),
    "n10": (False, False, "B", "N"),
    "n11": (False, False, "B", "N"),
    "n12": (False, False, "B", "N"),
    "m2": (False, False, "B", "N"),
    "s1": (False, False, "", "S"),
}
RESULTS = {
    "n1": {
        "F1": (190, "N", {"ff": 11}),
        "S1": (200, "N", {"ss": 8}),
        "F2": (200, "N", {"fw": 5, "fs": 10, "p": 40}),
        "W2": (206, "N", {"p": 45}),
        "S2": (212, "N", {}),
    },
    "n2": {
        "S1": (198, "N", {"ss": 13}),
        "F2": (202, "N", {"fw": 5, "fs": 10, "p": 50}),
        "W2": (204, "N", {"p": 48}),
        "S2": (210, "N", {}),
    },
    "n3": {
        "F2": (198, "N", {"fw": 5, "fs": 10, "p": 30}),
        "W2": (207, "N", {"p": 40}),
        "S2": (215, "N", {}),
    },
    "n4": {"F2": (205, "N", {"fw": 4, "p": 60}), "W2": (205, "N", {}), "S2": (209, "N", {})},
    "n5": {"F2": (210, "N", {"fw": 4, "fs": 10}), "W2": (214, "N", {}), "S2": (220, "N", {})},
    "n6": {
        "F1": (185, "S", {"ff": 12}),
        "S1": (190, "S", {"ss": 10}),
        "F2": (190, "N", {"fw": 6}),
        "W2": (198, "N", {}),
        "S2": (203, "N", {}),
    },
    "n7": {"F1": (188, "N", {}), "F2": (195, "N", {"fw": 6}), "W2": (196, "N", {})},
    "n8": {"F2": (220, "N", {}), "W2": (223, "N", {})},
    "n9": {"F2": (215, "N", {}), "W2": (232, "N", {})},
    "n10": {"F2": (208, "N", {"fw": 5}), "W2": (213, "N", {"class": "A"})},
    "n11": {"W2": (200, "N", {})},
    "n12": {"S2": (205, "N", {})},
    "m2": {"F2": (196, "S", {"fs": 9}), "W2": (199, "S", {"ws": 6}), "S2": (207, "N", {})},
    "s1": {
        "S1": (201, "S", {"ss": 7}),
        "F2": (200, "S", {"fw": 5}),
        "W2": (205, "S", {}),
        "S2": (209, "S", {}),
    },
}
# The goal areas of the winter tests at North. n2's stray string and n3's area without a RIT
# are not goal scores; n6's " Measurement " is Measurement.
GOALS = {
    "n1": [
        {"name": "Geometry", "rit": 200, "adjective": "Avg"},
        {"name": "Algebra", "rit": 210, "adjective": "HiAvg"},
        {"name": "Measurement", "rit": 199.5, "adjective": "Avg"},
    ],
    "n2": [
        {"name": "Geometry", "rit": 204, "adjective": "Avg"},
        {"name": "Algebra", "rit": 206, "adjective": "Avg"},
        "oops",
    ],
    "n3": [
        {"name": "Geometry", "rit": 203, "adjective": "Avg"},
        {"name": "Algebra", "rit": None, "adjective": ""},
    ],
    "n6": [
        {"name": "Geometry", "rit": 190, "adjective": "Lo"},
        {"name": "Algebra", "rit": 200, "adjective": "Avg"},
        {"name": " Measurement ", "rit": 199, "adjective": "Avg"},
    ],
    "n10": [{"name": "Algebra", "rit": 215, "adjective": "High"}],
}
WINDOWS = {
    "F1": (Y1, "fall"),
    "S1": (Y1, "spring"),
    "F2": (Y2, "fall"),
    "W2": (Y2, "winter"),
    "S2": (Y2, "spring"),
}


@pytest.fixture
def years(db):
    district = DistrictFactory(slug="lakeside")
    schools = {
        "N": SchoolFactory(district=district, name="North"),
        "S": SchoolFactory(district=district, name="South"),
    }
    north = schools["N"]
    t1, t2, leader = (staff_at(north) for _ in range(3))
    CaseloadFactory(school=north, leader=leader, teacher=t1)
    sections = {
        "A": SectionFactory(school=north, teacher=t1, name="Math 5A"),
        "B": SectionFactory(school=north, teacher=t2, name="Math 5B"),
    }
    assessments = {
        window: AssessmentFactory(
            district=district, name="MAP Growth", subject="math", school_year=year, window=term
        )
        for window, (year, term) in WINDOWS.items()
    }
    students = {}
    for name, (el, sped, section, school) in STUDENTS.items():
        student = StudentFactory(
            school=schools[school],
            last_name=name,
            grade="5",
            english_learner=el,
            special_education=sped,
        )
        students[name] = student
        if section:
            EnrollmentFactory(section=sections[section], student=student)
        for window, (score, where, extras) in RESULTS[name].items():
            extras = dict(extras)
            of_record = extras.pop("class", None)
            AssessmentResultFactory(
                assessment=assessments[window],
                student=student,
                school=schools[where],
                grade="4" if window in ("F1", "S1") else "5",
                score=score,
                percentile=extras.pop("p", None),
                section=sections[of_record] if of_record else None,
                goals=GOALS.get(name, []) if window == "W2" and where == "N" else [],
                **{TYPICAL[span]: Decimal(value) for span, value in extras.items()},
            )
    return {
        "district": district,
        "schools": schools,
        "sections": sections,
        "leader": leader,
        "students": students,
        "assessments": assessments,
    }


def compile_both(years):
    for school in years["schools"].values():
        school_compile(school=school)


def metrics(years, school, window, scope=Scope.SCHOOL, key=""):
    year, term = WINDOWS[window]
    return DashboardSnapshot.objects.get(
        school=years["schools"][school],
        scope=scope,
        scope_key=str(key),
        subject="math",
        school_year=year,
        window=term,
        is_current=True,
    ).metrics


def figures(pairs, not_matched, median, mean, with_typical, met, percent, percentile=None):
    return {
        "pairs": pairs,
        "not_matched": not_matched,
        "median_change": median,
        "mean_change": mean,
        "mean_percentile_change": percentile,
        "with_typical": with_typical,
        "met_typical": met,
        "percent_met_typical": percent,
    }


def side(pairs, median=None, percent=None):
    return {"pairs": pairs, "median_change": median, "percent_met_typical": percent}


def without_subgroups(growth):
    return {span: {k: v for k, v in f.items() if k != "subgroups"} for span, f in growth.items()}


# ── Spans, pairs and medians ─────────────────────────────────────────────────────────────────


def test_spans_follow_the_models_list():
    assert [span.name for span in SPANS] == [name for name, _label in GROWTH_SPANS]


def test_fall_to_winter_at_the_school(years):
    compile_both(years)
    growth = metrics(years, "N", "W2")["growth"]
    assert set(growth) == {"fall-winter"}  # the only span that ends in winter
    fall_winter = growth.pop("fall-winter")
    subgroups = fall_winter.pop("subgroups")
    # n1–n10 matched; n11 has no fall test. Changes +6 +2 +9 0 +4 +8 +1 +3 +17 +5, sorted
    # 0 1 2 3 4 5 6 8 9 17: an even count, the median half-way between 4 and 5; mean 55 / 10.
    # Percentiles on both tests: n1 +5, n2 −2, n3 +10 = 13 / 3 = 4.33 (n4 has no winter one).
    # Typical growth stated for eight (n8 and n9 have none: counted in pairs, not here); met
    # by n1 (6 ≥ 5), n3, n5 (4 ≥ 4: equal is met), n6, n10: 5 of 8.
    assert fall_winter == figures(10, 1, 4.5, 5.5, 8, 5, 62.5, percentile=4.3)
    assert subgroups == {
        # EL n1–n5: 0 2 4 6 9, median 4; the rest n6–n10: 1 3 5 8 17, median 5. Typical growth:
        # the EL five, met by n1 n3 n5 (60%); the rest only three (n6 n7 n10), below five: the
        # percentage is hidden on both sides, the medians (five pairs each) are shown.
        "english_learner": {"group": side(5, 4.0), "rest": side(5, 5.0)},
        # n1 alone: nothing shown on either side
        "special_education": {"group": side(1), "rest": side(9)},
        "economically_disadvantaged": {"group": side(0), "rest": side(10)},
    }


def test_spring_spans_pair_with_fall_winter_and_last_spring(years):
    compile_both(years)
    growth = metrics(years, "N", "S2")["growth"]
    # (a set: PostgreSQL's jsonb keeps keys in an order of its own)
    assert set(growth) == {"fall-spring", "winter-spring", "spring-spring"}
    assert without_subgroups(growth) == {
        # n1 +12, n2 +8, n3 +17, n4 +4, n5 +10, n6 +13, m2 +11 (fall at South, spring here);
        # n12 has no fall test. Sorted 4 8 10 11 12 13 17: an odd count, median 11; mean
        # 75 / 7 = 10.71. Typical growth: n1 n2 n3 n5 (10) and m2 (9); met by all but n2.
        "fall-spring": figures(7, 1, 11.0, 10.7, 5, 4, 80.0),
        # n1 +6, n2 +6, n3 +8, n4 +4, n5 +6, n6 +5, m2 +8 (winter at South): sorted
        # 4 5 6 6 6 8 8, median 6; mean 43 / 7 = 6.14. Only m2's winter test states a typical
        # growth (6), met.
        "winter-spring": figures(7, 1, 6.0, 6.1, 1, 1, 100.0),
        # last spring: n1 200 → 212, n2 198 → 210, n6 190 (at South) → 203: +12 +12 +13,
        # median 12, mean 37 / 3 = 12.33. n3 n4 n5 n12 m2 have no spring 2026 test. Typical: n1
        # 8 met, n2 13 not met (12), n6 10 met.
        "spring-spring": figures(3, 5, 12.0, 12.3, 3, 2, 66.7),
    }
    # EL n1–n5 against n6 and m2 (fall to spring): the rest is too small, nothing shown.
    assert growth["fall-spring"]["subgroups"]["english_learner"] == {
        "group": side(5),
        "rest": side(2),
    }


def test_fall_to_fall_pairs_with_last_fall_wherever_it_was_taken(years):
    compile_both(years)
    # n1 190 → 200, n6 185 (at South) → 190, n7 188 → 195: +10 +5 +7, median 7, mean 22 / 3;
    # n2–n5 and n8–n10 have no fall 2025 test. Typical: n1 11 and n6 12, neither met; n7 none.
    assert without_subgroups(metrics(years, "N", "F2")["growth"]) == {
        "fall-fall": figures(3, 7, 7.0, 7.3, 2, 0, 0.0)
    }


def test_a_span_without_a_start_test_in_the_district_is_not_measured(years):
    compile_both(years)
    # 2025-2026: no winter test and nothing the year before, so spring has fall to spring only
    # (n1 190 → 200; n2 has no fall test) and fall has no span at all.
    assert without_subgroups(metrics(years, "N", "S1")["growth"]) == {
        "fall-spring": figures(1, 1, 10.0, 10.0, 0, 0, None)
    }
    assert metrics(years, "N", "F1")["growth"] == {}


def test_a_school_with_one_window_has_no_growth():
    school = SchoolFactory()
    fall = AssessmentFactory(district=school.district, window="fall")
    AssessmentResultFactory(assessment=fall, student=StudentFactory(school=school), score=200)
    school_compile(school=school)
    snapshot = DashboardSnapshot.objects.get(scope=Scope.SCHOOL)
    assert (snapshot.metrics["tested"], snapshot.metrics["growth"]) == (1, {})


def test_a_pair_belongs_to_the_school_where_its_end_was_taken(years):
    """m2 moved between winter and spring, n6 over the summer: their pairs count at North, where
    the span ended, and never at South, where it started."""
    compile_both(years)
    # South's winter: m2 (+3, no fall-to-winter figure) and s1 (+5, typical 5: met), tested
    # there at both ends.
    assert without_subgroups(metrics(years, "S", "W2")["growth"]) == {
        "fall-winter": figures(2, 0, 4.0, 4.0, 1, 1, 100.0)
    }
    # South's spring is s1 alone: +9 since fall, +4 since winter, +8 since last spring (typical
    # 7, met). Neither m2 nor n6, whose start tests were taken here.
    assert without_subgroups(metrics(years, "S", "S2")["growth"]) == {
        "fall-spring": figures(1, 0, 9.0, 9.0, 0, 0, None),
        "winter-spring": figures(1, 0, 4.0, 4.0, 0, 0, None),
        "spring-spring": figures(1, 0, 8.0, 8.0, 1, 1, 100.0),
    }
    # South's fall 2026: m2 and s1, neither tested in fall 2025; n6's fall 2025 test was taken
    # at South but his fall 2026 one at North.
    assert without_subgroups(metrics(years, "S", "F2")["growth"]) == {
        "fall-fall": figures(0, 2, None, None, 0, 0, None)
    }


def test_grade_class_and_caseload_count_where_the_end_result_was_taken(years):
    compile_both(years)
    sections = years["sections"]
    school = metrics(years, "N", "W2")
    assert metrics(years, "N", "W2", Scope.GRADE, "5")["growth"] == school["growth"]
    class_a = metrics(years, "N", "W2", Scope.SECTION, sections["A"].pk)["growth"]
    # A: n1–n5 and n10, tested in A: 6 2 9 0 4 5, sorted 0 2 4 5 6 9, median 4.5; mean
    # 26 / 6 = 4.33; typical for all six, met by n1 n3 n5 n10; percentiles n1 n2 n3 as above.
    assert without_subgroups(class_a) == {
        "fall-winter": figures(6, 0, 4.5, 4.3, 6, 4, 66.7, percentile=4.3)
    }
    class_b = metrics(years, "N", "W2", Scope.SECTION, sections["B"].pk)["growth"]
    # B: n6 +8, n7 +1, n8 +3, n9 +17 (n10 was tested in A); n11 not matched. Sorted 1 3 8 17,
    # median 5.5; mean 29 / 4 = 7.25, half up to 7.3; typical n6 (met) and n7 (not).
    assert without_subgroups(class_b) == {"fall-winter": figures(4, 1, 5.5, 7.3, 2, 1, 50.0)}
    caseload = metrics(years, "N", "W2", Scope.CASELOAD, years["leader"].pk)["growth"]
    assert caseload == class_a  # L's caseload is T1, who teaches A
    # Spring in B: n6 +13 and m2 +11 since fall (m2 enrolled here, tested here in spring);
    # n12 not matched. Typical: m2's 9, met.
    spring_b = metrics(years, "N", "S2", Scope.SECTION, sections["B"].pk)["growth"]
    assert without_subgroups(spring_b)["fall-spring"] == figures(2, 1, 12.0, 12.0, 1, 1, 100.0)


def test_tests_pair_by_name_whatever_the_spacing_and_case_and_a_student_counts_once():
    """Fall "MAP Growth"; winter "map  growth" and "MAP GROWTH " (two administrations whose
    names pair with fall's). A student with a result on both winter tests is one pair, one
    student: a (fall 200, winter 204 and 206) is matched once; b (winter only) is not matched
    once."""
    school = SchoolFactory()
    fall = AssessmentFactory(district=school.district, name="MAP Growth", window="fall")
    winters = [
        AssessmentFactory(district=school.district, name=name, window="winter")
        for name in ("map  growth", "MAP GROWTH ")
    ]
    a, b = (StudentFactory(school=school) for _ in range(2))
    AssessmentResultFactory(assessment=fall, student=a, score=200)
    for winter, score in zip(winters, (204, 206), strict=True):
        AssessmentResultFactory(assessment=winter, student=a, score=score)
        AssessmentResultFactory(assessment=winter, student=b, score=score)
    school_compile(school=school)
    snapshot = DashboardSnapshot.objects.get(scope=Scope.SCHOOL, window="winter")
    growth = without_subgroups(snapshot.metrics["growth"])
    # a's pair is the one with the first winter test (+4)
    assert growth == {"fall-winter": figures(1, 1, 4.0, 4.0, 0, 0, None)}


def test_subgroups_show_only_when_both_sides_reach_the_minimum(years):
    assert MIN_GROUP_SIZE == 5  # the table is built around it
    # n10 becomes an English learner: six in the group and four left: nothing shown.
    years["students"]["n10"].english_learner = True
    years["students"]["n10"].save()
    compile_both(years)
    el = metrics(years, "N", "W2")["growth"]["fall-winter"]["subgroups"]["english_learner"]
    assert el == {"group": side(6), "rest": side(4)}


# ── A district's real files ───────────────────────────────────────────────────────────────────


def test_growth_from_the_districts_real_map_files(db, settings, tmp_path):
    """tests/data_tracking/fixtures/README.md: three schools, three years, imported as a zip.
    Math scores by term there; the typical growth and percentiles, from the file. Percentile
    changes: Cedar spring 2026 since fall Ben 52 → 53, Cruz 47 → 49, Dee 59 → 65 (+9 / 3) and
    since spring 2025 51 → 53, 49 → 49, 57 → 65 (+10 / 3); Cedar fall to fall 53 → 52, 50 → 47,
    58 → 59 (−3 / 3); Maple spring 2025 since fall Ava 61 → 60, Ben 53 → 51, Eli 49 → 50, Fay
    66 → 62 (−6 / 4; grade 1: Ava and Fay, −5 / 2) and since spring 2024 58 → 60, 52 → 51,
    49 → 50 (+2 / 3); Birch Cruz 50 → 49; Maple winter 2024 62 → 60, 55 → 54, 57 → 56."""
    settings.MEDIA_ROOT = tmp_path
    from tests.data_tracking.test_import_map_real import fixture_district, import_fixture

    district = fixture_district()
    assert import_fixture(district).errors == []
    schools = {school.slug: school for school in district.schools.all()}
    for school in schools.values():
        school_compile(school=school)

    def growth(slug, year, window, scope=Scope.SCHOOL, key=""):
        snapshot = DashboardSnapshot.objects.get(
            school=schools[slug],
            scope=scope,
            scope_key=key,
            subject="math",
            school_year=year,
            window=window,
            is_current=True,
        )
        return without_subgroups(snapshot.metrics["growth"])

    # Cedar, spring 2026: Ben 218 → 224, Cruz 214 → 220, Dee 226 → 234 (his retest's 230 set
    # aside): +6 +6 +8, typical 6, 6 and 5, all met. Since spring 2025: Ben 216 at Maple → 224,
    # Cruz 212 at Birch (the 208 set aside) → 220, Dee 224 → 234: +8 +8 +10, typical 7 7 6. The
    # two who moved up to Cedar count here, where the span ended. No winter test that year.
    assert growth("cedar", "2025-2026", "spring") == {
        "fall-spring": figures(3, 0, 6.0, 6.7, 3, 3, 100.0, percentile=3.0),
        "spring-spring": figures(3, 0, 8.0, 8.7, 3, 3, 100.0, percentile=3.3),
    }
    # Cedar, fall 2025 from fall 2024: Ben 210 (Maple) → 218, Cruz 206 (Birch) → 214, Dee 220 →
    # 226: +8 +8 +6, typical 8 8 6.
    assert growth("cedar", "2025-2026", "fall") == {
        "fall-fall": figures(3, 0, 8.0, 7.3, 3, 3, 100.0, percentile=-1.0)
    }
    # Maple, spring 2025: Ava 160 → 170, Ben 210 → 216, Eli 196 (fall at Birch) → 202, Fay 164
    # → 172: +10 +6 +6 +8, an even count: median (6 + 8) / 2 = 7; mean 7.5; typical 15 8 9 15,
    # none met. Since spring 2024: Ava +14, Ben +8, Eli 194 (Birch) → 202 +8; Fay was not tested
    # in spring 2024.
    assert growth("maple", "2024-2025", "spring") == {
        "fall-spring": figures(4, 0, 7.0, 7.5, 4, 0, 0.0, percentile=-1.5),
        "spring-spring": figures(3, 1, 8.0, 10.0, 3, 0, 0.0, percentile=0.7),
    }
    # Grade 1 of it: Ava +10 and Fay +8.
    assert growth("maple", "2024-2025", "spring", Scope.GRADE, "1")["fall-spring"] == figures(
        2, 0, 9.0, 9.0, 2, 0, 0.0, percentile=-2.5
    )
    # Birch, spring 2025: Cruz alone (206 → 212, typical 8); Eli's pair is Maple's.
    assert growth("birch", "2024-2025", "spring")["fall-spring"] == figures(
        1, 0, 6.0, 6.0, 1, 0, 0.0, percentile=-1.0
    )
    # Maple, winter 2024: Ava 140 → 148 (typical 10), Ben 200 (his growth test; 230 set aside)
    # → 204 (5), Dee 210 → 214 (4, met): median 4, mean 16 / 3 = 5.33, one of three met.
    assert growth("maple", "2023-2024", "winter") == {
        "fall-winter": figures(3, 0, 4.0, 5.3, 3, 1, 33.3, percentile=-1.3)
    }
    # The district, 2025-2026, math: fall to fall Ava +14, Ben +8, Cruz +8, Dee +6, Eli +8, Fay
    # +12 (sorted 6 8 8 8 12 14, median 8, mean 56 / 6 = 9.33; met by Ben, Cruz, Dee); fall to
    # spring +8 +6 +6 +8 +6 +8 (median 7, mean 7); spring to spring +12 +8 +8 +10 +8 +12
    # (sorted 8 8 8 10 12 12, median 9, mean 58 / 6 = 9.67). Reading has no 2024-2025 test.
    assert report("--district", "lakeside", "--school-year", "2025-2026")[1:4] == [
        "district,,,,math,2025-2026,fall-spring,6,0,7.0,7.0,6,3,50.0",
        "district,,,,math,2025-2026,spring-spring,6,0,9.0,9.7,6,3,50.0",
        "district,,,,math,2025-2026,fall-fall,6,0,8.0,9.3,6,3,50.0",
    ]


# ── Goal strands ─────────────────────────────────────────────────────────────────────────────


def test_goal_areas_and_the_weakest(years):
    compile_both(years)
    # Algebra 210 206 200 215 = 831 / 4 = 207.75; Geometry 200 204 203 190 = 797 / 4 = 199.25;
    # Measurement 199.5 199 = 398.5 / 2 = 199.25. Geometry and Measurement tie at 199.3: the
    # first by name is the weakest.
    school = {
        "areas": [
            {"name": "Algebra", "n": 4, "mean_rit": 207.8},
            {"name": "Geometry", "n": 4, "mean_rit": 199.3},
            {"name": "Measurement", "n": 2, "mean_rit": 199.3},
        ],
        "weakest": "Geometry",
    }
    assert metrics(years, "N", "W2")["goals"] == school
    assert metrics(years, "N", "W2", Scope.GRADE, "5")["goals"] == school
    sections = years["sections"]
    # A: n1 n2 n3 and n10. Algebra 210 206 215 = 631 / 3 (n3's has no RIT); Geometry 200 204
    # 203 = 607 / 3; Measurement n1's 199.5, the weakest.
    assert metrics(years, "N", "W2", Scope.SECTION, sections["A"].pk)["goals"] == {
        "areas": [
            {"name": "Algebra", "n": 3, "mean_rit": 210.3},
            {"name": "Geometry", "n": 3, "mean_rit": 202.3},
            {"name": "Measurement", "n": 1, "mean_rit": 199.5},
        ],
        "weakest": "Measurement",
    }
    assert metrics(years, "N", "W2", Scope.SECTION, sections["B"].pk)["goals"] == {
        "areas": [
            {"name": "Algebra", "n": 1, "mean_rit": 200.0},
            {"name": "Geometry", "n": 1, "mean_rit": 190.0},
            {"name": "Measurement", "n": 1, "mean_rit": 199.0},
        ],
        "weakest": "Geometry",
    }
    # Other windows' tests carry no goal areas.
    assert metrics(years, "N", "S2")["goals"] == {"areas": [], "weakest": None}


# ── Versions ─────────────────────────────────────────────────────────────────────────────────


def test_recompiling_writes_nothing_and_a_typical_growth_change_writes_a_new_version(years):
    compile_both(years)
    north = years["schools"]["N"]
    before = set(DashboardSnapshot.objects.values_list("pk", flat=True))
    assert school_compile(school=north).changed is False
    assert set(DashboardSnapshot.objects.values_list("pk", flat=True)) == before

    # n2's fall test now expects 2 points to winter: his +2 meets it.
    AssessmentResult.objects.filter(
        student=years["students"]["n2"], assessment=years["assessments"]["F2"]
    ).update(typical_fall_to_winter=Decimal("2"))
    result = school_compile(school=north)

    # North's winter: the school, grade 5, class A and L's caseload; nothing else.
    assert (result.created, result.superseded) == (4, 4)
    assert metrics(years, "N", "W2")["growth"]["fall-winter"]["met_typical"] == 6
    assert metrics(years, "N", "W2")["growth"]["fall-winter"]["percent_met_typical"] == 75.0


# ── The growth report ────────────────────────────────────────────────────────────────────────

HEADER = (
    "scope,school,grade,section,subject,school_year,span,pairs,not_matched,median_change,"
    "mean_change,with_typical,met_typical,percent_met_typical"
)


@pytest.fixture
def riverside(db):
    """Two schools, Elm and Oak. 2025-2026, grade 3: Elm's e1 200 → 206 in winter (typical 5,
    met), e2 210 → 212 (typical 4, not met), e3 winter only (205); Oak's o1 190 → 199 (no typical
    growth). All three of Elm's are in class Math 3. Fall 2026, grade 4, at Elm: e1 211 (taken
    in class Math 4, its class of record; his fall 2025 test expects 10 to the next fall) and
    o1, who moved to Elm, 201."""
    district = DistrictFactory(slug="riverside")
    elm = SchoolFactory(district=district, name="Elm")
    oak = SchoolFactory(district=district, name="Oak")
    math_3 = SectionFactory(school=elm, name="Math 3", grade="3")
    math_4 = SectionFactory(school=elm, name="Math 4", grade="4")
    fall, winter, next_fall = (
        AssessmentFactory(district=district, name="MAP Growth", school_year=year, window=window)
        for year, window in ((Y1, "fall"), (Y1, "winter"), (Y2, "fall"))
    )
    students = {
        name: StudentFactory(school=school, grade="4")
        for name, school in (("e1", elm), ("e2", elm), ("e3", elm), ("o1", elm))
    }
    for name in ("e1", "e2", "e3"):
        EnrollmentFactory(section=math_3, student=students[name])
    rows = [
        ("e1", fall, elm, "3", 200, {"typical_fall_to_winter": 5, "typical_fall_to_fall": 10}),
        ("e1", winter, elm, "3", 206, {}),
        ("e2", fall, elm, "3", 210, {"typical_fall_to_winter": 4}),
        ("e2", winter, elm, "3", 212, {}),
        ("e3", winter, elm, "3", 205, {}),
        ("o1", fall, oak, "3", 190, {}),
        ("o1", winter, oak, "3", 199, {}),
        ("e1", next_fall, elm, "4", 211, {"section": math_4}),
        ("o1", next_fall, elm, "4", 201, {}),
    ]
    for name, assessment, school, grade, score, extras in rows:
        AssessmentResultFactory(
            assessment=assessment,
            student=students[name],
            school=school,
            grade=grade,
            score=score,
            **extras,
        )
    return district


def report(*args):
    from io import StringIO

    out = StringIO()
    call_command("growth_report", *args, stdout=out)
    return out.getvalue().splitlines()


# 2025-2026 fall to winter, the district: e1 +6, e2 +2, o1 +9 (sorted 2 6 9, median 6, mean
# 17 / 3 = 5.67), e3 not matched; typical for e1 (met) and e2. Elm: e1 and e2 (median and mean
# 4), e3. Oak: o1 +9, no typical growth. 2026-2027 fall to fall, all at Elm: e1 +11 (typical 10,
# met), o1 +11 (fall 2025 at Oak; none).
YEAR_1 = [
    f"district,,,,math,{Y1},fall-winter,3,1,6.0,5.7,2,1,50.0",
]
YEAR_2 = [
    f"district,,,,math,{Y2},fall-fall,2,0,11.0,11.0,1,1,100.0",
]
ELM_1 = [
    f"school,Elm,,,math,{Y1},fall-winter,2,1,4.0,4.0,2,1,50.0",
]
ELM_2 = [
    f"school,Elm,,,math,{Y2},fall-fall,2,0,11.0,11.0,1,1,100.0",
]


def test_the_growth_report_has_a_row_per_scope_subject_year_and_span(riverside):
    assert report("--district", "riverside") == [
        HEADER,
        *YEAR_1,
        *YEAR_2,
        *ELM_1,
        *ELM_2,
        f"grade,Elm,3,,math,{Y1},fall-winter,2,1,4.0,4.0,2,1,50.0",
        f"grade,Elm,4,,math,{Y2},fall-fall,2,0,11.0,11.0,1,1,100.0",
        f"section,Elm,,Math 3,math,{Y1},fall-winter,2,1,4.0,4.0,2,1,50.0",
        # e1's fall 2026 test was taken in Math 4; o1 is in no class
        f"section,Elm,,Math 4,math,{Y2},fall-fall,1,0,11.0,11.0,1,1,100.0",
        f"school,Oak,,,math,{Y1},fall-winter,1,0,9.0,9.0,0,0,",
        f"grade,Oak,3,,math,{Y1},fall-winter,1,0,9.0,9.0,0,0,",
    ]


def test_the_growth_report_matches_the_snapshots(riverside):
    """Every school, grade and class row holds the figures a compile writes for the pages."""
    for school in riverside.schools.all():
        school_compile(school=school)
    header, *rows = (line.split(",") for line in report("--district", "riverside"))
    compared = 0
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        if cells["scope"] == "district":
            continue
        school = riverside.schools.get(name=cells["school"])
        key = {"school": "", "grade": cells["grade"]}.get(cells["scope"])
        if key is None:
            key = str(school.sections.get(name=cells["section"]).pk)
        snapshot = DashboardSnapshot.objects.get(
            school=school,
            scope=cells["scope"],
            scope_key=key,
            subject=cells["subject"],
            school_year=cells["school_year"],
            window=cells["span"].split("-")[1],
            is_current=True,
        )
        shown = snapshot.metrics["growth"][cells["span"]]
        assert [cells[name] for name in header[7:]] == [
            "" if shown[name] is None else str(shown[name]) for name in header[7:]
        ]
        compared += 1
    assert compared == 8


def test_the_growth_report_for_one_school_year(riverside):
    assert report("--district", "riverside", "--school-year", "2026-27") == [
        HEADER,
        *YEAR_2,
        *ELM_2,
        f"grade,Elm,4,,math,{Y2},fall-fall,2,0,11.0,11.0,1,1,100.0",
        f"section,Elm,,Math 4,math,{Y2},fall-fall,1,0,11.0,11.0,1,1,100.0",
    ]


def test_the_growth_report_refuses_an_unknown_district_or_year(riverside):
    with pytest.raises(CommandError, match="no district with the slug “nowhere”"):
        report("--district", "nowhere")
    with pytest.raises(CommandError, match="--school-year: .*not a school year"):
        report("--district", "riverside", "--school-year", "last year")
