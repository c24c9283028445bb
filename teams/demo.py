"""The demo district that ``manage.py seed_demo`` loads: three schools, about sixty staff, their
leadership teams, some turnover during the year, and caseloads.

Everything is deterministic (``random.Random(2026)``), so every run builds the same district, and
every write to the leadership structure goes through ``teams.services``, so the demo data obeys the
same rules as the app.

The build is a list of steps (``BUILD_STEPS``), each a function taking the ``DemoDistrict``
context; a later step (observation cycles, students, assessments) is one more function appended
to that list. ``CLEAR_STEPS`` undoes the build in an order that respects the PROTECT foreign keys;
a step that adds rows pointing at staff or schools adds its own clear function at the front.

Other apps keep their steps in their own ``demo`` module and register them there when it is
imported; ``discover_steps`` imports every installed app's ``demo`` module (the way the admin
finds ``admin`` modules), so ``teams`` never imports the apps that build on it.
"""

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from . import services
from .models import (
    ActionItem,
    Assignment,
    Caseload,
    ContentArea,
    Decision,
    District,
    GradeBand,
    LeadershipTeam,
    Meeting,
    School,
    StaffMember,
    TeamMembership,
    TeamRole,
)

SEED = 2026
PASSWORD = "demo"
DISTRICT_NAME = "Riverbend Unified School District"
DISTRICT_SLUG = "riverbend-usd"
EMAIL_DOMAIN = "riverbendusd.example"
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = f"{ADMIN_USERNAME}@{EMAIL_DOMAIN}"
NAMED_USERNAMES = ("principal", "leader", "coach", "teacher", "district")

Level = School.Level
Position = Assignment.Position
Kind = LeadershipTeam.Kind
Role = TeamRole
A = ContentArea
B = GradeBand

ELEMENTARY, MIDDLE, HIGH = Level.ELEMENTARY, Level.MIDDLE, Level.HIGH
LEVELS = (ELEMENTARY, MIDDLE, HIGH)


# --- Schools --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolSpec:
    level: str
    name: str
    slug: str
    lowest_grade: str
    highest_grade: str


SCHOOLS = (
    SchoolSpec(ELEMENTARY, "Willow Creek Elementary School", "willow-creek-elementary", "K", "5"),
    SchoolSpec(MIDDLE, "Cedar Ridge Middle School", "cedar-ridge-middle", "6", "8"),
    SchoolSpec(HIGH, "Riverbend High School", "riverbend-high", "9", "12"),
)


