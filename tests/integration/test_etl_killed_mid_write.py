"""A pipeline step killed mid-write: its rerun and the steps after it end where an uninterrupted
run ends, in the processed bucket and in the warehouse.

The stage job script runs as its own process (its own Spark, as a Glue job run does) and is
SIGKILLed, process group and all, the moment a task commits its fourth table's output: three
staged tables are written, that one is committed in part (a `_temporary` left behind) or whole,
the others and every job marker are not. Then the stage script runs again, and the other steps
of the pipeline after it; every processed table then holds what an uninterrupted run writes.

The warehouse side: a load of the processed batches into a DuckDB warehouse file, killed in the
middle of a batch's transaction, leaves the warehouse as the batch before left it, and loading
the pending batches again gives the tables an uninterrupted load gives.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import RAW_ENTITIES, WAREHOUSE_TABLES
from ecomdw.core.processed import RUN_PLANS, STAGING_TABLES, WAREHOUSE
from ecomdw.etl.jobs import dimensions, facts, quality, stage
from ecomdw.etl.jobs.runtime import resolve_options
from ecomdw.etl.pipeline import PIPELINE
from ecomdw.etl.quality import SCOPES
from ecomdw.etl.spark import script_environment
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse, load_batch

from .processed_tables import contents, differences, layout

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow, pytest.mark.duckdb]

SAMPLE = GeneratorConfig(customers=30, products=10, orders=40, days=2, defect_rate=0.05)
BATCHES = [SAMPLE.batch_date(day) for day in range(SAMPLE.days)]
STAGED_ORDER = [entity.name for entity in RAW_ENTITIES]  # the order the stage job starts them
WATCHED = "orders"  # the fourth: killed while it is being committed
PER_RUN = {"run_id", "loaded_at", "checked_at"}  # stamps of the run that wrote a row
TIMEOUT = 600


def arguments(raw: Path, processed: Path, run_id: str) -> list[str]:
    return [
        *("--JOB_NAME", "test", "--raw_uri", str(raw), "--processed_uri", str(processed)),
        *("--batch_dates", "pending", "--run_id", run_id),
    ]


def run_steps(
    spark: SparkSession, steps: list[str], raw: Path, processed: Path, run_id: str
) -> None:
    """Glue job steps of the pipeline, in this process's Spark, each as its script's `run`."""
    argv = ["job.py", *arguments(raw, processed, run_id)]
    runners: dict[str, Callable[[], None]] = {
        "stage": lambda: stage.run(spark, resolve_options(argv, needs_raw=True)),
        "quality_staged": lambda: quality.run(spark, resolve_options(argv), SCOPES["staged"]),
        "dimensions": lambda: dimensions.run(spark, resolve_options(argv)),
        "facts": lambda: facts.run(spark, resolve_options(argv)),
        "quality_warehouse": lambda: quality.run(spark, resolve_options(argv), SCOPES["warehouse"]),
    }
    for step in steps:
        runners[step]()


def job_environment() -> dict[str, str]:
    """A job script on a Spark of its own, launched as the emulated Glue launches one (none of
    the test session's Spark state)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "SPARK_"))},
        **script_environment("local[2]", {"spark.sql.shuffle.partitions": "2"}),
    }


def stage_command(raw: Path, processed: Path, run_id: str) -> list[str]:
    return [sys.executable, stage.__file__, *arguments(raw, processed, run_id)]


def committing(table: Path) -> bool:
    """A task of a write into `table` has committed: its files are in a batch folder (the
    output committer's algorithm 2, or after the job commit) or in a committed task folder
    waiting for the job commit (algorithm 1)."""
    try:
        pending = os.listdir(table / "_temporary" / "0")
    except FileNotFoundError:
        pending = []
    if any(name.startswith("task_") for name in pending):
        return True
    return any(
        name.startswith("part-") for folder in table.glob("batch=*") for name in os.listdir(folder)
    )


@pytest.fixture
def process_group() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test starts, each in a group of its own, killed at the end if alive."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def kill_stage_mid_write(
    raw: Path, processed: Path, log: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    # The job runs niced: the watcher, polling every millisecond, sees a commit before it ends.
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["nice", "-n", "10", *stage_command(raw, processed, "killed")],
            env=job_environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started.append(process)
    watched = processed / "staged" / WATCHED
    deadline = time.monotonic() + TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        if committing(watched):
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.001)
    else:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("the stage job was not seen writing\n" + log.read_text(errors="replace"))
    assert process.wait() == -signal.SIGKILL, log.read_text(errors="replace")[-4000:]


def written_tables(processed: Path) -> set[str]:
    return {
        path.parent.relative_to(processed).as_posix()
        for path in processed.glob("*/*/batch=*")
        if any(p.name.startswith("part-") for p in path.iterdir())
    }


def per_run_columns() -> dict[str, set[str]]:
    tables = [*WAREHOUSE_TABLES, *RAW_ENTITIES]
    return {t.name: PER_RUN & set(t.column_names) for t in tables}


def data_layout(processed: Path) -> dict[str, Counter[str]]:
    """`layout` without the quality reports and run plans (their paths have the run id) and the
    `_SUCCESS` files (this process's Spark writes them, a job script's does not)."""
    found = {}
    for folder, names in layout(processed).items():
        kept = Counter({n: c for n, c in names.items() if "_SUCCESS" not in n})
        if kept and not folder.startswith(("quality/", f"{RUN_PLANS}/")):
            found[folder] = kept
    return found


