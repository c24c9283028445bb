"""Plain-CSV result import: valid, messy and broken files, strict and skip, re-import, batches,
the task, the management command and the downloadable template."""

import datetime
import io
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from data_tracking import services
from data_tracking.imports import results
from data_tracking.imports.common import ImportRefused
from data_tracking.imports.results import ResultWriter
from data_tracking.models import Assessment, AssessmentResult, DashboardSnapshot, ImportBatch
from data_tracking.tasks import fail_stale_imports, run_import
from outbox.models import OutboxMessage
from tests.data_tracking.factories import AssessmentFactory, StudentFactory, levels_for
from tests.services import require_service
from tests.teams.factories import DistrictFactory, SchoolFactory, UserFactory

HEADER = "student_id,assessment,subject,window,school_year,date,score,performance_level\n"


def csv_text(text):
    return textwrap.dedent(text).lstrip()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def district(db):
    return DistrictFactory(name="Lakeside District", slug="lakeside")


@pytest.fixture
def school(district):
    return SchoolFactory(district=district, name="Maple Elementary")


@pytest.fixture
def students(school):
    """Students 1001–1003 at Maple, and a student 1001 of another district (never matched)."""
    StudentFactory(district=DistrictFactory(), local_id="1001")
    return {
        local_id: StudentFactory(school=school, local_id=local_id)
        for local_id in ("1001", "1002", "1003")
    }


