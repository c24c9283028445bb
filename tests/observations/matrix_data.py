"""A cycle in the standard cast (``world``) for the authorization matrix."""

import datetime

from django.utils import timezone

from observations import services
from observations.models import Domain, Indicator, RatingLevel, Rubric


def shared_cycle(world):
    """``leader`` observed ``teacher`` at ``world.school`` and shared feedback."""
    rubric = Rubric.objects.create(district=world.district, lineage="matrix", name="Matrix rubric")
    for value, label in enumerate(["Not yet", "Emerging", "Proficient", "Exemplary"], start=1):
        RatingLevel.objects.create(rubric=rubric, value=value, label=label)
    domain = Domain.objects.create(rubric=rubric, name="Classroom culture")
    focus = Indicator.objects.create(domain=domain, code="CC1", name="Routines")
    leader = world.leader
    cycle = services.cycle_start(
        school=world.school,
        teacher=world.teacher.staff,
        observer=leader.staff,
        by=leader,
        focus=focus,
    )
    services.observation_save(
        cycle=cycle,
        fields={"observed_at": timezone.now(), "evidence": "9:02 Do-now on the board."},
    )
    services.observation_complete(cycle=cycle, by=leader)
    services.feedback_save(
        cycle=cycle,
        fields={
            "glows": "Tight entry routine.",
            "grow": "Checking for understanding.",
            "action_step": "Cold-call three students after each turn-and-talk.",
            "practice_by": timezone.localdate() + datetime.timedelta(days=7),
        },
    )
    services.feedback_share(cycle=cycle, by=leader)
    return cycle