# --- People ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One staff slot. Named sign-ins carry their own name and profile; the others are filled from
    NAMES and EXPERTISE by the seeded random generator."""

    slot: str
    position: str
    schools: tuple  # levels; empty for a district leader
    title: str
    content_areas: tuple
    grade_bands: tuple
    pool: str = ""  # key into EXPERTISE
    first_name: str = ""
    last_name: str = ""
    expertise: str = ""
    years_in_role: int = 0

    @property
    def is_named(self):
        return self.slot in NAMED_USERNAMES


def _staff(level, rows):
    return [
        Person(slot, position, (level,), title, tuple(areas), tuple(bands), pool)
        for slot, position, title, areas, bands, pool in rows
    ]


K2, UE, MS, HS = B.EARLY, B.UPPER_ELEMENTARY, B.MIDDLE, B.HIGH
GEN, ELA, MATH, SCI, SS = A.GENERAL, A.ELA, A.MATH, A.SCIENCE, A.SOCIAL_STUDIES
SPED, EL, ARTS, PE, WL, CTE = (
    A.SPECIAL_EDUCATION,
    A.ENGLISH_LEARNERS,
    A.ARTS,
    A.PE_HEALTH,
    A.WORLD_LANGUAGES,
    A.CTE,
)
T, PR, AP, CO = Position.TEACHER, Position.PRINCIPAL, Position.ASSISTANT_PRINCIPAL, Position.COACH

ELEMENTARY_STAFF = _staff(
    ELEMENTARY,
    [
        # slot, position, title, content areas, grade bands, expertise pool
        ("es-principal", PR, "Principal", [GEN], [K2, UE], "leadership"),
        ("es-coach", CO, "Literacy coach", [ELA, GEN], [K2, UE], "literacy_coach"),
        ("es-k-a", T, "Kindergarten teacher", [GEN], [K2], "early"),
        ("es-k-b", T, "Kindergarten teacher", [GEN], [K2], "early"),
        ("es-1-a", T, "Grade 1 teacher", [GEN, ELA], [K2], "early"),
        ("es-1-b", T, "Grade 1 teacher", [GEN], [K2], "early"),
        ("es-2-a", T, "Grade 2 teacher", [GEN, ELA], [K2], "early"),
        ("es-2-b", T, "Grade 2 teacher", [GEN, MATH], [K2], "early"),
        ("es-3-a", T, "Grade 3 teacher", [GEN], [UE], "upper"),
        ("es-3-b", T, "Grade 3 teacher", [GEN, ELA], [UE], "upper"),
        ("es-4-a", T, "Grade 4 teacher", [GEN, MATH], [UE], "upper"),
        ("es-4-b", T, "Grade 4 teacher", [GEN], [UE], "upper"),
        ("es-5-a", T, "Grade 5 teacher", [GEN, MATH], [UE], "upper"),
        ("es-5-b", T, "Grade 5 teacher", [GEN, ELA], [UE], "upper"),
        ("es-sped", T, "Special education teacher", [SPED], [K2, UE], "sped"),
        ("es-el", T, "English learner teacher", [EL], [K2, UE], "el"),
        ("es-art", T, "Art teacher", [ARTS], [K2, UE], "arts"),
        ("es-pe", T, "PE teacher", [PE], [K2, UE], "pe"),
    ],
)

MIDDLE_STAFF = [
    Person(
        "principal",
        Position.PRINCIPAL,
        (MIDDLE,),
        "Principal",
        (ELA,),
        (MS,),
        first_name="Denise",
        last_name="Okafor",
        expertise="Instructional rounds; master scheduling; MTSS and tiered supports",
        years_in_role=6,
    ),
    Person(
        "coach",
        Position.COACH,
        (MIDDLE, HIGH),
        "Math coach",
        (MATH,),
        (MS, HS),
        first_name="Priya",
        last_name="Raman",
        expertise="Coaching cycles; video-based feedback; algebra readiness",
        years_in_role=8,
    ),
    Person(
        "leader",
        T,
        (MIDDLE,),
        "Grade 6 math teacher",
        (MATH,),
        (MS,),
        first_name="Marcus",
        last_name="Bell",
        expertise="Number talks; math discourse; peer observation",
        years_in_role=11,
    ),
    Person(
        "teacher",
        T,
        (MIDDLE,),
        "Grade 6 ELA teacher",
        (ELA,),
        (MS,),
        first_name="Sofia",
        last_name="Delgado",
        expertise="Independent reading routines; literature circles",
        years_in_role=3,
    ),
    *_staff(
        MIDDLE,
        [
            (
                "ms-ap",
                Position.ASSISTANT_PRINCIPAL,
                "Assistant principal",
                [SCI],
                [MS],
                "leadership",
            ),
            ("ms-6-sci", T, "Grade 6 science teacher", [SCI], [MS], "science"),
            ("ms-6-ss", T, "Grade 6 social studies teacher", [SS], [MS], "social_studies"),
            ("ms-7-ela", T, "Grade 7 ELA teacher", [ELA], [MS], "ela"),
            ("ms-7-math", T, "Grade 7 math teacher", [MATH], [MS], "math"),
            ("ms-7-sci", T, "Grade 7 science teacher", [SCI], [MS], "science"),
            ("ms-7-ss", T, "Grade 7 social studies teacher", [SS], [MS], "social_studies"),
            ("ms-8-ela", T, "Grade 8 ELA teacher", [ELA], [MS], "ela"),
            ("ms-8-math", T, "Grade 8 math teacher", [MATH], [MS], "math"),
            ("ms-8-sci", T, "Grade 8 science teacher", [SCI], [MS], "science"),
            ("ms-8-ss", T, "Grade 8 social studies teacher", [SS], [MS], "social_studies"),
            ("ms-sped-a", T, "Special education teacher", [SPED, ELA], [MS], "sped"),
            ("ms-sped-b", T, "Special education teacher", [SPED, MATH], [MS], "sped"),
            ("ms-el", T, "English learner teacher", [EL, ELA], [MS], "el"),
            ("ms-art", T, "Art teacher", [ARTS], [MS], "arts"),
            ("ms-pe", T, "PE and health teacher", [PE], [MS], "pe"),
        ],
    ),
]

HIGH_STAFF = _staff(
    HIGH,
    [
        ("hs-principal", PR, "Principal", [SS], [HS], "leadership"),
        ("hs-ap", AP, "Assistant principal", [MATH], [HS], "leadership"),
        ("hs-coach", CO, "Literacy coach", [ELA], [HS], "literacy_coach"),
        ("hs-eng-a", T, "English 9 teacher", [ELA], [HS], "ela"),
        ("hs-eng-b", T, "English 10 teacher", [ELA], [HS], "ela"),
        ("hs-eng-c", T, "AP English Literature teacher", [ELA], [HS], "ela"),
        ("hs-eng-d", T, "English 11 teacher", [ELA], [HS], "ela"),
        ("hs-math-a", T, "Algebra I teacher", [MATH], [HS], "math"),
        ("hs-math-b", T, "Geometry teacher", [MATH], [HS], "math"),
        ("hs-math-c", T, "Algebra II teacher", [MATH], [HS], "math"),
        ("hs-math-d", T, "Precalculus and AP Statistics teacher", [MATH], [HS], "math"),
        ("hs-sci-a", T, "Biology teacher", [SCI], [HS], "science"),
        ("hs-sci-b", T, "Chemistry teacher", [SCI], [HS], "science"),
        ("hs-sci-c", T, "Physics teacher", [SCI], [HS], "science"),
        ("hs-sci-d", T, "Environmental science teacher", [SCI], [HS], "science"),
        ("hs-ss-a", T, "World history teacher", [SS], [HS], "social_studies"),
        ("hs-ss-b", T, "U.S. history teacher", [SS], [HS], "social_studies"),
        ("hs-ss-c", T, "Government and economics teacher", [SS], [HS], "social_studies"),
        ("hs-wl", T, "Spanish teacher", [WL], [HS], "world_languages"),
        ("hs-sped", T, "Special education teacher", [SPED], [HS], "sped"),
        ("hs-cte", T, "Engineering and CTE teacher", [CTE, SCI], [HS], "cte"),
        ("hs-pe", T, "PE and health teacher", [PE], [HS], "pe"),
    ],
)

DISTRICT_STAFF = [
    Person(
        "district",
        Position.DISTRICT_LEADER,
        (),
        "Director of school leadership",
        (ELA, MATH),
        (K2, UE, MS, HS),
        first_name="Renee",
        last_name="Castillo",
        expertise="Principal coaching; school improvement planning; data analysis",
        years_in_role=9,
    ),
]

PEOPLE = ELEMENTARY_STAFF + MIDDLE_STAFF + HIGH_STAFF + DISTRICT_STAFF

# Names for the slots without a named sign-in; shuffled by the seeded generator.
_NAMES = """
Miguel Garcia, Aisha Rahman, James O'Connor, Keisha Washington, Wei Chen, Hannah Goldberg,
Carlos Mendoza, Fatima Haddad, Tyler Brooks, Mei Tanaka, Darnell Jackson, Emily Larsen,
Rosa Núñez, Kwame Mensah, Laura Schmidt, Anh Nguyen, Jordan Reyes, Grace Kim, Samuel Adeyemi,
Olivia Martin, Ravi Patel, Jasmine Coleman, Daniel Cohen, Lucía Ramírez, Brian Kowalski,
Tanisha Harris, Hiroshi Sato, Megan Sullivan, Omar Farouk, Claire Dubois, Andre Thompson,
Naomi Begay, Erik Johansson, Yesenia Torres, Kevin Nakamura, Abigail Wright, Tomás Silva,
Danielle Moore, Jamal Robinson, Sarah Friedman, Victor Okonkwo, Linh Tran, Patrick Murphy,
Alejandra Castro, Noah Yazzie, Rebecca Stein, Dwayne Mitchell, Sun-hee Park, Gabriel Ortiz,
Katherine Novak, Imani Carter, Mohammed Ali, Julia Rossi, Tyrone Williams, Deepa Iyer,
Connor Walsh, Elena Petrova, Luis Herrera, Amara Diallo, Benjamin Hall,
"""
NAMES = [tuple(name.split(maxsplit=1)) for name in _NAMES.split(",") if name.strip()]

# Areas of expertise by kind of post, separated by "; "; each person gets two of their pool.
EXPERTISE = {
    "leadership": (
        "instructional rounds; master scheduling; data analysis; assessment design; PLC "
        "facilitation; family engagement; MTSS and tiered supports; restorative practices; "
        "teacher evaluation and feedback"
    ),
    "literacy_coach": (
        "coaching cycles; modeling lessons; video-based feedback; structured literacy; "
        "disciplinary literacy; adult learning design"
    ),
    "early": (
        "guided reading; small-group instruction; phonics and phonemic awareness; running "
        "records; interactive read-alouds; oral language development; decodable text selection; "
        "center rotations; kindergarten entry routines"
    ),
    "upper": (
        "number talks; math discourse; fraction concepts with visual models; writer's workshop; "
        "close reading of informational text; reading conferences; science notebooks; "
        "vocabulary instruction; morning meeting and classroom community"
    ),
    "ela": (
        "argumentative writing; Socratic seminar; text-dependent questions; writing "
        "conferences; annotation strategies; literature circles; vocabulary in context; "
        "independent reading routines"
    ),
    "math": (
        "number talks; math discourse; productive struggle tasks; error analysis; proportional "
        "reasoning; visual models for algebra; spiral review; standards-based grading; data "
        "analysis"
    ),
    "science": (
        "lab safety; claim-evidence-reasoning writing; phenomenon-based units; NGSS "
        "three-dimensional lessons; modeling instruction; graphing and data literacy; "
        "assessment design"
    ),
    "social_studies": (
        "document-based questions; primary source analysis; civic discussion protocols; "
        "historical thinking skills; structured academic controversy; argumentative writing"
    ),
    "sped": (
        "co-teaching; IEP goal writing; progress monitoring; universal design for learning; "
        "behavior intervention plans; executive-function supports; accommodations in "
        "general-education classes"
    ),
    "el": (
        "sheltered instruction (SIOP); academic language frames; newcomer supports; WIDA "
        "language objectives; family outreach in Spanish"
    ),
    "arts": (
        "arts integration; portfolio assessment; student exhibitions; performance critique "
        "protocols"
    ),
    "pe": (
        "fitness goal setting; health curriculum; social-emotional learning through sport; "
        "cooperative games"
    ),
    "world_languages": (
        "comprehensible input; proficiency-based assessment; heritage speaker courses"
    ),
    "cte": (
        "project-based learning; industry certification prep; work-based learning partnerships; "
        "engineering design process"
    ),
}

YEARS_IN_ROLE = {
    Position.PRINCIPAL: (2, 14),
    Position.ASSISTANT_PRINCIPAL: (1, 8),
    Position.COACH: (2, 12),
    Position.TEACHER: (1, 25),
    Position.DISTRICT_LEADER: (3, 15),
}


# --- Teams ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSpec:
    level: str
    kind: str
    name: str
    focus: str
    roles: tuple  # (slot, role), in the order they are assigned


ILT = "Instructional Leadership Team"

TEAMS = (
    # Willow Creek Elementary
    TeamSpec(
        ELEMENTARY,
        Kind.ILT,
        ILT,
        "Every K–5 student reads on grade level by the end of the year, with the share of "
        "students meeting their spring reading goal rising from 58% to 70%. We run tight "
        "observation and feedback cycles on small-group reading instruction and review benchmark "
        "data together after each window.",
        (
            ("es-2-a", Role.TEAM_LEAD),
            ("es-coach", Role.FACILITATOR),
            ("es-4-a", Role.DATA_LEAD),
            ("es-k-b", Role.NOTE_TAKER),
            ("es-5-a", Role.CONTENT_LEAD),
            ("es-1-a", Role.GRADE_LEVEL_LEAD),
            ("es-4-b", Role.GRADE_LEVEL_LEAD),
            ("es-principal", Role.MEMBER),
            ("es-sped", Role.MEMBER),
        ),
    ),
    TeamSpec(
        ELEMENTARY,
        Kind.GRADE_LEVEL,
        "K–2 Team",
        "Build a shared, explicit phonics routine across kindergarten to grade 2 so that no "
        "student leaves grade 2 without decoding multisyllable words. We check running records "
        "every six weeks and regroup students for small-group instruction from the results.",
        (
            ("es-1-a", Role.TEAM_LEAD),
            ("es-k-a", Role.GRADE_LEVEL_LEAD),
            ("es-2-b", Role.GRADE_LEVEL_LEAD),
            ("es-k-b", Role.MEMBER),
            ("es-1-b", Role.MEMBER),
            ("es-2-a", Role.MEMBER),
            ("es-el", Role.MEMBER),
        ),
    ),
    TeamSpec(
        ELEMENTARY,
        Kind.GRADE_LEVEL,
        "3–5 Team",
        "Make daily number talks and fraction work with visual models part of every grade 3–5 "
        "math block. We aim to cut the number of students below benchmark in math by a third "
        "between the fall and spring windows.",
        (
            ("es-4-b", Role.TEAM_LEAD),
            ("es-3-a", Role.GRADE_LEVEL_LEAD),
            ("es-5-a", Role.GRADE_LEVEL_LEAD),
            ("es-3-b", Role.NOTE_TAKER),
            ("es-4-a", Role.MEMBER),
            ("es-5-b", Role.MEMBER),
            ("es-sped", Role.MEMBER),
        ),
    ),
    # Cedar Ridge Middle
    TeamSpec(
        MIDDLE,
        Kind.ILT,
        ILT,
        "Students at Cedar Ridge talk, read and write like mathematicians, scientists and "
        "historians in every class, every day. This year every teacher takes part in at least "
        "three observation–feedback cycles, and we close half the gap in math proficiency "
        "between English learners and their peers.",
        (
            ("ms-8-ela", Role.TEAM_LEAD),
            ("ms-6-sci", Role.FACILITATOR),
            ("ms-7-math", Role.DATA_LEAD),
            ("ms-el", Role.NOTE_TAKER),
            ("coach", Role.CONTENT_LEAD),
            ("leader", Role.GRADE_LEVEL_LEAD),
            ("ms-7-sci", Role.GRADE_LEVEL_LEAD),
            ("ms-8-sci", Role.GRADE_LEVEL_LEAD),
            ("principal", Role.MEMBER),
            ("ms-ap", Role.MEMBER),
        ),
    ),
    TeamSpec(
        MIDDLE,
        Kind.GRADE_LEVEL,
        "Grade 6 Team",
        "Help sixth graders make the jump to middle school: shared routines for homework, "
        "notebooks and discussion in every class by the end of September. We track every "
        "student's attendance and course grades monthly and act within a week on anyone "
        "slipping.",
        (
            ("leader", Role.TEAM_LEAD),
            ("ms-6-ss", Role.NOTE_TAKER),
            ("teacher", Role.MEMBER),
            ("ms-6-sci", Role.MEMBER),
            ("ms-sped-a", Role.MEMBER),
        ),
    ),
    TeamSpec(
        MIDDLE,
        Kind.GRADE_LEVEL,
        "Grade 7 Team",
        "Grow students' academic writing across subjects with one shared claim-evidence-"
        "reasoning frame in ELA, science and social studies. We score a common writing task "
        "each quarter and calibrate together before we score.",
        (
            ("ms-7-sci", Role.TEAM_LEAD),
            ("ms-7-ss", Role.NOTE_TAKER),
            ("ms-7-ela", Role.MEMBER),
            ("ms-7-math", Role.MEMBER),
            ("ms-sped-b", Role.MEMBER),
        ),
    ),
    TeamSpec(
        MIDDLE,
        Kind.GRADE_LEVEL,
        "Grade 8 Team",
        "Get every eighth grader ready for high school, with a plan for each student still "
        "below benchmark in reading or math by winter break. We meet with the Riverbend High "
        "9th-grade team twice a year to hand over what works for each student.",
        (
            ("ms-8-sci", Role.TEAM_LEAD),
            ("ms-8-ss", Role.NOTE_TAKER),
            ("ms-8-ela", Role.MEMBER),
            ("ms-8-math", Role.MEMBER),
            ("ms-el", Role.MEMBER),
        ),
    ),
    TeamSpec(
        MIDDLE,
        Kind.CONTENT,
        "Math PLC",
        "Shift math classes from answer-getting to reasoning: number talks three times a week "
        "and one rich task per unit in grades 6–8. We look at student work from the common task "
        "after every unit and plan the reteach together.",
        (
            ("ms-7-math", Role.TEAM_LEAD),
            ("coach", Role.CONTENT_LEAD),
            ("leader", Role.MEMBER),
            ("ms-8-math", Role.MEMBER),
            ("ms-sped-b", Role.MEMBER),
        ),
    ),
    TeamSpec(
        MIDDLE,
        Kind.CONTENT,
        "ELA PLC",
        "Put more reading of whole, grade-level texts and more writing about them into every "
        "ELA class. We aim for every student to write at least one revised argument essay per "
        "quarter, scored on a shared rubric.",
        (
            ("ms-7-ela", Role.TEAM_LEAD),
            ("ms-8-ela", Role.CONTENT_LEAD),
            ("ms-el", Role.MEMBER),
            ("ms-sped-a", Role.MEMBER),
        ),
    ),
    # Riverbend High
    TeamSpec(
        HIGH,
        Kind.ILT,
        ILT,
        "Raise the on-track rate of ninth graders from 74% to 85% and make rigorous discussion "
        "the norm in every department. The team leads observation cycles in its departments and "
        "reviews course-failure and assessment data after each grading period.",
        (
            ("hs-sci-b", Role.TEAM_LEAD),
            ("hs-coach", Role.FACILITATOR),
            ("hs-math-c", Role.DATA_LEAD),
            ("hs-eng-b", Role.NOTE_TAKER),
            ("hs-ss-b", Role.CONTENT_LEAD),
            ("hs-eng-a", Role.GRADE_LEVEL_LEAD),
            ("hs-principal", Role.MEMBER),
            ("hs-ap", Role.MEMBER),
            ("hs-sped", Role.MEMBER),
            ("hs-cte", Role.MEMBER),
        ),
    ),
    TeamSpec(
        HIGH,
        Kind.GRADE_LEVEL,
        "9th Grade Team",
        "No ninth grader fails a core course without the team knowing and acting first. We "
        "review grades and attendance every two weeks and give each student at risk one adult "
        "who checks in weekly.",
        (
            ("hs-eng-a", Role.TEAM_LEAD),
            ("hs-math-a", Role.DATA_LEAD),
            ("hs-sci-a", Role.NOTE_TAKER),
            ("hs-ss-a", Role.MEMBER),
            ("hs-sped", Role.MEMBER),
            ("hs-pe", Role.MEMBER),
        ),
    ),
    TeamSpec(
        HIGH,
        Kind.CONTENT,
        "Mathematics Department PLC",
        "Every student passes Algebra I by the end of grade 9 and keeps going. We use common "
        "unit assessments, error analysis of student work and retake policies that reward "
        "relearning.",
        (
            ("hs-math-b", Role.TEAM_LEAD),
            ("coach", Role.CONTENT_LEAD),
            ("hs-math-a", Role.MEMBER),
            ("hs-math-c", Role.MEMBER),
            ("hs-math-d", Role.MEMBER),
        ),
    ),
    TeamSpec(
        HIGH,
        Kind.CONTENT,
        "Science Department PLC",
        "Students explain real phenomena with evidence in every science course, using "
        "claim-evidence-reasoning writing in each lab report. We calibrate lab report scoring "
        "each quarter and track growth on the district science benchmark.",
        (
            ("hs-sci-c", Role.TEAM_LEAD),
            ("hs-sci-d", Role.DATA_LEAD),
            ("hs-sci-a", Role.MEMBER),
            ("hs-sci-b", Role.MEMBER),
            ("hs-cte", Role.MEMBER),
        ),
    ),
    TeamSpec(
        HIGH,
        Kind.CONTENT,
        "English Department PLC",
        "Students read more, and more complex, texts and write arguments that use them as "
        "evidence. We run Socratic seminars in every English course each month and score a "
        "shared argument-writing task in fall and spring.",
        (
            ("hs-eng-c", Role.TEAM_LEAD),
            ("hs-coach", Role.CONTENT_LEAD),
            ("hs-eng-d", Role.NOTE_TAKER),
            ("hs-eng-a", Role.MEMBER),
            ("hs-eng-b", Role.MEMBER),
        ),
    ),
)


@dataclass(frozen=True)
class Handover:
    """A role that changed hands during the year: the outgoing person's role ends on ``ends``
    (month, day) and the incoming person takes it the next day. If the incoming person already
    held another role on the team, that role ends the same day; if ``outgoing_stays``, the
    outgoing person stays on the team as a member."""

    level: str
    team: str
    role: str
    outgoing: str
    incoming: str
    ends: tuple
    outgoing_stays: bool = False


HANDOVERS = (
    Handover(ELEMENTARY, ILT, Role.DATA_LEAD, "es-4-a", "es-5-b", (10, 17)),
    Handover(MIDDLE, ILT, Role.DATA_LEAD, "ms-7-math", "ms-8-math", (10, 10)),
    Handover(MIDDLE, "Grade 8 Team", Role.NOTE_TAKER, "ms-8-ss", "ms-el", (10, 24), True),
    Handover(HIGH, ILT, Role.NOTE_TAKER, "hs-eng-b", "hs-ss-c", (10, 3)),
    Handover(
        HIGH, "Science Department PLC", Role.DATA_LEAD, "hs-sci-d", "hs-sci-a", (10, 31), True
    ),
)

# Caseloads fixed for the journeys; every other team lead and coach gets 3-5 teachers by lot.
FIXED_CASELOADS = {
    (MIDDLE, "leader"): ("teacher", "ms-6-sci", "ms-6-ss", "ms-sped-a"),
}
# Developed only by the people FIXED_CASELOADS names, so the journeys stay easy to follow.
RESERVED_TEACHERS = {"teacher"}


# --- The build ------------------------------------------------------------------------------------


def school_year_start(today):
    """Aug 1 of the current school year."""
    year = today.year if today >= date(today.year, 8, 1) else today.year - 1
    return date(year, 8, 1)


@dataclass
class DemoDistrict:
    """What the build has created so far; each step reads it and adds to it."""

    today: date
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    district: District | None = None
    schools: dict = field(default_factory=dict)  # level -> School
    staff: dict = field(default_factory=dict)  # slot -> StaffMember
    people: dict = field(default_factory=dict)  # slot -> Person
    teams: dict = field(default_factory=dict)  # (level, name) -> LeadershipTeam
    admin: object = None  # the superuser, or None if an account called "admin" already existed

    @property
    def year_start(self):
        return school_year_start(self.today)

    def on_or_before_today(self, month, day):
        """A date this school year, never later than today (the demo may run in August)."""
        year = self.year_start.year + (0 if month >= 8 else 1)
        return max(self.year_start, min(date(year, month, day), self.today))

    @property
    def teams_start(self):
        return self.on_or_before_today(8, 15)

    @property
    def caseloads_start(self):
        return self.on_or_before_today(9, 2)

    @property
    def named(self):
        """The five sign-ins' StaffMember, by username."""
        return {username: self.staff[username] for username in NAMED_USERNAMES}

    def principal_user(self, level):
        return self.staff[principal_slot(level)].user

    def slots_at(self, level, position=None):
        return [
            person.slot
            for person in PEOPLE
            if level in person.schools and (position is None or person.position == position)
        ]


