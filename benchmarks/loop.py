"""The inner loop: `ecomdw run` on the default sample, step by step, then one more day.

Ours: the `ecomdw` command as a user types it, in a fresh home, each run its own process (the
embedded emulator started, the stacks deployed, the raw folder landed, the pipeline's state
machine run, the summary printed). Per-step seconds come from `pipeline_run`, which the state
machine writes (a step's time is what the state machine spent in it: the Glue job run or the
load, with its polling). Two runs: the default sample's 90 days (`--input`), then the same
folder with a 91st day beside them, which the second run processes alone.

The input is the CLI's default sample with one more day: the generator spreads the same
orders over 91 days, and the first run is given the first 90 (the generator is not stable
under a change of `days`, so the 90-day default cannot be extended by a day). A plain
`ecomdw run` also generates its sample; that generation is timed on its own, in this process,
with the CLI's defaults, and the whole-command figure adds it to the first run.

Baseline: the same transforms in DuckDB SQL (`benchmarks.etl.run_baseline`, one fresh process,
2 threads) on the same files: the 90 days, and for the incremental day all 91 days from scratch
(the baseline has no incremental mode: a day alone lacks the rates and dimensions before it), so
an incremental run slower than that baseline costs more than recomputing everything would.

Ratios are wall seconds of ours against DuckDB's, measured in the same bench run. The goals
(issue: a fast inner loop) are in the last column: all steps of the first run together, the
incremental run's command, and the whole default command.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.table import Table

from benchmarks.etl import Measured, measure, run_baseline
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.etl.pipeline import PIPELINE
from ecomdw.warehouse.executors import DuckDBExecutor

DEFAULT = GeneratorConfig()  # what `ecomdw run` generates when given no --input
STEPS = tuple(PIPELINE.step_names())
GOALS = {"all steps": 60.0, "incremental day (command)": 15.0, "ecomdw run (command)": 90.0}
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    command: Measured
    steps: dict[str, float]


def split_last_day(full: Path, first: Path) -> str:
    """`first` = the raw tree `full` without its last batch date; that date."""
    shutil.copytree(full, first)
    last = max(p.name for p in full.glob("*/ingest_date=*")).removeprefix("ingest_date=")
    for folder in first.glob(f"*/ingest_date={last}"):
        shutil.rmtree(folder)
    return last


def step_seconds(warehouse: Path) -> dict[str, float]:
    """Seconds per step of the newest run in `pipeline_run`, and the run's own total."""
    executor = DuckDBExecutor(warehouse, read_only=True)
    try:
        result = executor.run(
            "select step, datediff(ms, started_at, finished_at) / 1000.0 from pipeline_run "
            "where run_id = (select max(run_id) from pipeline_run) and finished_at is not null"
        )
    finally:
        executor.close()
    assert result is not None
    return {str(step): float(seconds) for step, seconds in result.rows}


def ecomdw_run(home: Path, raw: Path, log: Path) -> Run:
    warehouse = home / "warehouse.duckdb"
    command = measure(
        [sys.executable, "-m", "ecomdw.cli.main", "run", "--input", str(raw)],
        env={**os.environ, "ECOMDW_HOME": str(home), "COLUMNS": "200"},
        cwd=REPO,
        log=log,
    )
    steps = step_seconds(warehouse) if command.returncode == 0 else {}
    return Run(command, steps)


@dataclass
class LoopResult:
    generate_seconds: float
    first: Run
    incremental: Run
    duckdb: dict[str, float]
    duckdb_day: dict[str, float]
    load: tuple[float, float]


def measure_loop() -> LoopResult:
    with tempfile.TemporaryDirectory(prefix="ecomdw-bench-loop-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        generate(DEFAULT, work / "default")
        generate_seconds = time.perf_counter() - started
        full, first = work / "full", work / "first"
        generate(GeneratorConfig(days=DEFAULT.days + 1), full)
        split_last_day(full, first)
        load_before = os.getloadavg()[0]
        for folder in ("baseline", "baseline-day"):
            (work / folder).mkdir()
        _, duck = run_baseline(first, work / "baseline")
        _, duck_day = run_baseline(full, work / "baseline-day")
        home = work / "home"
        first_run = ecomdw_run(home, first, work / "first-run")
        incremental = ecomdw_run(home, full, work / "incremental-run")
        return LoopResult(
            generate_seconds,
            first_run,
            incremental,
            {step: figures["seconds"] for step, figures in duck.items()},
            {step: figures["seconds"] for step, figures in duck_day.items()},
            (load_before, os.getloadavg()[0]),
        )


def _cell(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"


def _ratio(ours: float | None, baseline: float | None) -> str:
    if ours is None or not baseline:
        return ""
    return f"{ours / baseline:.1f}"


def _goal(name: str, seconds: float | None) -> str:
    goal = GOALS.get(name)
    if goal is None:
        return ""
    met = seconds is not None and seconds <= goal
    return f"≤ {goal:.0f} s: {'met' if met else 'not met'}"


def table(result: LoopResult) -> Table:
    rendered = Table(
        title=f"inner loop: `ecomdw run` on the default sample ({DEFAULT.orders:,} orders, "
        f"{DEFAULT.days} days), then one more day",
        box=box.SIMPLE_HEAVY,
    )
    for column in ("", "ours s", "DuckDB s", "ratio", "goal"):
        rendered.add_column(column, justify="left" if not column else "right")
    first, day = result.first, result.incremental
    glue_steps = [job.name for job in PIPELINE.glue_jobs]
    for step in STEPS:
        ours = first.steps.get(step)
        duck = result.duckdb.get(step) if step in glue_steps else None
        rendered.add_row(step, _cell(ours), _cell(duck), _ratio(ours, duck), "")
    all_steps = sum(first.steps.get(step, 0.0) for step in STEPS) if first.steps else None
    duck_all = sum(result.duckdb.values()) or None
    rows: list[tuple[str, float | None, float | None]] = [
        ("all steps", all_steps, duck_all),
        ("ecomdw run --input (command)", first.command.seconds, None),
        ("generate the default sample", result.generate_seconds, None),
        ("ecomdw run (command)", first.command.seconds + result.generate_seconds, None),
    ]
    day_steps = sum(day.steps.get(step, 0.0) for step in STEPS) if day.steps else None
    rows += [
        (
            "incremental day: all steps (DuckDB: 91 days)",
            day_steps,
            sum(result.duckdb_day.values()) or None,
        ),
        ("incremental day (command)", day.command.seconds, None),
    ]
    for name, ours, duck in rows:
        rendered.add_row(name, _cell(ours), _cell(duck), _ratio(ours, duck), _goal(name, ours))
    failures = [
        f"{name}: {run.command.error}"
        for name, run in (("first run", first), ("incremental run", day))
        if run.command.returncode
    ]
    rendered.caption = (
        f"Per step: pipeline_run of the first run. CPU s of the commands: "
        f"{first.command.cpu_seconds:.0f} and {day.command.cpu_seconds:.0f}; peak RSS "
        f"{first.command.peak_mib:,.0f} MiB. Load average {result.load[0]:.1f} before, "
        f"{result.load[1]:.1f} after." + (f" Failed: {'; '.join(failures)}" if failures else "")
    )
    return rendered


def run() -> Table:
    return table(measure_loop())


if __name__ == "__main__":
    from rich.console import Console

    Console().print(run())
