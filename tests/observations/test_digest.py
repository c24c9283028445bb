"""The daily digest: one reminder per person with something waiting, and nobody else.

Observers are reminded of follow-ups whose practice-by date has passed (the teacher was to practise
the step by then) while the cycle still waits for the follow-up (feedback shared or reflected);
teachers are reminded of shared feedback they have not reflected on yet.
"""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from observations import services, tasks
from observations.models import Feedback, Notification
from tests.observations.factories import cycle_in, small_rubric
from tests.teams.factories import staff_at

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
SUBJECT = "DL Portal: what is waiting for you today"


def due(cycle, practice_by):
    Feedback.objects.filter(cycle=cycle).update(practice_by=practice_by)
    return cycle


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def cast(world, today):
    """Who is waiting for what:

    - Lena (leader) observed Tina: shared, step due yesterday → Lena follows up, Tina reflects.
    - Paula (principal) observed Tina: shared, step due today → Tina reflects; Paula: not overdue.
    - Cora (coach) observed Lena: shared, step due in 3 days → Lena reflects.
    - Cora observed Amy: reflected, step due 2 days ago → Cora follows up.
    - Olive observed Ben (no e-mail address): shared, due next week → Ben reflects, no e-mail.
    - Olive observed Amy: reflected, step due today → nobody.
    - Paula's closed, followed-up, observed, planned and cancelled cycles with others → nobody.
    """
    small_rubric(world.district)
    school = world.school
    w = world
    w.amy = staff_at(school, first_name="Amy", last_name="Abbott").user
    w.ben = staff_at(school, first_name="Ben", last_name="Burke", email="").user
    w.olive = staff_at(school, first_name="Olive", last_name="Olsen").user
    bystanders = [staff_at(school, first_name=f"By{i}", last_name="Stander") for i in range(5)]

    def cycle(status, teacher, observer, practice_by=None):
        made = cycle_in(status, school=school, teacher=teacher, observer=observer)
        return due(made, practice_by) if practice_by else made

    cycle("feedback_shared", w.teacher, w.leader, today - DAY)
    cycle("feedback_shared", w.teacher, w.principal, today)
    cycle("feedback_shared", w.leader, w.coach, today + 3 * DAY)
    cycle("reflected", w.amy, w.coach, today - 2 * DAY)
    cycle("feedback_shared", w.ben, w.olive, today + 7 * DAY)
    cycle("reflected", w.amy, w.olive, today)
    for status, teacher in zip(
        ["closed", "followed_up", "observed", "planned", "cancelled"], bystanders, strict=True
    ):
        cycle(status, teacher, w.principal, today - 30 * DAY if status != "observed" else None)
    return w


def digest_notifications():
    return Notification.objects.filter(message__contains="waiting for you")


def check_the_reminders(cast, today, mailoutbox):
    notes = {n.recipient.username: n for n in digest_notifications().select_related("recipient")}
    assert sorted(notes) == sorted(
        [cast.leader.username, cast.teacher.username, cast.coach.username, cast.ben.username]
    )
    assert digest_notifications().count() == 4  # exactly one each
    assert notes[cast.leader.username].message == "2 things waiting for you."
    assert notes[cast.teacher.username].message == "2 things waiting for you."
    assert notes[cast.coach.username].message == "1 thing waiting for you."
    assert notes[cast.ben.username].message == "1 thing waiting for you."
    assert {n.url for n in notes.values()} == {reverse("home")}
    assert all(n.read_at is None for n in notes.values())

    # One e-mail per person with an address: Ben has none.
    mails = {tuple(m.to): m for m in mailoutbox}
    assert len(mailoutbox) == 3
    assert sorted(mails) == sorted(
        [(cast.leader.email,), (cast.teacher.email,), (cast.coach.email,)]
    )
    assert {m.subject for m in mailoutbox} == {SUBJECT}

    lena = mails[(cast.leader.email,)].body.splitlines()
    yesterday = today - DAY
    assert lena[:2] == [
        f"Follow up with Tina Tran: the step was due {yesterday:%b %-d}.",
        "Reflect on Cora Cole’s feedback.",
    ]
    assert lena[-1] == settings.PORTAL_BASE_URL
    tina = mails[(cast.teacher.email,)].body.splitlines()
    assert sorted(tina[:2]) == [
        "Reflect on Lena Lopez’s feedback.",
        "Reflect on Paula Prince’s feedback.",
    ]
    cora = mails[(cast.coach.email,)].body.splitlines()
    assert cora[0] == f"Follow up with Amy Abbott: the step was due {today - 2 * DAY:%b %-d}."
    assert len([line for line in cora if line]) == 2  # the reminder and the link
    # Nobody is told about another person's cycles.
    assert not any("Amy" in line for line in lena + tina)