def principal_slot(level):
    return next(p.slot for p in PEOPLE if level in p.schools and p.position == Position.PRINCIPAL)


def username_for(first_name, last_name, taken):
    """``mgarcia``; ``migarcia``, ``mgarcia2`` … on a clash."""

    def ascii_letters(text):
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return "".join(ch for ch in folded.lower() if ch.isalpha())

    first, last = ascii_letters(first_name), ascii_letters(last_name)
    candidates = [first[:n] + last for n in range(1, len(first) + 1)]
    candidates += [f"{first[0]}{last}{n}" for n in range(2, 100)]
    username = next(c for c in candidates if c not in taken)
    taken.add(username)
    return username


def people_with_names(rng):
    """(person, first name, last name, username) for every slot, names drawn from NAMES."""
    unnamed = [p for p in PEOPLE if not p.is_named]
    if len(NAMES) < len(unnamed):
        raise ValueError(f"NAMES needs at least {len(unnamed)} names.")
    names = list(NAMES)
    rng.shuffle(names)
    names = iter(names)
    taken = set(NAMED_USERNAMES) | {ADMIN_USERNAME}
    rows = []
    for person in PEOPLE:
        if person.is_named:
            rows.append((person, person.first_name, person.last_name, person.slot))
        else:
            first, last = next(names)
            rows.append((person, first, last, username_for(first, last, taken)))
    return rows


