"""The benchmark: one run on PostgreSQL prints every figure of docs/performance.md.

    .venv/bin/python bench/generate.py district     # once per size (COPY, ~20 s at district)
    .venv/bin/python bench/run.py                    # ~1–2 minutes at district size

1. import time of one school year of results through the plain-CSV importer, against a COPY of
   the same rows;
2. compile time for all schools, one school after another as one Celery worker would (first
   compile: every snapshot written; again: unchanged data, nothing written), and on two
   processes; peak memory (ru_maxrss) of the compiling process;
3. the same numbers from one hand-written SQL statement over the whole district — the narrow one
   (school scope: tested, mean, percent proficient per subject and window) and the full one (every
   scope and every count the snapshots hold) — with the compile/SQL ratios, and a check that
   the numbers agree;
4. page latency p50/p95 under concurrent load from a second process (bench/load.py) against
   gunicorn: the dashboard page if it exists, else noted as pending, with the school page as a
   baseline for the machinery.

It uses the database of bench/benchdb.py (``dl_portal_bench``), never the development or test one.
"""

import argparse
import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import benchdb  # noqa: E402

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
IMPORT_YEAR = "2026-2027"
# AssessmentResult's per-student covering index (its Meta.indexes); --index drop measures without.
STUDENT_INDEX = "result_by_student"

# School scope only: what a dashboard's headline shows, per school, subject and window.
NARROW_SQL = """
WITH proficient_ranks AS (
    SELECT assessment_id, rank FROM data_tracking_performancelevel WHERE is_proficient
)
SELECT r.school_id, a.subject, a.school_year, a."window", COUNT(*) AS tested,
    ROUND(AVG(r.score), 1) AS mean_score,
    ROUND(100.0 * COUNT(pr.rank) / COUNT(*), 1) AS percent_proficient
FROM data_tracking_assessmentresult r
JOIN data_tracking_student st ON st.id = r.student_id
JOIN data_tracking_assessment a ON a.id = r.assessment_id
LEFT JOIN proficient_ranks pr ON pr.assessment_id = r.assessment_id AND pr.rank = COALESCE(
    r.level_rank, (SELECT cut.rank FROM data_tracking_performancelevel cut
                   WHERE cut.assessment_id = r.assessment_id AND cut.min_score <= r.score
                   ORDER BY cut.min_score DESC LIMIT 1))
GROUP BY r.school_id, a.subject, a.school_year, a."window"
"""