def markers(processed: Path) -> dict[str, set[str]]:
    return {
        job.name: {batch.name for batch in job.iterdir() if (batch / "finished.json").is_file()}
        for job in (processed / "_jobs").iterdir()
    }


def test_stage_killed_mid_write_reruns_to_the_uninterrupted_output(
    spark: SparkSession, tmp_path: Path, process_group: list[subprocess.Popen[bytes]]
) -> None:
    raw = tmp_path / "raw"
    generate(SAMPLE, raw)
    steps = [job.name for job in PIPELINE.glue_jobs]
    assert steps[0] == "stage" and 0 < STAGED_ORDER.index(WATCHED) < len(STAGED_ORDER) - 1

    uninterrupted, processed = tmp_path / "uninterrupted", tmp_path / "processed"
    # The uninterrupted run goes on in this process's Spark meanwhile.
    with ThreadPoolExecutor(1) as pool:
        reference = pool.submit(run_steps, spark, steps, raw, uninterrupted, "uninterrupted")
        kill_stage_mid_write(raw, processed, tmp_path / "killed.log", process_group)
        # Killed mid-write: the watched table is being committed and no batch is marked
        # finished. Which other tables are written by then is a race: the job writes
        # `CONCURRENT_WRITES` tables side by side.
        written = written_tables(processed)
        assert committing(processed / "staged" / WATCHED)
        assert not (processed / "_jobs").exists()
        leftover = sorted(
            p.relative_to(processed).as_posix() for p in processed.rglob("_temporary")
        )
        print(f"killed mid-write: written {sorted(written)}; left over {leftover}")

        rerun = subprocess.run(
            stage_command(raw, processed, "rerun"),
            env=job_environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-4000:]
        assert f"batches {SAMPLE.days}" in rerun.stdout  # both batches were still pending
        reference.result(timeout=TIMEOUT)
    run_steps(spark, steps[1:], raw, processed, "rerun")

    expected = contents(uninterrupted, per_run_columns())
    assert differences(contents(processed, per_run_columns()), expected) == [], leftover
    days = {f"batch={day.isoformat()}" for day in BATCHES}
    assert markers(processed) == markers(uninterrupted) == dict.fromkeys(markers(processed), days)
    assert set(markers(processed)) == {SCOPES[s].job for s in SCOPES} | set(steps)
    # Nothing else left behind (no `_temporary`, no file of the killed run).
    assert data_layout(processed) == data_layout(uninterrupted)

    check_warehouse_load_killed_mid_batch(processed, tmp_path)


# The child loads batches into a warehouse file; in the last batch's transaction, after its
# MERGE number `merges`, it says so and waits to be killed.
LOAD_UNTIL_KILLED = """
import datetime as dt, sys, time
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse, load_batch

database, root, merges, *days = sys.argv[1:]

class Tripwire(DuckDBExecutor):
    armed = False
    merged = 0

    def run(self, sql):
        result = super().run(sql)
        if self.armed and sql.startswith("MERGE"):
            self.merged += 1
            if self.merged == int(merges):
                print("mid-batch", sql.split()[2], flush=True)
                time.sleep(600)
        return result

warehouse = Tripwire(database)
create_warehouse(warehouse)
for i, day in enumerate(days):
    warehouse.armed = i == len(days) - 1
    load_batch(warehouse, root, dt.date.fromisoformat(day))
"""


def snapshot(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every warehouse and staging table's rows, sorted."""
    executor = DuckDBExecutor(database, read_only=True)
    try:
        return {
            t.name: executor.connection.execute(f"SELECT * FROM {t.name} ORDER BY ALL").fetchall()
            for t in (*WAREHOUSE_TABLES, *STAGING_TABLES)
        }
    finally:
        executor.close()


def load(database: Path, processed: Path, days: list[dt.date]) -> None:
    executor = DuckDBExecutor(database)
    try:
        create_warehouse(executor)
        for day in days:
            load_batch(executor, str(processed), day)
    finally:
        executor.close()


def check_warehouse_load_killed_mid_batch(local: Path, tmp_path: Path) -> None:
    # The warehouse folders alone, as the load reads them (the jobs write no `.crc` files).
    processed = tmp_path / "bucket"
    shutil.copytree(local / WAREHOUSE, processed / WAREHOUSE)
    first, last = BATCHES
    uninterrupted = tmp_path / "uninterrupted.duckdb"
    load(uninterrupted, processed, [first])
    after_first = snapshot(uninterrupted)
    load(uninterrupted, processed, [last])
    after_last = snapshot(uninterrupted)
    assert after_last != after_first

    killed = tmp_path / "killed.duckdb"
    child = subprocess.Popen(
        [
            *(sys.executable, "-c", LOAD_UNTIL_KILLED, str(killed), str(processed), "4"),
            *(day.isoformat() for day in BATCHES),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        said = child.stdout.readline()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        _, errors = child.communicate()
    assert said.startswith("mid-batch"), said + errors
    assert snapshot(killed) == after_first  # the killed batch's transaction left nothing

    loaded = {row[0] for row in snapshot(killed)["batch_lineage"]}
    load(killed, processed, [day for day in BATCHES if day not in loaded])
    assert snapshot(killed) == after_last
