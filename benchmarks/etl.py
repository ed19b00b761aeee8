"""The ETL end to end at 100k and 1M orders on 2 cores, against the same transforms in DuckDB SQL.

Ours: the pipeline's Glue job scripts (`PIPELINE.glue_jobs`: stage, quality_staged, dimensions,
facts, quality_warehouse) in pipeline order on local folders, each its own `python <script>`
process (a copy of the script in a work folder, as Glue runs it) with Glue's argv and the
environment of `script_environment("local[2]")`: every figure includes each job's Spark start.
End to end is the jobs' sum (what a runner does between them is not counted).

Baseline: the same transforms written for DuckDB (`benchmarks/etl_duckdb/*.sql`, and the model's
data-quality rules as one aggregate query per table, a query per key and per foreign key), in
one fresh DuckDB process with `threads = 2`, on the same raw files: typed and validated records
with the contract's defect classes, staged and quarantine parquet per batch, batch lineage, the
rules' counts, SCD2 dim_customer and dim_product, dim_date and the facts in USD, all written as
parquet per batch. The bench then reads both outputs and says whether they agree: row counts
per table, the same rows (all columns but surrogate keys, run ids, load times and defect
details), the fact totals in USD, and every rule's checked and failed counts.

Input: `generate` with days=30, customers = orders / 5, products = orders / 100 and 1% bad
records; its time is not part of any figure. Memory: the peak of the RSS summed over the
process tree (the job's Python, its JVM, Spark's Python workers), polled from /proc every
`SAMPLE_SECONDS` (psutil is not in the environment); a page shared by several processes counts
in each, so the tree figure is an upper bound. CPU: user + system seconds of every process of
the tree, from the rusage of reaped children (the bench adopts the orphans, such as a JVM that
outlives its driver, as a child subreaper, and waits for them before the next job starts), plus
the children of a process that ignores SIGCHLD, which no rusage reports: PySpark's worker
daemon does, so its Python workers are sampled from /proc with the memory (each worker's last
sample: a worker loses at most `SAMPLE_SECONDS` of CPU). Before, those workers were not
counted at all, and the stage job's CPU read about a fifth low. The
DuckDB side is measured the same way from outside; its per-step seconds come from inside the
process. Runs are single (minutes each) on a machine that may be shared: the load average
before and after each size is in the caption, and CPU seconds move less with it than wall
seconds.
"""

from __future__ import annotations

import calendar
import contextlib
import ctypes
import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from rich import box
from rich.table import Table

import ecomdw.etl
from benchmarks import etl_duckdb
from ecomdw.core.duckdb_session import connect
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import DQ_RESULT, RAW_ENTITIES, WAREHOUSE_TABLES, Entity
from ecomdw.core.processed import LINEAGE_OF_STAGED, STAGED, WAREHOUSE
from ecomdw.core.quality import (
    Check,
    Rule,
    RuleResult,
    blocking_failures,
    dq_rows,
    report,
    rules_for_tables,
    stale_batches,
    volume_outliers,
)
from ecomdw.core.redshift_ddl import redshift_type
from ecomdw.etl.pipeline import PIPELINE
from ecomdw.etl.spark import script_environment

SIZES = (100_000, 1_000_000)
DAYS = 30
DEFECT_RATE = 0.01
THREADS = 2
MASTER = f"local[{THREADS}]"
GOAL_SECONDS = 300.0  # 1M orders end to end
GOAL_RATIO = 4.0
SAMPLE_SECONDS = 0.2
LINGER_SECONDS = 60.0
RUN_ID = "bench"
STEPS = tuple(job.name for job in PIPELINE.glue_jobs)
MIB = 1024 * 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROW_CHECKS = (Check.NOT_NULL, Check.ACCEPTED_VALUES, Check.RANGE, Check.PATTERN)

# The tables each quality gate checks (`ecomdw.etl.quality.SCOPES`, which needs pyspark) and the
# baseline's relation holding each one's rows (every relation has its batch in `batch_date`).
RUN_LOGS = ("dq_result", "pipeline_run")
QUALITY_SCOPES: dict[str, tuple[tuple[Entity, ...], str]] = {
    "quality_staged": (RAW_ENTITIES, "staged_{}"),
    "quality_warehouse": (tuple(t for t in WAREHOUSE_TABLES if t.name not in RUN_LOGS), "{}"),
}


