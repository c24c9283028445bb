"""Hostile and broken uploads: zip bombs, files that are not what they say, values no school could
have written. Every importer must refuse them with a reason naming the file and the line, write
nothing when it refuses, and never stop with an error of its own. The last tests feed hundreds of
seeded random mutations (tests/data_tracking/fuzz.py) to every importer, in both modes."""

import datetime
import io
import re
import struct
import time
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from data_tracking.imports import common
from data_tracking.imports.common import ImportRefused, unpack_files
from data_tracking.models import (
    Assessment,
    AssessmentResult,
    Enrollment,
    ImportBatch,
    Section,
    Student,
)
from data_tracking.services import import_files
from teams.models import School, StaffMember
from tests.data_tracking import fuzz
from tests.data_tracking.factories import AssessmentFactory, StudentFactory
from tests.teams.factories import DistrictFactory, SchoolFactory, staff_at

CSV, MAP, ONEROSTER = ImportBatch.Kind.CSV, ImportBatch.Kind.MAP_CDF, ImportBatch.Kind.ONEROSTER
TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def district(db):
    """Lakeside with Maple (students 1001–1003, teacher Tina) and Birch."""
    district = DistrictFactory(name="Lakeside District", slug="lakeside")
    maple = SchoolFactory(district=district, name="Maple Elementary", slug="maple")
    SchoolFactory(district=district, name="Birch Elementary", slug="birch")
    for local_id in ("1001", "1002", "1003"):
        StudentFactory(school=maple, local_id=local_id)
    staff_at(maple, username="tina", email="tina.tran@example.org")
    return district


def problems(report):
    return [(error.file, error.line, error.column, error.reason) for error in report.errors]


def refused(district, kind, source, mode="strict"):
    with pytest.raises(ImportRefused) as refusal:
        import_files(district=district, kind=kind, mode=mode, source=source)
    return problems(refusal.value.report)


def sized_zip(members, *, level=9):
    """A zip of ``{name: (chunk, times)}`` written a chunk at a time (no large string built)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, (chunk, times) in members.items():
            with archive.open(name, "w", force_zip64=True) as member:
                for _ in range(times):
                    member.write(chunk)
    return buffer.getvalue()


def peak_memory(function, *args, **kwargs):
    """(what ``function`` returned or raised, the peak of memory Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        try:
            outcome = function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the caller asserts what it was
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MB = 1024**2


# ── 8. Zip bombs: refused while reading, by what the zip really expands to ─────────────────────


@pytest.fixture(scope="module")
def bomb():
    """200 MB of zeros deflated to about 200 KB: a 1,000:1 ratio, honest headers."""
    return sized_zip({"AssessmentResults.csv": (b"\0" * MB, 200)})


def test_a_zip_bomb_is_refused_by_its_ratio_after_reading_little_of_it(bomb):
    assert len(bomb) < MB

    outcome, peak = peak_memory(unpack_files, "cdf.zip", bomb)

    assert isinstance(outcome, ValueError)
    assert str(outcome) == (
        "AssessmentResults.csv expands to more than 100 times its size in the zip file: it is "
        "refused as a possible zip bomb"
    )
    assert peak < 40 * MB  # at most 100 × its ~200 KB in the zip, never its 200 MB


def _lie_about_sizes(data, *, file_size=None, compress_size=None):
    """The zip with its first member's sizes changed in its central directory entry (which is
    what readers go by)."""
    data = bytearray(data)
    entry = data.find(b"PK\x01\x02")
    for offset, size in ((20, compress_size), (24, file_size)):
        if size is not None:
            data[entry + offset : entry + offset + 4] = struct.pack("<I", size)
    return bytes(data)


@pytest.mark.parametrize(
    ("lie", "reason"),
    [
        # Says 10 KB: reading stops at 10 KB and the checksum gives the lie away.
        (
            {"file_size": 10_000},
            "AssessmentResults.csv cannot be read from the zip file, it is damaged (Bad CRC",
        ),
        # Says its packed size is 4 GB, so that its ratio looks small: the zip is 200 KB.
        ({"compress_size": 0xFFFFFF00}, "AssessmentResults.csv "),
    ],
)
def test_a_zip_whose_header_lies_about_its_size_is_refused_quickly(bomb, lie, reason):
    liar = _lie_about_sizes(bomb, **lie)
    started = time.monotonic()

    outcome, peak = peak_memory(unpack_files, "cdf.zip", liar)

    assert isinstance(outcome, ValueError), outcome
    assert str(outcome).startswith(reason)
    assert peak < 40 * MB
    assert time.monotonic() - started < 30  # a guard against a hang, not a benchmark


def test_the_total_expanded_size_is_capped(db):
    members = {f"part{n}.csv": (b"1001,212,2026-09-15\n" * 1000, 50) for n in range(4)}
    upload = sized_zip(members, level=1)  # each part ~1 MB at a ratio well under 100

    with pytest.raises(ValueError, match=r"^the zip file expands to more than 3 MB$"):
        unpack_files("parts.zip", upload, max_bytes=3 * MB)

    assert len(unpack_files("parts.zip", upload, max_bytes=5 * MB)) == 4


def test_files_that_compress_well_are_not_refused_below_a_megabyte(db):
    zeros = sized_zip({"results.csv": (b"0" * 1000, 900)})  # 900 KB of one character

    assert unpack_files("results.zip", zeros) == {"results.csv": b"0" * 900_000}


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"inner.zip": b"PK\x05\x06" + b"\0" * 18}, "inner.zip is a zip file inside the zip file"),
        ({"cdf/results.csv": fuzz.zipped([("a.csv", b"a")])}, "cdf/results.csv is a zip file"),
    ],
)
def test_a_zip_inside_the_zip_is_refused_not_expanded(db, members, reason):
    with pytest.raises(ValueError, match=f"^{reason}"):
        unpack_files("upload.zip", fuzz.zipped(list(members.items())))


