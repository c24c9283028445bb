"""Observation cycles for the demo district: the example rubric and a term of cycles in every
state, so every page has something to show.

``teams.demo.discover_steps`` imports this module, which appends its step to the demo build (and
its clear step to the front of the clear list), so ``teams`` never imports ``observations``.

Every cycle goes through ``observations.services``, so the demo obeys the state machine. The
services stamp "now"; afterwards each cycle's timestamps are moved back to when its visit
happened (over the last ten weeks or so), so that time-to-feedback, overdue action steps and
coverage look like a real term.
"""

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from django.db.models import Case, Count, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from teams import demo as district_demo
from teams.models import Caseload

from . import services
from .models import (
    CycleTransition,
    Feedback,
    FollowUp,
    Indicator,
    Notification,
    Observation,
    ObservationCycle,
    Reflection,
    Rubric,
    Status,
)
from .rubric_io import example_rubric_data, rubric_import

ELEMENTARY, MIDDLE, HIGH = district_demo.LEVELS
# The demo's own lineage, so loading the demo never collides with a district that imported the
# example rubric under its file lineage.
RUBRIC_LINEAGE = f"{district_demo.DISTRICT_SLUG}-example"

S = Status


@dataclass(frozen=True)
class Lesson:
    """What an observer saw and wrote on one visit, in the example rubric's terms."""

    key: str
    areas: tuple  # content-area codes of the teachers it fits, or ("any",)
    levels: tuple  # school levels it fits
    focus: str  # indicator code
    duration: int
    evidence: tuple  # (minutes after the observer walked in, what was seen or heard)
    ratings: dict  # indicator code -> level value
    glows: str
    grow: str
    action_step: str
    reflection: str
    usefulness: int
    usefulness_reason: str
    follow_up: dict  # mastery -> the observer's notes at the follow-up visit
    resources: str = ""
    subject: str = ""  # instead of the subject taken from the teacher's title
    next: str = ""  # the lesson the next cycle carries the focus into


def load_lessons():
    """The lessons in demo_lessons.json (data, not code: about 20 classroom visits)."""
    path = Path(__file__).resolve().parent / "demo_lessons.json"
    rows = json.loads(path.read_text(encoding="utf-8"))["lessons"]
    return tuple(
        Lesson(
            **{
                **row,
                "areas": tuple(row["areas"]),
                "levels": tuple(row["levels"]),
                "evidence": tuple((minutes, text) for minutes, text in row["evidence"]),
                "glows": "\n".join(row["glows"]),
            }
        )
        for row in rows
    )


ANY = "any"
LESSONS = load_lessons()
BY_KEY = {lesson.key: lesson for lesson in LESSONS}


@dataclass(frozen=True)
class Visit:
    """One cycle of a teacher–observer pair, described by where it has got to."""

    status: str
    days_ago: int  # when the observation took place; negative: planned for that many days ahead
    mastery: str = ""  # the follow-up's rating, for followed-up and closed cycles
    carry_on: bool = False  # the follow-up opens the pair's next cycle with the same focus
    acknowledged: bool = False  # shared feedback the teacher has opened, not yet reflected on
    draft: bool = False  # observed; the feedback is half written
    lesson: str = ""  # a lesson's key; when blank, one that fits the teacher is chosen


# The journeys' pairs, oldest visit first. The leader (Marcus Bell) has an open cycle with each
# of his four caseload teachers; Sofia Delgado ("teacher") has new feedback waiting for her and
# an older closed cycle whose follow-up was rated.
FIXED = (
    (
        MIDDLE,
        "leader",
        "teacher",
        3,
        (
            Visit(S.CLOSED, 52, "partly", carry_on=True, lesson="ela-novel-turn-and-talk"),
            Visit(S.FEEDBACK_SHARED, 4, lesson="ela-partner-roles"),
        ),
    ),
    (
        MIDDLE,
        "leader",
        "ms-6-sci",
        1,
        (Visit(S.CANCELLED, 45), Visit(S.OBSERVED, 2, draft=True, lesson="science-lab-routines")),
    ),
    (
        MIDDLE,
        "leader",
        "ms-6-ss",
        5,
        (Visit(S.CLOSED, 61, "mastered", lesson="ss-primary-source"), Visit(S.PLANNED, -4)),
    ),
    (MIDDLE, "leader", "ms-sped-a", 2, (Visit(S.REFLECTED, 19, lesson="sped-small-group"),)),
    # The principal observes too, teacher leaders included.
    (MIDDLE, "principal", "leader", 4, (Visit(S.CLOSED, 36, "mastered"),)),
    (MIDDLE, "principal", "ms-art", 6, (Visit(S.FOLLOWED_UP, 27, "partly"),)),
    (MIDDLE, "principal", "ms-pe", 2, (Visit(S.FEEDBACK_SHARED, 15, acknowledged=True),)),
    (MIDDLE, "principal", "ms-8-math", 7, (Visit(S.OBSERVED, 6),)),
    (MIDDLE, "principal", "ms-7-ss", 3, (Visit(S.CANCELLED, 24), Visit(S.PLANNED, -2))),
    (ELEMENTARY, "es-principal", "es-3-b", 2, (Visit(S.REFLECTED, 11),)),
    (HIGH, "hs-principal", "hs-wl", 4, (Visit(S.FEEDBACK_SHARED, 9),)),
)

