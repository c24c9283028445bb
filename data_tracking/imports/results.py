"""Writing assessment results in bulk: shared by the plain-CSV and the MAP importers.

Every step works on a chunk of rows with a fixed number of queries, so an import costs the same
per row at any size. On PostgreSQL the rows are COPYed into a temporary table and merged with
one INSERT … ON CONFLICT at the end; elsewhere each chunk is compared with the stored results
and upserted with ``bulk_create(update_conflicts=True)``.
"""

import csv
import io
import json
import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Min, OuterRef, Subquery

from data_tracking.models import Assessment, AssessmentResult, Student, Window

CHUNK_SIZE = 5000
WHOLE_DISTRICT_FROM = 20_000  # rows or ids from which reading all the district's students wins
WINDOW_ORDER = {Window.FALL: 0, Window.WINTER: 1, Window.SPRING: 2}


def chunked(iterable, size=None):
    size = size or CHUNK_SIZE
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def find_students(district, local_ids, fields=("id", "school_id")):
    """``{local_id: row}`` for the district's students among ``local_ids``, each row a named
    tuple of ``fields``: one query per 5,000 ids, or one for the whole district when asked for
    many (PostgreSQL answers thousands of ids with a scan of the table anyway)."""
    local_ids = set(local_ids)
    if len(local_ids) >= WHOLE_DISTRICT_FROM:
        everyone = district_students(district, fields)
        return {local_id: everyone[local_id] for local_id in local_ids & everyone.keys()}
    found = {}
    for chunk in chunked(local_ids):
        rows = (
            Student.objects.filter(district=district, local_id__in=chunk)
            .order_by()
            .values_list("local_id", *fields, named=True)
        )
        found.update((row.local_id, row) for row in rows)
    return found