def test_a_zip_of_too_many_files_is_refused(db):
    upload = fuzz.zipped([(f"{n}.csv", b"") for n in range(1001)])

    with pytest.raises(ValueError, match="^the zip file holds more than 1,000 files$"):
        unpack_files("many.zip", upload)


def test_a_zip_compressed_as_bzip2_is_refused(db):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("results.csv", "student_id\n")

    with pytest.raises(ValueError, match="^results.csv is compressed in a way the portal does not"):
        unpack_files("results.zip", buffer.getvalue())


def test_the_command_refuses_a_zip_bomb_with_its_reason(district, tmp_path):
    path = tmp_path / "cdf.zip"
    path.write_bytes(sized_zip({"AssessmentResults.csv": (b"\0" * MB, 20)}))
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_map_cdf", str(path), district="lakeside", stdout=out)

    assert out.getvalue().splitlines() == [
        "cdf.zip: AssessmentResults.csv expands to more than 100 times its size in the zip "
        "file: it is refused as a possible zip bomb"
    ]
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


# ── 9. One reader: every encoding read, every failure with a file, a line and a reason ─────────

PLAIN = (
    "student_id,assessment,subject,window,school_year,date,score,performance_level\n"
    "1001,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,212,\n"
    "1002,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-14,198.5,\n"
)


def test_every_undefined_windows_1252_byte_reads_as_latin_1_in_every_importer(district):
    for byte in fuzz.UNDEFINED_CP1252:
        users = (
            fuzz.ONEROSTER_FILES["users.csv"].encode().replace(b"Sofia", b"Sofi" + bytes([byte]))
        )
        files = {name: text.encode() for name, text in fuzz.ONEROSTER_FILES.items()}
        report = import_files(
            district=district,
            kind=ONEROSTER,
            mode="strict",
            source=files | {"users.csv": users},
        )
        assert report.errors == []
        assert Student.objects.get(local_id="1001").first_name == "Sofi" + chr(byte)

        plain = PLAIN.replace("Benchmark", "Benchmark é").encode("cp1252")
        plain = plain.replace(b"\xe9", b"\xe9" + bytes([byte]))
        import_files(district=district, kind=CSV, mode="strict", source={"r.csv": plain})
        assert Assessment.objects.filter(name="Grade 5 Math Benchmark é" + chr(byte)).exists()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252"])
