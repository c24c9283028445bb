"""What a finished import batch keeps: its report, never the uploaded file with student rows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from data_tracking import services
from data_tracking.imports.common import ImportReport
from data_tracking.models import AssessmentResult, ImportBatch
from tests.data_tracking.factories import StudentFactory

HEADER = "student_id,assessment,subject,window,school_year,score\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run_batch(world, text, *, mode="strict"):
    batch = services.import_batch_create(
        district=world.district,
        kind=ImportBatch.Kind.CSV,
        mode=mode,
        upload=SimpleUploadedFile("scores.csv", text.encode()),
        uploaded_by=world.principal,
        enqueue=False,
    )
    path = batch.upload.path
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.import_batch_claim(batch=batch)
        services.import_batch_run(batch=batch)
    batch.refresh_from_db()
    return batch, path


@pytest.mark.parametrize(
    ("rows", "status"),
    [
        ("M-1,Unit test,math,fall,2026-2027,71\n", ImportBatch.Status.SUCCEEDED),
        ("M-1,Unit test,math,fall,2026-2027,lots\n", ImportBatch.Status.FAILED),
    ],
)
def test_the_uploaded_file_is_deleted_once_the_import_has_finished(world, media, rows, status):
    StudentFactory(school=world.school, local_id="M-1")

    batch, path = run_batch(world, HEADER + rows)

    assert batch.status == status
    assert not batch.upload
    assert not (media / path).exists()
    assert list(media.rglob("*.csv")) == []
    if status == ImportBatch.Status.FAILED:  # the report stays readable
        assert batch.errors[0]["line"] == 2
        assert batch.errors[0]["column"] == "score"
    else:
        assert AssessmentResult.objects.count() == 1


def test_a_report_quoting_a_nul_byte_is_still_saved(world):
    """PostgreSQL text cannot hold NUL: a reason quoting one once left the batch "running"."""
    batch = services.import_batch_create(
        district=world.district,
        kind=ImportBatch.Kind.CSV,
        mode="strict",
        upload=SimpleUploadedFile("scores.csv", b"x"),
        uploaded_by=world.principal,
        enqueue=False,
    )
    report = ImportReport()
    report.error("scores.csv", 2, "score", "“7\x00” is not a number")

    services._finish(batch, ImportBatch.Status.FAILED, report, counts={})

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors[0]["reason"] == "“7\N{REPLACEMENT CHARACTER}” is not a number"


def test_the_command_fails_when_skipping_left_nothing_to_import(world, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "scores.csv"
    path.write_text(HEADER + "M-404,Unit test,math,fall,2026-2027,71\n")

    with pytest.raises(CommandError, match="every row had a problem"):
        call_command(
            "import_results_csv", "--district", world.district.slug, "--mode", "skip", path
        )


def test_a_refused_file_does_not_suggest_skipping_rows(world, tmp_path):
    """Skipping rows cannot help a file with a missing column: the message says no such thing."""
    from django.core.management import CommandError, call_command

    path = tmp_path / "scores.csv"
    path.write_text("student_id,score\nM-1,71\n")

    with pytest.raises(CommandError) as refused:
        call_command("import_results_csv", "--district", world.district.slug, path)
    assert "--mode skip" not in str(refused.value)
