"""Journeys 4 and 5 in a real browser: a coach filters a school's progress dashboard and drills
into a grade and a class; the principal reviews a new snapshot and sends the finding to a team.

The school (``harbor``) has twenty students, math and reading results in fall and winter, and
three math classes. Its table, from which every number the test reads is worked out:

    student          grade class  EL SPED ED   math fall winter   reading fall winter
    Ava Brooks       3     12     x       x         185   192             180   188
    Leo Castro       3     12             x         198   204             195   199
    Mia Dawson       3     12                       205   212             210   214
    Noah Evans       3     12        x    x         178   176             182   180
    Zoe Foster       3     12                       216   221             219   224
    Eli Garcia       3     14     x       x         190   188             186   192
    Ivy Harper       3     14                       208   215             203   207
    Jay Ito          3     14             x         196   201             200   205
    Kai Jensen       3     14                       212   210             214   218
    Lia Kowalski     3     14     x                 199   206             190   197
    Max Lopez        4     21             x         200   197             205   203
    Nia Moreau       4     21                       220   226             222   225
    Owen Novak       4     21        x              189   194             192   190
    Pia Ortiz        4     21     x       x         194   192             188   195
    Raj Patel        4     21                       214   219             211   216
    Sam Quinn        4     21             x         203   208             199   206
    Tess Reyes       4     21                       209   207             213   211
    Uma Singh        4     21        x    x         186   191             184   189
    Vic Tanaka       4     21             x         211   217             207   212
    Wes Udall        4     21     x                 197   203             201   200

Cut scores (both subjects, both windows): Below ≥ 0, Approaching ≥ 190, Meets ≥ 200, Exceeds
≥ 215; Meets and Exceeds are proficient. Classes 12 and 14 are grade 3 math, 21 grade 4 math.
"""

import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from data_tracking.compile import school_compile
from data_tracking.models import (
    AssessmentResult,
    DashboardReview,
    StudentAccessLog,
    Subject,
    Window,
)
from teams.models import ActionItem, Assignment, LeadershipTeam, TeamRole
from tests.browser.pages import sign_in
from tests.data_tracking.factories import (
    AssessmentFactory,
    AssessmentResultFactory,
    EnrollmentFactory,
    SectionFactory,
    StudentFactory,
    levels_for,
)
from tests.teams.factories import (
    DistrictFactory,
    LeadershipTeamFactory,
    MeetingFactory,
    SchoolFactory,
    TeamMembershipFactory,
    staff_at,
)

pytestmark = pytest.mark.browser

Position = Assignment.Position
YEAR = "2026-2027"
CUTS = [("Below", 0), ("Approaching", 190), ("Meets", 200), ("Exceeds", 215)]
# The assessments behind the table's four score columns.
RESULT_COLUMNS = [
    (s, w) for s in (Subject.MATH, Subject.READING) for w in (Window.FALL, Window.WINTER)
]
# room: (grade, teacher's first and last name) of the three math classes.
CLASSES = {"12": ("3", "Ana", "Ruiz"), "14": ("3", "Ben", "Cho"), "21": ("4", "Dee", "Park")}
ADMINISTERED = {Window.FALL: datetime.date(2026, 9, 15), Window.WINTER: datetime.date(2027, 1, 20)}

