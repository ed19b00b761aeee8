"""The pipeline, declared once: stages, data-quality gates, warehouse load and catalog crawl.

Everything that runs the pipeline is rendered from `PIPELINE`: the Step Functions state machine
(production's orchestrator, and the one the emulator runs locally), the Glue Workflow with its
triggers, and the schedules. A run can resume from the step that failed: the state machine
starts with a choice on `$.resume_from`.

The state machine keeps the run's records itself, so a run started through the AWS API alone
leaves what `ecomdw run` leaves: as each step ends it appends the step's `pipeline_run` row
(status, start and end, rows in and out, quarantined, data-quality score, from the summary the
job wrote to `run_step_key`), and as the execution ends one `pipeline` row whose detail keeps
what a resume needs (the batch dates, the failed step and its error).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ecomdw.core.model import PIPELINE_RUN
from ecomdw.core.names import ResourceNames
from ecomdw.core.processed import job_marker_key, run_plan_key, run_step_key

GLUE_SYNC = "arn:aws:states:::glue:startJobRun.sync"
GLUE_START_CRAWLER = "arn:aws:states:::aws-sdk:glue:startCrawler"
REDSHIFT_BATCH = "arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement"
REDSHIFT_EXECUTE = "arn:aws:states:::aws-sdk:redshiftdata:executeStatement"
REDSHIFT_DESCRIBE = "arn:aws:states:::aws-sdk:redshiftdata:describeStatement"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
S3_PUT_OBJECT = "arn:aws:states:::aws-sdk:s3:putObject"
DATE = "$.batch_date"  # in the load's Map: the batch being loaded
BATCH_DATE = "{batch_date}"  # placeholder in load statements, one batch at a time
PENDING_BATCHES = "pending"
RUN_STEP = "pipeline"
"""The `pipeline_run` row of an execution as a whole (its detail: batch dates, failure)."""
NONE = "null"
"""A Data API parameter's text for no value: `States.Format` spells JSON null so."""
RECORD_WAIT_SECONDS = 1
BATCH_WAIT_SECONDS = 5
"""A job's `--batch_dates` when no run names them (the Glue workflow): every pending batch."""
RETRYABLE_GLUE_ERRORS = (
    "Glue.ConcurrentRunsExceededException",
    "Glue.InternalServiceException",
    "Glue.ThrottlingException",
)


@dataclass(frozen=True)
class GlueJob:
    """A Glue job: `script` under the package's jobs, `arguments` beyond the run's own."""

    name: str
    script: str
    arguments: tuple[tuple[str, str], ...] = ()
    blocking: bool = True  # a quality gate: its failure stops the run before the warehouse


@dataclass(frozen=True)
class WarehouseLoad:
    """MERGE every pending batch into the warehouse, one Redshift transaction per batch."""

    name: str = "load_warehouse"


@dataclass(frozen=True)
class Crawl:
    """Refresh the Glue Data Catalog over the processed bucket."""

    name: str = "crawl_processed"


Step = GlueJob | WarehouseLoad | Crawl


@dataclass(frozen=True)
class Schedule:
    hour_utc: int
    minute: int = 0

    @property
    def cron(self) -> str:
        return f"cron({self.minute} {self.hour_utc} * * ? *)"


@dataclass(frozen=True)
class Pipeline:
    steps: tuple[Step, ...]
    workflow_schedule: Schedule
    state_machine_schedule: Schedule

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names repeat: {names}")

    @property
    def glue_jobs(self) -> tuple[GlueJob, ...]:
        return tuple(step for step in self.steps if isinstance(step, GlueJob))

    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)


PIPELINE = Pipeline(
    steps=(
        GlueJob("stage", "jobs/stage.py"),
        GlueJob("quality_staged", "jobs/quality.py", (("--scope", "staged"),)),
        GlueJob("dimensions", "jobs/dimensions.py"),
        GlueJob("facts", "jobs/facts.py"),
        GlueJob("quality_warehouse", "jobs/quality.py", (("--scope", "warehouse"),)),
        WarehouseLoad(),
        Crawl(),
    ),
    workflow_schedule=Schedule(hour_utc=2),
    state_machine_schedule=Schedule(hour_utc=3),
)


def load_handover(pipeline: Pipeline) -> tuple[str, str]:
    """(the step whose finished batches are ready to load, the load step): a batch the first
    finished and the second did not is still to be loaded."""
    load = next(i for i, step in enumerate(pipeline.steps) if isinstance(step, WarehouseLoad))
    ready = next(s for s in reversed(pipeline.steps[:load]) if isinstance(s, GlueJob))
    return ready.name, pipeline.steps[load].name


