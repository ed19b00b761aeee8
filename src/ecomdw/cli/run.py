"""`ecomdw run`: the pipeline, run on the embedded emulator as it runs on AWS.

Starts the embedded emulator (or uses the long-lived one), deploys the stacks into it, takes a
raw folder (generated, or a user's own exports with `--input`), checks it against the landing
contract (records read = accepted + quarantined), lands it in the raw bucket, and starts one
execution of the pipeline's state machine over every batch not loaded yet (`pending`): each
Glue job takes all of them in one run, the load MERGEs them into the warehouse one batch at a
time, and the state machine records the run (`pipeline_run`) as it goes; this command shows it.
The embedded emulator forgets its buckets when it stops, so the run keeps them in the home
folder between runs; the warehouse is the DuckDB file behind the emulated Data API.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from ecomdw.core.errors import UserError
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.settings import Settings, load_settings
from ecomdw.emulation.server import EmbeddedEmulator, running_state
from ecomdw.emulation.services.stepfunctions.executions import SECOND_SECONDS_VARIABLE
from ecomdw.etl.pipeline import PENDING_BATCHES
from ecomdw.infra.runs import (
    Deployment,
    Execution,
    StepProgress,
    buckets_folder,
    deploy_for_run,
    execute,
    keep_buckets,
    land,
    last_failed_run,
    new_run_id,
    pending_batches,
    quarantined_per_reason,
    refresh_analytics,
    restore_buckets,
    rules_passed,
    table_rows,
)
from ecomdw.warehouse.executors import RedshiftDataApiExecutor

out = Console()
# The load polls the Data API every 5 state-machine seconds; the local warehouse answers in ms.
LOCAL_SECOND_SECONDS = "0.01"


@contextmanager
def deployed(
    base: Settings, warehouse_file: Path, chosen: bool
) -> Iterator[tuple[Settings, Deployment]]:
    """The stacks deployed into the long-lived emulator, or into an embedded one for this run
    (with the buckets an earlier run kept put back once the stacks have created them)."""
    if (state := running_state(base)) is not None:
        if chosen:
            raise UserError(
                f"the long-lived emulator ({state.endpoint}) keeps its own warehouse: "
                "drop --warehouse or stop it with `ecomdw emulator down`"
            )
        settings = base.model_copy(update={"endpoint_url": state.endpoint})
        yield settings, deploy_for_run(settings, on_stack=stack_progress(settings))
        return
    os.environ.setdefault(SECOND_SECONDS_VARIABLE, LOCAL_SECOND_SECONDS)
    names = base.names
    files = {(names.redshift_cluster, names.redshift_database): warehouse_file.resolve()}
    with EmbeddedEmulator(home=base.home, redshift_files=files) as emulator:
        settings = base.model_copy(update={"endpoint_url": emulator.endpoint})
        deployment = deploy_for_run(settings, on_stack=stack_progress(settings))
        restore_buckets(settings)
        try:
            yield settings, deployment
        finally:
            keep_buckets(settings)


def stack_progress(settings: Settings) -> Callable[[str, str], None]:
    """Prints one line per stack as it deploys (the first run's minute goes here)."""
    out.print(f"deploying the {settings.env.value} stacks into the emulator", highlight=False)

    def show(name: str, outcome: str) -> None:
        out.print(f"  {name}: {outcome}", highlight=False)

    return show


def steps_table(execution: Execution) -> Table:
    table = Table(title="pipeline")
    for name in ("step", "status", "seconds"):
        table.add_column(name, justify="right" if name == "seconds" else "left")
    colours = {"running": "yellow", "succeeded": "green", "failed": "red", "skipped": "dim"}
    for step in execution.steps.values():
        seconds = step.seconds
        colour = colours.get(step.status, "white")
        table.add_row(
            step.name,
            f"[{colour}]{step.status}[/]",
            "" if seconds is None else f"{seconds:.1f}",
        )
    return table


def summary_tables(warehouse: RedshiftDataApiExecutor, run_id: str | None) -> list[Table]:
    """Rows per warehouse table, quarantined per reason, and the run's data-quality score."""
    rows = Table(title="rows per warehouse table")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for name, count in table_rows(warehouse):
        rows.add_row(name, f"{count:,}")
    reasons = Table(title="quarantined per reason")
    for name in ("entity", "reason", "records"):
        reasons.add_column(name, justify="right" if name == "records" else "left")
    for entity, reason, count in quarantined_per_reason(warehouse):
        reasons.add_row(entity, reason, f"{count:,}")
    quality = Table(title="data quality of this run")
    quality.add_column("rules checked", justify="right")
    quality.add_column("passed", justify="right")
    quality.add_column("score", justify="right")
    checked, passed = rules_passed(warehouse, run_id) if run_id else (0, 0)
    score = f"{100 * passed / checked:.1f}%" if checked else "n/a (no results)"
    quality.add_row(str(checked), str(passed), score)
    return [rows, reasons, quality]


def _stamp(moment: dt.datetime) -> str:
    utc = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _step_line(step: StepProgress, status: str, fallback: dt.datetime) -> str:
    if status == "running":
        return f"{_stamp(step.started or fallback)} {step.name} running"
    line = f"{_stamp(step.finished or fallback)} {step.name} {status}"
    seconds = step.seconds if step.started is not None and step.finished is not None else None
    return line if seconds is None else f"{line} {seconds:.1f} s"


def progress_lines(before: Mapping[str, str], execution: Execution) -> list[str]:
    """Plain timestamped lines for the steps whose status changed since `before` (step name to
    status), for output that is not a terminal (CI logs, `tee`): a step that started and ended
    between two polls gets both lines."""
    lines = []
    fallback = execution.finished or execution.started
    for step in execution.steps.values():
        was = before.get(step.name, "waiting")
        if step.status in {was, "waiting"}:
            continue
        if step.status in {"succeeded", "failed"} and was == "waiting" and step.started:
            lines.append(_step_line(step, "running", fallback))
        lines.append(_step_line(step, step.status, fallback))
    return lines


def statuses(execution: Execution) -> dict[str, str]:
    return {name: step.status for name, step in execution.steps.items()}


def finished_line(execution: Execution) -> str:
    finished = execution.finished or execution.started
    seconds = (finished - execution.started).total_seconds()
    return f"{_stamp(finished)} pipeline {execution.status.lower()} {seconds:.1f} s"


def follow(
    settings: Settings, deployment: Deployment, run_id: str, batch_dates: str, resume_from: str
) -> Execution:
    """One execution, shown live step by step on a terminal, and as a line per change
    otherwise (the state machine records it)."""
    if out.is_terminal:
        with Live(console=out, refresh_per_second=4, transient=False) as live:
            return execute(
                settings,
                deployment,
                run_id,
                batch_dates,
                resume_from=resume_from,
                on_progress=lambda progress: live.update(steps_table(progress)),
            )
    seen: dict[str, str] = {}

    def show(progress: Execution) -> None:
        for line in progress_lines(seen, progress):
            out.print(line, highlight=False, soft_wrap=True)
        seen.update(statuses(progress))

    execution = execute(
        settings, deployment, run_id, batch_dates, resume_from=resume_from, on_progress=show
    )
    out.print(finished_line(execution), highlight=False)
    out.print(steps_table(execution))
    return execution


EXAMPLE = "Example: ecomdw run --days 30 --orders 2000 (or: ecomdw run --input my-exports/)"


def run(
    *,
    input_dir: Path | None = typer.Option(
        None, "--input", help="Raw exports in the contract's shape [default: generate a sample]."
    ),
    warehouse: Path | None = typer.Option(None, help="DuckDB warehouse file [default: settings]."),
    resume: bool = typer.Option(
        False, "--resume", help="Rerun the last failed run from its failed step."
    ),
    seed: int = typer.Option(7, help="Seed of the generated sample."),
    customers: int = typer.Option(1_000, min=1),
    products: int = typer.Option(500, min=1),
    orders: int = typer.Option(5_000, min=0),
    days: int = typer.Option(90, min=1),
    defect_rate: float = typer.Option(0.01, min=0.0, max=0.5, help="Bad records planted."),
) -> None:
    """Run the pipeline over every batch not loaded yet, and report what it did."""
    if input_dir is not None and not input_dir.is_dir():
        raise UserError(f"--input {input_dir} is not a folder")
    base = load_settings()
    warehouse_file = warehouse or base.warehouse_file
    warehouse_file.parent.mkdir(parents=True, exist_ok=True)
    with deployed(base, warehouse_file, chosen=warehouse is not None) as (settings, deployment):
        if resume:
            failed = last_failed_run(deployment.warehouse)
            if failed is None:
                raise UserError("the last run did not fail: nothing to resume")
            run_id, batch_dates, resume_from = failed.run_id, failed.batch_dates, failed.failed_step
            what = f"batches {batch_dates}, resuming at {resume_from}"
        else:
            if input_dir is None:
                input_dir = settings.home / "sample"
                config = GeneratorConfig(
                    seed=seed,
                    customers=customers,
                    products=products,
                    orders=orders,
                    days=days,
                    defect_rate=defect_rate,
                )
                generate(config, input_dir, overwrite=True)
            land(input_dir, settings, deployment.raw_uri)
            run_id, batch_dates, resume_from = new_run_id(), PENDING_BATCHES, ""
            pending = pending_batches(settings, deployment)
            what = f"{len(pending)} batch(es) {pending[0]} .. {pending[-1]}" if pending else ""
        if not what:
            out.print("nothing to do: every batch in the raw bucket is loaded")
            execution = None
        else:
            out.print(f"run {run_id}: {what}", highlight=False)
            execution = follow(settings, deployment, run_id, batch_dates, resume_from)
            if execution.status == "SUCCEEDED":
                out.print(refresh_analytics(deployment.warehouse, run_id), highlight=False)
        for table in summary_tables(deployment.warehouse, run_id if execution else None):
            out.print(table)
    out.print(
        f"warehouse: {warehouse_file.resolve()}\n"
        f"buckets (processed batches, quarantine, job markers): {buckets_folder(base)}\n"
        f'try: ecomdw query --warehouse {warehouse_file} "select * from sales_trends limit 5"',
        highlight=False,
    )
    if execution is not None and execution.status != "SUCCEEDED":
        raise UserError(
            f"run {run_id} failed at {execution.failed_step}: {execution.error} "
            "(`ecomdw run --resume` reruns from there)"
        )