# Stories handed out in turn to the other caseload pairs: between them, every state, some
# overdue follow-ups and one pair nobody has visited yet this term.
ROTATION = (
    (Visit(S.CLOSED, 58, "mastered"), Visit(S.REFLECTED, 16)),
    (Visit(S.FEEDBACK_SHARED, 8, acknowledged=True),),
    (
        Visit(S.CLOSED, 47, "partly", carry_on=True, lesson="any-exit-ticket"),
        Visit(S.OBSERVED, 3, lesson="any-exit-ticket-sort"),
    ),
    (Visit(S.FOLLOWED_UP, 26, "mastered"),),
    (Visit(S.CANCELLED, 33), Visit(S.PLANNED, -5)),
    (Visit(S.CLOSED, 66, "not_yet"), Visit(S.FEEDBACK_SHARED, 21)),
    (Visit(S.CLOSED, 40, "mastered"),),
    (Visit(S.REFLECTED, 12),),
    (),
)
# Who else gets stories: every other caseload leader of the middle school (the journeys happen
# there) with three of their teachers; two leaders with two teachers each at the other schools.
PAIRS_PER_LEADER = {MIDDLE: 3, ELEMENTARY: 2, HIGH: 2}
LEADERS_PER_SCHOOL = {MIDDLE: None, ELEMENTARY: 2, HIGH: 2}

PERIOD_STARTS = {
    n: time(h, m)
    for n, (h, m) in enumerate(
        [(8, 5), (9, 0), (9, 55), (10, 50), (12, 20), (13, 15), (14, 10)], start=1
    )
}
ELEMENTARY_BLOCKS = {"Reading": time(8, 45), "Math": time(10, 35)}
SUBJECT_BY_AREA = {
    "general": "Writing",
    "ela": "ELA",
    "math": "Math",
    "science": "Science",
    "social_studies": "Social studies",
    "special_education": "Special education",
    "english_learners": "English language development",
    "arts": "Art",
    "pe_health": "PE",
    "world_languages": "Spanish",
    "cte": "Engineering",
}
GRADES = {ELEMENTARY: ["K", "1", "2", "3", "4", "5"], MIDDLE: ["6", "7", "8"], HIGH: ["9", "10"]}
# Days from a visit to shared feedback: the journeys' observers are quick; the others vary.
LAGS = {"leader": 1, "principal": 2}
OTHER_LAGS = [1, 1, 1, 2, 2, 3, 5]


@dataclass
class Pair:
    level: str
    observer: str  # slot
    teacher: str  # slot
    period: int
    visits: tuple