def entry_state(step: Step) -> str:
    """The state a step starts at (and a resume at it): it notes when the step started."""
    return f"{step.name}_started"


def first_state(step: Step) -> str:
    """The step's first working state: the load first reads which batches to load."""
    return f"{step.name}_plan" if isinstance(step, WarehouseLoad) else step.name


@dataclass(frozen=True)
class RedshiftTarget:
    """Where the Data API runs the load: a provisioned cluster or a serverless workgroup."""

    database: str
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    secret_arn: str | None = None
    db_user: str | None = None

    def parameters(self) -> dict[str, str]:
        chosen = {
            "Database": self.database,
            "ClusterIdentifier": self.cluster_identifier,
            "WorkgroupName": self.workgroup_name,
            "SecretArn": self.secret_arn,
            "DbUser": self.db_user,
        }
        return {key: value for key, value in chosen.items() if value is not None}


def intrinsic_string(text: str) -> str:
    """`text` as a string literal inside an ASL intrinsic function (quotes and braces escaped)."""
    escaped = text.replace("\\", "\\\\")
    for char in "'{}":
        escaped = escaped.replace(char, "\\" + char)
    return f"'{escaped}'"


def _formatted(text: str, placeholder: str, path: str) -> str:
    """`States.Format` of `text` with the value at `path` wherever `placeholder` stands; text
    without it is a plain string literal (States.Format needs an argument)."""
    pieces = text.split(placeholder)
    if len(pieces) == 1:
        return intrinsic_string(text)
    template = "{}".join(intrinsic_string(p)[1:-1] for p in pieces)
    return f"States.Format('{template}'{f', {path}' * (len(pieces) - 1)})"


def _formatted_statement(statement: str) -> str:
    """One load statement with the batch date filled in where it stands."""
    one_line = " ".join(statement.split())  # an intrinsic string holds no line breaks
    return _formatted(one_line, BATCH_DATE, DATE)


def _started(step: Step) -> dict[str, Any]:
    """The state a step starts at: it notes the time, for the step's `pipeline_run` row."""
    return {
        "Type": "Pass",
        "Parameters": {"at.$": "$$.State.EnteredTime"},
        "ResultPath": f"$.started.{step.name}",
        "Next": first_state(step),
    }


def _glue_task(job: GlueJob, names: ResourceNames, next_state: str) -> dict[str, Any]:
    arguments: dict[str, str] = {"--run_id.$": "$.run_id", "--batch_dates.$": "$.batch_dates"}
    return {
        "Type": "Task",
        "Resource": GLUE_SYNC,
        "Parameters": {"JobName": names.glue_job(job.name), "Arguments": arguments},
        "ResultSelector": {"JobRunId.$": "$.Id", "JobRunState.$": "$.JobRunState"},
        "ResultPath": f"$.steps.{job.name}",
        "Retry": [
            {
                "ErrorEquals": list(RETRYABLE_GLUE_ERRORS),
                "IntervalSeconds": 30,
                "MaxAttempts": 3,
                "BackoffRate": 2.0,
            }
        ],
        "Catch": [_catch(job.name)],
        "Next": f"{job.name}_summary",
    }


def _summary_task(job: GlueJob, names: ResourceNames, next_state: str) -> dict[str, Any]:
    """Read what the job reported of its run (`run_step_key`), for its record."""
    placeholder = "\0"
    return {
        "Type": "Task",
        "Resource": S3_GET_OBJECT,
        "Parameters": {
            "Bucket": names.processed_bucket,
            "Key.$": _formatted(run_step_key(placeholder, job.name), placeholder, "$.run_id"),
        },
        "ResultSelector": {"report.$": "States.StringToJson($.Body)"},
        "ResultPath": f"$.summaries.{job.name}",
        "Catch": [_catch(job.name)],
        "Next": next_state,
    }


def _catch(step: str) -> dict[str, Any]:
    return {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": f"{step}_failed",
    }


def record_sql(step: str, status: str, rows_out: str | None = None) -> str:
    """The INSERT of one `pipeline_run` row. Values arrive as Data API parameters, which are
    text: `NONE` for no value, numbers in digits, times as Step Functions' ISO instants (UTC,
    `Z`)."""

    def given(name: str, sql_type: str) -> str:
        return f"CAST(NULLIF(:{name}, '{NONE}') AS {sql_type})"

    def instant(name: str) -> str:
        return f"CAST(REPLACE(REPLACE(:{name}, 'T', ' '), 'Z', '') AS TIMESTAMP)"

    values = [
        ":run_id",
        f"'{step}'",
        f"'{status}'",
        instant("started_at"),
        instant("finished_at"),
        given("rows_in", "BIGINT"),
        rows_out or given("rows_out", "BIGINT"),
        given("quarantined", "BIGINT"),
        given("dq_score", "DECIMAL(5,2)"),
        f"LEFT({given('detail', 'VARCHAR(65535)')}, 4096)",
    ]
    columns = ", ".join(PIPELINE_RUN.column_names)
    return f"INSERT INTO {PIPELINE_RUN.name} ({columns}) VALUES ({', '.join(values)})"


