"""Running the deployed pipeline: deploy it into the emulator, land a raw folder, start one
execution of its state machine and follow it, and read back what the run recorded.

The pipeline's own steps keep the records (`pipeline_run`, the batch lineage, the load's batch
markers: see `ecomdw.etl.pipeline`), so this module only starts executions and reads; a run
started through the AWS API alone leaves the same records. The CLI (`ecomdw run`) shows what
these functions return.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyarrow import fs

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.contract import BATCH_PARTITION, ContractReport, read_raw_tree
from ecomdw.core.errors import UserError
from ecomdw.core.model import QUARANTINE, RAW_ENTITIES, WAREHOUSE_TABLES
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location, upload_tree
from ecomdw.etl.pipeline import PENDING_BATCHES, PIPELINE, RUN_STEP, Pipeline
from ecomdw.infra import catalog, orchestration, storage, warehouse
from ecomdw.infra.artifact import build
from ecomdw.infra.deploy import apply_stack, stack_outputs
from ecomdw.infra.pipeline import PipelineInput
from ecomdw.infra.release import upload_scripts
from ecomdw.infra.synth import stacks
from ecomdw.warehouse.executors import RedshiftDataApiExecutor
from ecomdw.warehouse.load import create_warehouse_sql
from ecomdw.warehouse.predictive_clv import (
    HORIZON_WEEKS,
    create_predicted_clv_sql,
    refresh_predicted_clv,
)
from ecomdw.warehouse.views import create_views

KEPT_BUCKETS = ("raw", "processed")


def new_run_id() -> str:
    return f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def deploy_to_emulator(
    settings: Settings, on_stack: Callable[[str, str], None] = lambda _name, _outcome: None
) -> dict[str, dict[str, str]]:
    """Every stack of `settings.env` into the emulator at `settings.endpoint_url`, the
    artifact's scripts uploaded before the jobs that run them: concern -> the stack's outputs."""

    def clients(service: str, region: str) -> Any:
        return client(service, settings.model_copy(update={"region": region}))

    artifact = build(PipelineInput().scripts)
    outputs = {}
    for stack in stacks(settings.env, settings, artifact=artifact):
        if stack.concern == catalog.CONCERN:
            upload_scripts(clients, settings, artifact)
        on_stack(stack.name, apply_stack(clients, stack))
        outputs[stack.concern] = stack_outputs(clients, stack)
    return outputs


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
        for statement in [*create_warehouse_sql(), *create_predicted_clv_sql()]:
            executor.run(statement)
    create_views(executor)
    return Deployment(
        state_machine_arn=outputs[orchestration.CONCERN]["StateMachineArn"],
        raw_uri=f"s3://{buckets['RawBucketName']}",
        processed_uri=f"s3://{buckets['ProcessedBucketName']}",
        warehouse=executor,
    )


def check_balance(report: ContractReport) -> None:
    """records read = accepted + quarantined for every entity and batch, or the run stops."""
    for (batch_date, entity), counts in report.counts.items():
        if counts.read != counts.loaded + counts.quarantined:
            raise UserError(
                f"{entity} batch {batch_date}: read {counts.read} != accepted {counts.loaded} "
                f"+ quarantined {counts.quarantined}"
            )


def land(input_dir: Path, settings: Settings, raw_uri: str) -> ContractReport:
    """The landing contract's check of the raw folder, then the folder in the raw bucket."""
    report = read_raw_tree(input_dir)
    if not report.counts:
        raise UserError(f"no batches under {input_dir}: expected <entity>/ingest_date=.../")
    check_balance(report)
    upload_tree(input_dir, S3Location.parse(raw_uri), settings)
    return report


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


def pending_batches(settings: Settings, deployment: Deployment) -> list[dt.date]:
    """The raw bucket's batches the warehouse has not loaded: what a run with `pending` batch
    dates will take (its stage job plans exactly these)."""
    raw = raw_batches(settings, deployment.raw_uri)
    return sorted(raw - loaded_batches(deployment.warehouse))


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    batch_dates: str
    failed_step: str