def conflicts():
    """Why the demo district cannot be created in this database, as a list of messages."""
    User = get_user_model()
    problems = []
    if District.objects.filter(Q(name=DISTRICT_NAME) | Q(slug=DISTRICT_SLUG)).exists():
        problems.append(f"the district {DISTRICT_NAME} ({DISTRICT_SLUG}) already exists")
    slugs = School.objects.filter(slug__in=[s.slug for s in SCHOOLS]).values_list("slug", flat=True)
    if slugs:
        problems.append("school slugs already taken: " + ", ".join(sorted(slugs)))
    usernames = [row[3] for row in people_with_names(random.Random(SEED))]
    taken = User.objects.filter(username__in=usernames).values_list("username", flat=True)
    if taken:
        problems.append("usernames already taken: " + ", ".join(sorted(taken)))
    return problems


def create_district(ctx):
    ctx.district = District.objects.create(name=DISTRICT_NAME, slug=DISTRICT_SLUG)
    for spec in SCHOOLS:
        ctx.schools[spec.level] = School.objects.create(
            district=ctx.district,
            name=spec.name,
            slug=spec.slug,
            level=spec.level,
            lowest_grade=spec.lowest_grade,
            highest_grade=spec.highest_grade,
        )


def create_staff(ctx):
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once: one hash for every demo account
    for person, first, last, username in people_with_names(ctx.rng):
        if person.is_named:
            expertise, years = person.expertise, person.years_in_role
        else:
            expertise = "; ".join(ctx.rng.sample(EXPERTISE[person.pool].split("; "), 2))
            expertise = expertise[0].upper() + expertise[1:]
            years = ctx.rng.randint(*YEARS_IN_ROLE[person.position])
        user = User.objects.create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{EMAIL_DOMAIN}",
            password=password,
        )
        staff = StaffMember.objects.create(
            user=user,
            district=ctx.district,
            content_areas=[str(code) for code in person.content_areas],
            grade_bands=[str(code) for code in person.grade_bands],
            expertise=expertise,
            years_in_role=years,
        )
        schools = [ctx.schools[level] for level in person.schools] or [None]
        Assignment.objects.bulk_create(
            Assignment(
                staff=staff,
                district=ctx.district,
                school=school,
                position=person.position,
                start_date=ctx.year_start,
            )
            for school in schools
        )
        ctx.staff[person.slot] = staff
        ctx.people[person.slot] = person

    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        ctx.admin = User.objects.create(
            username=ADMIN_USERNAME,
            first_name="Portal",
            last_name="Administrator",
            email=ADMIN_EMAIL,
            password=password,
            is_staff=True,
            is_superuser=True,
        )


