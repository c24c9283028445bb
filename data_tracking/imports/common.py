"""What every importer shares: row errors, the report, reading CSV text, parsing dates."""

import contextlib
import csv
import datetime
import gc
import io
import re
import zipfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d-%b-%Y", "%Y%m%d")


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
        self.errors.append(RowError(file, line, column, reason))

    def add(self, label, number=1):
        self.counts[label] = self.counts.get(label, 0) + number


class ImportRefused(Exception):
    """The import wrote nothing; ``report.errors`` says why."""

    def __init__(self, report):
        super().__init__(f"{len(report.errors)} problem(s)")
        self.report = report


def read_csv(data, name):
    """Rows of a CSV file as dicts with stripped keys, plus the line number of each row.
    Accepts bytes (UTF-8, with or without BOM, or Windows-1252) or text."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
    else:
        text = data
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        return [], []
    reader.fieldnames = [name_.strip() for name_ in reader.fieldnames]
    rows = []
    for row in reader:
        clean = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    return reader.fieldnames, rows


def parse_date(value):
    """A date in any of the styles real exports use, or None for a blank; ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
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


# Helpers for large files and shared formats (added with the assessment importers).

MAX_UNPACKED_BYTES = 1024**3  # a zip that expands past 1 GiB is refused, not unpacked


def decode_text(data):
    """CSV bytes as text: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # never fails: every byte is a character


class CsvFormatError(ValueError):
    """The file stops being CSV at ``line`` (e.g. an unclosed quote runs past the field limit)."""

    def __init__(self, line, reason):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = f"the file cannot be read as CSV from here on ({reason})"


def iter_csv(data):
    """The header (stripped names) and an iterator of ``(line, values)`` for each non-blank row,
    values stripped. Unlike ``read_csv`` it reads one row at a time, for files of any size.
    Reading the header or a row raises CsvFormatError where the text stops being CSV."""
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise CsvFormatError(1, str(exc)) from exc

    def rows():
        try:
            for values in reader:
                values = [value.strip() for value in values]
                if any(values):
                    yield reader.line_num, values
        except csv.Error as exc:
            raise CsvFormatError(reader.line_num, str(exc)) from exc

    return header, rows()


def header_key(name):
    """A column name compared loosely: "Student ID", "student_id" and "StudentID" match."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def unpack_files(name, data, *, max_bytes=MAX_UNPACKED_BYTES):
    """An upload as ``{file name: bytes}``: the files of a zip (folders flattened, macOS
    ``__MACOSX`` and hidden files left out), or the file itself. ValueError says what is wrong."""
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        return {PurePosixPath(name.replace("\\", "/")).name: data}
    try:
        archive = zipfile.ZipFile(buffer)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"the zip file cannot be read ({exc})") from exc
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and "__MACOSX" not in info.filename.split("/")
        and not PurePosixPath(info.filename).name.startswith(".")
    ]
    if sum(info.file_size for info in members) > max_bytes:
        raise ValueError(f"the zip file expands to more than {max_bytes // 1024**2} MB")
    files = {}
    for info in members:
        base = PurePosixPath(info.filename).name
        if base in files:
            raise ValueError(f"the zip file holds two files called {base}")
        try:
            files[base] = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise ValueError(f"{base} cannot be read from the zip file ({exc})") from exc
    return files


SCHOOL_YEAR_PATTERN = re.compile(r"^(\d{4})\s*[-–/]\s*(\d{4}|\d{2})$")


def parse_school_year(value):
    """A school year written 2026-2027, 2026-27 or 2026/2027, as "2026-2027"; None for a blank."""
    value = value.strip()
    if not value:
        return None
    match = SCHOOL_YEAR_PATTERN.match(value)
    if match:
        start, end = int(match[1]), match[2]
        expected = str(start + 1)
        if end == expected or end == expected[-2:]:
            return f"{start}-{start + 1}"
    raise ValueError(f"“{value}” is not a school year (expected e.g. 2026-2027)")


def school_year_of(date):
    """The school year a date falls in: August to December start one, January to July end it."""
    start = date.year if date.month >= 8 else date.year - 1
    return f"{start}-{start + 1}"


def parse_decimal(value, *, max_digits=8, decimal_places=2):
    """A number rounded to ``decimal_places`` that fits a DecimalField; None for a blank."""
    value = value.strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValueError(f"“{value}” is not a number")
    if abs(number) >= Decimal(10) ** (max_digits - decimal_places):
        raise ValueError(f"{value} is too large")
    return number.quantize(Decimal(1).scaleb(-decimal_places))


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