class CycleBuilder:
    """Runs one school term of visits through the services, then dates them."""

    def __init__(self, ctx, rubric):
        self.ctx = ctx
        self.rubric = rubric
        self.rng = random.Random(f"{district_demo.SEED}-observations")
        self.now = timezone.now()
        self.indicators = {i.code: i for i in Indicator.objects.filter(domain__rubric=rubric)}
        self.levels = {level.value: level for level in rubric.levels.all()}
        self.lessons_used = {}  # (level, lesson key) -> times used at that school
        self.lag = {}  # observer slot -> typical days from visit to shared feedback

    # --- choosing what happened -------------------------------------------------------------

    def lesson_for(self, pair, visit, taught):
        if visit.lesson:
            return BY_KEY[visit.lesson]
        person = self.ctx.people[pair.teacher]
        follow_ons = {lesson.next for lesson in LESSONS if lesson.next}
        fitting = [
            (index, lesson)
            for index, lesson in enumerate(LESSONS)
            if pair.level in lesson.levels
            and lesson.key not in follow_ons
            and (ANY in lesson.areas or set(lesson.areas) & set(person.content_areas))
        ]
        index, lesson = min(
            fitting,
            key=lambda item: (
                item[1].key in taught,
                self.lessons_used.get((pair.level, item[1].key), 0),
                ANY in item[1].areas,
                item[0],
            ),
        )
        return lesson

    def class_context(self, pair, lesson):
        person = self.ctx.people[pair.teacher]
        if lesson.subject:
            subject = lesson.subject
        elif pair.level == HIGH:
            subject = person.title.removesuffix(" teacher")
        else:
            subject = SUBJECT_BY_AREA[str(person.content_areas[0])]
        number = re.search(r"\b(\d{1,2})\b", person.title)
        if number:
            grade = number.group(1)
        elif person.title.startswith("AP "):
            grade = "12"
        elif person.title.startswith("Kindergarten"):
            grade = "K"
        else:
            grade = GRADES[pair.level][pair.period % len(GRADES[pair.level])]
        if pair.level == ELEMENTARY:
            section = f"{subject} block" if subject in ELEMENTARY_BLOCKS else "Afternoon block"
            starts = ELEMENTARY_BLOCKS.get(subject, time(13, 5))
        else:
            section = f"Period {pair.period}"
            starts = PERIOD_STARTS[pair.period]
        return subject, grade, section, starts

    # --- dates --------------------------------------------------------------------------------

    def at(self, day, clock, minutes=0):
        return timezone.make_aware(datetime.combine(day, clock)) + timedelta(minutes=minutes)

    def school_day(self, day, *, forward=False):
        step = timedelta(days=1 if forward else -1)
        while day.weekday() >= 5:
            day += step
        return day

    def timeline(self, pair, visit, starts, duration, planned_at):
        """When each step of the visit happened, keyed like the statuses."""
        rng, today = self.rng, self.ctx.today
        t = {}
        if visit.status == S.PLANNED:
            t["planned"] = planned_at or self.at(
                self.school_day(today - timedelta(days=rng.randint(1, 3))), time(15, 40)
            )
            t["planned_for"] = self.school_day(today - timedelta(days=visit.days_ago), forward=True)
            return self.in_order(t)

        day = self.school_day(today - timedelta(days=visit.days_ago + rng.randint(0, 2)))
        t["planned"] = planned_at or self.at(
            day - timedelta(days=rng.randint(3, 8)), time(15, 30), rng.randint(0, 60)
        )
        t["planned_for"] = day
        if visit.status == S.CANCELLED:
            cancelled_on = t["planned"].date() + timedelta(days=rng.randint(2, 6))
            t["cancelled"] = self.at(
                self.school_day(cancelled_on, forward=True), time(16, 10), rng.randint(0, 50)
            )
            return self.in_order(t)

        t["observed_at"] = self.at(day, starts, 2)
        t["observed"] = t["observed_at"] + timedelta(minutes=duration + rng.randint(10, 100))
        if visit.status == S.OBSERVED:
            t["draft"] = t["observed"] + timedelta(hours=rng.randint(2, 6))
            return self.in_order(t)

        lag = self.lag.setdefault(pair.observer, LAGS.get(pair.observer) or rng.choice(OTHER_LAGS))
        shared_day = self.school_day(
            day + timedelta(days=lag + rng.choice([0, 0, 1])), forward=True
        )
        t["shared"] = self.at(shared_day, time(15, 0), rng.randint(0, 120))
        t["practice_by"] = self.school_day(shared_day + timedelta(days=7), forward=True)
        if visit.acknowledged or visit.status != S.FEEDBACK_SHARED:
            t["acknowledged"] = t["shared"] + timedelta(hours=rng.randint(2, 20))
        if visit.status == S.FEEDBACK_SHARED:
            return self.in_order(t)

        t["reflected"] = self.at(
            t["shared"].date() + timedelta(days=rng.randint(1, 3)), time(19, 0), rng.randint(0, 150)
        )
        if visit.status == S.REFLECTED:
            return self.in_order(t)

        visited_on = self.school_day(
            t["practice_by"] + timedelta(days=rng.randint(1, 3)), forward=True
        )
        t["followed_up"] = self.at(visited_on, time(15, 45), rng.randint(0, 45))
        if visit.status == S.CLOSED:
            t["closed"] = (
                t["followed_up"]
                if visit.carry_on
                else t["followed_up"] + timedelta(days=rng.randint(0, 2), hours=1)
            )
        return self.in_order(t)

    def in_order(self, t):
        """Nothing later than a few minutes ago, and every step after the one before."""
        latest = self.now - timedelta(minutes=5)
        previous = None
        for key, value in t.items():
            if not isinstance(value, datetime):
                continue
            value = min(value, latest)
            if previous is not None:
                value = max(value, previous + timedelta(minutes=1))
            t[key] = previous = value
        return t

    # --- running the services -----------------------------------------------------------------

    def run(self, pairs):
        for pair in pairs:
            self.run_pair(pair)

    def run_pair(self, pair):
        school = self.ctx.schools[pair.level]
        teacher, observer = self.ctx.staff[pair.teacher], self.ctx.staff[pair.observer]
        taught, carried, planned_at = set(), None, None
        for visit in pair.visits:
            lesson = self.lesson_for(pair, visit, taught)
            taught.add(lesson.key)
            key = (pair.level, lesson.key)
            self.lessons_used[key] = self.lessons_used.get(key, 0) + 1
            subject, grade, section, starts = self.class_context(pair, lesson)
            t = self.timeline(pair, visit, starts, lesson.duration, planned_at)
            if carried:  # opened by the last follow-up, with the same focus
                cycle = carried
                ObservationCycle.objects.filter(pk=cycle.pk).update(planned_for=t["planned_for"])
            else:
                cycle = services.cycle_start(
                    school=school,
                    teacher=teacher,
                    observer=observer,
                    focus=self.indicators[lesson.focus],
                    planned_for=t["planned_for"],
                    by=observer.user,
                )
            carried = self.advance(cycle, visit, lesson, t, (subject, grade, section))
            self.backdate(cycle, t)
            planned_at = t.get("closed") if carried else None

    def advance(self, cycle, visit, lesson, t, context):
        """Move ``cycle`` to ``visit.status``; return the next cycle if the follow-up opened
        one."""
        observer, teacher = cycle.observer.user, cycle.teacher.user
        if visit.status == S.PLANNED:
            return None
        if visit.status == S.CANCELLED:
            services.cycle_cancel(cycle=cycle, by=observer)
            return None

        subject, grade, section = context
        services.observation_save(
            cycle=cycle,
            fields={
                "observed_at": t["observed_at"],
                "duration_minutes": lesson.duration,
                "subject": subject,
                "grade": grade,
                "section": section,
                "evidence": self.evidence(lesson, t["observed_at"]),
            },
            ratings=self.ratings(lesson),
        )
        services.observation_complete(cycle=cycle, by=observer)
        if visit.status == S.OBSERVED:
            if visit.draft:
                services.feedback_save(cycle=cycle, fields={"glows": lesson.glows})
            return None

        services.feedback_save(
            cycle=cycle,
            fields={
                "glows": lesson.glows,
                "grow": lesson.grow,
                "action_step": lesson.action_step,
                "practice_by": t["practice_by"],
                "resources": lesson.resources,
            },
        )
        services.feedback_share(cycle=cycle, by=observer)
        if visit.status == S.FEEDBACK_SHARED:
            if visit.acknowledged:
                services.reflection_acknowledge(cycle=cycle)
            return None

        # A teacher who was never going to reflect: the follow-up comes straight after.
        if visit.status == S.REFLECTED or visit.mastery != "not_yet":
            services.reflection_submit(
                cycle=cycle,
                text=lesson.reflection,
                usefulness=lesson.usefulness,
                usefulness_reason=lesson.usefulness_reason,
                by=teacher,
            )
        if visit.status == S.REFLECTED:
            return None

        _, next_cycle = services.follow_up_record(
            cycle=cycle,
            visited_on=t["followed_up"].date(),
            mastery=visit.mastery,
            notes=lesson.follow_up[visit.mastery],
            by=observer,
            open_next=visit.carry_on,
        )
        if visit.status == S.CLOSED and not visit.carry_on:
            services.cycle_close(cycle=cycle, by=observer)
        return next_cycle

    def evidence(self, lesson, observed_at):
        local = timezone.localtime(observed_at)
        lines = []
        for minutes, text in lesson.evidence:
            clock = local + timedelta(minutes=minutes)
            lines.append(f"{clock.hour % 12 or 12}:{clock.minute:02d} {text}")
        return "\n".join(lines)

    def ratings(self, lesson):
        ratings = {}
        for code, value in lesson.ratings.items():
            if self.rng.random() < 0.25:
                value = min(4, max(1, value + self.rng.choice([-1, 1])))
            ratings[self.indicators[code].pk] = self.levels[value]
        return ratings

    def backdate(self, cycle, t):
        """Move the stamps the services set to "now" back to when each step happened."""
        statuses = {
            S.PLANNED: "planned",
            S.OBSERVED: "observed",
            S.FEEDBACK_SHARED: "shared",
            S.REFLECTED: "reflected",
            S.FOLLOWED_UP: "followed_up",
            S.CLOSED: "closed",
            S.CANCELLED: "cancelled",
        }
        when = {status: t[key] for status, key in statuses.items() if key in t}
        CycleTransition.objects.filter(cycle=cycle).update(
            at=Case(
                *(When(to_status=status, then=Value(at)) for status, at in when.items()),
                default=F("at"),
            )
        )
        ObservationCycle.objects.filter(pk=cycle.pk).update(
            created_at=t["planned"], status_changed_at=max(when.values())
        )
        if "observed" in t:
            Observation.objects.filter(cycle=cycle).update(
                completed_at=t["observed"], updated_at=t["observed"]
            )
        if "shared" in t or "draft" in t:
            Feedback.objects.filter(cycle=cycle).update(
                shared_at=t.get("shared"), updated_at=t.get("shared") or t["draft"]
            )
        if "acknowledged" in t:
            Reflection.objects.filter(cycle=cycle).update(
                acknowledged_at=t["acknowledged"], submitted_at=t.get("reflected")
            )
        if "followed_up" in t:
            FollowUp.objects.filter(cycle=cycle).update(recorded_at=t["followed_up"])

        url = reverse("observations:cycle_detail", args=[cycle.pk])
        notes = Notification.objects.filter(url=url)
        if "shared" in t:
            notes.filter(recipient=cycle.teacher.user).update(
                created_at=t["shared"], read_at=t.get("acknowledged")
            )
        if "reflected" in t:
            read = t["reflected"] + timedelta(hours=13)
            notes.filter(recipient=cycle.observer.user).update(
                created_at=t["reflected"], read_at=read if read < self.now else None
            )