# Everything the snapshots count, for every school at once, written independently of the
# compile's statement: window functions (LAG, FIRST_VALUE) instead of its pivot.
FULL_SQL = """
WITH scored AS (
    SELECT r.student_id, r.school_id, r.grade, st.english_learner, st.special_education,
        st.economically_disadvantaged, r.assessment_id, a.subject, a.school_year,
        LOWER(a.name) AS test_name, r.score,
        CASE a."window" WHEN 'fall' THEN 0 WHEN 'winter' THEN 1 ELSE 2 END AS w,
        COALESCE(r.level_rank, (SELECT cut.rank FROM data_tracking_performancelevel cut
                                WHERE cut.assessment_id = r.assessment_id
                                  AND cut.min_score <= r.score
                                ORDER BY cut.min_score DESC LIMIT 1)) AS level
    FROM data_tracking_assessmentresult r
    JOIN data_tracking_student st ON st.id = r.student_id
    JOIN data_tracking_assessment a ON a.id = r.assessment_id
),
paired AS (
    SELECT s.*, LAG(score) OVER year_ AS lag_score, LAG(w) OVER year_ AS lag_w,
        FIRST_VALUE(score) OVER year_ AS first_any, FIRST_VALUE(w) OVER year_ AS first_w
    FROM scored s
    WINDOW year_ AS (PARTITION BY student_id, test_name, subject, school_year ORDER BY w)
),
flat AS (
    SELECT p.*, lvl.is_proficient,
        CASE WHEN p.lag_w = p.w - 1 THEN p.lag_score END AS previous_score,
        CASE WHEN p.w = 2 AND p.first_w = 0 THEN p.first_any END AS first_score
    FROM paired p
    LEFT JOIN data_tracking_performancelevel lvl
        ON lvl.assessment_id = p.assessment_id AND lvl.rank = p.level
),
members AS (
    SELECT 'section' AS scope, sec.school_id, sec.id::text AS scope_key, e.student_id,
        sec.subject
    FROM data_tracking_section sec JOIN data_tracking_enrollment e ON e.section_id = sec.id
    UNION
    SELECT 'caseload', c.school_id, c.leader_id::text, e.student_id, sec.subject
    FROM teams_caseload c
    JOIN data_tracking_section sec ON sec.teacher_id = c.teacher_id AND sec.school_id = c.school_id
    JOIN data_tracking_enrollment e ON e.section_id = sec.id
    WHERE c.closed_at IS NULL
)
SELECT 'grade' AS scope, school_id, grade AS scope_key, assessment_id, {aggregates}
FROM flat r GROUP BY school_id, grade, assessment_id
UNION ALL
SELECT m.scope, m.school_id, m.scope_key, r.assessment_id, {aggregates}
FROM flat r JOIN members m
    ON m.student_id = r.student_id AND m.subject = r.subject AND m.school_id = r.school_id
GROUP BY m.scope, m.school_id, m.scope_key, r.assessment_id
"""
FULL_AGGREGATES = """COUNT(*) AS tested, SUM(r.score) AS score_sum,
    COUNT(*) FILTER (WHERE r.is_proficient) AS proficient,
    COUNT(*) FILTER (WHERE r.level = 1) AS level_1, COUNT(*) FILTER (WHERE r.level = 2) AS level_2,
    COUNT(*) FILTER (WHERE r.level = 3) AS level_3, COUNT(*) FILTER (WHERE r.level = 4) AS level_4,
    COUNT(*) FILTER (WHERE r.english_learner) AS el_n,
    COUNT(*) FILTER (WHERE r.english_learner AND r.is_proficient) AS el_proficient,
    COUNT(*) FILTER (WHERE r.special_education) AS sped_n,
    COUNT(*) FILTER (WHERE r.special_education AND r.is_proficient) AS sped_proficient,
    COUNT(*) FILTER (WHERE r.economically_disadvantaged) AS ed_n,
    COUNT(*) FILTER (WHERE r.economically_disadvantaged AND r.is_proficient) AS ed_proficient,
    COUNT(r.previous_score) AS previous_n, SUM(r.score - r.previous_score) AS previous_gain,
    COUNT(r.first_score) AS first_n, SUM(r.score - r.first_score) AS first_gain,
    COUNT(*) FILTER (WHERE r.previous_score > r.score AND NOT COALESCE(r.is_proficient, FALSE))
        AS at_risk"""


def line(label, value):
    print(f"  {label:<58} {value}", flush=True)


def seconds(value):
    return f"{value:.2f} s"


def best_of(runs, function):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


# ── 1. Import vs COPY ────────────────────────────────────────────────────────────────────────


