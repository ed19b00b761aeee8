"""The pipeline on the emulator: what a run needs deployed, its pending batches, its execution.

`deploy_for_run` deploys the environment's stacks, as they deploy to AWS. The run ledger is the
warehouse itself: a batch is loaded once `batch_lineage` holds it, and every run leaves
`pipeline_run` rows (one per step, and one `pipeline` row whose detail keeps the batch dates
and the failed step, which is what `--resume` reads).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ecomdw.cli.infra import deploy_to_emulator
from ecomdw.core.aws import client
from ecomdw.core.contract import BATCH_PARTITION
from ecomdw.core.model import RAW_ENTITIES
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location
from ecomdw.etl.pipeline import PIPELINE, Pipeline
from ecomdw.infra import orchestration, storage, warehouse
from ecomdw.warehouse.executors import RedshiftDataApiExecutor
from ecomdw.warehouse.load import create_warehouse_sql
from ecomdw.warehouse.views import create_views

RUN_STEP = "pipeline"  # the pipeline_run row of the run as a whole


@dataclass(frozen=True)
class Deployment:
    state_machine_arn: str
    raw_uri: str
    processed_uri: str
    warehouse: RedshiftDataApiExecutor


def deploy_for_run(
    settings: Settings, on_stack: Callable[[str, str], None] = lambda _name, _outcome: None
) -> Deployment:
    """Every stack of the environment, deployed into the emulator as `ecomdw infra deploy
    --env local` deploys it, then the warehouse's tables and views. Buckets, cluster and state
    machine are the stacks' outputs: the run uses what the stacks deployed, nothing else."""
    outputs = deploy_to_emulator(settings, on_stack)
    buckets = outputs[storage.CONCERN]
    executor = RedshiftDataApiExecutor(
        settings,
        cluster_identifier=outputs[warehouse.CONCERN]["ClusterIdentifier"],
        database=settings.names.redshift_database,
    )
    with executor.transaction():
        for statement in create_warehouse_sql():
            executor.run(statement)
    create_views(executor)
    return Deployment(
        state_machine_arn=outputs[orchestration.CONCERN]["StateMachineArn"],
        raw_uri=f"s3://{buckets['RawBucketName']}",
        processed_uri=f"s3://{buckets['ProcessedBucketName']}",
        warehouse=executor,
    )


def raw_batches(settings: Settings, raw_uri: str) -> set[dt.date]:
    """Batch dates with a folder of any raw entity in the raw bucket."""
    s3, raw = client("s3", settings), S3Location.parse(raw_uri)
    pattern = re.compile(rf"{BATCH_PARTITION}=(\d{{4}}-\d{{2}}-\d{{2}})/$")
    found: set[dt.date] = set()
    for entity in RAW_ENTITIES:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=raw.bucket, Prefix=raw.key(f"{entity.name}/"), Delimiter="/"
        )
        for page in pages:
            for prefix in page.get("CommonPrefixes", []):
                if match := pattern.search(prefix["Prefix"]):
                    found.add(dt.date.fromisoformat(match.group(1)))
    return found


def loaded_batches(warehouse: RedshiftDataApiExecutor) -> set[dt.date]:
    result = warehouse.run("SELECT DISTINCT batch_date FROM batch_lineage")
    return {row[0] for row in result.rows} if result is not None else set()


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    batch_dates: list[dt.date]
    failed_step: str


def last_failed_run(warehouse: RedshiftDataApiExecutor) -> FailedRun | None:
    """The last run, if it failed: what `--resume` takes up again."""
    result = warehouse.run(
        f"SELECT run_id, status, detail FROM pipeline_run WHERE step = '{RUN_STEP}' "
        "ORDER BY started_at DESC LIMIT 1"
    )
    if result is None or not result.rows or result.rows[0][1] != "FAILED":
        return None
    run_id, _, detail = result.rows[0]
    kept = json.loads(detail)
    dates = [dt.date.fromisoformat(d) for d in kept["batch_dates"]]
    return FailedRun(run_id, dates, kept["failed_step"])


@dataclass
class StepProgress:
    name: str
    status: str = "waiting"  # waiting, running, succeeded, failed, skipped
    started: dt.datetime | None = None
    finished: dt.datetime | None = None

    @property
    def seconds(self) -> float | None:
        if self.started is None:
            return None
        end = self.finished or dt.datetime.now(self.started.tzinfo)
        return (end - self.started).total_seconds()


@dataclass
class Execution:
    arn: str
    steps: dict[str, StepProgress]
    status: str = "RUNNING"
    failed_step: str | None = None
    error: str | None = None
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished: dt.datetime | None = None