def caseload_pairs(ctx):
    """Stories for the caseload leaders other than the journeys' ones, handed out in turn."""
    slot_of = {staff.pk: slot for slot, staff in ctx.staff.items()}
    fixed = {(observer, teacher) for _, observer, teacher, _, _ in FIXED}
    fixed_observers = {observer for _, observer, _, _, _ in FIXED}
    order = {person.slot: n for n, person in enumerate(district_demo.PEOPLE)}
    pairs, turn = [], 0
    for level in district_demo.LEVELS:
        by_leader = {}
        caseloads = Caseload.objects.active().filter(school=ctx.schools[level])
        for leader_id, teacher_id in caseloads.values_list("leader_id", "teacher_id"):
            leader, teacher = slot_of[leader_id], slot_of[teacher_id]
            if leader not in fixed_observers and (leader, teacher) not in fixed:
                by_leader.setdefault(leader, []).append(teacher)
        leaders = sorted(by_leader, key=order.get)[: LEADERS_PER_SCHOOL[level]]
        for leader in leaders:
            teachers = sorted(by_leader[leader], key=order.get)[: PAIRS_PER_LEADER[level]]
            for teacher in teachers:
                period = 1 + (order[teacher] % len(PERIOD_STARTS))
                pairs.append(Pair(level, leader, teacher, period, ROTATION[turn % len(ROTATION)]))
                turn += 1
    return pairs