def import_vs_copy(figures):
    from django.db import connection

    from data_tracking.models import District

    try:
        from data_tracking.imports.results_csv import import_results_csv
    except ImportError:
        line("import vs COPY", "skipped: data_tracking.imports.results_csv is not there yet")
        return
    district = District.objects.get(slug="bench")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT st.local_id, a.name, a.subject, a."window", a.school_year, r.tested_on,
                r.score, r.assessment_id, r.student_id, r.level_rank, r.school_id, r.grade
            FROM data_tracking_assessmentresult r
            JOIN data_tracking_student st ON st.id = r.student_id
            JOIN data_tracking_assessment a ON a.id = r.assessment_id
            WHERE a.school_year = %s ORDER BY r.id
            """,
            [IMPORT_YEAR],
        )
        rows = cursor.fetchall()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        ["student_id", "assessment", "subject", "window", "school_year", "date", "score"]
    )
    copy_text = io.StringIO()
    for (
        local_id,
        name,
        subject,
        window,
        year,
        tested_on,
        score,
        aid,
        sid,
        level,
        school,
        grade,
    ) in rows:
        writer.writerow([local_id, name, subject, window, year, tested_on, score])
        level_text = r"\N" if level is None else level
        copy_text.write(f"{aid}\t{sid}\t{school}\t{grade}\t{score}\t{level_text}\t{tested_on}\n")
    data = text.getvalue().encode()
    line(
        f"rows of {IMPORT_YEAR} (1 of 3 years)",
        f"{len(rows):,} results, CSV {len(data) / 1e6:.1f} MB",
    )

    def delete_year():
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM data_tracking_assessmentresult WHERE assessment_id IN "
                "(SELECT id FROM data_tracking_assessment WHERE school_year = %s)",
                [IMPORT_YEAR],
            )

    delete_year()
    started = time.perf_counter()
    report = import_results_csv(source={"results.csv": data}, district=district, mode="strict")
    imported = time.perf_counter() - started
    created = report.counts.get("results created")
    line("import: import_results_csv (strict, into an empty year)", seconds(imported))
    line("  results created / problems", f"{created:,} / {len(report.errors)}")

    delete_year()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        copy_text.seek(0)
        cursor.cursor.copy_expert(
            "COPY data_tracking_assessmentresult "
            "(assessment_id, student_id, school_id, grade, score, level_rank, tested_on) "
            "FROM STDIN",
            copy_text,
        )
    copied = time.perf_counter() - started
    line("COPY of the same rows (ids already resolved)", seconds(copied))
    line("import / COPY", f"{imported / copied:.1f}×")
    figures["import"] = {
        "rows": len(rows),
        "csv_mb": round(len(data) / 1e6, 1),
        "import_s": round(imported, 2),
        "copy_s": round(copied, 2),
        "created": created,
    }
    vacuum()


def vacuum():
    from django.db import connection

    connection.close()
    with connection.cursor() as cursor:  # autocommit: VACUUM refuses a transaction
        cursor.execute("VACUUM ANALYZE data_tracking_assessmentresult")


# ── 2. Compile ───────────────────────────────────────────────────────────────────────────────


def peak_rss_kib():
    """This process's peak resident memory. ru_maxrss would do, but Linux carries it over from
    the parent across fork and exec, and the parent has just run the import; VmHWM starts afresh
    with the program."""
    try:
        for line_ in Path("/proc/self/status").read_text().splitlines():
            if line_.startswith("VmHWM:"):
                return int(line_.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def compile_child(mod, rem, fresh):
    """In a process of its own: compile every school with ``pk % mod == rem``; print JSON."""
    from django.db import connection

    from data_tracking.compile import school_compile
    from teams.models import School

    if fresh:
        with connection.cursor() as cursor:  # delete() would load every snapshot first
            cursor.execute("TRUNCATE data_tracking_dashboardsnapshot CASCADE")
    schools = list(School.objects.order_by("pk"))
    schools = [school for school in schools if school.pk % mod == rem]
    before = peak_rss_kib()
    passes = {}
    for label in ("first", "again") if fresh else ("again",):
        created = 0
        started = time.perf_counter()
        for school in schools:
            created += school_compile(school=school).created
        passes[label] = {"seconds": time.perf_counter() - started, "created": created}
    peak = peak_rss_kib()
    print(json.dumps({"schools": len(schools), "passes": passes, "rss_kib": [before, peak]}))


def run_children(count, fresh):
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [PYTHON, __file__, "compile-child", str(count), str(rem), "1" if fresh else "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for rem in range(count)
    ]
    outputs = [json.loads(process.communicate()[0]) for process in processes]
    return time.perf_counter() - started, outputs


def compile_all(figures):
    _, (child,) = run_children(1, fresh=True)
    first, again = child["passes"]["first"], child["passes"]["again"]
    before, peak = child["rss_kib"]
    line(
        f"compile, {child['schools']} school(s) one after another: first",
        f"{seconds(first['seconds'])} ({first['created']:,} snapshots written)",
    )
    line("  again, data unchanged", f"{seconds(again['seconds'])} ({again['created']} written)")
    line("  per school (again)", f"{again['seconds'] / child['schools'] * 1000:.0f} ms")
    line("peak memory of the compiling process (VmHWM)", f"{peak / 1024:.0f} MiB")
    line("  of which after Django setup, before compiling", f"{before / 1024:.0f} MiB")
    wall, outputs = run_children(2, fresh=False)
    slowest = max(output["passes"]["again"]["seconds"] for output in outputs)
    line(
        "compile again on 2 processes (2 workers on 2 cores)",
        f"{seconds(slowest)} (slower process; {seconds(wall)} with Python start-up)",
    )
    figures["compile"] = {
        "schools": child["schools"],
        "first_s": round(first["seconds"], 2),
        "again_s": round(again["seconds"], 2),
        "two_processes_s": round(slowest, 2),
        "two_processes_wall_s": round(wall, 2),
        "snapshots": first["created"],
        "rss_mib": round(peak / 1024),
        "rss_before_mib": round(before / 1024),
    }


# ── 3. Hand-written SQL ──────────────────────────────────────────────────────────────────────


def hand_written_sql(figures):
    from django.db import connection

    def run(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    narrow_time, narrow = best_of(3, lambda: run(NARROW_SQL))
    full_sql = FULL_SQL.format(aggregates=FULL_AGGREGATES)
    full_time, full = best_of(3, lambda: run(full_sql))
    compile_ = figures["compile"]
    line("hand-written SQL, school scope only (narrow)", f"{seconds(narrow_time)}, best of 3")
    line("hand-written SQL, every scope and count (full)", f"{seconds(full_time)}, best of 3")
    for label, value in (("first", compile_["first_s"]), ("again", compile_["again_s"])):
        line(
            f"compile {label} / SQL",
            f"{value / full_time:.1f}× the full statement, "
            f"{value / narrow_time:.1f}× the narrow one",
        )
    line(
        "compile on 2 processes / full SQL",
        f"{compile_['two_processes_s'] / full_time:.1f}×",
    )
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    full_nojit, _ = best_of(1, lambda: run(full_sql))
    line("  (full SQL with jit = off, as the compile runs)", seconds(full_nojit))
    mismatches = compare(narrow, full)
    line("numbers that differ between the snapshots and the SQL", mismatches)
    figures["sql"] = {
        "narrow_s": round(narrow_time, 3),
        "full_s": round(full_time, 3),
        "full_nojit_s": round(full_nojit, 3),
        "mismatches": mismatches,
    }


def _tenth(numerator, denominator):
    quotient = Decimal(numerator) / Decimal(denominator)
    return float(quotient.quantize(Decimal("0.1"), ROUND_HALF_UP))


def compare(narrow, full):
    """How many numbers of the current snapshots differ from the hand-written statements'."""
    from data_tracking.compile import SUBGROUP_FLAGS
    from data_tracking.models import Assessment, DashboardSnapshot

    terms = {a.pk: a for a in Assessment.objects.all()}
    snapshots = {
        (s.scope, s.school_id, s.scope_key, s.subject, s.school_year, s.window): s.metrics
        for s in DashboardSnapshot.objects.filter(is_current=True)
    }
    differ = 0
    for row in narrow:
        metrics = snapshots.get(
            ("school", row["school_id"], "", row["subject"], row["school_year"], row["window"])
        )
        expected = (row["tested"], float(row["mean_score"]), float(row["percent_proficient"]))
        got = metrics and (metrics["tested"], metrics["mean_score"], metrics["percent_proficient"])
        differ += got != expected
    windows = ["fall", "winter", "spring"]
    for row in full:
        term = terms[row["assessment_id"]]
        metrics = snapshots.get(
            (
                row["scope"],
                row["school_id"],
                str(row["scope_key"]),
                term.subject,
                term.school_year,
                term.window,
            )
        )
        if metrics is None:
            differ += 1
            continue
        position = windows.index(term.window)
        gains = metrics["gains"]
        expected = [
            row["tested"],
            _tenth(row["score_sum"], row["tested"]),
            row["proficient"],
            [row[f"level_{rank}"] for rank in (1, 2, 3, 4)],
            [row["el_n"], row["sped_n"], row["ed_n"]],
        ]
        got = [
            metrics["tested"],
            metrics["mean_score"],
            metrics["proficient"],
            [metrics["levels"][str(rank)]["count"] for rank in (1, 2, 3, 4)],
            [metrics["subgroups"][flag]["group"]["n"] for flag in SUBGROUP_FLAGS],
        ]
        if position:
            pair = gains[f"{windows[position - 1]}_to_{term.window}"]
            expected += [row["previous_n"], row["at_risk"]]
            got += [pair["n_matched"], metrics["students_at_risk"]]
        if position == 2:
            expected.append(row["first_n"])
            got.append(gains["fall_to_spring"]["n_matched"])
        differ += got != expected
    return differ