def config(orders: int) -> GeneratorConfig:
    return GeneratorConfig(
        seed=7,
        orders=orders,
        customers=max(1_000, orders // 5),
        products=max(500, orders // 100),
        days=DAYS,
        defect_rate=DEFECT_RATE,
    )


# ---------------------------------------------------------------- measuring a process tree


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc/<pid>/stat."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:
            continue
        # `pid (comm) state ppid ...`: comm may hold spaces and parentheses.
        parents[int(name)] = int(text[text.rindex(b")") + 2 :].split()[1])
    return parents


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _descendants(root: int, parents: dict[int, int] | None = None) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in (parents or _parents()).items():
        children.setdefault(parent, []).append(pid)
    found, stack = [], list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _own_cpu_seconds(pid: int) -> float:
    """User + system seconds of `pid` itself, from /proc (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return 0.0
    fields = text[text.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _ignores_sigchld(pid: int) -> bool:
    """Whether `pid` ignores SIGCHLD: the kernel then reaps its children and their CPU time
    reaches nobody's rusage (PySpark's worker daemon does this)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigIgn:"):
                    return bool(int(line.split()[1], 16) >> (signal.SIGCHLD - 1) & 1)
    except OSError:
        pass
    return False


def unreaped_cpu(root: int, seen: dict[int, float], ignoring: dict[int, bool]) -> None:
    """Record in `seen` the CPU seconds so far of each descendant of `root` whose parent ignores
    SIGCHLD (`ignoring` caches that per parent): CPU no rusage will report."""
    parents = _parents()
    for pid in _descendants(root, parents):
        parent = parents[pid]
        if parent not in ignoring:
            ignoring[parent] = _ignores_sigchld(parent)
        if ignoring[parent]:
            seen[pid] = max(seen.get(pid, 0.0), _own_cpu_seconds(pid))


def descendants_rss(root: int) -> int:
    """Bytes resident in the descendants of `root` (not `root` itself), summed."""
    return sum(_rss(pid) for pid in _descendants(root))


PR_SET_CHILD_SUBREAPER = 36


def _adopt_orphans(adopt: bool) -> None:
    """Become (or stop being) the reaper of our orphaned descendants: a JVM that outlives its
    Python driver comes back to us, so its CPU time is counted and the next job does not start
    beside it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, int(adopt), 0, 0, 0)


def _reap_the_rest() -> None:
    """Wait for the rest of the tree, adopted when its parent ended first (a JVM shutting
    down); what still runs after `LINGER_SECONDS` is killed."""
    deadline = time.monotonic() + LINGER_SECONDS
    while True:
        try:
            pid, _, _ = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        if time.monotonic() > deadline:
            for child in _descendants(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
        time.sleep(0.05)


@dataclass
class Measured:
    seconds: float
    cpu_seconds: float
    peak_bytes: int
    returncode: int
    error: str = ""

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / MIB


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def measure(argv: Sequence[str], *, env: dict[str, str], cwd: Path, log: Path) -> Measured:
    """Run `argv` to its end: wall seconds until it exits, and over its whole process tree
    (every descendant waited for) the CPU seconds and the peak of the summed RSS."""
    _adopt_orphans(True)
    cpu_before = _cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
    peak = [0]
    unreaped: dict[int, float] = {}
    ignoring: dict[int, bool] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], descendants_rss(os.getpid()))
            unreaped_cpu(os.getpid(), unreaped, ignoring)
            done.wait(SAMPLE_SECONDS)

    try:
        with log.with_suffix(".out").open("wb") as out, log.with_suffix(".err").open("wb") as err:
            started = time.perf_counter()
            process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _, status, _ = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            _reap_the_rest()
            done.set()
            sampler.join()
    finally:
        _adopt_orphans(False)
    cpu = _cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - cpu_before
    cpu += sum(unreaped.values())
    error = ""
    if process.returncode != 0:
        lines = log.with_suffix(".err").read_text(errors="replace").strip().splitlines()
        error = next((line for line in reversed(lines) if line and not line[0].isspace()), "")
        error = error or f"exit code {process.returncode}"
    return Measured(seconds, cpu, peak[0], process.returncode, error[:200])


# ---------------------------------------------------------------- ours: the Glue job scripts


def run_etl(raw: Path, work: Path) -> dict[str, Measured]:
    """Every Glue job of the pipeline in order, each as its own process; stops at a failure."""
    processed, scripts = work / "processed", work / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **script_environment(MASTER)}
    package = Path(ecomdw.etl.__file__).parent
    measured: dict[str, Measured] = {}
    for job in PIPELINE.glue_jobs:
        script = scripts / Path(job.script).name
        shutil.copyfile(package / job.script, script)
        argv = [
            sys.executable,
            str(script),
            "--JOB_NAME",
            job.name,
            "--JOB_RUN_ID",
            f"jr_{job.name}",
            "--raw_uri",
            str(raw),
            "--processed_uri",
            str(processed),
            "--batch_dates",
            "pending",
            "--run_id",
            RUN_ID,
        ]
        for key, value in job.arguments:
            argv += [key, value]
        measured[job.name] = result = measure(argv, env=env, cwd=work, log=work / job.name)
        if result.returncode != 0:
            break
    return measured


# ---------------------------------------------------------------- baseline: DuckDB SQL


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _violation(rule: Rule) -> str:
    """SQL true on a row that breaks a row rule (as ecomdw.etl.quality: a null breaks only
    not_null; a pattern is searched, as Spark's rlike does)."""
    column = rule.columns[0]
    if rule.check is Check.NOT_NULL:
        return f"{column} IS NULL"
    if rule.check is Check.ACCEPTED_VALUES:
        broken = f"{column} NOT IN ({', '.join(map(_literal, rule.accepted_values))})"
    elif rule.check is Check.PATTERN:
        broken = f"NOT regexp_matches({column}, {_literal(rule.pattern)})"
    else:
        outside = []
        if rule.min_value is not None:
            outside.append(f"{column} {'<=' if rule.min_exclusive else '<'} {rule.min_value}")
        if rule.max_value is not None:
            outside.append(f"{column} > {rule.max_value}")
        broken = " OR ".join(outside)
    return f"{column} IS NOT NULL AND ({broken})"


def _complete(alias: str, columns: Sequence[str]) -> str:
    return " AND ".join(f"{alias}.{c} IS NOT NULL" for c in columns)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def _table_results(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rule],
    relation: Callable[[str], str],
    checked: Sequence[dt.date],
    known: Sequence[dt.date],
) -> list[RuleResult]:
    """One table's rules: its row rules, freshness and volume in one aggregate per batch, then
    a query per key and per foreign key. Every batch is checked (a first run of all of them)."""
    table = relation(rules[0].table)
    results: list[RuleResult] = []
    row_rules = [r for r in rules if r.check in ROW_CHECKS]
    fresh = next((r for r in rules if r.check is Check.FRESHNESS), None)
    counts = [f"count(*) FILTER ({_violation(r)})" for r in row_rules]
    newest = [f"max({fresh.columns[0]}::TIMESTAMP)"] if fresh else ["NULL"]
    per_batch = {
        row[0]: row[1:]
        for row in con.execute(
            f"SELECT batch_date, count(*), {', '.join([*counts, *newest])} "
            f"FROM {table} GROUP BY batch_date"
        ).fetchall()
    }
    rows = sum(int(per_batch[d][0]) for d in checked if d in per_batch)
    for index, rule in enumerate(row_rules):
        failed = sum(int(per_batch[d][1 + index]) for d in checked if d in per_batch)
        results.append(RuleResult(rule, rows, failed, f"{failed} of {rows} rows" if failed else ""))
    for rule in rules:
        if rule.check is Check.FRESHNESS:
            assert rule.freshness_hours is not None
            ages = {
                day: (
                    calendar.timegm((day + dt.timedelta(days=1)).timetuple())
                    - calendar.timegm(stats[-1].timetuple())
                )
                / 3600
                for day, stats in per_batch.items()
                if stats[-1] is not None
            }
            judged, stale = stale_batches(ages, checked, rule.freshness_hours, initial=known[0])
            results.append(RuleResult(rule, len(judged), len(stale), ", ".join(map(str, stale))))
        elif rule.check is Check.VOLUME:
            assert rule.max_volume_change is not None
            volume = {d: int(per_batch[d][0]) if d in per_batch else 0 for d in known}
            judged, outliers = volume_outliers(volume, checked, rule.max_volume_change)
            detail = ", ".join(f"batch {o.batch}: {o.rows} rows" for o in outliers)
            results.append(RuleResult(rule, len(judged), len(outliers), detail))
        elif rule.check is Check.UNIQUE:
            keys = ", ".join(rule.columns)
            total, failed = _one(
                con,
                f"SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (n > 1), 0) FROM ("
                f"SELECT count(*) AS n FROM {table} AS t WHERE {_complete('t', rule.columns)} "
                f"GROUP BY batch_date, {keys})",
            )
            detail = f"{failed} rows repeat a key within a batch" if failed else ""
            results.append(RuleResult(rule, int(total), int(failed), detail))
        elif rule.check is Check.RELATIONSHIPS:
            pairs = list(zip(rule.columns, rule.referenced_columns, strict=True))
            parent = ", ".join(f"{theirs} AS {ours}" for ours, theirs in pairs)
            joined = " AND ".join(f"c.{ours} = p.{ours}" for ours, _ in pairs)
            total, failed = _one(
                con,
                f"SELECT count(*), count(*) FILTER (p._found IS NULL) FROM {table} AS c "
                f"LEFT JOIN (SELECT DISTINCT {parent}, true AS _found "
                f"FROM {relation(rule.references)}) AS p ON {joined} "
                f"WHERE {_complete('c', rule.columns)}",
            )
            detail = f"{failed} rows reference no {rule.references}" if failed else ""
            results.append(RuleResult(rule, int(total), int(failed), detail))
    return results


def _quality(con: duckdb.DuckDBPyConnection, scope: str, out: Path) -> None:
    """A quality gate: every rule of the scope's tables, its results kept in each checked
    batch's dq_result folder (with the other gate's) and a JSON report; a blocking failure
    stops the run."""
    tables, pattern = QUALITY_SCOPES[scope]

    def batches(relation: str) -> set[dt.date]:
        return {
            row[0] for row in con.execute(f"SELECT DISTINCT batch_date FROM {relation}").fetchall()
        }

    # Checked: every batch the run staged; known: every batch of any table of the scope.
    checked = sorted(batches("batch_lineage"))
    known = sorted(set(checked).union(*(batches(pattern.format(t.name)) for t in tables)))
    rules = rules_for_tables(tables)
    found: dict[Rule, RuleResult] = {}
    for table in tables:
        mine = [r for r in rules if r.table == table.name]
        if mine:
            for result in _table_results(con, mine, pattern.format, checked, known):
                found[result.rule] = result
    results = [found[rule] for rule in rules]
    checked_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    columns = ", ".join(f"{c.name} {redshift_type(c.type)}" for c in DQ_RESULT.columns)
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS dq_result ({columns})")
    names = ", ".join(_literal(t.name) for t in tables)
    con.execute(f"DELETE FROM dq_result WHERE table_name IN ({names})")
    con.executemany(
        f"INSERT INTO dq_result VALUES ({', '.join('?' * len(DQ_RESULT.columns))})",
        dq_rows(RUN_ID, results, checked_at),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE checked_batches AS SELECT unnest(?::DATE[]) AS batch_date",
        [checked],
    )
    con.execute(
        "COPY (SELECT d.*, strftime(b.batch_date, '%Y-%m-%d') AS batch "
        "FROM dq_result AS d CROSS JOIN checked_batches AS b) "
        f"TO {_literal((out / WAREHOUSE / DQ_RESULT.name).as_posix())} "
        "(FORMAT parquet, PARTITION_BY (batch), OVERWRITE)"
    )
    reports = out / "quality" / RUN_ID
    reports.mkdir(parents=True, exist_ok=True)
    document = report(RUN_ID, scope.removeprefix("quality_"), checked, results, checked_at)
    (reports / f"{scope}.json").write_text(json.dumps(document, indent=2))
    blocking = blocking_failures(results)
    if blocking:
        raise RuntimeError(f"{scope}: blocking rules failed: {[r.rule.name for r in blocking]}")


def baseline(raw: Path, out: Path, threads: int = THREADS) -> dict[str, dict[str, float]]:
    """The pipeline's steps in DuckDB on the raw tree `raw`, outputs under `out`; seconds and
    CPU seconds per step."""
    for folder in (STAGED, WAREHOUSE):
        (out / folder).mkdir(parents=True, exist_ok=True)
    con = etl_duckdb.connect(threads, out / "_spill")
    steps: dict[str, dict[str, float]] = {}
    for step in STEPS:
        started, started_cpu = time.perf_counter(), time.process_time()
        if step in QUALITY_SCOPES:
            _quality(con, step, out)
        else:
            etl_duckdb.run_step(con, step, raw, out)
        steps[step] = {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - started_cpu,
        }
    con.close()
    return steps


_BASELINE = """
import json, sys
from pathlib import Path
from benchmarks.etl import baseline
print(json.dumps(baseline(Path(sys.argv[1]), Path(sys.argv[2]))))
"""


def run_baseline(raw: Path, work: Path) -> tuple[Measured, dict[str, dict[str, float]]]:
    """The baseline in a fresh process: measured from outside, its steps from inside."""
    out = work / "duckdb"
    measured = measure(
        [sys.executable, "-c", _BASELINE, str(raw), str(out)],
        env=dict(os.environ),
        cwd=Path(__file__).resolve().parent.parent,
        log=work / "duckdb",
    )
    steps: dict[str, dict[str, float]] = {}
    if measured.returncode == 0:
        lines = (work / "duckdb.out").read_text().strip().splitlines()
        steps = json.loads(lines[-1])
    return measured, steps


# ---------------------------------------------------------------- do the outputs agree?

# Columns compared row for row: all but surrogate keys (Spark's xxhash64 against DuckDB's hash),
# run ids, load times and the wording of defect details.
NOT_COMPARED = {"customer_sk", "product_sk", "run_id", "loaded_at", "detail"}
STAGED_OUTPUTS = tuple(f"{STAGED}/{e.name}" for e in RAW_ENTITIES)
OUTPUTS: dict[str, tuple[str, ...]] = {
    "stage": (*STAGED_OUTPUTS, f"{WAREHOUSE}/quarantine", f"{WAREHOUSE}/batch_lineage"),
    "dimensions": tuple(f"{WAREHOUSE}/{t}" for t in ("dim_date", "dim_customer", "dim_product")),
    "facts": tuple(
        f"{WAREHOUSE}/{t}"
        for t in ("fact_exchange_rate", "fact_order_line", "fact_order", "fact_payment")
    ),
}
TOTALS = (
    ("fact_order_line", "gross_amount_usd"),
    ("fact_order_line", "net_amount_usd"),
    ("fact_order_line", "cost_amount_usd"),
    ("fact_order", "total_amount_usd"),
    ("fact_payment", "amount_usd"),
)


def _columns(output: str) -> list[str]:
    folder, name = output.split("/")
    entity = next(e for e in (*RAW_ENTITIES, *WAREHOUSE_TABLES) if e.name == name)
    names = list(entity.column_names)
    if folder == STAGED:
        names += [c.name for c in LINEAGE_OF_STAGED]
    return [n for n in names if n not in NOT_COMPARED]


def _files(root: Path, output: str) -> str:
    return _literal((root / output).as_posix() + "/*/*.parquet")


def compare(ours: Path, theirs: Path) -> dict[str, str]:
    """Per step, whether our outputs agree with the baseline's: '' when they do, else what
    differs."""
    con = connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {_literal((theirs / '_spill').as_posix())}")
    findings: dict[str, list[str]] = {step: [] for step in STEPS}
    for step, outputs in OUTPUTS.items():
        for output in outputs:
            name = output.split("/")[1]
            try:
                a, b = (
                    int(_one(con, f"SELECT count(*) FROM read_parquet({_files(r, output)})")[0])
                    for r in (ours, theirs)
                )
            except duckdb.Error as error:
                findings[step].append(f"{name}: {str(error).splitlines()[0][:60]}")
                continue
            if a != b:
                findings[step].append(f"{name} {a:,} vs {b:,} rows")
                continue
            columns = ", ".join(_columns(output))
            mine, yours = (
                f"SELECT {columns} FROM read_parquet({_files(r, output)})" for r in (ours, theirs)
            )
            differ = _one(
                con,
                f"SELECT count(*) FROM (({mine} EXCEPT ALL {yours}) "
                f"UNION ALL ({yours} EXCEPT ALL {mine}))",
            )[0]
            if differ:
                findings[step].append(f"{name}: {differ:,} rows differ")
    for table, column in TOTALS:
        output = f"{WAREHOUSE}/{table}"
        try:
            a, b = (
                _one(con, f"SELECT sum({column}) FROM read_parquet({_files(r, output)})")[0]
                for r in (ours, theirs)
            )
        except duckdb.Error:
            continue  # the row count above says what is missing
        if a != b:
            findings["facts"].append(f"Σ {table}.{column} {a} vs {b}")
    # Each gate's results, the same in every batch folder: rows per batch and rule, and each
    # rule's checked and failed counts.
    output = f"{WAREHOUSE}/{DQ_RESULT.name}"
    for step, (tables, _) in QUALITY_SCOPES.items():
        names = ", ".join(_literal(t.name) for t in tables)
        per_rule = (
            "SELECT rule, checked_count, failed_count, count(*) AS batches "
            f"FROM read_parquet({{}}, hive_partitioning = false) WHERE table_name IN ({names}) "
            "GROUP BY ALL"
        )
        mine, yours = (per_rule.format(_files(r, output)) for r in (ours, theirs))
        try:
            differ = _one(
                con,
                "SELECT count(DISTINCT rule) FROM "
                f"(({mine} EXCEPT {yours}) UNION ALL ({yours} EXCEPT {mine}))",
            )[0]
        except duckdb.Error as error:
            findings[step].append(f"dq_result: {str(error).splitlines()[0][:60]}")
            continue
        if differ:
            findings[step].append(f"{differ} rules' results differ")
    con.close()
    return {step: "; ".join(found) for step, found in findings.items()}


# ---------------------------------------------------------------- the table


@dataclass
class SizeResult:
    orders: int
    records: int
    raw_mib: float
    load: tuple[float, float]  # 1-minute load average before and after the runs
    ours: dict[str, Measured]
    duckdb: Measured
    duckdb_steps: dict[str, dict[str, float]]
    agreement: dict[str, str]

    @property
    def ours_total(self) -> Measured | None:
        if len(self.ours) != len(STEPS) or any(m.returncode for m in self.ours.values()):
            return None
        return Measured(
            sum(m.seconds for m in self.ours.values()),
            sum(m.cpu_seconds for m in self.ours.values()),
            max(m.peak_bytes for m in self.ours.values()),
            0,
        )


def measure_size(orders: int) -> SizeResult:
    with tempfile.TemporaryDirectory(prefix="ecomdw-bench-etl-") as scratch:
        work = Path(scratch)
        raw = work / "raw"
        manifest = generate(config(orders), raw)
        records = sum(t["good"] + t["defective"] for t in manifest["totals"].values())
        raw_bytes = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file())
        load_before = os.getloadavg()[0]
        duck, duck_steps = run_baseline(raw, work)
        ours = run_etl(raw, work)
        agreement = compare(work / "processed", work / "duckdb")
        load = (load_before, os.getloadavg()[0])
        return SizeResult(orders, records, raw_bytes / MIB, load, ours, duck, duck_steps, agreement)