@dataclass(frozen=True)
class StatePath:
    """A parameter's value taken from the state: a JSONPath or an intrinsic function."""

    expression: str


def _record_call(
    target: RedshiftTarget,
    step: str,
    status: str,
    rows_out_sql: str | None,
    **values: str | StatePath,
) -> dict[str, Any]:
    """ExecuteStatement of `record_sql`, each parameter a text or a `StatePath`; those not given are
    `NONE`."""
    optional = ("rows_in", "rows_out", "quarantined", "dq_score", "detail")
    named: dict[str, str | StatePath] = dict.fromkeys(optional, NONE)
    named |= values
    parameters = [
        {"Name": name, "Value.$": value.expression}
        if isinstance(value, StatePath)
        else {"Name": name, "Value": value}
        for name, value in named.items()
        if not (name == "rows_out" and rows_out_sql)
    ]
    return {
        "Resource": REDSHIFT_EXECUTE,
        "Parameters": {
            **target.parameters(),
            "Sql": record_sql(step, status, rows_out_sql),
            "Parameters": parameters,
        },
    }


def _statement_states(
    name: str,
    call: dict[str, Any],
    next_state: str,
    failed_state: str,
    wait_seconds: int = RECORD_WAIT_SECONDS,
) -> dict[str, Any]:
    """One Data API call (`call`: its Resource and Parameters) followed to its end: submitted,
    then DescribeStatement every `wait_seconds` until FINISHED (-> `next_state`) or FAILED or
    ABORTED (-> `failed_state`)."""
    failed = {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.statement_error",
        "Next": failed_state,
    }
    return {
        name: {
            "Type": "Task",
            **call,
            "ResultSelector": {"Id.$": "$.Id"},
            "ResultPath": "$.statement",
            "Catch": [failed],
            "Next": f"{name}_wait",
        },
        f"{name}_wait": {"Type": "Wait", "Seconds": wait_seconds, "Next": f"{name}_check"},
        f"{name}_check": {
            "Type": "Task",
            "Resource": REDSHIFT_DESCRIBE,
            "Parameters": {"Id.$": "$.statement.Id"},
            "ResultSelector": {"Id.$": "$.Id", "Status.$": "$.Status"},
            "ResultPath": "$.statement",
            "Next": f"{name}_done",
        },
        f"{name}_done": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.statement.Status", "StringEquals": "FINISHED", "Next": next_state},
                {
                    "Or": [
                        {"Variable": "$.statement.Status", "StringEquals": "FAILED"},
                        {"Variable": "$.statement.Status", "StringEquals": "ABORTED"},
                    ],
                    "Next": f"{name}_error",
                },
            ],
            "Default": f"{name}_wait",
        },
        f"{name}_error": {
            "Type": "Task",
            "Resource": REDSHIFT_DESCRIBE,
            "Parameters": {"Id.$": "$.statement.Id"},
            "ResultSelector": {"Error.$": "$.Error", "Status.$": "$.Status"},
            "ResultPath": "$.statement_error",
            "Next": failed_state,
        },
    }


def _record_states(
    step: Step, target: RedshiftTarget, next_state: str, rows_out_sql: str | None = None
) -> dict[str, Any]:
    """The step's `pipeline_run` row, SUCCEEDED, once it has ended: a job's counts from the
    summary it wrote, the load's from what it planned and wrote."""
    values: dict[str, str | StatePath] = {
        "run_id": StatePath("$.run_id"),
        "started_at": StatePath(f"$.started.{step.name}.at"),
        "finished_at": StatePath("$$.State.EnteredTime"),
    }
    if isinstance(step, GlueJob):
        report = f"$.summaries.{step.name}.report"
        values |= {
            name: StatePath(f"States.Format('{{}}', {report}.{name})")
            for name in ("rows_in", "rows_out", "quarantined", "dq_score")
        }
        values["detail"] = StatePath(f"States.JsonToString({report}.detail)")
    elif isinstance(step, WarehouseLoad):
        values["rows_in"] = StatePath("States.Format('{}', States.ArrayLength($.plan.batch_dates))")
        values["detail"] = StatePath("States.JsonToString($.plan)")
    call = _record_call(target, step.name, "SUCCEEDED", rows_out_sql, **values)
    return _statement_states(f"{step.name}_record", call, next_state, "record_failed")