def test_every_importer_reads_the_same_encodings(district, encoding):
    plain = PLAIN.replace("Benchmark", "Évaluation").encode(encoding)
    import_files(district=district, kind=CSV, mode="strict", source={"results.csv": plain})
    assert Assessment.objects.filter(name="Grade 5 Math Évaluation").exists()

    cdf = {
        name: text.replace("Lopez", "López").encode(encoding)
        for name, text in fuzz.MAP_FILES.items()
    }
    import_files(district=district, kind=MAP, mode="strict", source=cdf)
    assert Student.objects.get(local_id="2001").last_name == "López"

    roster = {name: text.encode(encoding) for name, text in fuzz.ONEROSTER_FILES.items()}
    import_files(district=district, kind=ONEROSTER, mode="strict", source=roster)
    assert School.objects.filter(name="Cedar Middle School").exists()


def test_a_value_longer_than_the_csv_field_limit_is_refused_with_file_line_and_column(district):
    files = {name: text.encode() for name, text in fuzz.ONEROSTER_FILES.items()}
    files["users.csv"] = files["users.csv"].replace(b"Garcia", b"G" * 200_000)

    assert refused(district, ONEROSTER, files, mode="skip") == [
        (
            "users.csv",
            4,
            "familyName",
            "the file cannot be read as CSV from here on (a value is longer than 131,072 "
            "characters; is a quote never closed?)",
        )
    ]


def test_a_quote_never_closed_refuses_the_file_at_the_line_it_opens(district):
    broken = PLAIN + '1003,"Grade 5 Math Benchmark,math,fall,2026-2027,,200,\n1001,x,math,fall\n'

    for mode in ("strict", "skip"):
        assert refused(district, CSV, {"results.csv": broken.encode()}, mode) == [
            (
                "results.csv",
                4,
                "assessment",
                "the file cannot be read as CSV from here on (a quote opened on this line is "
                "never closed)",
            )
        ]
    assert not AssessmentResult.objects.exists()


def test_a_nul_in_a_value_is_a_problem_of_its_row_and_never_reaches_the_database(district):
    data = PLAIN.encode().replace(b"Math Benchmark,math,fall,2026-2027,2026-09-14", b"Ma\0th,math")

    assert refused(district, CSV, {"results.csv": data}) == [
        ("results.csv", 3, "assessment", common.NUL_IN_ROW)
    ]
    report = import_files(district=district, kind=CSV, mode="skip", source={"results.csv": data})
    assert problems(report) == [("results.csv", 3, "assessment", common.NUL_IN_ROW)]
    assert list(AssessmentResult.objects.values_list("student__local_id", flat=True)) == ["1001"]


def test_a_nul_row_is_reported_by_the_command_and_stored_with_the_batch(district, tmp_path):
    """On PostgreSQL a NUL in the stored report would make saving the batch fail."""
    path = tmp_path / "results.csv"
    path.write_bytes(PLAIN.encode().replace(b"198.5", b"19\x008.5"))
    out = io.StringIO()

    call_command("import_results_csv", str(path), district="lakeside", mode="skip", stdout=out)

    assert f"results.csv:3 score: {common.NUL_IN_ROW}" in out.getvalue().splitlines()
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert batch.errors == [
        {"file": "results.csv", "line": 3, "column": "score", "reason": common.NUL_IN_ROW}
    ]


def test_nuls_in_the_header_or_an_empty_file_refuse_the_file(district):
    utf16_without_bom = PLAIN.encode("utf-16-le")

    assert refused(district, CSV, {"results.csv": utf16_without_bom}) == [
        ("results.csv", 1, "", common.NUL_IN_HEADER)
    ]
    assert refused(district, MAP, {"AssessmentResults.csv": b"\r\n \n"}) == [
        ("AssessmentResults.csv", 0, "", "the file is empty")
    ]


def test_a_reason_quotes_at_most_80_characters_and_no_control_characters(district):
    subject = "\x01history\x1b[31m" + "y" * 500
    data = PLAIN.replace(",math,fall,2026-2027,2026-09-15", f",{subject},fall,2026-2027,").encode()

    (problem,) = refused(district, CSV, {"results.csv": data})

    quoted = re.search(r"“(.*)”", problem[3])[1]
    assert len(quoted) == 80
    assert quoted.startswith("\N{REPLACEMENT CHARACTER}history\N{REPLACEMENT CHARACTER}[31my")
    assert quoted.endswith("y…")


# ── 10. Values no school could have written ────────────────────────────────────────────────────


