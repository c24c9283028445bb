"""Students, classes and MAP-style results for the demo district, compiled into dashboards.

``teams.demo.discover_steps`` imports this module, which appends its build step (after the
observation cycles), its clear step and its report lines, so ``teams`` never imports
``data_tracking``.

What it makes, deterministically (its own ``random.Random``):

- About 730 students over the three schools, every grade, with the subgroup flags the
  dashboards break out (English learners, special education, economically disadvantaged).
- Math and reading classes taught by the demo's teachers: each elementary homeroom teacher a
  math and a reading class of their homeroom; each middle-school grade's math and ELA teachers
  three periods each (so ``leader`` teaches grade 6 math and ``teacher`` grade 6 reading); the high
  school's math and English teachers two sections of their course; a special-education reading
  and a math support class, and science and social studies classes (no MAP results: their pages
  show the empty state) for the middle school's leader's caseload.
- "MAP Growth Math" and "MAP Growth Reading" (RIT scale) for every window of last school year and
  every window of this one that has already happened, with four achievement levels stored on each
  result from grade norms (the way a MAP file carries them): scores grow across the year, each
  subgroup trails the rest, and a few classes fall behind this year, so the gap chart, the gains
  and the at-risk counts all have something to say. Each result also carries what a MAP file
  states with it: the typical growth expected from it for every span that starts there (grade
  norms, a little more for students who start low) and a score in each goal area, one of which
  runs weaker than the rest, so growth and goal areas show on every dashboard.

Results go in with ``bulk_create``; the snapshots are compiled by the same ``school_compile`` the
Celery task runs.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from teams import demo as district_demo
from teams.models import StaffMember

from .compile import school_compile
from .models import (
    GRADES,
    Assessment,
    AssessmentResult,
    DashboardReview,
    DashboardSnapshot,
    Enrollment,
    ImportBatch,
    PerformanceLevel,
    Section,
    Student,
    StudentAccessLog,
    Subject,
    Window,
)

SEED = 4626
ELEMENTARY, MIDDLE, HIGH = district_demo.LEVELS
MATH, READING = Subject.MATH, Subject.READING

# When each window is tested: (month, day), and whether that falls in the school year's second
# calendar year.
WINDOW_DATES = {
    Window.FALL: (9, 18),
    Window.WINTER: (1, 22),
    Window.SPRING: (5, 6),
}
WINDOW_ORDER = (Window.FALL, Window.WINTER, Window.SPRING)

# Grade-level norms (RIT, fall mean and fall-to-spring growth), rounded from the shape of
# published MAP Growth norms; reading runs a little below math from grade 2 up.
NORM_GRADES = GRADES[GRADES.index("K") :]
FALL_MEAN = {
    MATH: dict(
        zip(
            NORM_GRADES,
            (140, 161, 175, 188, 199, 207, 212, 217, 221, 223, 226, 228, 229),
            strict=True,
        )
    ),
    READING: dict(
        zip(
            NORM_GRADES,
            (139, 157, 171, 185, 196, 204, 208, 212, 215, 216, 219, 220, 221),
            strict=True,
        )
    ),
}
GROWTH = dict(zip(NORM_GRADES, (17, 17, 14, 12, 10, 9, 7, 6, 5, 4, 3, 3, 2), strict=True))
SPREAD = 14  # standard deviation of a grade's scores, RIT
WINTER_SHARE = 0.6  # share of the year's growth reached by the winter test

# Achievement levels by national percentile; the stored level is the one a result's percentile
# reaches. ``min_score`` holds the grade-5 fall cut, for the admin's reference: the dashboards
# read the level stored with each result.
LEVELS = (
    # rank, label, lowest percentile, proficient
    (1, "Beginning", 0, False),
    (2, "Approaching", 25, False),
    (3, "Meets", 45, True),
    (4, "Exceeds", 80, True),
)

# How far (in standard deviations) a group's scores sit below the rest, before noise.
SUBGROUP_EFFECT = {
    "english_learner": -0.55,
    "special_education": -0.75,
    "economically_disadvantaged": -0.3,
}
SUBGROUP_SHARE = {
    ELEMENTARY: {
        "english_learner": 0.2,
        "special_education": 0.13,
        "economically_disadvantaged": 0.52,
    },
    MIDDLE: {
        "english_learner": 0.14,
        "special_education": 0.12,
        "economically_disadvantaged": 0.48,
    },
    HIGH: {"english_learner": 0.1, "special_education": 0.11, "economically_disadvantaged": 0.42},
}

_FIRST_NAMES = (
    "Aaliyah Abdi Adrián Aiden Aisha Alejandro Amara Amelia Andrés Anh Aria Ava Ayaan Benjamin "
    "Brianna Caleb Camila Carlos Chloe Daniel Darius David Destiny Diego Elena Eli Elijah Emily "
    "Emma Esperanza Ethan Fatima Gabriel Grace Hana Hannah Hassan Imani Isaac Isabella Jacob "
    "Jada Jamal Jasmine Javier Jayden Jonah Jordan Joseph Julia Kai Kayla Keanu Layla Leah Leo "
    "Liam Lily Lucas Luis Madison Malik Marisol Mateo Maya Mei Mia Micah Mohamed Naomi Nathan "
    "Nia Noah Nora Olivia Omar Owen Priya Quinn Rafael Riya Rosa Ryan Samir Samuel Sara Sebastián "
    "Sofía Talia Tariq Thomas Trinity Valentina Victor Wei Xavier Yara Yusuf Zara Zoe"
)
_LAST_NAMES = (
    "Abdullah Acosta Adams Ahmed Alvarez Anderson Baker Banda Brooks Campbell Castillo Chen Clark "
    "Collins Cruz Davis Diaz Dominguez Edwards Evans Flores Foster Garcia Gomez Gonzalez Gray "
    "Green Gutierrez Hall Harris Hernandez Hill Hoang Hughes Ibrahim Jackson James Jimenez "
    "Johnson Jones Kaur Kelly Khan Kim Le Lee Lewis Lopez Martin Martinez Medina Miller Mitchell "
    "Moore Morales Murphy Nguyen Okonkwo Ortiz Park Patel Perez Phillips Price Ramirez Ramos "
    "Reed Reyes Richardson Rivera Roberts Robinson Rodriguez Ross Ruiz Sanchez Santos Scott Shah "
    "Singh Smith Stewart Sullivan Taylor Thomas Thompson Torres Tran Turner Vargas Walker Ward "
    "Washington Watson White Williams Wilson Wright Yang Young"
)
FIRST_NAMES, LAST_NAMES = _FIRST_NAMES.split(), _LAST_NAMES.split()


@dataclass(frozen=True)
class ClassSpec:
    """The classes one teacher teaches: ``periods`` sections of ``subject`` in ``grade``."""

    teacher: str  # staff slot
    subject: str
    grade: str
    name: str
    periods: int = 1
    only: str = ""  # a subgroup flag: the class takes only the grade's students who have it


def _elementary_classes():
    classes = []
    for grade in ("K", "1", "2", "3", "4", "5"):
        label = "Kindergarten" if grade == "K" else f"Grade {grade}"
        for homeroom in ("a", "b"):
            slot = f"es-{grade.lower()}-{homeroom}"
            for subject, course in ((MATH, "Math"), (READING, "Reading")):
                name = f"{label} {course} ({homeroom.upper()})"
                classes.append(ClassSpec(slot, subject, grade, name))
    return classes


CLASSES = {
    ELEMENTARY: _elementary_classes(),
    MIDDLE: [
        ClassSpec("leader", MATH, "6", "Math 6", periods=3),
        ClassSpec("teacher", READING, "6", "ELA 6", periods=3),
        ClassSpec("ms-7-math", MATH, "7", "Math 7", periods=3),
        ClassSpec("ms-7-ela", READING, "7", "ELA 7", periods=3),
        ClassSpec("ms-8-math", MATH, "8", "Math 8", periods=3),
        ClassSpec("ms-8-ela", READING, "8", "ELA 8", periods=3),
        ClassSpec("ms-sped-a", READING, "6", "Reading Support 6", only="special_education"),
        ClassSpec("ms-sped-b", MATH, "7", "Math Support 7", only="special_education"),
        # No MAP test in these subjects: their pages say there are no compiled results.
        ClassSpec("ms-6-sci", Subject.SCIENCE, "6", "Science 6", periods=3),
        ClassSpec("ms-6-ss", Subject.OTHER, "6", "Social Studies 6", periods=3),
        ClassSpec("ms-7-sci", Subject.SCIENCE, "7", "Science 7", periods=3),
        ClassSpec("ms-7-ss", Subject.OTHER, "7", "Social Studies 7", periods=3),
    ],
    HIGH: [
        ClassSpec("hs-math-a", MATH, "9", "Algebra I", periods=2),
        ClassSpec("hs-eng-a", READING, "9", "English 9", periods=2),
        ClassSpec("hs-math-b", MATH, "10", "Geometry", periods=2),
        ClassSpec("hs-eng-b", READING, "10", "English 10", periods=2),
        ClassSpec("hs-math-c", MATH, "11", "Algebra II", periods=2),
        ClassSpec("hs-eng-d", READING, "11", "English 11", periods=2),
        ClassSpec("hs-math-d", MATH, "12", "Precalculus", periods=2),
        ClassSpec("hs-eng-c", READING, "12", "AP English Literature", periods=2),
    ],
}
STUDENTS_PER_GRADE = {ELEMENTARY: 44, MIDDLE: 75, HIGH: 60}
# Classes that fall behind this school year (by section name): their students start the year this
# many standard deviations lower than they were and slip as much again each window, so they show
# up with low proficiency in the fall and as at risk later.
STRUGGLING = {"Grade 4 Math (B)": 0.35, "Math 7 · period 2": 0.4, "English 10 · period 1": 0.3}


def school_year_of(day):
    start = district_demo.school_year_start(day).year
    return f"{start}-{start + 1}"


def tested_on(school_year, window):
    month, day = WINDOW_DATES[window]
    first, second = (int(part) for part in school_year.split("-"))
    return date(first if month >= 8 else second, month, day)


def windows_taken(today):
    """(school year, window) of last school year's three windows and this year's so far."""
    this_year = school_year_of(today)
    first = int(this_year[:4])
    last_year = f"{first - 1}-{first}"
    taken = [(last_year, window) for window in WINDOW_ORDER]
    taken += [(this_year, w) for w in WINDOW_ORDER if tested_on(this_year, w) <= today]
    return taken


def grade_before(grade, years):
    """The grade a student now in ``grade`` was in ``years`` school years ago (None before K)."""
    index = NORM_GRADES.index(grade) - years
    return NORM_GRADES[index] if index >= 0 else None


# NWEA's goal areas for MAP Growth math and reading (the names its files carry), each with how far
# the demo's students run from their overall score in it: every school has one weaker area.
GOAL_AREAS = {
    MATH: (
        ("Operations and Algebraic Thinking", 1),
        ("Number and Operations", 2),
        ("Measurement and Data", -1),
        ("Geometry", -4),
    ),
    READING: (
        ("Literary Text: Language, Craft, and Structure", 1),
        ("Informational Text: Key Ideas and Details", -3),
        ("Vocabulary: Acquisition and Use", 2),
    ),
}
GOAL_ADJECTIVES = ((80, "High"), (60, "HiAvg"), (40, "Avg"), (20, "LoAvg"), (0, "Low"))


def typical_growth(grade, window, z):
    """The growth a MAP file states for a start test: the grade's norm for each span that starts
    in ``window``, a little more for students who start low and less for those who start high
    (as NWEA's conditional growth norms have it), in whole RIT points."""
    year = GROWTH[grade]
    next_year = GROWTH[NORM_GRADES[min(NORM_GRADES.index(grade) + 1, len(NORM_GRADES) - 1)]]
    spans = {
        Window.FALL: {
            "typical_fall_to_winter": year * WINTER_SHARE,
            "typical_fall_to_spring": year,
            "typical_fall_to_fall": (year + next_year) / 2,
        },
        Window.WINTER: {"typical_winter_to_spring": year * (1 - WINTER_SHARE)},
        Window.SPRING: {"typical_spring_to_spring": next_year},
    }[window]
    lean = 1 - 0.12 * max(-2, min(2, z))
    return {name: Decimal(max(1, round(value * lean))) for name, value in spans.items()}


def percentile_of(z):
    return max(1, min(99, round(50 * (1 + math.erf(z / math.sqrt(2))))))


def level_for(percentile):
    return max(rank for rank, _, lowest, _ in LEVELS if percentile >= lowest)


class StudentDataBuilder:
    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = random.Random(SEED)
        # Goal scores draw from their own generator, so adding them left every score as it was.
        self.goal_rng = random.Random(SEED + 1)
        self.next_id = 260001

    def run(self):
        periods = windows_taken(self.ctx.today)
        assessments = self.create_assessments(periods)
        for level in district_demo.LEVELS:
            school = self.ctx.schools[level]
            students, ability = self.create_students(level, school)
            struggling = self.create_classes(level, school, students)
            self.create_results(students, ability, struggling, periods, assessments)
        for school in self.ctx.schools.values():
            school_compile(school=school)
        self.date_snapshots(periods)
        self.record_past_review()

    def date_snapshots(self, periods):
        """Each window's snapshots as compiled a few days after its test (never later than now),
        as the nightly compile would have done over the past year."""
        now = timezone.now()
        for school_year, window in periods:
            compiled = timezone.make_aware(
                datetime.combine(tested_on(school_year, window) + timedelta(days=9), time(2, 15))
            )
            DashboardSnapshot.objects.filter(
                school__district=self.ctx.district, school_year=school_year, window=window
            ).update(compiled_at=min(compiled, now))

    def create_assessments(self, periods):
        assessments = {}
        for school_year, window in periods:
            for subject, name in ((MATH, "MAP Growth Math"), (READING, "MAP Growth Reading")):
                assessment = Assessment.objects.create(
                    district=self.ctx.district,
                    name=name,
                    subject=subject,
                    school_year=school_year,
                    window=window,
                    administered_on=tested_on(school_year, window),
                    scale="RIT",
                )
                mean = FALL_MEAN[subject]["5"]
                PerformanceLevel.objects.bulk_create(
                    PerformanceLevel(
                        assessment=assessment,
                        rank=rank,
                        label=label,
                        min_score=Decimal(round(mean + SPREAD * _z_of_percentile(lowest))),
                        is_proficient=proficient,
                    )
                    for rank, label, lowest, proficient in LEVELS
                )
                assessments[subject, school_year, window] = assessment
        return assessments

    def create_students(self, level, school):
        shares = SUBGROUP_SHARE[level]
        rows, ability = [], {}
        grades = GRADES[GRADES.index(school.lowest_grade) : GRADES.index(school.highest_grade) + 1]
        for grade in grades:
            for _ in range(STUDENTS_PER_GRADE[level]):
                flags = {group: self.rng.random() < share for group, share in shares.items()}
                student = Student(
                    district=self.ctx.district,
                    school=school,
                    local_id=str(self.next_id),
                    first_name=self.rng.choice(FIRST_NAMES),
                    last_name=self.rng.choice(LAST_NAMES),
                    grade=grade,
                    gender="X" if self.rng.random() < 0.01 else self.rng.choice("FM"),
                    **flags,
                )
                self.next_id += 1
                rows.append(student)
                base = self.rng.gauss(0, 0.85)
                base += sum(SUBGROUP_EFFECT[g] for g, flagged in flags.items() if flagged)
                ability[student.local_id] = base
        students = Student.objects.bulk_create(rows)
        if students[0].pk is None:  # backends that return no ids from bulk_create
            students = list(Student.objects.filter(school=school).order_by("local_id"))
        return students, ability

    def create_classes(self, level, school, students):
        """Sections and enrollments; returns {student local id: slip per window} for students in
        a struggling class, by subject."""
        by_grade = {}
        for student in students:
            by_grade.setdefault(student.grade, []).append(student)
        staff = {
            slot: StaffMember.objects.get(pk=self.ctx.staff[slot].pk)
            for slot in {spec.teacher for spec in CLASSES[level]}
        }
        term = school_year_of(self.ctx.today)
        enrollments, struggling = [], {}
        for spec in CLASSES[level]:
            grade_students = by_grade.get(spec.grade, [])
            if spec.only:
                groups = [[s for s in grade_students if getattr(s, spec.only)]]
                names = [spec.name]
            elif level == ELEMENTARY:
                # Two homerooms per grade: each teacher teaches math and reading to the same half.
                half = len(grade_students) // 2
                index = spec.teacher.rsplit("-", 1)[1]
                groups = [grade_students[:half] if index == "a" else grade_students[half:]]
                names = [spec.name]
            else:
                shuffled = grade_students[:]
                self.rng.shuffle(shuffled)
                groups = [shuffled[n :: spec.periods] for n in range(spec.periods)]
                names = [f"{spec.name} · period {n + 1}" for n in range(spec.periods)]
            for name, group in zip(names, groups, strict=True):
                section = Section.objects.create(
                    school=school,
                    teacher=staff[spec.teacher],
                    source_id=f"{school.slug}-{term}-{name}".lower().replace(" ", "-"),
                    name=name,
                    subject=spec.subject,
                    grade=spec.grade,
                    term=term,
                )
                enrollments += [Enrollment(section=section, student=s) for s in group]
                if name in STRUGGLING:
                    for student in group:
                        struggling[spec.subject, student.local_id] = STRUGGLING[name]
        Enrollment.objects.bulk_create(enrollments)
        return struggling

    def create_results(self, students, ability, struggling, periods, assessments):
        this_year = school_year_of(self.ctx.today)
        rows = []
        for student in students:
            base = ability[student.local_id]
            for subject in (MATH, READING):
                talent = base + self.rng.gauss(0, 0.35)
                pace = self.rng.gauss(1.0, 0.25)
                for school_year, window in periods:
                    years_ago = 0 if school_year == this_year else 1
                    grade = grade_before(student.grade, years_ago)
                    if grade is None or self.rng.random() < 0.04:  # not enrolled yet, or absent
                        continue
                    step = WINDOW_ORDER.index(window)
                    growth = GROWTH[grade] * (0, WINTER_SHARE, 1)[step]
                    norm = FALL_MEAN[subject][grade] + growth
                    slip = struggling.get((subject, student.local_id), 0) if not years_ago else 0
                    z = talent - slip * (1 + step) + self.rng.gauss(0, 0.2)
                    score = norm + SPREAD * z + GROWTH[grade] * (pace - 1) * step / 2
                    percentile = percentile_of((score - norm) / SPREAD)
                    goals = [
                        {
                            "name": name,
                            "rit": round(score + lean + self.goal_rng.gauss(0, 3)),
                            "adjective": next(
                                word for cut, word in GOAL_ADJECTIVES if percentile >= cut
                            ),
                        }
                        for name, lean in GOAL_AREAS[subject]
                    ]
                    rows.append(
                        AssessmentResult(
                            assessment=assessments[subject, school_year, window],
                            student=student,
                            school_id=student.school_id,
                            grade=grade,
                            score=Decimal(round(score)),
                            percentile=percentile,
                            level_rank=level_for(percentile),
                            standard_error=Decimal("3.2") + Decimal(self.rng.randint(0, 6)) / 10,
                            tested_on=tested_on(school_year, window),
                            goals=goals,
                            **typical_growth(grade, window, (score - norm) / SPREAD),
                        )
                    )
        AssessmentResult.objects.bulk_create(rows, batch_size=2000)

    def record_past_review(self):
        """The middle-school principal reviewed each of last year's school results three weeks
        after they came in, with a note on spring math: the review list then shows last year's
        snapshots as seen and this year's as new."""
        middle = self.ctx.schools[MIDDLE]
        last_year = DashboardSnapshot.objects.filter(
            school=middle, scope=DashboardSnapshot.Scope.SCHOOL, is_current=True
        ).exclude(school_year=school_year_of(self.ctx.today))
        for snapshot in last_year:
            comment = ""
            if (snapshot.subject, snapshot.window) == (MATH, Window.SPRING):
                comment = (
                    "Spring math held steady overall; the English-learner gap is still the "
                    "widest. Bring to the ILT with the fall data."
                )
            review = DashboardReview.objects.create(
                snapshot=snapshot, reviewer=self.ctx.principal_user(MIDDLE), comment=comment
            )
            reviewed = min(snapshot.compiled_at + timedelta(days=21), timezone.now())
            DashboardReview.objects.filter(pk=review.pk).update(reviewed_at=reviewed)


def _z_of_percentile(percentile):
    """Inverse of ``percentile_of`` by bisection (the levels' nominal cut scores only)."""
    if percentile <= 0:
        return -3.0
    low, high = -4.0, 4.0
    for _ in range(40):
        middle = (low + high) / 2
        if 50 * (1 + math.erf(middle / math.sqrt(2))) < percentile:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def build_student_data(ctx):
    StudentDataBuilder(ctx).run()


def clear_student_data(district):
    StudentAccessLog.objects.filter(school__district=district).delete()
    DashboardSnapshot.objects.filter(school__district=district).delete()  # and their reviews
    Enrollment.objects.filter(section__school__district=district).delete()
    Section.objects.filter(school__district=district).delete()
    AssessmentResult.objects.filter(student__district=district).delete()
    Assessment.objects.filter(district=district).delete()  # and their levels
    Student.objects.filter(district=district).delete()
    ImportBatch.objects.filter(district=district).delete()


def report(district):
    students = Student.objects.filter(district=district)
    results = AssessmentResult.objects.filter(student__district=district)
    windows = (
        Assessment.objects.filter(district=district)
        .values("school_year", "window")
        .annotate(n=Count("pk"))
        .count()
    )
    snapshots = DashboardSnapshot.objects.filter(school__district=district, is_current=True)
    return [
        f"{students.count()} students · {Section.objects.filter(school__district=district).count()}"
        f" classes · {results.count()} MAP results over {windows} windows · "
        f"{snapshots.count()} dashboard snapshots"
    ]


district_demo.BUILD_STEPS.append(build_student_data)
district_demo.CLEAR_STEPS.insert(0, clear_student_data)
district_demo.REPORT_STEPS.append(report)
