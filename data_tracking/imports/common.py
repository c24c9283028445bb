"""What every importer shares: row errors, the report, unpacking zips, reading CSV text, parsing
numbers and dates. docs/imports.md describes the rules (encodings, limits, bounds) for users."""

import codecs
import contextlib
import csv
import datetime
import gc
import io
import itertools
import os
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath

from django.utils import timezone

from data_tracking.models import GRADES

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d-%b-%Y", "%Y%m%d")

# What an error may quote from a file: the report is stored (PostgreSQL text holds no NUL) and
# shown on a page, so a quoted value is cut and control characters never reach either.
QUOTED_LIMIT = 80  # characters of one value quoted in a reason, between “ and ”
REASON_LIMIT = 600  # characters of a whole reason (a few quoted values and the words around them)
NAME_LIMIT = 255  # characters of a file or column name in an error
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_QUOTED = re.compile(r"“([^”]*)”")


def shown(value, limit=QUOTED_LIMIT):
    """Text from a file as an error may show it: line breaks and tabs as spaces, other control
    characters (NUL among them) as �, at most ``limit`` characters."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value))
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quoted_cut(match):
    return f"“{shown(match[1])}”"


@dataclass(frozen=True)
class RowError:
    file: str
    line: int  # 1-based line in the file, the header being line 1
    column: str
    reason: str

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        """``file:line column: reason``; a problem with the whole file has line 0."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.column:
            where = f"{where} {self.column}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did or would do. ``counts`` maps a label ("students created") to a number."""

    errors: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    rows_total: int = 0
    schools_touched: set = field(default_factory=set)

    def error(self, file, line, column, reason):
        """Record a problem; every value it quotes (“…”) is cut to QUOTED_LIMIT characters and
        control characters are replaced, so the report can always be stored and shown."""
        reason = _QUOTED.sub(_quoted_cut, str(reason))
        self.errors.append(
            RowError(
                shown(file, NAME_LIMIT),
                line,
                shown(column, NAME_LIMIT),
                shown(reason, REASON_LIMIT),
            )
        )

    def add(self, label, number=1):
        self.counts[label] = self.counts.get(label, 0) + number


class ImportRefused(Exception):
    """The import wrote nothing; ``report.errors`` says why."""

    def __init__(self, report):
        super().__init__(f"{len(report.errors)} problem(s)")
        self.report = report