def _failure_states(step: str, target: RedshiftTarget) -> dict[str, Any]:
    """Note which step failed and why, record its FAILED row and then the run's, then fail."""
    call = _record_call(
        target,
        step,
        "FAILED",
        None,
        run_id=StatePath("$.run_id"),
        started_at=StatePath(f"$.started.{step}.at"),
        finished_at=StatePath("$$.State.EnteredTime"),
        detail=StatePath("States.JsonToString($.failure)"),
    )
    return {
        f"{step}_failed": {
            "Type": "Pass",
            "Parameters": {
                "step": step,
                "error.$": "$.error",
                "batch_dates.$": "$.batch_dates",
                "execution.$": "$$.Execution.Id",
            },
            "ResultPath": "$.failure",
            "Next": f"{step}_record_failed",
        },
        **_statement_states(
            f"{step}_record_failed", call, f"{RUN_STEP}_record_failed", f"{RUN_STEP}_failed"
        ),
    }


def _run_record_states(target: RedshiftTarget) -> dict[str, Any]:
    """The execution's own `pipeline_run` row: SUCCEEDED at the end, FAILED after a step's."""

    def call(status: str, detail: str) -> dict[str, Any]:
        return _record_call(
            target,
            RUN_STEP,
            status,
            None,
            run_id=StatePath("$.run_id"),
            started_at=StatePath("$$.Execution.StartTime"),
            finished_at=StatePath("$$.State.EnteredTime"),
            detail=StatePath(f"States.JsonToString({detail})"),
        )

    return {
        f"{RUN_STEP}_done": {
            "Type": "Pass",
            "Parameters": {
                "batch_dates.$": "$.batch_dates",
                "resume_from.$": "$.resume_from",
                "execution.$": "$$.Execution.Id",
            },
            "ResultPath": "$.outcome",
            "Next": f"{RUN_STEP}_record",
        },
        **_statement_states(
            f"{RUN_STEP}_record",
            call("SUCCEEDED", "$.outcome"),
            f"{RUN_STEP}_succeeded",
            "record_failed",
        ),
        **_statement_states(
            f"{RUN_STEP}_record_failed",
            call("FAILED", "$.failure"),
            f"{RUN_STEP}_failed",
            f"{RUN_STEP}_failed",
        ),
        "record_failed": {
            "Type": "Fail",
            "Error": "Pipeline.RecordFailed",
            "CausePath": "States.JsonToString($.statement_error)",
        },
    }