def create_teams(ctx):
    for spec in TEAMS:
        school = ctx.schools[spec.level]
        team = services.team_create(school=school, kind=spec.kind, name=spec.name, focus=spec.focus)
        ctx.teams[spec.level, spec.name] = team
        for slot, role in spec.roles:
            services.membership_assign(
                team=team,
                staff=ctx.staff[slot],
                role=role,
                start_date=ctx.teams_start,
                assigned_by=ctx.principal_user(spec.level),
            )


def record_turnover(ctx):
    for handover in HANDOVERS:
        team = ctx.teams[handover.level, handover.team]
        principal = ctx.principal_user(handover.level)
        ends = ctx.on_or_before_today(*handover.ends)
        starts = ends + timedelta(days=1)
        active = TeamMembership.objects.active().filter(team=team)

        outgoing = active.get(staff=ctx.staff[handover.outgoing], role=handover.role)
        services.membership_end(membership=outgoing, end_date=ends, ended_by=principal)
        if handover.outgoing_stays:
            services.membership_assign(
                team=team,
                staff=outgoing.staff,
                role=Role.MEMBER,
                start_date=starts,
                assigned_by=principal,
            )

        incoming = ctx.staff[handover.incoming]
        previous = active.filter(staff=incoming).first()
        if previous is not None:
            services.membership_end(membership=previous, end_date=ends, ended_by=principal)
        services.membership_assign(
            team=team, staff=incoming, role=handover.role, start_date=starts, assigned_by=principal
        )