def parse_date(value):
    """A date in any of the styles real exports use, or None for a blank; ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
    if foreign_digits(value):
        raise ValueError(foreign_digits_reason(value))
    if "T" in value:  # ISO 8601 date-time
        value = value.split("T", 1)[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"“{value}” is not a date (expected e.g. 2026-09-14 or 9/14/2026)")


def parse_bool(value):
    value = value.strip().lower()
    if value in ("", "n", "no", "false", "0", "f"):
        return False
    if value in ("y", "yes", "true", "1", "t"):
        return True
    raise ValueError(f"“{value}” is not yes or no")


# Uploads: a file, or a zip of files, read without trusting what the zip says about itself.

MAX_UNPACKED_BYTES = 1024**3  # a zip whose files expand past 1 GiB together is refused
MAX_ZIP_MEMBERS = 1000  # entries of a zip (a CDF has about ten, a OneRoster export about twelve)
MAX_COMPRESSION_RATIO = 100  # a file may expand to at most 100 times its packed size…
RATIO_CHECKED_FROM = 1024**2  # …once it is past 1 MB: small files compress far better than that
ZIP_CHUNK = 256 * 1024  # bytes expanded at a time, so a bomb is stopped after at most one chunk
ZIP_SIGNATURE = b"PK\x03\x04"


def unpack_files(
    name,
    data,
    *,
    max_bytes=MAX_UNPACKED_BYTES,
    max_members=MAX_ZIP_MEMBERS,
    max_ratio=MAX_COMPRESSION_RATIO,
):
    """An upload as ``{file name: bytes}``: the files of a zip (folders flattened, macOS
    ``__MACOSX`` and hidden files left out), or the file itself. ValueError says what is wrong."""
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        return {PurePosixPath(name.replace("\\", "/")).name: data}

    def wanted(path):
        return "__MACOSX" not in path.split("/") and not _base_name(path).startswith(".")

    files = {}
    members = read_zip(
        buffer, wanted, max_bytes=max_bytes, max_members=max_members, max_ratio=max_ratio
    )
    for path, content in members:
        files[_base_name(path)] = content
    return files


def _base_name(path):
    return PurePosixPath(path.replace("\\", "/")).name


def read_zip(
    source,
    wanted,
    *,
    unique_names=True,
    max_bytes=MAX_UNPACKED_BYTES,
    max_members=MAX_ZIP_MEMBERS,
    max_ratio=MAX_COMPRESSION_RATIO,
):
    """``[(path, bytes)]`` of the files of a zip (a path or a binary file) whose path ``wanted``
    accepts. Each file is expanded a chunk at a time and the bytes actually produced are counted,
    so a zip bomb is refused early whatever its headers declare: ValueError when the zip cannot
    be read, holds more than ``max_members`` entries, a zip inside it, two wanted files of one
    name in different folders (when ``unique_names``), a file that expands more than
    ``max_ratio`` times, or more than ``max_bytes`` in all."""
    size = _source_size(source)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ValueError(f"the zip file cannot be read ({shown(exc)})") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > max_members:
            raise ValueError(f"the zip file holds more than {max_members:,} files")
        members, names = [], {}
        for info in entries:
            if info.is_dir() or not wanted(info.filename):
                continue
            base = _base_name(info.filename)
            if base.lower().endswith(".zip"):
                raise ValueError(_NESTED.format(name=shown(info.filename)))
            if unique_names and base.lower() in names:
                raise ValueError(f"the zip file holds two files called {shown(base)}")
            names[base.lower()] = info
            members.append(info)
        if sum(info.file_size for info in members) > max_bytes:  # what it declares, checked again
            raise ValueError(_TOO_BIG.format(mb=max_bytes // 1024**2))
        budget = max_bytes
        files = []
        for info in members:
            packed = min(info.compress_size, size)  # what the archive can really hold
            try:
                content = _expand(archive, info, budget, packed, max_ratio)
            except _OverBudget:
                raise ValueError(_TOO_BIG.format(mb=max_bytes // 1024**2)) from None
            budget -= len(content)
            files.append((info.filename, content))
    return files


_NESTED = "{name} is a zip file inside the zip file: unzip it and upload the files it holds"
_TOO_BIG = "the zip file expands to more than {mb:,} MB"


def _source_size(source):
    if isinstance(source, str | os.PathLike):
        return os.path.getsize(source)
    position = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(position)
    return size


class _OverBudget(Exception):
    pass


def _expand(archive, info, budget, packed, max_ratio):
    """One file of the zip, refused as soon as the bytes it actually expands to pass ``budget``
    (_OverBudget) or ``max_ratio`` times ``packed``, its size in the zip (ValueError)."""
    name = shown(info.filename)
    # A .csv (or nameless) file that is really a zip is a zip inside the zip; other kinds of file
    # may be zips by design (.xlsx, .docx) and are never expanded anyway.
    csv_like = PurePosixPath(_base_name(info.filename)).suffix.lower() in ("", ".csv", ".txt")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 and LZMA expand a whole block at once, so they could not be stopped in time.
        raise ValueError(
            f"{name} is compressed in a way the portal does not read (method "
            f"{info.compress_type}): zip the files again with the usual compression"
        )
    if info.flag_bits & 0x1:
        raise ValueError(f"{name} is protected by a password: zip the files again without one")
    chunks, expanded = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(ZIP_CHUNK):
                expanded += len(chunk)
                if expanded > budget:
                    raise _OverBudget
                if expanded > RATIO_CHECKED_FROM and expanded > max_ratio * max(packed, 1):
                    raise ValueError(
                        f"{name} expands to more than {max_ratio} times its size in the zip "
                        "file: it is refused as a possible zip bomb"
                    )
                if not chunks and csv_like and chunk.startswith(ZIP_SIGNATURE):
                    raise ValueError(_NESTED.format(name=name))
                chunks.append(chunk)
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
    ) as exc:
        why = shown(exc) or type(exc).__name__
        raise ValueError(f"{name} cannot be read from the zip file, it is damaged ({why})") from exc
    return b"".join(chunks)


# Reading CSV: one reader for every importer, so every file is decoded, checked and reported the
# same way.

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: FF FE 00 00 also starts like UTF-16 LE
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
NUL_IN_ROW = "holds a NUL character: the file may be damaged, or not a text file"
NUL_IN_HEADER = (
    "the header holds NUL characters: save the file as CSV (UTF-8), it may be UTF-16 without a "
    "byte-order mark or not a text file"
)
EMPTY_FILE = "the file is empty"
NO_ROWS = "the file has no rows"
CANNOT_CONTINUE = "the file cannot be read as CSV from here on ({})"


def decode_text(data):
    """CSV bytes as text, never failing: UTF-8 (with or without BOM); UTF-16 or UTF-32 with a
    BOM; else Windows-1252 when every byte is defined there; else Latin-1 (any byte is one)."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    encodings = [encoding for bom, encoding in BOMS if data.startswith(bom)]
    for encoding in (*encodings, "utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


class CsvFormatError(ValueError):
    """The file cannot be read (further) as CSV: ``line`` and ``column`` say where, ``reason``
    why. Importers refuse the whole file."""

    def __init__(self, line, reason, column=""):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
        self.column = column


class CsvReader:
    """One CSV file as every importer reads it: ``header`` (stripped names) and ``rows()``, an
    iterator of ``(line, values)`` for each non-blank row, values stripped, one row at a time.

    A row holding a NUL character is reported to ``report`` (file, line, column) and left out;
    ``seen`` counts the non-blank rows read, those included. Where the text stops being CSV (a
    value longer than the csv module's field limit, a quote never closed) CsvFormatError is
    raised with the line the row starts on and, when it can be told, the column."""

    def __init__(self, data, name, report):
        self.name = name
        self.report = report
        self.text = decode_text(data)
        self.seen = 0
        self._exhausted = False
        self._reader = csv.reader(self._lines())
        self._line = 0  # the last line the reader has consumed
        self._records = self._read_records()
        self.header = self._read_header()

    def _lines(self):
        yield from io.StringIO(self.text, newline="")
        self._exhausted = True

    def _read_records(self):
        """``(first line, values)`` of every record, blank ones included."""
        reader = self._reader
        try:
            for values in reader:
                start, self._line = self._line + 1, reader.line_num
                if self._exhausted:
                    # Only a quote still open at the end of the text makes the reader return a
                    # record after running out of lines: the rest of the file went into it.
                    _long, open_field = _scan_record(self._record_text(start), None)
                    raise CsvFormatError(
                        start,
                        CANNOT_CONTINUE.format("a quote opened on this line is never closed"),
                        self.column_name(open_field),
                    )
                yield start, values
        except csv.Error as exc:
            raise self._format_error(exc) from exc

    def _read_header(self):
        for line, values in self._records:
            if any(value.strip() for value in values):
                if any("\x00" in value for value in values):
                    raise CsvFormatError(line, NUL_IN_HEADER)
                return [value.strip() for value in values]
        raise CsvFormatError(0, EMPTY_FILE)

    def rows(self):
        check_nul = "\x00" in self.text
        for line, values in self._records:
            values = [value.strip() for value in values]
            if not any(values):
                continue
            self.seen += 1
            if check_nul and any("\x00" in value for value in values):
                index = next(i for i, value in enumerate(values) if "\x00" in value)
                self.report.error(self.name, line, self.column_name(index), NUL_IN_ROW)
                continue
            yield line, values

    def column_name(self, index):
        """The header's name for the value at ``index``; "column N" past the header."""
        if index is None:
            return ""
        header = getattr(self, "header", [])
        if index < len(header) and header[index]:
            return header[index]
        return f"column {index + 1}"

    def _record_text(self, start):
        """The text of lines ``start`` to the last one read (only when reporting a problem)."""
        lines = io.StringIO(self.text, newline="")
        return "".join(itertools.islice(lines, start - 1, self._reader.line_num))

    def _format_error(self, exc):
        start = self._line + 1
        limit = csv.field_size_limit()
        if str(exc).startswith("field larger than field limit"):
            long_field, _open = _scan_record(self._record_text(start), limit)
            reason = f"a value is longer than {limit:,} characters; is a quote never closed?"
            return CsvFormatError(
                start, CANNOT_CONTINUE.format(reason), self.column_name(long_field)
            )
        return CsvFormatError(start, CANNOT_CONTINUE.format(shown(exc)))


_TOKENS = re.compile(r'[^",\r\n]+|"|,|\r\n?|\n')


def _scan_record(text, limit):
    """(index of the first value longer than ``limit``, index of the value whose quote is still
    open at the end of ``text``), either None: the csv module's own reading of one record, told
    again only to name the column of a problem."""
    index = length = 0
    state = "start"  # start, plain, quoted, quote (a quote inside a quoted value)
    for match in _TOKENS.finditer(text):
        token = match[0]
        if token == '"':
            if state == "start":
                state = "quoted"
            elif state == "quoted":
                state = "quote"
            else:  # a doubled quote, or a quote inside an unquoted value: a character
                length += 1
                state = "quoted" if state == "quote" else state
        elif token == "," and state != "quoted":
            index, length, state = index + 1, 0, "start"
        elif token[0] in "\r\n" and state != "quoted":
            break
        else:
            length += len(token)
            if state in ("start", "quote"):
                state = "plain"
        if limit is not None and length > limit:
            return index, None
    return None, (index if state == "quoted" else None)


def iter_csv(data, name, report):
    """The header and the rows of a CSV file: a CsvReader (``reader.header``, ``reader.rows()``,
    ``reader.seen``). Raises CsvFormatError when even the header cannot be read."""
    return CsvReader(data, name, report)


def read_csv(data, name, report, *, rows_required=False):
    """The header and every row of a (small) CSV file at once: ``(columns, [(line, {column:
    value})])``, values stripped, a column the row lacks blank, values past the header dropped.
    Rows with a NUL character are reported to ``report`` and left out; CsvFormatError as for
    ``CsvReader``, and for a file with no rows when ``rows_required``."""
    reader = CsvReader(data, name, report)
    header = reader.header
    rows = []
    for line, values in reader.rows():
        row = dict(itertools.zip_longest(header, values[: len(header)], fillvalue=""))
        if any(row.values()):
            rows.append((line, row))
    if rows_required and not reader.seen:
        raise CsvFormatError(0, NO_ROWS)
    return header, rows


def header_key(name):
    """A column name compared loosely: "Student ID", "student_id" and "StudentID" match."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


# Numbers and dates: what a file may say, and the bounds that make a value believable. The same
# bounds are documented for users in docs/imports.md.

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
EARLIEST_YEAR = 1990  # no test date or school year before it
AHEAD = datetime.timedelta(days=365)  # test dates and school years at most a year ahead
OLDEST_STUDENT = 25  # years: a birth date further back is not a student's
# Scores a scale allows, by Assessment.scale compared without case. Any other scale (or none):
# from 0 up to what the database keeps.
SCALE_RANGES = {
    "rit": (Decimal(100), Decimal(350)),  # NWEA MAP Growth, kindergarten to grade 12
    "percent": (Decimal(0), Decimal(100)),
    "percentage": (Decimal(0), Decimal(100)),
    "percent correct": (Decimal(0), Decimal(100)),
    "%": (Decimal(0), Decimal(100)),
}


def foreign_digits(value):
    """Whether ``value`` has digits other than 0–9 (Arabic-Indic ٢٠٠, full-width ２００,
    superscripts…): Python's int() and Decimal() accept some of them, the portal none."""
    return not value.isascii() and any(char.isdigit() for char in value)


def foreign_digits_reason(value):
    return f"“{value}” is written with digits other than 0–9: write numbers with 0–9"


SCHOOL_YEAR_PATTERN = re.compile(r"^([0-9]{4})\s*[-–/]\s*([0-9]{4}|[0-9]{2})$")


def parse_school_year(value):
    """A school year written 2026-2027, 2026-27 or 2026/2027, as "2026-2027"; None for a blank.
    It may start from 1990 to a year from today."""
    value = value.strip()
    if not value:
        return None
    if foreign_digits(value):
        raise ValueError(foreign_digits_reason(value))
    match = SCHOOL_YEAR_PATTERN.match(value)
    if match:
        start, end = int(match[1]), match[2]
        expected = str(start + 1)
        if end == expected or end == expected[-2:]:
            if start < EARLIEST_YEAR:
                raise ValueError(f"“{value}” is before {EARLIEST_YEAR}")
            if start > (timezone.localdate() + AHEAD).year:
                raise ValueError(f"“{value}” is more than a year from now")
            return f"{start}-{start + 1}"
    raise ValueError(f"“{value}” is not a school year (expected e.g. 2026-2027)")


def school_year_of(date):
    """The school year a date falls in: August to December start one, January to July end it."""
    start = date.year if date.month >= 8 else date.year - 1
    return f"{start}-{start + 1}"


def parse_test_date(value):
    """A test date (any style ``parse_date`` reads) from 1990 to a year from today; None for a
    blank; ValueError otherwise."""
    date = parse_date(value)
    if date is not None:
        if date.year < EARLIEST_YEAR:
            raise ValueError(f"{date.isoformat()} is before {EARLIEST_YEAR}: not a test date")
        if date > timezone.localdate() + AHEAD:
            raise ValueError(f"{date.isoformat()} is more than a year from today: not a test date")
    return date


def parse_birth_date(value):
    """A student's birth date: not in the future, not more than 25 years ago; None for a blank;
    ValueError otherwise."""
    date = parse_date(value)
    if date is not None:
        today = timezone.localdate()
        if date > today:
            raise ValueError(f"{date.isoformat()} is in the future: not a birth date")
        if date < _years_before(today, OLDEST_STUDENT):
            raise ValueError(
                f"{date.isoformat()} is more than {OLDEST_STUDENT} years ago: not a student's "
                "birth date"
            )
    return date


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def parse_decimal(value, *, max_digits=8, decimal_places=2):
    """A number written with 0–9 (a sign and a decimal point allowed), rounded to
    ``decimal_places``, that fits a DecimalField; None for a blank; ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
    if not NUMBER.fullmatch(value):
        if foreign_digits(value):
            raise ValueError(foreign_digits_reason(value))
        raise ValueError(f"“{value}” is not a number")
    number = Decimal(value)
    if abs(number) >= Decimal(10) ** (max_digits - decimal_places):
        raise ValueError(f"“{value}” is too large")
    return number.quantize(Decimal(1).scaleb(-decimal_places))


def score_problem(score, scale=""):
    """Why ``score`` cannot be a score on ``scale`` (Assessment.scale), or None: never below 0,
    and within SCALE_RANGES for a scale listed there."""
    low, high = SCALE_RANGES.get(" ".join(scale.split()).casefold(), (Decimal(0), None))
    if score < low or (high is not None and score > high):
        if high is None:
            return f"{score.normalize():f} is below 0: a score cannot be negative"
        return f"{score.normalize():f} is outside the {scale} scale ({low} to {high})"
    return None


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cycle collector while an import builds millions of small objects: its
    full passes grow with every live object, which made a million-row import a third slower.
    Reference counting still frees everything an import drops."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Grades as NWEA and student information systems write them, compared without case, spaces or
# hyphens (docs/imports.md has the table). Numbers may have leading zeros: "06" is 6, "00" is K.
GRADE_SPELLINGS = {
    "k": "K",
    "kg": "K",
    "kindergarten": "K",
    "pk": "PK",
    "p": "PK",
    "prek": "PK",
    "prekindergarten": "PK",
    "tk": "PK",  # transitional kindergarten: the year before kindergarten
    "transitionalkindergarten": "PK",
}
# Older NWEA files write kindergarten as 13 (and NWEA's class rosters pre-kindergarten as 14):
# read so only in a MAP file, where no grade 13 or 14 exists.
NWEA_GRADES = {13: "K", 14: "PK"}
_PRE_K_NUMBER = re.compile(r"-0*1")  # -1, as some exports number pre-kindergarten


def parse_grade(value, *, nwea=False):
    """A grade as one of GRADES: "K", "KG", "0" and "00" are K; "PK", "Pre-K", "P", "TK" and
    "-1" are PK; "06" is 6; with ``nwea`` (a MAP file) 13 is K and 14 is PK. NWEA's files and
    the plain CSV share this reading."""
    key = value.strip().casefold()
    if not key:
        raise ValueError("required, but blank")
    grade = GRADE_SPELLINGS.get(re.sub(r"[\s\-]", "", key))
    if grade is None and _PRE_K_NUMBER.fullmatch(key):
        grade = "PK"
    elif grade is None and key.isascii() and key.isdigit():
        number = int(key)
        if nwea and number in NWEA_GRADES:
            grade = NWEA_GRADES[number]
        else:
            grade = str(number) if number else "K"
    if grade not in GRADES:
        raise ValueError(f"“{value}” is not a grade (expected PK, K or 1 to 12)")
    return grade


# The growth NWEA expects of a student between two terms (the Typical*Growth columns), in RIT.
# NWEA's norms give a few RIT to a few dozen; a figure far outside this is a damaged file.
TYPICAL_GROWTH_RANGE = (Decimal(-50), Decimal(100))
# AssessmentResult's typical-growth fields, one per span.
TYPICAL_GROWTH_FIELDS = (
    "typical_fall_to_winter",
    "typical_fall_to_spring",
    "typical_winter_to_spring",
    "typical_spring_to_spring",
    "typical_fall_to_fall",
)


def parse_typical_growth(value):
    """A typical growth in RIT (a number from -50 to 100, two decimals); None for a blank;
    ValueError otherwise."""
    growth = parse_decimal(value, max_digits=6)
    low, high = TYPICAL_GROWTH_RANGE
    if growth is not None and not low <= growth <= high:
        raise ValueError(
            f"{growth.normalize():f} is not a typical growth (a RIT change from {low} to {high})"
        )
    return growth