def build_cycles(ctx):
    """Load the example rubric for the district and run a term of observation cycles."""
    rubric = rubric_import(
        data=example_rubric_data(), district=ctx.district, lineage=RUBRIC_LINEAGE
    )
    pairs = [Pair(*row) for row in FIXED] + caseload_pairs(ctx)
    CycleBuilder(ctx, rubric).run(pairs)


def clear_cycles(district):
    in_district = Q(school__district=district) | Q(teacher__district=district)
    ObservationCycle.objects.filter(in_district | Q(observer__district=district)).delete()
    Rubric.objects.filter(Q(district=district) | Q(school__district=district)).delete()


def report(district):
    cycles = ObservationCycle.objects.filter(school__district=district)
    by_status = dict(cycles.order_by().values_list("status").annotate(n=Count("pk")))
    states = " · ".join(f"{by_status.get(s, 0)} {s.label.lower()}" for s in Status)
    rubric = Rubric.objects.filter(district=district, is_current=True).first()
    lines = [f"{sum(by_status.values())} observation cycles: {states}"]
    if rubric is not None:
        lines.append(f"Rubric: {rubric}, lineage {rubric.lineage} (see `manage.py rubric_export`)")
    return lines


district_demo.BUILD_STEPS.append(build_cycles)
district_demo.CLEAR_STEPS.insert(0, clear_cycles)
district_demo.REPORT_STEPS.append(report)