def test_plain_csv_scores_dates_and_years_within_reason(district):
    rows = [
        "1001,Benchmark,math,fall,2026-2027,2026-09-15,-5,",
        "1002,Benchmark,math,fall,2026-2027,2026-09-15,٢٠٠,",
        "1003,Benchmark,math,fall,,9999-12-31,200,",
        "1001,Benchmark,reading,fall,,1989-08-31,200,",
        "1002,Benchmark,reading,fall,2040-2041,,200,",
        "1003,Benchmark,reading,fall,2026-2027,,1e3,",
    ]
    data = (PLAIN.split("\n")[0] + "\n" + "\n".join(rows) + "\n").encode()

    assert refused(district, CSV, {"results.csv": data}) == [
        ("results.csv", 2, "score", "-5 is below 0: a score cannot be negative"),
        (
            "results.csv",
            3,
            "score",
            "“٢٠٠” is written with digits other than 0–9: write numbers with 0–9",
        ),
        ("results.csv", 4, "date", "9999-12-31 is more than a year from today: not a test date"),
        ("results.csv", 5, "date", "1989-08-31 is before 1990: not a test date"),
        ("results.csv", 6, "school_year", "“2040-2041” is more than a year from now"),
        ("results.csv", 7, "score", "“1e3” is not a number"),
    ]


def test_a_plain_csv_score_stays_within_the_scale_its_assessment_states(district):
    AssessmentFactory(
        district=district, name="MAP Growth", subject="math", window="fall", scale="RIT"
    )
    AssessmentFactory(district=district, name="Quiz", subject="math", window="fall", scale="%")
    year = Assessment.objects.first().school_year
    data = (
        PLAIN.split("\n")[0] + "\n"
        f"1001,MAP Growth,math,fall,{year},,412,\n"
        f"1002,Quiz,math,fall,{year},,100.5,\n"
        f"1003,Quiz,math,fall,{year},,99.5,\n"
    ).encode()

    assert refused(district, CSV, {"results.csv": data}) == [
        ("results.csv", 2, "score", "412 is outside the RIT scale (100 to 350)"),
        ("results.csv", 3, "score", "100.5 is outside the % scale (0 to 100)"),
    ]


def test_map_values_within_reason(district):
    students = fuzz.MAP_FILES["StudentsBySchool.csv"].replace("3/14/2016", "1/1/2099")
    students = students.replace("2016-07-02,White,M,05", "1990-07-02,White,M,٥")
    results = fuzz.MAP_FILES["AssessmentResults.csv"]
    for good, bad in [
        ("9/11/2026,190,3.4,40", "9999-12-31,190,3.4,40"),
        ("9/12/2026,205,3.2,60", "9/12/2026,50,0,100"),
        ("1/13/2027,160,3.5,35", "1/13/2027,351,25,0"),
    ]:
        results = results.replace(good, bad)

    source = {"StudentsBySchool.csv": students.encode(), "AssessmentResults.csv": results.encode()}
    assert refused(district, MAP, source) == [
        (
            "AssessmentResults.csv",
            2,
            "StudentID",
            "no student with id 2001 in Lakeside District (their StudentsBySchool.csv row was "
            "not imported)",
        ),
        (
            "AssessmentResults.csv",
            3,
            "TestStartDate",
            "9999-12-31 is more than a year from today: not a test date",
        ),
        ("AssessmentResults.csv", 4, "TestRITScore", "50 is outside the RIT scale (100 to 350)"),
        (
            "AssessmentResults.csv",
            4,
            "TestStandardError",
            "“0” is not a standard error of a MAP test (above 0, at most 20 RIT)",
        ),
        (
            "AssessmentResults.csv",
            4,
            "TestPercentile",
            "“100” is not a percentile (a whole number from 1 to 99)",
        ),
        ("AssessmentResults.csv", 5, "TestRITScore", "351 is outside the RIT scale (100 to 350)"),
        (
            "AssessmentResults.csv",
            5,
            "TestStandardError",
            "“25” is not a standard error of a MAP test (above 0, at most 20 RIT)",
        ),
        (
            "AssessmentResults.csv",
            5,
            "TestPercentile",
            "“0” is not a percentile (a whole number from 1 to 99)",
        ),
        (
            "StudentsBySchool.csv",
            2,
            "StudentDateOfBirth",
            "2099-01-01 is in the future: not a birth date",
        ),
        ("StudentsBySchool.csv", 3, "Grade", "“٥” is not a grade (expected PK, K or 1 to 12)"),
        (
            "StudentsBySchool.csv",
            3,
            "StudentDateOfBirth",
            "1990-07-02 is more than 25 years ago: not a student's birth date",
        ),
    ]