def _agreement(size: SizeResult, step: str) -> tuple[str, str]:
    """The 'same' cell of a step (yes, no, or - when there is nothing to compare), and what
    the caption says about it: what differs, or why the step failed."""
    measured = size.ours.get(step)
    if measured is None:
        return "-", ""
    if measured.returncode:
        return "-", f"{size.orders:,} orders, {step} failed: {measured.error}"
    if size.duckdb.returncode:
        return "-", ""
    differs = size.agreement.get(step, "")
    return ("no", f"{size.orders:,} orders, {step}: {differs}") if differs else ("yes", "")


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 1000 else f"{seconds:.1f}"


def _ratio(ours: float, baseline: float) -> str:
    if baseline <= 0:
        return ""
    ratio = ours / baseline
    return f"{ratio:.0f}" if ratio >= 100 else f"{ratio:.1f}"


def _ratios(ours: Measured | None, seconds: float, cpu_seconds: float) -> list[str]:
    """Ours against the baseline's seconds: wall, then CPU."""
    if ours is None or ours.returncode:
        return ["", ""]
    return [_ratio(ours.seconds, seconds), _ratio(ours.cpu_seconds, cpu_seconds)]


def _goals(size: SizeResult) -> str:
    total, duck = size.ours_total, size.duckdb
    if total is None or duck.returncode:
        return f"{size.orders:,} orders: no end-to-end figure"
    ratio = total.seconds / duck.seconds
    verdicts = [f"ratio {ratio:.1f} (≤ {GOAL_RATIO:g}: {'yes' if ratio <= GOAL_RATIO else 'no'})"]
    if size.orders == SIZES[-1]:
        fast = total.seconds <= GOAL_SECONDS
        verdicts.append(
            f"{total.seconds:.0f} s (≤ {GOAL_SECONDS:.0f} s: {'yes' if fast else 'no'})"
        )
    return f"{size.orders:,} orders: {', '.join(verdicts)}"