def assign_caseloads(ctx):
    """Each team lead and coach develops 3-5 teachers of their school, spread evenly, teammates
    first."""
    for level in LEVELS:
        school = ctx.schools[level]
        teachers = ctx.slots_at(level, Position.TEACHER)
        leads = [
            s for spec in TEAMS if spec.level == level for s, r in spec.roles if r == Role.TEAM_LEAD
        ]
        leaders = list(dict.fromkeys(leads + ctx.slots_at(level, Position.COACH)))
        teams_of = {}
        for spec in TEAMS:
            if spec.level == level:
                for slot, _ in spec.roles:
                    teams_of.setdefault(slot, set()).add(spec.name)

        caseloads = {}
        load = Counter()
        for leader in leaders:
            if (level, leader) in FIXED_CASELOADS:
                caseloads[leader] = FIXED_CASELOADS[level, leader]
                load.update(caseloads[leader])
        tiebreak = {slot: ctx.rng.random() for slot in teachers}
        for leader in leaders:
            if leader in caseloads:
                continue
            mine = teams_of.get(leader, set())
            candidates = [t for t in teachers if t != leader and t not in RESERVED_TEACHERS]
            candidates.sort(
                key=lambda t: (load[t], not (mine & teams_of.get(t, set())), tiebreak[t])
            )
            caseloads[leader] = candidates[: ctx.rng.randint(3, 5)]
            load.update(caseloads[leader])

        for leader in leaders:
            for teacher in caseloads[leader]:
                services.caseload_assign(
                    school=school,
                    leader=ctx.staff[leader],
                    teacher=ctx.staff[teacher],
                    start_date=ctx.caseloads_start,
                    assigned_by=ctx.principal_user(level),
                )