def run(district, text, *, mode="strict", name="results.csv", encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return services.import_files(
        district=district, kind=ImportBatch.Kind.CSV, mode=mode, source={name: data}
    )


def problems(report):
    return [(error.file, error.line, error.column, error.reason) for error in report.errors]


def stored(district):
    """{(local id, assessment name, window): (score, level rank, tested on)}."""
    return {
        (r.student.local_id, r.assessment.name, r.assessment.window): (
            r.score,
            r.level_rank,
            r.tested_on,
        )
        for r in AssessmentResult.objects.filter(assessment__district=district).select_related(
            "student", "assessment"
        )
    }


VALID = HEADER + csv_text(
    """
    1001,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,212,
    1002,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-14,198.5,
    1003,Grade 5 Reading Benchmark,reading,winter,,2027-01-20,40,
    """
)


def test_valid_file_creates_assessments_and_results(district, school, students):
    report = run(district, VALID)

    assert report.counts == {
        "results created": 3,
        "results updated": 0,
        "results unchanged": 0,
        "assessments created": 2,
        "results at the student's current school (no school given)": 3,
        "results in the student's current grade (no grade_at_test given)": 3,
    }
    assert report.errors == []
    assert report.rows_total == 3
    assert report.schools_touched == {school.pk}
    math = Assessment.objects.get(district=district, name="Grade 5 Math Benchmark")
    assert (math.subject, math.window, math.school_year) == ("math", "fall", "2026-2027")
    assert math.administered_on == datetime.date(2026, 9, 14)  # the earliest test date
    reading = Assessment.objects.get(district=district, name="Grade 5 Reading Benchmark")
    assert reading.school_year == "2026-2027"  # derived from January 2027
    math, reading = "Grade 5 Math Benchmark", "Grade 5 Reading Benchmark"
    assert stored(district) == {
        ("1001", math, "fall"): (Decimal("212"), None, datetime.date(2026, 9, 15)),
        ("1002", math, "fall"): (Decimal("198.5"), None, datetime.date(2026, 9, 14)),
        ("1003", reading, "winter"): (Decimal("40"), None, datetime.date(2027, 1, 20)),
    }


def test_performance_level_from_label_or_computed_from_cut_scores(district, students):
    benchmark = AssessmentFactory(
        district=district, name="Grade 5 Math Benchmark", school_year="2026-2027", window="fall"
    )
    levels_for(benchmark, ("Below", 0), ("Approaching", 190), ("Meets", 210), proficient_from=3)
    text = HEADER + csv_text(
        """
        1001,grade 5 math benchmark,Math,Fall,2026-2027,,212,
        1002,Grade 5 Math Benchmark,math,fall,2026-2027,,198,meets
        1003,Grade 5 Math Benchmark,math,fall,2026-2027,,150,2
        """
    )

    report = run(district, text)

    assert "assessments created" not in report.counts
    assert {key[0]: value[1] for key, value in stored(district).items()} == {
        "1001": 3,  # 212 reaches the "Meets" cut of 210
        "1002": 3,  # the file's label wins over the cut scores
        "1003": 2,  # a level's rank is accepted too
    }
    assert Assessment.objects.filter(district=district).count() == 1  # name matched in any case


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_messy_file_imports(district, students, encoding):
    """A BOM or Windows-1252, CRLF, other column spellings and order, extra columns, blank
    optional fields and lines, m/d/Y dates, subject and window spellings."""
    text = (
        "Student ID,Teacher,Scale Score,Assessment Name,Subject,Window,School Year,Test Date,"
        "Notes\r\n"
        "1001,Ms. Núñez,212,Évaluation de lecture,ELA,Autumn,,9/15/2026,absent 9/12\r\n"
        "\r\n"
        " 1002 ,,198,Évaluation de lecture,English Language Arts,fall,2026-27,,\r\n"
        "1003,,7,Science Check,Science,EOY,2026-2027,05/20/2027,\r\n"
        ",,,,,,,,\r\n"
    )

    report = run(district, text, encoding=encoding)

    assert report.errors == []
    assert report.counts["results created"] == 3
    assert stored(district) == {
        ("1001", "Évaluation de lecture", "fall"): (Decimal(212), None, datetime.date(2026, 9, 15)),
        ("1002", "Évaluation de lecture", "fall"): (Decimal(198), None, None),
        ("1003", "Science Check", "spring"): (Decimal(7), None, datetime.date(2027, 5, 20)),
    }
    reading = Assessment.objects.get(name="Évaluation de lecture")
    assert (reading.subject, reading.school_year) == ("reading", "2026-2027")


BROKEN = HEADER + csv_text(
    """
    1001,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,212,
    9999,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,200,
    1002,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,abc,
    1003,Grade 5 Math Benchmark,history,fall,2026-2027,2026-09-15,200,
    1003,Grade 5 Math Benchmark,math,summer,2026-2027,2026-09-15,200,
    1003,Grade 5 Math Benchmark,math,fall,2026-2027,2026-13-45,200,
    1003,,math,fall,2026-2027,2026-09-15,200,
    1003,Grade 5 Math Benchmark,math,fall,2026-2027,2025-10-01,200,
    1003,Grade 5 Math Benchmark,math,fall,,,200,
    1001,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-16,215,
    1002,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,199,Proficient
    1003,Grade 5 Reading Benchmark,reading,fall,2026-2027,2026-09-15,31,
    """
)
BROKEN_PROBLEMS = [
    ("results.csv", 3, "student_id", "no student with id 9999 in Lakeside District"),
    ("results.csv", 4, "score", "“abc” is not a number"),
    (
        "results.csv",
        5,
        "subject",
        "“history” is not a subject: use math, reading, language, science or other",
    ),
    ("results.csv", 6, "window", "“summer” is not a window: use fall, winter or spring"),
    (
        "results.csv",
        7,
        "date",
        "“2026-13-45” is not a date (expected e.g. 2026-09-14 or 9/14/2026)",
    ),
    ("results.csv", 8, "assessment", "required, but blank"),
    ("results.csv", 9, "date", "2025-10-01 is in school year 2025-2026, not 2026-2027"),
    (
        "results.csv",
        10,
        "school_year",
        "give the school year (e.g. 2026-2027) or the test date",
    ),
    (
        "results.csv",
        11,
        "student_id",
        "student 1001 already has a result for Grade 5 Math Benchmark · Fall 2026-2027 on "
        "line 2 of results.csv",
    ),
    (
        "results.csv",
        12,
        "performance_level",
        "Grade 5 Math Benchmark · Fall 2026-2027 has no performance levels to match "
        "“Proficient”: define its levels and cut scores first, or leave this column blank",
    ),
]


def test_strict_mode_reports_every_problem_and_writes_nothing(district, students):
    with pytest.raises(ImportRefused) as refused:
        run(district, BROKEN, mode="strict")

    assert problems(refused.value.report) == BROKEN_PROBLEMS
    assert str(refused.value.report.errors[1]) == "results.csv:4 score: “abc” is not a number"
    assert not Assessment.objects.filter(district=district).exists()
    assert not AssessmentResult.objects.exists()


def test_skip_mode_imports_the_valid_rows_and_reports_the_rest(district, students):
    report = run(district, BROKEN, mode="skip")

    assert problems(report) == BROKEN_PROBLEMS
    assert report.counts["results created"] == 2
    assert set(stored(district)) == {
        ("1001", "Grade 5 Math Benchmark", "fall"),  # the first of the two lines for 1001
        ("1003", "Grade 5 Reading Benchmark", "fall"),
    }
    assert stored(district)[("1001", "Grade 5 Math Benchmark", "fall")][0] == 212


@pytest.mark.parametrize("mode", ["strict", "skip"])
def test_missing_column_refuses_the_file_in_either_mode(district, students, mode):
    text = "student_id,assessment,subject,score,score\n1001,Benchmark,math,200,201\n"

    with pytest.raises(ImportRefused) as refused:
        run(district, text, mode=mode)

    assert problems(refused.value.report) == [
        ("results.csv", 1, "score", "this is a second score column"),
        ("results.csv", 1, "window", "this required column is missing"),
    ]
    assert not AssessmentResult.objects.exists()


def test_a_file_that_stops_being_csv_is_refused_with_its_line(district, students):
    data = VALID.encode() + b'1001,"Other' + b"x" * 140_000 + b"\n"  # an unclosed quote

    with pytest.raises(ImportRefused) as refused:
        run(district, data, mode="skip")

    assert [(e.line, e.column, e.reason) for e in refused.value.report.errors] == [
        (
            5,
            "assessment",
            "the file cannot be read as CSV from here on (a value is longer than 131,072 "
            "characters; is a quote never closed?)",
        )
    ]
    assert not AssessmentResult.objects.exists()


def test_reimport_changes_nothing_and_a_changed_score_is_an_update(district, students):
    run(district, VALID)
    ids_before = set(AssessmentResult.objects.values_list("pk", flat=True))
    before = stored(district)

    again = run(district, VALID)

    assert {label: again.counts[label] for label in ResultWriter.LABELS} == {
        "results created": 0,
        "results updated": 0,
        "results unchanged": 3,
    }
    assert again.schools_touched == set()
    assert stored(district) == before
    assert set(AssessmentResult.objects.values_list("pk", flat=True)) == ids_before
    assert Assessment.objects.filter(district=district).count() == 2

    changed = run(district, VALID.replace(",212,", ",214,"))

    assert {label: changed.counts[label] for label in ResultWriter.LABELS} == {
        "results created": 0,
        "results updated": 1,
        "results unchanged": 2,
    }
    assert stored(district)[("1001", "Grade 5 Math Benchmark", "fall")][0] == 214


def test_query_count_does_not_grow_with_the_rows(district, school):
    """Each chunk costs the same few queries, whatever its size (50 rows of every result column
    fit one SQLite INSERT; PostgreSQL takes a whole chunk of 5,000 in one)."""
    for n in range(140):
        StudentFactory(school=school, local_id=f"{n:04d}")
    AssessmentFactory(district=district)  # so both imports find existing assessments

    def queries(rows, name):
        text = HEADER + "".join(f"{n:04d},{name},math,fall,2026-2027,,{n},\n" for n in range(rows))
        with CaptureQueriesContext(connection) as captured:
            run(district, text)
        return len(captured)

    assert queries(10, "Small") == queries(50, "Large")


def test_each_chunk_is_checked_and_written_with_a_fixed_number_of_queries(
    district, school, monkeypatch
):
    monkeypatch.setattr(results, "CHUNK_SIZE", 4)
    for n in range(10):
        StudentFactory(school=school, local_id=f"{n:04d}")
    text = HEADER + "".join(f"{n:04d},Quiz,math,fall,2026-2027,,{n},\n" for n in range(10))
    seen = []

    report = services.import_files(
        district=district,
        kind=ImportBatch.Kind.CSV,
        mode="strict",
        source={"quiz.csv": text.encode()},
        progress=lambda done, total: seen.append((done, total)),
    )

    assert report.counts["results created"] == 10
    assert seen == [(4, 10), (8, 10), (10, 10)]


# Batches, the task and the command


def upload(text, name="results.csv"):
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text)