def _follow_history(execution: Execution, events: Iterable[dict[str, Any]]) -> None:
    """Each step's state and times from the execution's history events."""
    for event in events:
        kind = str(event["type"])
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            if name in execution.steps:
                step = execution.steps[name]
                step.status, step.started, step.finished = "running", event["timestamp"], None
            elif name.endswith("_failed") and name.removesuffix("_failed") in execution.steps:
                step = execution.steps[name.removesuffix("_failed")]
                step.status, step.finished = "failed", event["timestamp"]
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in execution.steps and execution.steps[name].status == "running":
                step = execution.steps[name]
                step.status, step.finished = "succeeded", event["timestamp"]


def _new_events(states: Any, arn: str, after_id: int) -> list[dict[str, Any]]:
    """The execution's events after event `after_id`, oldest first, without their data.

    Read newest first, page by page, until the events already seen: a poll costs what
    happened since the last one, not the whole history (thousands of events over a long load).
    Progress needs names and times only, not the states' inputs and outputs."""
    newest_first: list[dict[str, Any]] = []
    pages = states.get_paginator("get_execution_history").paginate(
        executionArn=arn,
        reverseOrder=True,
        includeExecutionData=False,
        PaginationConfig={"PageSize": 20},
    )
    for page in pages:
        fresh = [event for event in page["events"] if int(event["id"]) > after_id]
        newest_first += fresh
        if len(fresh) < len(page["events"]):
            break
    return newest_first[::-1]


def failure_message(cause: str) -> tuple[str | None, str]:
    """(failed step, its error in one line) from the cause of `pipeline_failed`."""
    try:
        failure = json.loads(cause)
    except ValueError:
        return None, cause
    error = failure.get("error") or {}
    detail = str(error.get("Cause") or error.get("Error") or cause)
    try:
        job_run = json.loads(detail)
        detail = str(job_run.get("ErrorMessage") or detail) if isinstance(job_run, dict) else detail
    except ValueError:
        pass
    return failure.get("step"), " ".join(detail.split())


def execute(
    settings: Settings,
    deployment: Deployment,
    run_id: str,
    batch_dates: list[dt.date],
    *,
    resume_from: str = "",
    pipeline: Pipeline = PIPELINE,
    on_progress: Callable[[Execution], None] = lambda _: None,
    poll_seconds: float = 0.5,
) -> Execution:
    """Start one execution over all the batch dates and follow it to its end."""
    states = client("stepfunctions", settings)
    names = pipeline.step_names()
    first = names.index(resume_from) if resume_from else 0
    started = states.start_execution(
        stateMachineArn=deployment.state_machine_arn,
        input=json.dumps(
            {
                "run_id": run_id,
                "batch_dates": ",".join(d.isoformat() for d in batch_dates),
                "resume_from": resume_from,
            }
        ),
    )
    execution = Execution(
        started["executionArn"],
        {
            name: StepProgress(name, "skipped" if i < first else "waiting")
            for i, name in enumerate(names)
        },
    )
    seen = 0
    while True:
        described = states.describe_execution(executionArn=execution.arn)
        events = _new_events(states, execution.arn, seen)
        seen = int(events[-1]["id"]) if events else seen
        _follow_history(execution, events)
        on_progress(execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(poll_seconds)
    execution.status = described["status"]
    execution.finished = described.get("stopDate") or dt.datetime.now(dt.UTC)
    if execution.status != "SUCCEEDED":
        step, error = failure_message(str(described.get("cause") or described["status"]))
        execution.failed_step = step or next(
            (s.name for s in execution.steps.values() if s.status in {"running", "failed"}), None
        )
        execution.error = error
        if execution.failed_step in execution.steps:
            execution.steps[execution.failed_step].status = "failed"
    on_progress(execution)
    return execution


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return f"'{value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=' ')}'"
    return "'" + str(value).replace("'", "''") + "'"


def record_run(
    warehouse: RedshiftDataApiExecutor,
    run_id: str,
    execution: Execution,
    batch_dates: list[dt.date],
) -> None:
    """The run's pipeline_run rows, replacing those of the steps this execution ran."""
    ran = [s for s in execution.steps.values() if s.status != "skipped"]
    detail = {
        "batch_dates": [d.isoformat() for d in batch_dates],
        "failed_step": execution.failed_step,
        "error": execution.error,
        "execution": execution.arn,
    }
    rows = [
        (RUN_STEP, execution.status, execution.started, execution.finished, json.dumps(detail)),
        *(
            (s.name, s.status.upper(), s.started or execution.started, s.finished, None)
            for s in ran
        ),
    ]
    replaced = ", ".join(_literal(row[0]) for row in rows)
    with warehouse.transaction():
        warehouse.run(
            f"DELETE FROM pipeline_run WHERE run_id = {_literal(run_id)} AND step IN ({replaced})"
        )
        for step, status, started, finished, text in rows:
            warehouse.run(
                "INSERT INTO pipeline_run (run_id, step, status, started_at, finished_at, detail) "
                f"VALUES ({_literal(run_id)}, {_literal(step)}, {_literal(status)}, "
                f"{_literal(started)}, {_literal(finished)}, {_literal(text and text[:4096])})"
            )