# name: (grade, class room, english_learner, special_education, economically_disadvantaged,
# math fall, math winter, reading fall, reading winter)
STUDENTS = {
    "Ava Brooks": ("3", "12", True, False, True, 185, 192, 180, 188),
    "Leo Castro": ("3", "12", False, False, True, 198, 204, 195, 199),
    "Mia Dawson": ("3", "12", False, False, False, 205, 212, 210, 214),
    "Noah Evans": ("3", "12", False, True, True, 178, 176, 182, 180),
    "Zoe Foster": ("3", "12", False, False, False, 216, 221, 219, 224),
    "Eli Garcia": ("3", "14", True, False, True, 190, 188, 186, 192),
    "Ivy Harper": ("3", "14", False, False, False, 208, 215, 203, 207),
    "Jay Ito": ("3", "14", False, False, True, 196, 201, 200, 205),
    "Kai Jensen": ("3", "14", False, False, False, 212, 210, 214, 218),
    "Lia Kowalski": ("3", "14", True, False, False, 199, 206, 190, 197),
    "Max Lopez": ("4", "21", False, False, True, 200, 197, 205, 203),
    "Nia Moreau": ("4", "21", False, False, False, 220, 226, 222, 225),
    "Owen Novak": ("4", "21", False, True, False, 189, 194, 192, 190),
    "Pia Ortiz": ("4", "21", True, False, True, 194, 192, 188, 195),
    "Raj Patel": ("4", "21", False, False, False, 214, 219, 211, 216),
    "Sam Quinn": ("4", "21", False, False, True, 203, 208, 199, 206),
    "Tess Reyes": ("4", "21", False, False, False, 209, 207, 213, 211),
    "Uma Singh": ("4", "21", False, True, True, 186, 191, 184, 189),
    "Vic Tanaka": ("4", "21", False, False, True, 211, 217, 207, 212),
    "Wes Udall": ("4", "21", True, False, False, 197, 203, 201, 200),
}


def level_rank(score):
    """The level an import would store with the result (the highest cut the score reaches)."""
    return max(rank for rank, (_, cut) in enumerate(CUTS, start=1) if score >= cut)


@pytest.fixture
def harbor(transactional_db):
    """The school of the table above, compiled, with a principal, a coach and two teams."""
    district = DistrictFactory(name="Bayview District", slug="bayview")
    school = SchoolFactory(district=district, name="Harbor Elementary", slug="harbor")
    # Another school of the district that the coach does not serve.
    SchoolFactory(district=district, name="Inlet Elementary", slug="inlet")
    principal = staff_at(
        school, Position.PRINCIPAL, username="paula", first_name="Paula", last_name="Prince"
    )
    coach = staff_at(school, Position.COACH, username="cora", first_name="Cora", last_name="Cole")
    teachers = {
        room: staff_at(
            school, Position.TEACHER, username=first.lower(), first_name=first, last_name=last
        )
        for room, (_, first, last) in CLASSES.items()
    }
    LeadershipTeamFactory(school=school, name="Instructional Leadership Team")
    grade_3_team = LeadershipTeamFactory(
        school=school, name="Grade 3 team", kind=LeadershipTeam.Kind.GRADE_LEVEL
    )
    TeamMembershipFactory(team=grade_3_team, staff=teachers["12"], role=TeamRole.TEAM_LEAD)
    # The team meets in three days: a finding sent to it lands on that agenda.
    next_meeting = MeetingFactory(
        team=grade_3_team,
        starts_at=timezone.now().replace(hour=15, minute=30) + datetime.timedelta(days=3),
    )

    sections = {
        room: SectionFactory(
            school=school,
            teacher=teacher,
            source_id=f"math-{room}",
            name=f"Math {CLASSES[room][0]} · Room {room}",
            subject=Subject.MATH,
            grade=CLASSES[room][0],
            term=YEAR,
        )
        for room, teacher in teachers.items()
    }
    assessments = {}
    for subject, name in ((Subject.MATH, "MAP Growth Math"), (Subject.READING, "MAP Reading")):
        for window in (Window.FALL, Window.WINTER):
            assessment = AssessmentFactory(
                district=district,
                name=name,
                subject=subject,
                school_year=YEAR,
                window=window,
                administered_on=ADMINISTERED[window],
                scale="RIT",
            )
            levels_for(assessment, *CUTS, proficient_from=3)
            assessments[subject, window] = assessment
    students = {}
    for number, (name, (grade, room, el, sped, ed, *scores)) in enumerate(STUDENTS.items(), 1):
        first, last = name.split()
        student = StudentFactory(
            school=school,
            local_id=f"H{number:04d}",
            first_name=first,
            last_name=last,
            grade=grade,
            english_learner=el,
            special_education=sped,
            economically_disadvantaged=ed,
        )
        students[name] = student
        EnrollmentFactory(section=sections[room], student=student)
        for key, score in zip(RESULT_COLUMNS, scores, strict=True):
            AssessmentResultFactory(
                assessment=assessments[key],
                student=student,
                score=Decimal(score),
                level_rank=level_rank(score),
            )
    school_compile(school=school)
    return SimpleNamespace(
        school=school,
        principal=principal.user,
        coach=coach.user,
        grade_3_team=grade_3_team,
        next_meeting=next_meeting,
        sections=sections,
        assessments=assessments,
        students=students,
    )