# Teams meet every two weeks after school. The Grade 6 Team and the middle school's ILT have
# real content in their last two meetings and an agenda ready for the next one (journey 6).
MEETING_TIME = (15, 30)
MEETING_WEEKDAYS = (1, 2, 3)  # Tuesday, Wednesday, Thursday, by team
DETAILED_MEETINGS = {
    (MIDDLE, "Grade 6 Team"): {
        "past": [
            (
                ("Homework routine: two weeks in", 15, "leader"),
                "Keep one shared homework planner page for every grade 6 class.",
                ("Share the planner page template with families", "ms-6-ss", True),
            ),
            (
                ("Students slipping in attendance", 20, "ms-sped-a"),
                "Call home on the second absence in a week, whoever teaches first period.",
                ("Set up the shared call log", "ms-sped-a", False),
            ),
        ],
        "next": [
            ("Fall MAP math: where grade 6 stands", 20, "leader", "grade"),
            ("Notebook check: what we saw this week", 10, "teacher", None),
            ("Plan for the students at risk", 15, "ms-sped-a", None),
        ],
    },
    (MIDDLE, ILT): {
        "past": [
            (
                ("Observation cycles: coverage so far", 20, "coach"),
                "Every teacher gets a first cycle before the winter break.",
                ("Publish the cycle calendar for November", "ms-6-sci", False),
            ),
        ],
        "next": [
            ("Fall MAP results: English learners in math", 25, "ms-7-math", "school"),
            ("Observation trends: discussion in class", 15, "coach", "trends"),
        ],
    },
}


def hold_meetings(ctx):
    """Every team's meeting series, the past ones held with attendance, and for the teams in
    ``DETAILED_MEETINGS`` agendas, decisions and action items."""
    from django.urls import reverse

    from .models import AgendaItem, Attendance

    now = timezone.now()
    series_end = date(ctx.year_start.year + 1, 6, 10)
    for index, ((level, name), team) in enumerate(ctx.teams.items()):
        members = list(TeamMembership.objects.active().filter(team=team).select_related("staff"))
        by_role = {m.role: m.staff for m in reversed(members)}
        facilitator = by_role.get(Role.FACILITATOR) or by_role.get(Role.TEAM_LEAD)
        principal = ctx.principal_user(level)
        first = ctx.teams_start + timedelta(days=7)
        while first.weekday() != MEETING_WEEKDAYS[index % len(MEETING_WEEKDAYS)]:
            first += timedelta(days=1)
        meetings = services.meeting_schedule(
            team=team,
            starts_at=timezone.make_aware(datetime.combine(first, time(*MEETING_TIME))),
            duration_minutes=45,
            location="Library" if team.kind == Kind.ILT else "Room 112",
            facilitator=facilitator,
            note_taker=by_role.get(Role.NOTE_TAKER),
            repeat="biweekly",
            repeat_until=series_end,
            created_by=principal,
        )
        held = [m for m in meetings if m.ends_at < now]
        for meeting in held:
            meeting.status = Meeting.Status.HELD
            meeting.started_at = meeting.starts_at
            meeting.ended_at = meeting.ends_at
        Meeting.objects.bulk_update(held, ["status", "started_at", "ended_at"])
        Attendance.objects.bulk_create(
            Attendance(
                meeting=meeting,
                staff=member.staff,
                status=Attendance.Status.ABSENT
                if ctx.rng.random() < 0.08
                else Attendance.Status.PRESENT,
            )
            for meeting in held
            for member in members
        )
        plan = DETAILED_MEETINGS.get((level, name))
        if not plan:
            continue
        for meeting, (topic, decision, action) in zip(
            held[-len(plan["past"]) :], plan["past"], strict=False
        ):
            title, minutes, owner = topic
            item = AgendaItem.objects.create(
                team=team,
                meeting=meeting,
                position=1,
                title=title,
                minutes=minutes,
                owner=ctx.staff[owner],
                notes="Talked it through; see the decision.",
                discussed_at=meeting.starts_at + timedelta(minutes=minutes),
            )
            Decision.objects.create(meeting=meeting, agenda_item=item, text=decision)
            text, owner, done = action
            action_item = ActionItem.objects.create(
                team=team,
                text=text,
                owner=ctx.staff[owner],
                due_date=(meeting.starts_at + timedelta(days=7)).date(),
                meeting=meeting,
                done_at=meeting.starts_at + timedelta(days=5) if done else None,
            )
            ActionItem.objects.filter(pk=action_item.pk).update(created_at=meeting.starts_at)
        upcoming = next((m for m in meetings if m.starts_at > now), None)
        if upcoming is None:
            continue
        school = team.school
        links = {
            "grade": (
                "Grade 6 dashboard",
                reverse("data_tracking:grade_dashboard", args=[school.slug, "6"]),
            ),
            "school": (
                "School dashboard",
                reverse("data_tracking:school_dashboard", args=[school.slug]),
            ),
            "trends": (
                "Observation trends",
                reverse("observations:school_trends", args=[school.slug]),
            ),
        }
        AgendaItem.objects.bulk_create(
            AgendaItem(
                team=team,
                meeting=upcoming,
                position=position,
                title=title,
                minutes=minutes,
                owner=ctx.staff[owner],
                link_label=links[link][0] if link else "",
                link_url=links[link][1] if link else "",
                created_by=principal,
            )
            for position, (title, minutes, owner, link) in enumerate(plan["next"], start=1)
        )