def last_failed_run(warehouse: RedshiftDataApiExecutor) -> FailedRun | None:
    """The last execution, if it failed: what `--resume` takes up again, from the `pipeline`
    row the state machine wrote."""
    result = warehouse.run(
        f"SELECT run_id, status, detail FROM pipeline_run WHERE step = '{RUN_STEP}' "
        "ORDER BY finished_at DESC, started_at DESC LIMIT 1"
    )
    if result is None or not result.rows or result.rows[0][1] != "FAILED":
        return None
    run_id, _, detail = result.rows[0]
    failure = json.loads(detail)
    return FailedRun(run_id, str(failure["batch_dates"]), str(failure["step"]))


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
    batch_dates: str = PENDING_BATCHES,
    *,
    resume_from: str = "",
    pipeline: Pipeline = PIPELINE,
    on_progress: Callable[[Execution], None] = lambda _: None,
    poll_seconds: float = 0.5,
) -> Execution:
    """Start one execution (over `batch_dates`: comma-separated dates, or every pending batch)
    and follow it to its end; the state machine records it."""
    states = client("stepfunctions", settings)
    names = pipeline.step_names()
    first = names.index(resume_from) if resume_from else 0
    started = states.start_execution(
        stateMachineArn=deployment.state_machine_arn,
        input=json.dumps(
            {
                "run_id": run_id,
                "batch_dates": batch_dates,
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


def refresh_analytics(warehouse: RedshiftDataApiExecutor, run_id: str) -> str:
    """What a run refreshes once it has loaded: the predicted CLV (fitted in Python, so not a
    step of the state machine: Glue 5.0 has no scipy). A fit that cannot be made keeps the
    predictions there were; either way one line says what happened."""
    try:
        customers = refresh_predicted_clv(warehouse, run_id)
    except (ValueError, RuntimeError) as error:
        return f"predicted CLV kept as it was: {error}"
    return f"predicted CLV ({HORIZON_WEEKS} weeks, BG/NBD + Gamma-Gamma): {customers:,} customers"


def endpoint_health(settings: Settings) -> list[tuple[str, str, str]]:
    """(what, ok|warn|fail, detail) of the AWS endpoint at `settings` (or the emulator's): that
    it answers, and the state of each of the environment's alarms."""
    try:
        alarms = client("cloudwatch", settings).describe_alarms(
            AlarmNamePrefix=f"{settings.names.prefix}-"
        )["MetricAlarms"]
    except Exception as error:  # any failure to reach it is what this reports
        return [("AWS endpoint", "fail", f"{settings.endpoint_url or 'AWS'}: {error}")]
    found = [("AWS endpoint", "ok", f"{settings.endpoint_url or 'AWS'} answers")]
    if not alarms:
        found.append(("alarms", "warn", "none deployed: `ecomdw infra deploy`"))
    for alarm in sorted(alarms, key=lambda a: str(a["AlarmName"])):
        state = str(alarm["StateValue"])
        status = {"OK": "ok", "ALARM": "fail"}.get(state, "info")
        found.append((f"alarm {alarm['AlarmName']}", status, state.replace("_", " ").lower()))
    return found


def buckets_folder(settings: Settings) -> Path:
    return settings.home / "buckets"


def restore_buckets(settings: Settings) -> None:
    """Put the buckets an earlier run kept back into the (empty) embedded emulator."""
    for purpose in KEPT_BUCKETS:
        kept = buckets_folder(settings) / purpose
        if kept.is_dir() and any(kept.iterdir()):
            upload_tree(kept, S3Location(settings.names.bucket(purpose), ""), settings)


def keep_buckets(settings: Settings) -> None:
    """Copy the buckets to the home folder, replacing what an earlier run kept."""
    s3 = s3_filesystem(settings)
    for purpose in KEPT_BUCKETS:
        kept = buckets_folder(settings) / purpose
        fresh = kept.with_name(f"{purpose}.new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        fs.copy_files(
            settings.names.bucket(purpose),
            str(fresh),
            source_filesystem=s3,
            destination_filesystem=fs.LocalFileSystem(),
        )
        shutil.rmtree(kept, ignore_errors=True)
        fresh.rename(kept)


def rows_of(warehouse: RedshiftDataApiExecutor, sql: str) -> list[tuple[Any, ...]]:
    result = warehouse.run(sql)
    return result.rows if result is not None else []


def table_rows(warehouse: RedshiftDataApiExecutor) -> list[tuple[str, int]]:
    """(warehouse table, its rows), in the model's order."""
    counted = " UNION ALL ".join(
        f"SELECT '{t.name}', COUNT(*) FROM {t.name}" for t in WAREHOUSE_TABLES
    )
    counts = {str(name): int(count) for name, count in rows_of(warehouse, counted)}
    return [(t.name, counts[t.name]) for t in WAREHOUSE_TABLES]


def quarantined_per_reason(warehouse: RedshiftDataApiExecutor) -> list[tuple[str, str, int]]:
    sql = f"SELECT entity, reason, COUNT(*) FROM {QUARANTINE.name} GROUP BY 1, 2 ORDER BY 1, 2"
    return [(str(e), str(r), int(n)) for e, r, n in rows_of(warehouse, sql)]


def rules_passed(warehouse: RedshiftDataApiExecutor, run_id: str) -> tuple[int, int]:
    """(rules checked, rules passed) by the run's quality gates."""
    scored = rows_of(
        warehouse,
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN passed THEN 1 ELSE 0 END), 0) FROM dq_result "
        f"WHERE run_id = '{run_id.replace(chr(39), chr(39) * 2)}'",
    )
    checked, passed = scored[0] if scored else (0, 0)
    return int(checked), int(passed)
