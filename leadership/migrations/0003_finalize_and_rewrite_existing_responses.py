"""Existing survey data under the new rules.

- Rounds that have already finished are marked finalized (their responses were written straight
  away, the old way); a round past its last day is recorded as closed too.
- Every existing response and its answers are written again as new rows with new random keys,
  in a random order, in this one transaction, then the old rows are deleted. Before this, each
  response was written in the same transaction as its participation and shared its ``xmin``.
  Run ``VACUUM`` on leadership_surveyresponse and leadership_answer afterwards, so the old row
  versions are gone from the data files too (see docs/leadership-survey.md).
"""

import secrets
import uuid

from django.db import migrations
from django.db.models import Q
from django.utils import timezone


def finalize_and_rewrite(apps, schema_editor):
    SurveyRound = apps.get_model("leadership", "SurveyRound")
    SurveyResponse = apps.get_model("leadership", "SurveyResponse")
    Answer = apps.get_model("leadership", "Answer")
    now = timezone.now()
    finished = Q(closed_at__isnull=False) | Q(closes_on__lt=timezone.localdate())
    SurveyRound.objects.filter(finished, closed_at__isnull=True).update(closed_at=now)
    SurveyRound.objects.filter(finished, finalized_at__isnull=True).update(finalized_at=now)

    rng = secrets.SystemRandom()
    round_ids = SurveyResponse.objects.values_list("round_id", flat=True).distinct().order_by()
    for round_id in list(round_ids):
        old = {
            pk: (position, [])
            for pk, position in SurveyResponse.objects.filter(round_id=round_id).values_list(
                "pk", "position"
            )
        }
        for response_id, item, element, value in Answer.objects.filter(
            response_id__in=list(old)
        ).values_list("response_id", "item", "element", "value"):
            old[response_id][1].append((item, element, value))
        rewritten = list(old.values())
        rng.shuffle(rewritten)
        SurveyResponse.objects.filter(round_id=round_id).delete()  # and their answers
        responses, answers = [], []
        for position, items in rewritten:
            response = SurveyResponse(id=uuid.uuid4(), round_id=round_id, position=position)
            responses.append(response)
            answers += [
                Answer(id=uuid.uuid4(), response=response, item=item, element=element, value=value)
                for item, element, value in sorted(items)
            ]
        SurveyResponse.objects.bulk_create(responses)
        Answer.objects.bulk_create(answers, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("leadership", "0002_sealed_pending_responses"),
    ]

    operations = [
        migrations.RunPython(finalize_and_rewrite, migrations.RunPython.noop),
    ]