BUILD_STEPS = [
    create_district,
    create_staff,
    create_teams,
    record_turnover,
    assign_caseloads,
    hold_meetings,
]


def discover_steps():
    """Let every installed app's ``demo`` module add its build, clear and report steps."""
    autodiscover_modules("demo")


@transaction.atomic
def build(today=None):
    """Build the demo district, step by step, and return the context."""
    discover_steps()
    ctx = DemoDistrict(today=today or timezone.localdate())
    for step in BUILD_STEPS:
        step(ctx)
    return ctx


# --- Clearing -------------------------------------------------------------------------------------


def demo_users(district):
    User = get_user_model()
    return User.objects.filter(
        Q(staff__district=district) | Q(username=ADMIN_USERNAME, email=ADMIN_EMAIL)
    )


def clear_caseloads(district):
    Caseload.objects.filter(
        Q(school__district=district) | Q(leader__district=district) | Q(teacher__district=district)
    ).delete()


def clear_teams(district):
    TeamMembership.objects.filter(
        Q(team__school__district=district) | Q(staff__district=district)
    ).delete()
    LeadershipTeam.objects.filter(school__district=district).delete()


def clear_staff(district):
    Assignment.objects.filter(
        Q(district=district) | Q(school__district=district) | Q(staff__district=district)
    ).delete()
    demo_users(district).delete()  # cascades to their StaffMember
    StaffMember.objects.filter(district=district).delete()


def clear_district(district):
    School.objects.filter(district=district).delete()
    district.delete()


# Most dependent rows first: every foreign key into staff and schools is PROTECT.
CLEAR_STEPS = [clear_caseloads, clear_teams, clear_staff, clear_district]


@transaction.atomic
def clear(district):
    discover_steps()
    for step in CLEAR_STEPS:
        step(district)


# --- Reporting ------------------------------------------------------------------------------------


def sign_ins(ctx):
    """(username, who) for the five named sign-ins and the superuser."""
    middle, high = ctx.schools[MIDDLE], ctx.schools[HIGH]
    named = ctx.named

    def name(username):
        return named[username].full_name

    rows = [
        ("principal", f"{name('principal')} — Principal, {middle}"),
        (
            "leader",
            f"{name('leader')} — Grade 6 math teacher, Grade 6 Team lead and ILT member, {middle}",
        ),
        ("coach", f"{name('coach')} — Math coach, {middle} and {high}"),
        ("teacher", f"{name('teacher')} — Grade 6 ELA teacher, Grade 6 Team, {middle}"),
        ("district", f"{name('district')} — District leader, {ctx.district}"),
    ]
    if ctx.admin is not None:
        rows.append((ADMIN_USERNAME, "Superuser for the admin site (/admin/)"))
    return rows


# Functions taking the district and returning lines for the seed_demo summary (other apps).
REPORT_STEPS = []


def report_lines(district):
    return [line for step in REPORT_STEPS for line in step(district)]


def counts(district):
    memberships = TeamMembership.objects.filter(team__school__district=district)
    meetings = Meeting.objects.filter(team__school__district=district)
    return {
        "schools": School.objects.filter(district=district).count(),
        "staff": StaffMember.objects.filter(district=district).count(),
        "teams": LeadershipTeam.objects.filter(school__district=district).count(),
        "roles": memberships.count(),
        "roles_ended": memberships.ended().count(),
        "caseloads": Caseload.objects.filter(school__district=district).count(),
        "meetings": meetings.count(),
        "meetings_held": meetings.filter(status=Meeting.Status.HELD).count(),
        "decisions": Decision.objects.filter(meeting__team__school__district=district).count(),
        "action_items": ActionItem.objects.filter(team__school__district=district).count(),
    }