def headline(page, label):
    """The number under one of the page's headline labels (a <dt>/<dd> pair)."""
    exactly = re.compile(rf"^{re.escape(label)}$")
    term = page.get_by_role("main").get_by_role("term").filter(has_text=exactly)
    return term.locator("xpath=following-sibling::dd")


def row(table, text):
    return table.get_by_role("row").filter(has_text=text)


def show(page, **query):
    """Submit the dashboard filters and wait for the page they ask for."""
    page.get_by_role("form", name="Dashboard filters").get_by_role("button", name="Show").click()
    for name, value in query.items():
        expect(page).to_have_url(re.compile(rf"[?&]{name}={re.escape(value)}(&|$)"))


def wait_for_charts(page, count):
    """Wait until Chart.js has drawn ``count`` charts (each beside a table of its numbers) and
    their opening animation has ended, so a screenshot shows the final bars and lines."""
    page.wait_for_function(
        """count => {
            if (typeof Chart === "undefined") return false;
            const charts = [...document.querySelectorAll("canvas[data-chart]")]
                .map((canvas) => Chart.getChart(canvas))
                .filter(Boolean);
            return charts.length === count && !charts.some((c) => Chart.animator.running(c));
        }""",
        arg=count,
    )


def test_coach_filters_the_school_dashboard_and_drills_into_a_class(
    page, live_server, harbor, shot
):
    errors = []
    page.on("pageerror", lambda error: errors.append(error))

    # The coach finds the school they serve on their home page.
    sign_in(page, live_server.url, harbor.coach, "Cora")
    coached = page.get_by_role("region", name="Schools you coach")
    expect(coached.get_by_role("listitem")).to_have_count(1)  # not Inlet Elementary
    expect(coached).to_contain_text("Harbor Elementary")
    coached.get_by_role("link", name="Student progress").click()

    # The whole school, math, the latest window.
    expect(page.get_by_role("heading", name="Student progress", exact=True)).to_be_visible()
    filters = page.get_by_role("form", name="Dashboard filters")
    subject = filters.get_by_label("Subject")
    grade = filters.get_by_label("Grade", exact=True)
    subgroup = filters.get_by_label("Subgroup", exact=True)
    expect(subject).to_have_value("math")
    expect(filters.get_by_label("Window")).to_have_value(f"{YEAR}:winter")
    expect(grade).to_have_value("")
    expect(headline(page, "Students tested")).to_have_text("20")
    # (192+204+212+176+221+188+215+201+210+206 + 197+226+194+192+219+208+207+191+217+203) / 20
    expect(headline(page, "Mean score")).to_have_text("204.0")
    expect(headline(page, "Proficient")).to_have_text("65.0%")
    by_grade = page.get_by_role("table", name=re.compile("^Results by grade"))
    # Grade 3: 2025 / 10, 7 at Meets or above; at risk (below Meets and falling): Noah, Eli.
    expect(row(by_grade, "Grade 3").get_by_role("cell")).to_have_text(["10", "202.5", "70.0%", "2"])
    # Grade 4: 2054 / 10; at risk: Max, Pia.
    expect(row(by_grade, "Grade 4").get_by_role("cell")).to_have_text(["10", "205.4", "60.0%", "2"])
    # Growth of the same students, fall to winter, with its chart beside the table.
    growth = page.get_by_role("table", name=re.compile("^Students tested at both ends"))
    expect(row(growth, "Fall to winter").get_by_role("cell").first).to_have_text("20")
    wait_for_charts(page, 4)
    shot("1-school-dashboard")

    # Filter by grade: the headline numbers and the trend are grade 3's.
    grade.select_option(label="Grade 3")
    show(page, grade="3")
    expect(page.get_by_role("heading", name="Student progress · grade 3")).to_be_visible()
    expect(headline(page, "Students tested")).to_have_text("10")
    expect(headline(page, "Mean score")).to_have_text("202.5")
    expect(headline(page, "Proficient")).to_have_text("70.0%")
    trend = page.get_by_role("table", name=re.compile("^Mean score, share proficient"))
    expect(trend.get_by_role("row")).to_have_count(3)
    # Fall: 185+198+205+178+216+190+208+196+212+199 = 1987; Zoe, Mia, Ivy, Kai proficient.
    expect(row(trend, "Fall 2026").get_by_role("cell")).to_have_text(
        ["Fall 2026-2027", "10", "198.7", "40.0%", "—"]
    )
    # The fixture's results state no typical growth: the share who met it is not known.
    expect(row(trend, "Winter").get_by_role("cell")).to_have_text(
        ["Winter 2026-2027", "10", "202.5", "70.0%", "— fall to winter"]
    )
    expect(by_grade).to_have_count(0)  # the by-grade table belongs to the whole school

    # Filter by subject: grade 3's reading, the grade kept.
    subject.select_option(label="Reading")
    show(page, subject="reading", grade="3")
    # 188+199+214+180+224+192+207+205+218+197 = 2024; Mia, Zoe, Ivy, Jay, Kai proficient.
    expect(headline(page, "Mean score")).to_have_text("202.4")
    expect(headline(page, "Proficient")).to_have_text("50.0%")
    expect(headline(page, "At risk (below proficient and falling)")).to_have_text("1")  # Noah
    levels = page.get_by_role("table", name="Students at each performance level")
    expect(levels.get_by_role("cell")).to_have_text(
        ["Below", "2", "20.0%", "Approaching", "3", "30.0%", "Meets", "3", "30.0%"]
        + ["Exceeds", "2", "20.0%"]
    )
    expect(grade).to_have_value("3")

    # Highlight a subgroup: its gap row is marked, in words as well as in colour.
    subgroup.select_option(label="Economically disadvantaged")
    show(page, subject="reading", grade="3", subgroup="economically_disadvantaged")
    gaps = page.get_by_role("table", name=re.compile("^Share proficient in each subgroup"))
    disadvantaged = row(gaps, "Economically disadvantaged")
    # Ava, Leo, Noah, Eli, Jay: only Jay reads at Meets; the other five: all but Lia.
    expect(disadvantaged.get_by_role("cell")).to_have_text(
        [
            re.compile(r"^Economically disadvantaged \(5\)\s*Highlighted$"),
            "20.0%",
            "80.0%",
            "-60.0 pts",
        ]
    )
    expect(row(gaps, "English learners")).to_contain_text("too few students")
    expect(gaps.get_by_text("Highlighted")).to_have_count(1)
    expect(subgroup).to_have_value("economically_disadvantaged")
    # The subgroup's own panel: its figures in this window and across windows.
    panel = page.get_by_role("region", name="Economically disadvantaged")
    expect(panel).to_contain_text("5 of 10 students tested.")
    expect(panel).to_contain_text("20.0% proficient, against 80.0% of the other students")
    across = panel.get_by_role("table", name=re.compile("across windows$"))
    expect(row(across, f"Winter {YEAR}").get_by_role("cell")).to_have_text(
        [f"Winter {YEAR}", "5", "20.0%", "80.0%", "-60.0 pts"]
    )
    wait_for_charts(page, 4)
    shot("2-grade-3-reading-highlighted")

    # Back to the whole school's math, then drill into grade 3.
    subject.select_option(label="Mathematics")
    grade.select_option(label="Whole school")
    show(page, subject="math", grade="")
    expect(page.get_by_role("heading", name="Student progress", exact=True)).to_be_visible()
    by_grade.get_by_role("link", name="Grade 3").click()

    expect(
        page.get_by_role("heading", name="Grade 3: Mathematics, winter 2026-2027")
    ).to_be_visible()
    expect(headline(page, "Mean score")).to_have_text("202.5")
    classes = page.get_by_role("table", name="Results by class in grade 3")
    expect(classes.get_by_role("row")).to_have_count(3)
    room_12 = row(classes, "Math 3 · Room 12")
    # Room 12: 192+204+212+176+221 = 1005; Leo, Mia, Zoe proficient; Noah fell below.
    expect(room_12.get_by_role("cell")).to_have_text(["Ana Ruiz", "5", "201.0", "60.0%", "1"])
    # Room 14: 188+215+201+210+206 = 1020; all but Eli proficient; Eli fell below.
    expect(row(classes, "Math 3 · Room 14").get_by_role("cell")).to_have_text(
        ["Ben Cho", "5", "204.0", "80.0%", "1"]
    )
    grade_students = page.get_by_role("table", name=re.compile("^Grade 3 students"))
    expect(grade_students.get_by_role("rowheader")).to_have_count(10)
    expect(grade_students.get_by_role("rowheader").first).to_have_text("Evans, Noah")
    shot("3-grade-3")

    # Drill into a class: its students, lowest score first, with their change since fall.
    room_12.get_by_role("link", name="Math 3 · Room 12").click()
    expect(page.get_by_role("heading", name="Math 3 · Room 12")).to_be_visible()
    expect(page.get_by_text("Ana Ruiz · Mathematics · grade 3 · Harbor Elementary")).to_be_visible()
    expect(headline(page, "Mean score")).to_have_text("201.0")
    across = page.get_by_role("table", name="This class across windows")
    expect(row(across, "Fall").get_by_role("cell")).to_have_text(
        ["Fall 2026-2027", "5", "196.4", "40.0%"]
    )
    students = page.get_by_role("table", name=re.compile("^Students of this class"))
    expect(students.get_by_role("rowheader")).to_have_text(
        ["Evans, Noah", "Brooks, Ava", "Castro, Leo", "Dawson, Mia", "Foster, Zoe"]
    )
    # ID, score, level, previous window, change, flags.
    expect(row(students, "Evans, Noah").get_by_role("cell")).to_have_text(
        ["H0004", "176", "Below", "178", "-2", "SPED ED"]
    )
    expect(row(students, "Foster, Zoe").get_by_role("cell")).to_have_text(
        ["H0005", "221", "Exceeds", "216", "5", ""]
    )
    shot("4-class")

    assert not errors, errors
    # Both student lists the coach opened are in the school's access log.
    logged = StudentAccessLog.objects.filter(user=harbor.coach, school=harbor.school)
    assert logged.count() == 2
    assert len(logged.get(path__contains="/sections/").student_ids) == 5