def test_oneroster_birth_dates_and_grades_within_reason(district):
    files = {name: text.encode() for name, text in fuzz.ONEROSTER_FILES.items()}
    files["demographics.csv"] = files["demographics.csv"].replace(b"2016-03-04", b"2099-03-04")
    files["users.csv"] = files["users.csv"].replace(b",07,", "٠٧".join([",", ","]).encode())

    assert refused(district, ONEROSTER, files) == [
        (
            "users.csv",
            6,
            "grades",
            "grade “٠٧” is not understood (expected a code such as KG, 01 or 12)",
        ),
        ("demographics.csv", 2, "birthDate", "2099-03-04 is in the future: not a birth date"),
        ("demographics.csv", 3, "sourcedId", "user “st3” was rejected (users.csv line 6)"),
        ("enrollments.csv", 6, "userSourcedId", "user “st3” was rejected (users.csv line 6)"),
    ]


@pytest.mark.parametrize(
    ("kind", "files", "empty"),
    [
        (CSV, {"results.csv": PLAIN}, "results.csv"),
        (MAP, fuzz.MAP_FILES, "AssessmentResults.csv"),
        (MAP, fuzz.MAP_FILES, "StudentsBySchool.csv"),
        (ONEROSTER, fuzz.ONEROSTER_FILES, "users.csv"),
        (ONEROSTER, fuzz.ONEROSTER_FILES, "orgs.csv"),
    ],
)
def test_a_file_with_a_header_and_no_rows_is_refused_in_every_importer(
    district, kind, files, empty
):
    source = {name: text.encode() for name, text in files.items()}
    source[empty] = source[empty].split(b"\n")[0] + b"\n\n,,,\n"

    for mode in ("strict", "skip"):
        assert (empty, 0, "", "the file has no rows") in refused(district, kind, source, mode)


def test_oneroster_files_of_a_kind_the_export_has_none_of_may_be_a_header_alone(district):
    files = {name: text.encode() for name, text in fuzz.ONEROSTER_FILES.items()}
    files["demographics.csv"] = files["demographics.csv"].split(b"\n")[0]

    report = import_files(district=district, kind=ONEROSTER, mode="strict", source=files)

    assert report.errors == []


@pytest.mark.parametrize(
    ("command", "name", "text"),
    [
        ("import_results_csv", "results.csv", PLAIN.split("\n")[0] + "\n"),
        ("import_map_cdf", "AssessmentResults.csv", fuzz.MAP_FILES["AssessmentResults.csv"][:200]),
    ],
)
def test_the_command_exits_non_zero_for_a_header_only_file(district, tmp_path, command, name, text):
    path = tmp_path / name
    path.write_text(text.split("\n")[0] + "\n")
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported into Lakeside District"):
        call_command(command, str(path), district="lakeside", stdout=out)

    assert out.getvalue().splitlines() == [f"{name}: the file has no rows"]
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.errors[0]["reason"]) == ("failed", "the file has no rows")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("٢٠٠", "“٢٠٠” is written with digits other than 0–9: write numbers with 0–9"),
        ("２００", "“２００” is written with digits other than 0–9: write numbers with 0–9"),
        ("1_000", "“1_000” is not a number"),
        ("NaN", "“NaN” is not a number"),
        ("-Infinity", "“-Infinity” is not a number"),
        ("12345678", "“12345678” is too large"),
    ],
)
def test_numbers_are_written_with_ascii_digits(value, reason):
    with pytest.raises(ValueError) as error:
        common.parse_decimal(value)
    assert str(error.value) == reason


def test_numbers_and_dates_that_are_fine():
    assert common.parse_decimal(" +198.456 ") == Decimal("198.46")
    assert common.parse_decimal(".5") == Decimal("0.50")
    assert common.parse_test_date("1990-01-01") == datetime.date(1990, 1, 1)
    assert common.parse_test_date("20260915") == datetime.date(2026, 9, 15)
    assert common.parse_birth_date(TODAY.isoformat()) == TODAY
    assert common.parse_test_date("") is common.parse_birth_date("") is None