def create_batch(district, text, *, mode="strict", name="results.csv", enqueue=True):
    return services.import_batch_create(
        district=district,
        kind=ImportBatch.Kind.CSV,
        mode=mode,
        upload=upload(text, name),
        uploaded_by=UserFactory(is_superuser=True),  # may import for every school
        enqueue=enqueue,
    )


def test_a_batch_is_queued_on_commit_and_records_its_outcome(
    district, school, students, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = create_batch(district, VALID)

    # The import is queued with the batch (the outbox) and sent once the upload commits; its
    # success then queues the touched school's compile.
    assert callbacks
    message = OutboxMessage.objects.get(task_name=run_import.name)
    assert message.args == [batch.pk] and message.sent_at is not None
    assert DashboardSnapshot.objects.filter(school=school, is_current=True).exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert batch.original_name == "results.csv"
    assert batch.counts == {
        "results created": 3,
        "results updated": 0,
        "results unchanged": 0,
        "assessments created": 2,
        "results at the student's current school (no school given)": 3,
        "results in the student's current grade (no grade_at_test given)": 3,
    }
    assert (batch.rows_total, batch.rows_done) == (3, 3)
    assert batch.schools_touched == [school.pk]
    assert batch.errors == []
    assert batch.started_at <= batch.finished_at
    assert AssessmentResult.objects.count() == 3


def test_a_refused_batch_fails_with_every_problem_and_writes_nothing(district, students):
    batch = create_batch(district, BROKEN, enqueue=False)

    assert run_import.apply(args=[batch.pk]).get() == ImportBatch.Status.FAILED

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert [tuple(error.values()) for error in batch.errors] == BROKEN_PROBLEMS
    assert batch.errors[0] == {
        "file": "results.csv",
        "line": 3,
        "column": "student_id",
        "reason": "no student with id 9999 in Lakeside District",
    }
    assert batch.counts == {"problems found": len(BROKEN_PROBLEMS)}
    assert batch.schools_touched == []
    assert not AssessmentResult.objects.exists()


def test_a_skip_batch_counts_the_rows_skipped(district, students):
    batch = create_batch(district, BROKEN, mode="skip", enqueue=False)

    run_import.apply(args=[batch.pk])

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert batch.counts["results created"] == 2
    assert batch.counts["problems found"] == batch.counts["rows skipped"] == 10
    assert len(batch.errors) == 10


def test_several_csv_files_in_a_zip_import_together(district, students):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exports/math.csv", VALID)
        archive.writestr("exports/more.csv", HEADER + "1001,Quiz,math,fall,2026-2027,,x,\n")
        archive.writestr("__MACOSX/exports/._math.csv", "junk")
    batch = create_batch(district, buffer.getvalue(), name="exports.zip", enqueue=False)

    run_import.apply(args=[batch.pk])

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert [(e["file"], e["line"], e["column"]) for e in batch.errors] == [("more.csv", 2, "score")]
    assert not AssessmentResult.objects.exists()  # math.csv was fine, but strict is per batch


def test_an_unexpected_failure_leaves_the_database_unchanged(district, students, monkeypatch):
    def crash(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(results.Assessments, "date_created", crash)  # after every row is written
    batch = create_batch(district, VALID, enqueue=False)
    services.import_batch_claim(batch=batch)

    with pytest.raises(RuntimeError):
        services.import_batch_run(batch=batch)

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "unexpected problem; nothing was imported" in batch.errors[0]["reason"]
    assert not AssessmentResult.objects.exists()
    assert not Assessment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_runs(district, school, monkeypatch):
    """The page polls rows_done; on PostgreSQL it moves before the import's transaction commits."""
    if connection.vendor != "postgresql":
        require_service("postgresql", "progress is written through a second PostgreSQL connection")
    for n in range(6):
        StudentFactory(school=school, local_id=f"{n:04d}")
    text = HEADER + "".join(f"{n:04d},Quiz,math,fall,2026-2027,,{n},\n" for n in range(6))
    batch = create_batch(district, text, enqueue=False)
    services.import_batch_claim(batch=batch)
    monkeypatch.setattr(results, "CHUNK_SIZE", 2)
    monkeypatch.setattr(services._ProgressRecorder, "INTERVAL", datetime.timedelta(0))
    seen_from_outside = []
    record = services._ProgressRecorder.__call__

    def record_and_look(recorder, done, total):
        record(recorder, done, total)
        outsider = connection.copy()
        with outsider.cursor() as cursor:
            cursor.execute(
                "SELECT rows_done, rows_total FROM data_tracking_importbatch WHERE id = %s",
                [batch.pk],
            )
            seen_from_outside.append(cursor.fetchone())
        outsider.close()
        assert connection.in_atomic_block  # the import has not committed yet

    monkeypatch.setattr(services._ProgressRecorder, "__call__", record_and_look)

    services.import_batch_run(batch=batch)

    assert seen_from_outside == [(2, 6), (4, 6), (6, 6)]
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done, batch.rows_total) == ("succeeded", 6, 6)


def test_an_import_stopped_by_the_time_limit_fails_quietly(district, students, monkeypatch):
    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setitem(services.IMPORTERS, ImportBatch.Kind.CSV, too_slow)
    batch = create_batch(district, VALID, enqueue=False)

    assert run_import.apply(args=[batch.pk]).get() == ImportBatch.Status.FAILED

    batch.refresh_from_db()
    assert batch.errors == [
        {
            "file": "results.csv",
            "line": 0,
            "column": "",
            "reason": "the import took too long and was stopped; nothing was imported",
        }
    ]


def test_the_task_returns_quietly_when_the_batch_is_gone_or_taken(district, students):
    assert run_import.apply(args=[123456]).get() is None

    batch = create_batch(district, VALID, enqueue=False)
    assert services.import_batch_claim(batch=batch) is True
    assert services.import_batch_claim(batch=batch) is False  # a second worker
    assert run_import.apply(args=[batch.pk]).get() is None

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.RUNNING
    assert not AssessmentResult.objects.exists()


def test_running_an_unclaimed_batch_is_refused(district, students):
    batch = create_batch(district, VALID, enqueue=False)

    with pytest.raises(ValueError, match="claim it first"):
        services.import_batch_run(batch=batch)


def test_batches_whose_worker_died_are_marked_failed(
    district, students, django_capture_on_commit_callbacks
):
    stale = create_batch(district, VALID, enqueue=False)
    fresh = create_batch(district, VALID, enqueue=False)
    stale_file = stale.upload.path
    services.import_batch_claim(batch=stale)
    services.import_batch_claim(batch=fresh)
    ImportBatch.objects.filter(pk=stale.pk).update(
        started_at=stale.started_at - datetime.timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert fail_stale_imports.apply().get() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == ImportBatch.Status.FAILED
    assert "worker was lost" in stale.errors[0]["reason"]
    assert not stale.upload and not Path(stale_file).exists()  # finished: the file goes
    assert fresh.status == ImportBatch.Status.RUNNING and fresh.upload


def test_unknown_kind_or_mode_is_a_validation_error(district):
    with pytest.raises(ValidationError, match="not a kind of import"):
        services.import_batch_create(
            district=district, kind="xls", mode="strict", upload=upload(VALID), uploaded_by=None
        )


def test_command_prints_counts_and_each_problem(district, students, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(BROKEN)
    out = io.StringIO()

    call_command("import_results_csv", str(path), district="lakeside", mode="skip", stdout=out)

    lines = out.getvalue().splitlines()
    assert "results.csv:3 student_id: no student with id 9999 in Lakeside District" in lines
    assert "results.csv:4 score: “abc” is not a number" in lines
    assert "results created: 2" in lines
    assert "rows skipped: 10" in lines
    assert ImportBatch.objects.get().status == ImportBatch.Status.SUCCEEDED


def test_command_exits_non_zero_when_nothing_was_imported(district, students, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(BROKEN)
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported into Lakeside District: 10"):
        call_command("import_results_csv", str(path), district="lakeside", stdout=out)

    assert "results.csv:4 score: “abc” is not a number" in out.getvalue().splitlines()
    assert not AssessmentResult.objects.exists()


def test_command_imports_several_files_together(district, students, tmp_path):
    (tmp_path / "a.csv").write_text(VALID)
    (tmp_path / "b.csv").write_text(HEADER + "1001,Quiz,math,fall,2026-2027,,7,\n")
    out = io.StringIO()

    call_command(
        "import_results_csv",
        str(tmp_path / "a.csv"),
        str(tmp_path / "b.csv"),
        district="lakeside",
        stdout=out,
    )

    assert "results created: 4" in out.getvalue().splitlines()
    assert ImportBatch.objects.get().original_name == "a and 1 more.zip"


def test_command_refuses_an_unknown_district(db, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(VALID)
    with pytest.raises(CommandError, match="no district with the slug “nowhere”"):
        call_command("import_results_csv", str(path), district="nowhere")


def test_the_downloadable_template_imports(district, school):
    for local_id in ("100234", "100235", "100236"):
        StudentFactory(school=school, local_id=local_id)
    benchmark = AssessmentFactory(
        district=district, name="Grade 5 Math Benchmark", school_year="2026-2027", window="fall"
    )
    levels_for(benchmark, ("Below", 0), ("Approaching", 400), ("Meets", 450))

    report = run(district, services.RESULTS_TEMPLATE_PATH.read_bytes())

    assert report.errors == []
    assert report.counts["results created"] == 3
    levels = {key[0]: value[1] for key, value in stored(district).items()}
    assert levels == {"100234": 2, "100235": 3, "100236": None}