COMMENT = (
    "Math is up 3.5 points since fall, but only 40% of economically disadvantaged students are "
    "proficient against 90% of the rest. Grade 3 has two students who fell below Meets."
)
ACTION = "Plan small-group reteaching for the grade 3 students who fell since fall"


def test_principal_reviews_a_new_snapshot_and_sends_the_finding_to_a_team(
    page, live_server, harbor, shot
):
    school, team = harbor.school, harbor.grade_3_team

    # Every school snapshot is new: the principal has never reviewed one.
    sign_in(page, live_server.url, harbor.principal, "Paula")
    page.get_by_role("link", name="Review dashboards").click()
    expect(page.get_by_role("heading", name="Dashboards to review")).to_be_visible()
    snapshots = page.get_by_role("table", name="Current school snapshots, new ones first")
    expect(snapshots.get_by_role("row")).to_have_count(5)  # header + 2 subjects × 2 windows
    expect(snapshots.get_by_text("New", exact=True)).to_have_count(4)
    math_winter = row(snapshots, "Mathematics, winter 2026-2027")
    expect(math_winter.get_by_text("New", exact=True)).to_be_visible()
    expect(math_winter.get_by_role("cell").nth(3)).to_have_text("never")
    shot("5-review-list")

    # Review it: the headline numbers and the gaps, then a comment and a follow-up for a team.
    # The link names the year and the school too: last year's snapshots, and the other school of
    # an assistant principal who serves two, share the list.
    math_winter.get_by_role(
        "link", name="Review Mathematics, winter 2026-2027, Harbor Elementary"
    ).click()
    expect(
        page.get_by_role("heading", name="Harbor Elementary: Mathematics, winter 2026-2027")
    ).to_be_visible()
    expect(headline(page, "Students tested")).to_have_text("20")
    expect(headline(page, "Mean score")).to_have_text("204.0")
    gaps = page.get_by_role("table", name="Share proficient by subgroup")
    expect(row(gaps, "Economically disadvantaged").get_by_role("cell")).to_have_text(
        ["Economically disadvantaged", re.compile(r"^40\.0"), re.compile(r"^90\.0"), "-50.0 pts"]
    )
    due = timezone.localdate() + datetime.timedelta(days=14)
    page.get_by_label("What do you notice?").fill(COMMENT)
    page.get_by_label("Send a follow-up to a team").select_option(label="Grade 3 team")
    page.get_by_label("What should the team do?").fill(ACTION)
    page.get_by_label("By when").fill(due.isoformat())
    shot("6-review-form")
    page.get_by_role("button", name="Save review").click()

    # Back on the list: saved, and this snapshot is no longer new.
    meeting_day = dateformat.format(timezone.localtime(harbor.next_meeting.starts_at), "M j")
    expect(
        page.get_by_text(
            f"Review saved. “{ACTION}” is now an action item of Grade 3 team and on the agenda "
            f"of its meeting on {meeting_day}."
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Dashboards to review")).to_be_visible()
    expect(math_winter.get_by_text("New", exact=True)).to_have_count(0)
    today = dateformat.format(timezone.localtime(), "M j")
    expect(math_winter.get_by_role("cell").nth(3)).to_contain_text(today)
    review = DashboardReview.objects.get(reviewer=harbor.principal)
    assert review.comment == COMMENT
    assert (review.snapshot.subject, review.snapshot.window) == (Subject.MATH, Window.WINTER)
    item = ActionItem.objects.get(team=team)
    assert (item.text, item.due_date, item.created_by) == (ACTION, due, harbor.principal)

    # A corrected winter score arrives and the nightly compile runs: the math winter snapshot
    # is new again, and the list still shows when it was last reviewed.
    noah_winter = AssessmentResult.objects.get(
        student=harbor.students["Noah Evans"],
        assessment=harbor.assessments[Subject.MATH, Window.WINTER],
    )
    noah_winter.score, noah_winter.level_rank = Decimal(186), level_rank(186)
    noah_winter.save()
    assert school_compile(school=school).created > 0
    page.reload()
    expect(math_winter.get_by_text("New", exact=True)).to_be_visible()
    expect(math_winter.get_by_role("cell").nth(3)).to_contain_text(today)
    shot("7-review-list-after-recompile")

    # The team's page carries the action item, linked back to the dashboard it came from.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Build and review teams").click()
    page.get_by_role("link", name="Grade 3 team").click()
    expect(page.get_by_role("heading", name="Grade 3 team", exact=True)).to_be_visible()
    actions = page.get_by_role("region", name=re.compile("^Action items"))
    expect(actions).to_contain_text("1 open")
    entry = actions.get_by_role("listitem").filter(has_text=ACTION)
    expect(entry).to_contain_text(f"due {dateformat.format(due, 'M j')}")
    shot("8-team-action-item")

    # The next meeting's agenda carries the finding, with the snapshot's figures.
    page.get_by_role("list", name="Next meetings").get_by_role("link").first.click()
    topic = (
        page.get_by_role("region", name="Agenda").get_by_role("listitem").filter(has_text=ACTION)
    )
    expect(topic).to_contain_text(COMMENT)
    expect(topic).to_contain_text("Mathematics, winter 2026-2027:")
    expect(topic.get_by_role("link", name="Open the dashboard")).to_be_visible()
    shot("9-finding-on-the-agenda")
    page.go_back()
    entry.get_by_role("link", name="Mathematics, winter 2026-2027 review").click()

    expect(page.get_by_role("heading", name="Student progress", exact=True)).to_be_visible()
    filters = page.get_by_role("form", name="Dashboard filters")
    expect(filters.get_by_label("Subject")).to_have_value("math")
    expect(filters.get_by_label("Window")).to_have_value(f"{YEAR}:winter")
    # Noah's corrected score: (4079 + 10) / 20 = 204.45.
    expect(headline(page, "Mean score")).to_have_text("204.5")