# ── Fuzz: hundreds of broken uploads of each kind through the worker's entry point ─────────────

CASES = 300  # of each kind, each imported strict and skip
SEEDS = {CSV: 10_000, MAP: 20_000, ONEROSTER: 30_000}
TABLES = [Student, AssessmentResult, Assessment, Section, Enrollment, StaffMember, School]


def table_counts():
    """Rows of every table an import writes, in one query."""
    tables = [model._meta.db_table for model in TABLES] + [get_user_model()._meta.db_table]
    selects = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects}")
        return cursor.fetchone()


def unpack(upload):
    """The upload as the worker unpacks it (services._read_upload)."""
    if isinstance(upload, dict):
        return upload
    name, data = upload
    try:
        return unpack_files(name, data)
    except ValueError as exc:
        report = common.ImportReport()
        report.error(name, 0, "", str(exc))
        raise ImportRefused(report) from exc


def check_errors(report, source):
    """What every problem must have; the reasons for any it lacks."""
    # Bytes 0A and 0D bound the lines from above, in any encoding.
    lines = {name: data.count(b"\n") + data.count(b"\r") + 1 for name, data in source.items()}
    found = []
    for error in report.errors:
        text = "".join((error.file, error.column, error.reason))
        if not error.file or not error.reason.strip():
            found.append(f"no file or reason: {error}")
        if not isinstance(error.line, int) or error.line < 0:
            found.append(f"no line: {error}")
        elif error.line == 0 and error.column:
            found.append(f"a whole-file problem (line 0) that names a column: {error}")
        elif error.file in lines and error.line > lines[error.file]:
            found.append(f"a line past the end of the file: {error}")
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text):
            found.append(f"control characters: {error!r}")
        if len(error.reason) > 600 or any(
            len(quoted) > 80 for quoted in re.findall(r"“([^”]*)”", error.reason)
        ):
            found.append(f"a reason too long: {error.reason[:200]}…")
    return found


@pytest.mark.parametrize("kind", [CSV, MAP, ONEROSTER])
def test_every_importer_survives_hundreds_of_broken_uploads(district, kind):
    """Every case in both modes: only ImportRefused may escape; a refusal leaves every table as
    it was; every problem names a file, a line and a reason, and the report can be stored."""
    before = table_counts()
    batch = ImportBatch.objects.create(
        district=district, kind=kind, mode="skip", upload="x", original_name="x"
    )
    failures, outcomes = [], {"refused": 0, "imported": 0}
    for seed in range(SEEDS[kind], SEEDS[kind] + CASES):
        case = fuzz.case(kind, seed)
        for mode in ("strict", "skip"):
            source = {}
            with transaction.atomic():
                try:
                    source = unpack(case.upload)
                    report = import_files(district=district, kind=kind, mode=mode, source=source)
                    was_refused = False
                except ImportRefused as refusal:
                    report, was_refused = refusal.report, True
                except Exception as exc:  # noqa: BLE001 - what this test looks for
                    failures.append(f"{case} [{mode}]: {type(exc).__name__}: {exc}"[:500])
                    transaction.set_rollback(True)
                    continue
                problems_found = check_errors(report, source)
                if was_refused and table_counts() != before:
                    problems_found.append("refused, yet the database changed")
                if was_refused and not report.errors:
                    problems_found.append("refused without a reason")
                if mode == "strict" and not was_refused and report.errors:
                    problems_found.append("strict mode imported a file with problems")
                # The report as the batch stores it (PostgreSQL's jsonb holds no NUL).
                ImportBatch.objects.filter(pk=batch.pk).update(
                    errors=[error.as_dict() for error in report.errors]
                )
                failures += [f"{case} [{mode}]: {problem}" for problem in problems_found]
                outcomes["refused" if was_refused else "imported"] += 1
                transaction.set_rollback(True)

    assert not failures, f"{len(failures)} failing case(s):\n" + "\n".join(failures[:15])
    assert table_counts() == before
    assert min(outcomes.values()) > 0, outcomes  # the cases reach the importers' rows, too