# ── 4. Page latency ──────────────────────────────────────────────────────────────────────────


def dashboard_url():
    from django.urls import NoReverseMatch, reverse

    from teams.models import School

    slug = School.objects.order_by("pk").values_list("slug", flat=True).first()
    try:
        return reverse("data_tracking:school_dashboard", args=[slug])
    except NoReverseMatch:
        return None


def page_latency(figures, concurrency, duration):
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.urls import reverse

    from bench.generate import ADMIN_USERNAME
    from teams.models import School

    # A signed-in session made directly: the login form's cookies are Secure (DEBUG is off, as
    # in production) and would not travel over the benchmark's plain http.
    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    session = SessionStore()
    session[SESSION_KEY] = str(admin.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
    session.create()
    session_key = session.session_key

    pages = []
    url = dashboard_url()
    if url is None:
        line("dashboard page latency", "pending: no data_tracking:school_dashboard URL")
    else:
        pages.append(("dashboard", url))
    school = School.objects.order_by("pk").first()
    pages.append(
        (
            "school page (baseline, not the dashboard)",
            reverse("teams:school_detail", args=[school.slug]),
        )
    )
    port = 8765
    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "dl_portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=benchdb.ROOT,
        env=os.environ.copy(),
    )
    try:
        time.sleep(3)
        figures["pages"] = {}
        for label, path in pages:
            output = subprocess.run(
                [
                    PYTHON,
                    str(HERE / "load.py"),
                    "--base",
                    f"http://127.0.0.1:{port}",
                    "--url",
                    path,
                    "--session",
                    session_key,
                    "--concurrency",
                    str(concurrency),
                    "--seconds",
                    str(duration),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(output.stdout)
            line(
                f"{label}: {path}",
                f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
                f"{result['per_second']}/s, {concurrency} clients, statuses {result['statuses']}",
            )
            figures["pages"][label] = result
    finally:
        server.terminate()
        server.wait(timeout=30)


# ── Main ─────────────────────────────────────────────────────────────────────────────────────


def student_index(action):
    """Make sure the model's per-student covering index is there ("model"), or drop it ("drop")
    to measure without it; returns whether it is there. Dropping it leaves the migration
    recorded as applied, so the next run without --index drop creates it again."""
    from django.db import connection

    from data_tracking.models import AssessmentResult

    (index,) = (i for i in AssessmentResult._meta.indexes if i.name == STUDENT_INDEX)

    def present():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                [AssessmentResult._meta.db_table, STUDENT_INDEX],
            )
            return cursor.fetchone() is not None

    if action == "drop" and present():
        with connection.schema_editor() as editor:
            editor.remove_index(AssessmentResult, index)
    elif action == "model" and not present():
        with connection.schema_editor() as editor:
            editor.add_index(AssessmentResult, index)
    found = present()
    vacuum()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument(
        "--index",
        choices=["model", "drop"],
        default="model",
        help="AssessmentResult's per-student covering index result_by_student: as the model "
        "has it (default; created again if an earlier run dropped it), or dropped to compare",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()
    benchdb.setup(migrate=True)
    from django.db import connection

    from data_tracking.models import AssessmentResult, Student
    from teams.models import School

    figures = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}",
        "schools": School.objects.count(),
        "students": Student.objects.count(),
        "results": AssessmentResult.objects.count(),
    }
    if not figures["results"]:
        sys.exit("bench: no results: run bench/generate.py first")
    figures["covering_index"] = student_index(options.index)
    print(f"DL Portal benchmark, {figures['date']}, {figures['machine']}")
    print(
        f"{figures['schools']:,} schools, {figures['students']:,} students, "
        f"{figures['results']:,} results; per-student covering index: "
        f"{'yes' if figures['covering_index'] else 'no'}"
    )
    print("1. Import")
    if options.skip_import:
        line("import vs COPY", "skipped (--skip-import)")
    else:
        import_vs_copy(figures)
    print("2. Compile")
    compile_all(figures)
    print("3. Hand-written SQL")
    hand_written_sql(figures)
    print("4. Pages")
    if options.skip_pages:
        line("page latency", "skipped (--skip-pages)")
    else:
        page_latency(figures, options.concurrency, options.seconds)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "compile-child":
        benchdb.setup()
        compile_child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1")
    else:
        main()