def table(results: Sequence[SizeResult]) -> Table:
    inputs = "; ".join(
        f"{r.orders:,} orders: {r.records:,} raw records, {r.raw_mib:,.0f} MiB, "
        f"load average {r.load[0]:.1f} before, {r.load[1]:.1f} after"
        for r in results
    )
    rendered = Table(
        title=(
            f"ETL end to end on {THREADS} cores: the pipeline's Glue job scripts, each its own "
            "`python <script>` on local Spark, against the same transforms in DuckDB SQL in one "
            "process. s = wall seconds, cpu = CPU seconds, MiB = peak RSS of the process tree; "
            "ratio = ours / DuckDB, in wall then cpu seconds"
        ),
        caption=(
            f"Goals: {'; '.join(_goals(r) for r in results)}. Input: {inputs}; generated "
            f"with days={DAYS}, customers = orders/5, products = orders/100, "
            f"{DEFECT_RATE:.0%} bad records. same: the same rows per output table (all "
            "columns but surrogate keys, run ids, load times and defect wording), the same fact "
            "totals in USD, every rule's checked and failed counts. The baseline reads a record "
            "per physical line: quoted line breaks, lone CR line ends and undecodable bytes "
            "(the generator writes none) are outside it."
        ),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    rendered.add_column("step", no_wrap=True)
    for column in ("ours s", "cpu", "MiB", "DuckDB", "cpu", "MiB", "ratio", "cpu"):
        rendered.add_column(column, justify="right", no_wrap=True)
    rendered.add_column("same", no_wrap=True)
    notes: list[str] = []
    for size in results:
        rendered.add_row(f"[bold]{size.orders:,} orders[/bold]")
        for step in STEPS:
            ours, duck = size.ours.get(step), size.duckdb_steps.get(step)
            if ours is None or ours.returncode:
                cells = ["failed" if ours else "-", "", ""]
            else:
                cells = [_seconds(ours.seconds), _seconds(ours.cpu_seconds), f"{ours.peak_mib:.0f}"]
            if duck:
                cells += [_seconds(duck["seconds"]), _seconds(duck["cpu_seconds"]), ""]
            else:
                cells += ["-", "", ""]
            if duck:
                cells += _ratios(ours, duck["seconds"], duck["cpu_seconds"])
            else:
                cells += ["", ""]
            same, note = _agreement(size, step)
            notes += [note] if note else []
            rendered.add_row(step, *cells, same)
        total, duck_total = size.ours_total, size.duckdb
        cells = (
            [_seconds(total.seconds), _seconds(total.cpu_seconds), f"{total.peak_mib:.0f}"]
            if total
            else ["failed", "", ""]
        )
        if duck_total.returncode:
            cells += ["failed", "", ""]
        else:
            cells += [
                _seconds(duck_total.seconds),
                _seconds(duck_total.cpu_seconds),
                f"{duck_total.peak_mib:.0f}",
            ]
        if duck_total.returncode:
            cells += ["", ""]
        else:
            cells += _ratios(total, duck_total.seconds, duck_total.cpu_seconds)
        if duck_total.returncode:
            notes.append(f"{size.orders:,} orders, DuckDB failed: {duck_total.error}")
        verdicts = {_agreement(size, step)[0] for step in STEPS}
        overall = "no" if "no" in verdicts else "yes" if verdicts == {"yes"} else "-"
        rendered.add_row("end to end", *cells, overall, end_section=True)
    if notes:
        rendered.caption = f"Not the same: {'; '.join(notes)}. {rendered.caption}"
    return rendered


def run(sizes: tuple[int, ...] = SIZES) -> Table:
    return table([measure_size(orders) for orders in sizes])


if __name__ == "__main__":
    from rich.console import Console

    Console().print(run(tuple(int(s) for s in sys.argv[1:]) or SIZES))