def _load_states(
    step: WarehouseLoad,
    names: ResourceNames,
    target: RedshiftTarget,
    statements: Sequence[str],
    next_state: str,
) -> dict[str, Any]:
    """The run's batch dates as its stage job planned them (a scheduled run passes `pending`),
    then a Map over them, in order: one BatchExecuteStatement (one transaction) each, and a
    marker per loaded batch (what a later `pending` plan leaves out)."""
    sqls = f"States.Array({', '.join(_formatted_statement(s) for s in statements)})"
    merge = {"Resource": REDSHIFT_BATCH, "Parameters": {**target.parameters(), "Sqls.$": sqls}}
    iterate = {
        "StartAt": "merge_batch",
        "States": {
            **_statement_states(
                "merge_batch", merge, "mark_loaded", "merge_failed", BATCH_WAIT_SECONDS
            ),
            "merge_failed": {
                "Type": "Fail",
                "Error": "Warehouse.LoadFailed",
                "CausePath": "States.JsonToString($.statement_error)",
            },
            "mark_loaded": {
                "Type": "Task",
                "Resource": S3_PUT_OBJECT,
                "Parameters": {
                    "Bucket": names.processed_bucket,
                    "Key.$": _formatted(job_marker_key(step.name, BATCH_DATE), BATCH_DATE, DATE),
                    "Body.$": _formatted(f'{{"batch_date": "{BATCH_DATE}"}}', BATCH_DATE, DATE),
                },
                "ResultPath": None,
                "Next": "merged",
            },
            "merged": {"Type": "Succeed"},
        },
    }
    run_placeholder = "\0"
    return {
        first_state(step): {
            "Type": "Task",
            "Resource": S3_GET_OBJECT,
            "Parameters": {
                "Bucket": names.processed_bucket,
                "Key.$": _formatted(run_plan_key(run_placeholder), run_placeholder, "$.run_id"),
            },
            "ResultSelector": {"batch_dates.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.plan",
            "Catch": [_catch(step.name)],
            "Next": step.name,
        },
        step.name: {
            "Type": "Map",
            "ItemsPath": "$.plan.batch_dates",
            "ItemSelector": {"batch_date.$": "$$.Map.Item.Value"},
            "MaxConcurrency": 1,
            "ItemProcessor": iterate,
            "ResultPath": None,
            "Catch": [_catch(step.name)],
            "Next": next_state,
        },
    }


def state_machine(
    pipeline: Pipeline,
    names: ResourceNames,
    target: RedshiftTarget,
    load_statements: Sequence[str],
    loaded_rows_sql: str,
) -> dict[str, Any]:
    """The Step Functions definition (ASL) of `pipeline`.

    Input: `{"run_id": ..., "batch_dates": "2026-01-01,2026-01-02" or "pending", "resume_from":
    step name or ""}`. `load_statements` are the warehouse's MERGE statements for one batch, with
    `{batch_date}` where the date goes; `loaded_rows_sql` is an SQL expression of the rows the
    run's load wrote, `:run_id` standing for the run (the load's `rows_out`).
    """
    step_names = pipeline.step_names()
    entries = [entry_state(step) for step in pipeline.steps]
    states: dict[str, Any] = {
        "resume_from": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.resume_from", "StringEquals": name, "Next": entry}
                for name, entry in zip(step_names[1:], entries[1:], strict=True)
            ],
            "Default": entries[0],
        },
        f"{RUN_STEP}_failed": {
            "Type": "Fail",
            "Error": "Pipeline.StepFailed",
            "CausePath": "States.JsonToString($.failure)",
        },
        f"{RUN_STEP}_succeeded": {"Type": "Succeed"},
        **_run_record_states(target),
    }
    for position, step in enumerate(pipeline.steps):
        following = entries[position + 1] if position + 1 < len(entries) else None
        next_state = following or f"{RUN_STEP}_done"
        recorded = f"{step.name}_record"
        states[entry_state(step)] = _started(step)
        states |= _failure_states(step.name, target)
        if isinstance(step, GlueJob):
            states[step.name] = _glue_task(step, names, recorded)
            states[f"{step.name}_summary"] = _summary_task(step, names, recorded)
            states |= _record_states(step, target, next_state)
        elif isinstance(step, WarehouseLoad):
            states |= _load_states(step, names, target, load_statements, recorded)
            states |= _record_states(step, target, next_state, loaded_rows_sql)
        else:
            states[step.name] = {
                "Type": "Task",
                "Resource": GLUE_START_CRAWLER,
                "Parameters": {"Name": names.glue_crawler},
                "ResultPath": None,
                "Catch": [_catch(step.name)],
                "Next": recorded,
            }
            states |= _record_states(step, target, next_state)
    return {
        "Comment": f"{names.state_machine}: declared once in ecomdw.etl.pipeline",
        "StartAt": "resume_from",
        "States": states,
    }


def glue_workflow_triggers(pipeline: Pipeline, names: ResourceNames) -> list[dict[str, Any]]:
    """Glue `CreateTrigger` inputs: the schedule starts the first job, each success the next.

    The workflow runs what Glue can run (the jobs, then the crawl); the warehouse load is the
    state machine's, an hour later.
    """
    runnable = [step for step in pipeline.steps if isinstance(step, GlueJob | Crawl)]
    workflow = names.glue_workflow

    def action(step: Step) -> dict[str, str]:
        if isinstance(step, Crawl):
            return {"CrawlerName": names.glue_crawler}
        return {"JobName": names.glue_job(step.name)}

    triggers: list[dict[str, Any]] = [
        {
            "Name": f"{workflow}-start",
            "WorkflowName": workflow,
            "Type": "SCHEDULED",
            "Schedule": pipeline.workflow_schedule.cron,
            "StartOnCreation": True,
            "Actions": [action(runnable[0])],
        }
    ]
    for previous, step in pairwise(runnable):
        assert isinstance(previous, GlueJob), "a crawl ends the workflow"
        triggers.append(
            {
                "Name": f"{workflow}-after-{previous.name}",
                "WorkflowName": workflow,
                "Type": "CONDITIONAL",
                "StartOnCreation": True,
                "Predicate": {
                    "Logical": "AND",
                    "Conditions": [
                        {
                            "LogicalOperator": "EQUALS",
                            "JobName": names.glue_job(previous.name),
                            "State": "SUCCEEDED",
                        }
                    ],
                },
                "Actions": [action(step)],
            }
        )
    return triggers


def render(definition: dict[str, Any]) -> str:
    return json.dumps(definition, indent=2, sort_keys=True)