def test_the_digest_reminds_each_person_once(cast, today, mailoutbox):
    mailoutbox.clear()
    assert services.digest_send(today=today) == 4
    check_the_reminders(cast, today, mailoutbox)


def test_the_daily_task_sends_the_same_digest(cast, today, mailoutbox):
    mailoutbox.clear()
    assert tasks.send_daily_digest.delay().get() == 4
    check_the_reminders(cast, today, mailoutbox)


def test_the_date_decides_what_is_overdue(cast, today, mailoutbox):
    """Two days earlier no step is overdue yet (one is due that very day): only the
    reflections are due."""
    mailoutbox.clear()
    assert services.digest_send(today=today - 2 * DAY) == 3  # Tina, Lena and Ben reflect
    notes = {n.recipient.username: n.message for n in digest_notifications()}
    assert notes == {
        cast.teacher.username: "2 things waiting for you.",
        cast.leader.username: "1 thing waiting for you.",
        cast.ben.username: "1 thing waiting for you.",
    }
    assert len(mailoutbox) == 2
    assert not any("Follow up" in m.body for m in mailoutbox)


def test_cycles_that_wait_for_nobody_trigger_nothing(world, today, mailoutbox):
    small_rubric(world.district)
    for status in ["closed", "followed_up", "cancelled", "planned", "observed"]:
        teacher = staff_at(world.school)
        cycle = cycle_in(status, school=world.school, teacher=teacher, observer=world.leader)
        due(cycle, today - 60 * DAY)
    before = Notification.objects.count()
    mailoutbox.clear()

    assert services.digest_send(today=today) == 0
    assert tasks.send_daily_digest.delay().get() == 0

    assert Notification.objects.count() == before
    assert mailoutbox == []


def test_a_closed_cycle_stops_the_reminders(world, today, mailoutbox):
    small_rubric(world.district)
    cycle = cycle_in("reflected", school=world.school, teacher=world.teacher, observer=world.leader)
    due(cycle, today - 3 * DAY)
    mailoutbox.clear()
    assert services.digest_send(today=today) == 1  # the leader owes a follow-up

    services.follow_up_record(cycle=cycle, visited_on=today, mastery="partly", by=world.leader)
    services.cycle_close(cycle=cycle, by=world.leader)
    mailoutbox.clear()
    before = Notification.objects.count()

    assert services.digest_send(today=today) == 0
    assert Notification.objects.count() == before
    assert mailoutbox == []


def test_a_second_run_on_the_same_day_reminds_nobody_again(cast, today, mailoutbox):
    first = services.digest_send(today=today)
    mails = len(mailoutbox)
    assert first > 0 and mails > 0
    assert services.digest_send(today=today) == 0
    assert len(mailoutbox) == mails
    assert digest_notifications().count() == first


def test_a_mail_server_that_is_down_keeps_the_in_app_reminders(cast, today, monkeypatch):
    import smtplib

    def refuse(**kwargs):
        raise smtplib.SMTPServerDisconnected("mail server is down")

    monkeypatch.setattr(services, "send_mail", refuse)
    reminded = services.digest_send(today=today)
    assert reminded > 0
    assert digest_notifications().count() == reminded