def district_students(district, fields=("id", "school_id")):
    """``{local_id: row}`` for every student of the district, in one streamed query."""
    rows = (
        Student.objects.filter(district=district)
        .order_by()
        .values_list("local_id", *fields, named=True)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return {row.local_id: row for row in rows}


class Assessments:
    """The district's assessments by name (any case), subject, school year and window; those the
    file names for the first time are created when a row of theirs is first written."""

    def __init__(self, district, *, scale=""):
        self.district = district
        self.scale = scale
        self.by_key = {}
        self.by_spelling = {}  # the file's spelling → (assessment, levels): no per-row casefold
        self.levels = {}
        self.created = []
        for assessment in Assessment.objects.filter(district=district).prefetch_related("levels"):
            key = self.key(
                assessment.name, assessment.subject, assessment.school_year, assessment.window
            )
            self.by_key[key] = assessment
            self.levels[key] = sorted(assessment.levels.all(), key=lambda level: level.min_score)

    @staticmethod
    def key(name, subject, school_year, window):
        return (" ".join(name.split()).casefold(), subject, school_year, window)

    def newest_term(self):
        """(school year, window order) of the newest administration, or None."""
        terms = [(a.school_year, WINDOW_ORDER[a.window]) for a in self.by_key.values()]
        return max(terms, default=None)

    def get(self, name, subject, school_year, window):
        """The assessment (unsaved if new: ``pk`` is None) and its levels, lowest first."""
        found = self.by_spelling.get((name, subject, school_year, window))
        if found is None:
            found = self.by_spelling[name, subject, school_year, window] = self._get(
                name, subject, school_year, window
            )
        return found

    def _get(self, name, subject, school_year, window):
        key = self.key(name, subject, school_year, window)
        if key not in self.by_key:
            self.by_key[key] = Assessment(
                district=self.district,
                name=" ".join(name.split()),
                subject=subject,
                school_year=school_year,
                window=window,
                scale=self.scale,
            )
            self.levels[key] = []
        return self.by_key[key], self.levels[key]

    def save(self, assessment, report):
        if assessment.pk is None:
            assessment.save()
            self.created.append(assessment.pk)
            report.add("assessments created")

    def date_created(self):
        """Date each new assessment by its earliest result: one query for all of them."""
        if self.created:
            earliest = (
                AssessmentResult.objects.filter(assessment=OuterRef("pk"))
                .values("assessment")
                .annotate(first=Min("tested_on"))
                .values("first")
            )
            Assessment.objects.filter(pk__in=self.created).update(
                administered_on=Subquery(earliest)
            )


def level_for_score(levels, score):
    """The rank of the highest level whose cut score the score reaches, or None."""
    rank = None
    for level in levels:  # lowest cut score first
        if score >= level.min_score:
            rank = level.rank
    return rank


def level_for_label(levels, label):
    """The rank of the level called ``label`` (any case) or numbered ``label``; ValueError else."""
    wanted = label.casefold()
    for level in levels:
        if level.label.casefold() == wanted or str(level.rank) == label:
            return level.rank
    names = ", ".join(level.label for level in levels)
    raise ValueError(f"“{label}” is not one of its performance levels ({names})")


@dataclass(slots=True)
class ResultRow:
    line: int
    assessment: Assessment
    student_id: int
    school_id: int  # where the test was taken
    score: object
    grade: str = ""  # the student's grade when tested
    level_rank: int | None = None
    tested_on: object = None
    percentile: int | None = None
    standard_error: object = None
    section_id: int | None = None
    teacher_id: int | None = None
    typical_fall_to_winter: object = None
    typical_fall_to_spring: object = None
    typical_winter_to_spring: object = None
    typical_spring_to_spring: object = None
    typical_fall_to_fall: object = None
    goals: list = field(default_factory=list)
    projections: list = field(default_factory=list)


# Every column a result row carries to the table, with its type in the COPY's temporary table.
RESULT_COLUMNS = {
    "school_id": "bigint NOT NULL",
    "grade": "varchar(2) NOT NULL",
    "score": "numeric(8, 2)",
    "level_rank": "smallint",
    "tested_on": "date",
    "percentile": "smallint",
    "standard_error": "numeric(6, 2)",
    "section_id": "bigint",
    "teacher_id": "bigint",
    "typical_fall_to_winter": "numeric(6, 2)",
    "typical_fall_to_spring": "numeric(6, 2)",
    "typical_winter_to_spring": "numeric(6, 2)",
    "typical_spring_to_spring": "numeric(6, 2)",
    "typical_fall_to_fall": "numeric(6, 2)",
    "goals": "jsonb",
    "projections": "jsonb",
}
JSON_COLUMNS = {"goals", "projections"}
# Where and when a result was taken is always written: it is part of every result.
ALWAYS_WRITTEN = ["school_id", "grade"]


class ResultWriter:
    """Upserts results chunk by chunk and counts what changed; call ``finish()`` after the last
    chunk. ``fields`` are the columns the file supplies (the school and grade at the test are
    always written); a result whose fields all equal the stored ones is left untouched
    (re-importing a file changes nothing)."""

    LABELS = ("results created", "results updated", "results unchanged")

    def __init__(self, report, fields):
        self.report = report
        self.fields = ALWAYS_WRITTEN + [name for name in fields if name not in ALWAYS_WRITTEN]
        self.copy = connection.vendor == "postgresql"
        self.table = None
        for label in self.LABELS:
            report.add(label, 0)

    def write(self, rows):
        if self.copy:
            self._copy(rows)
        else:
            self._upsert(rows)

    def finish(self):
        if self.table is not None:
            self._merge()

    def _cell(self, row, name):
        value = getattr(row, name)
        return json.dumps(value) if name in JSON_COLUMNS else value

    def _copy(self, rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # None becomes an empty field: NULL in COPY's CSV format
        writer.writerows(
            (r.assessment.pk, r.student_id, *(self._cell(r, name) for name in self.fields))
            for r in rows
        )
        buffer.seek(0)
        with connection.cursor() as cursor:
            if self.table is None:
                self.table = f"import_results_{uuid.uuid4().hex[:12]}"
                columns = ", ".join(f"{name} {RESULT_COLUMNS[name]}" for name in self.fields)
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {self.table} (assessment_id bigint NOT NULL, "
                    f"student_id bigint NOT NULL, {columns}) ON COMMIT DROP"
                )
            copied = ", ".join(["assessment_id", "student_id", *self.fields])
            sql = f"COPY {self.table} ({copied}) FROM STDIN WITH (FORMAT csv)"
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())

    def _merge(self):
        """Count what the copied rows change, then write only those: unchanged results are not
        touched at all (an upsert would still lock and rewrite them)."""
        results = connection.ops.quote_name(AssessmentResult._meta.db_table)
        columns = ", ".join(self.fields)
        stored = ", ".join(f"r.{name}" for name in self.fields)
        incoming = ", ".join(f"t.{name}" for name in self.fields)
        joined = (
            f"FROM {self.table} t LEFT JOIN {results} r "
            "ON r.assessment_id = t.assessment_id AND r.student_id = t.student_id"
        )
        changed = f"r.id IS NULL OR ({stored}) IS DISTINCT FROM ({incoming})"
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.table}")
            cursor.execute(
                "SELECT count(*) FILTER (WHERE r.id IS NULL), "
                f"count(*) FILTER (WHERE {changed}), count(*), "
                f"array_agg(DISTINCT t.school_id) FILTER (WHERE {changed}), "
                f"array_agg(DISTINCT r.school_id) FILTER (WHERE {changed}) {joined}"
            )
            created, changed_count, total, schools, schools_before = cursor.fetchone()
            if changed_count:
                cursor.execute(
                    f"INSERT INTO {results} (assessment_id, student_id, {columns}) "
                    f"SELECT t.assessment_id, t.student_id, {incoming} {joined} WHERE {changed} "
                    "ON CONFLICT (assessment_id, student_id) DO UPDATE SET "
                    + ", ".join(f"{name} = EXCLUDED.{name}" for name in self.fields)
                )
            cursor.execute(f"DROP TABLE {self.table}")
        self.table = None
        self.report.add("results created", created)
        self.report.add("results updated", changed_count - created)
        self.report.add("results unchanged", total - changed_count)
        # A result now said to be taken elsewhere changes its old school's figures too.
        self.report.schools_touched.update(schools or [], filter(None, schools_before or []))

    def _upsert(self, rows):
        assessment_ids = {row.assessment.pk for row in rows}
        student_ids = {row.student_id for row in rows}
        stored = {
            (values[0], values[1]): values[2:]
            for values in AssessmentResult.objects.filter(
                assessment_id__in=assessment_ids, student_id__in=student_ids
            ).values_list("assessment_id", "student_id", *self.fields)
        }
        changed = []
        created = updated = 0
        for row in rows:
            values = tuple(getattr(row, name) for name in self.fields)
            before = stored.get((row.assessment.pk, row.student_id))
            if before == values:
                continue
            if before is None:
                created += 1
            else:
                updated += 1
            self.report.schools_touched.add(row.school_id)
            if before is not None and "school_id" in self.fields:
                self.report.schools_touched.add(before[self.fields.index("school_id")])
            changed.append(
                AssessmentResult(
                    assessment_id=row.assessment.pk,
                    student_id=row.student_id,
                    **dict(zip(self.fields, values, strict=True)),
                )
            )
        if changed:
            # One statement per chunk: the unique constraint turns a row another import added
            # meanwhile into an update instead of an IntegrityError.
            AssessmentResult.objects.bulk_create(
                changed,
                batch_size=CHUNK_SIZE,
                update_conflicts=True,
                unique_fields=["assessment", "student"],
                update_fields=self.fields,
            )
        self.report.add("results created", created)
        self.report.add("results updated", updated)
        self.report.add("results unchanged", len(rows) - created - updated)
