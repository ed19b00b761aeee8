"""The pipeline, declared once: stages, data-quality gates, warehouse load and catalog crawl.

Everything that runs the pipeline is rendered from `PIPELINE`: the Step Functions state machine
(production's orchestrator, and the one the emulator runs locally), the Glue Workflow with its
triggers, and the schedules. A run can resume from the step that failed: the state machine
starts with a choice on `$.resume_from`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ecomdw.core.names import ResourceNames
from ecomdw.core.processed import job_marker_key, run_plan_key

GLUE_SYNC = "arn:aws:states:::glue:startJobRun.sync"
GLUE_START_CRAWLER = "arn:aws:states:::aws-sdk:glue:startCrawler"
REDSHIFT_BATCH = "arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement"
REDSHIFT_DESCRIBE = "arn:aws:states:::aws-sdk:redshiftdata:describeStatement"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
S3_PUT_OBJECT = "arn:aws:states:::aws-sdk:s3:putObject"
DATE = "$.batch_date"  # in the load's Map: the batch being loaded
BATCH_DATE = "{batch_date}"  # placeholder in load statements, one batch at a time
PENDING_BATCHES = "pending"
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
    """The state a step starts at: the load first reads which batches to load."""
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
        "Next": next_state,
    }


def _catch(step: str) -> dict[str, Any]:
    return {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": f"{step}_failed",
    }


def _failure_states(step: str) -> dict[str, Any]:
    """Record which step failed, so a rerun can resume there, then fail the execution."""
    return {
        f"{step}_failed": {
            "Type": "Pass",
            "Parameters": {"step": step, "error.$": "$.error"},
            "ResultPath": "$.failure",
            "Next": "pipeline_failed",
        }
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
    iterate = {
        "StartAt": "merge_batch",
        "States": {
            "merge_batch": {
                "Type": "Task",
                "Resource": REDSHIFT_BATCH,
                "Parameters": {**target.parameters(), "Sqls.$": sqls},
                "ResultSelector": {"Id.$": "$.Id"},
                "ResultPath": "$.statement",
                "Next": "wait_for_batch",
            },
            "wait_for_batch": {"Type": "Wait", "Seconds": 5, "Next": "describe_batch"},
            "describe_batch": {
                "Type": "Task",
                "Resource": REDSHIFT_DESCRIBE,
                "Parameters": {"Id.$": "$.statement.Id"},
                "ResultSelector": {"Id.$": "$.Id", "Status.$": "$.Status"},
                "ResultPath": "$.statement",
                "Next": "batch_done",
            },
            "batch_done": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.statement.Status",
                        "StringEquals": "FINISHED",
                        "Next": "mark_loaded",
                    },
                    {
                        "Or": [
                            {"Variable": "$.statement.Status", "StringEquals": "FAILED"},
                            {"Variable": "$.statement.Status", "StringEquals": "ABORTED"},
                        ],
                        "Next": "merge_failed",
                    },
                ],
                "Default": "wait_for_batch",
            },
            "merge_failed": {
                "Type": "Fail",
                "Error": "Warehouse.LoadFailed",
                "Cause": "a batch MERGE failed; see DescribeStatement for the statement",
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
        entry_state(step): {
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
) -> dict[str, Any]:
    """The Step Functions definition (ASL) of `pipeline`.

    Input: `{"run_id": ..., "batch_dates": "2026-01-01,2026-01-02" or "pending", "resume_from":
    step name or ""}`. `load_statements` are the warehouse's MERGE statements for one batch, with
    `{batch_date}` where the date goes.
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
        "pipeline_failed": {
            "Type": "Fail",
            "Error": "Pipeline.StepFailed",
            "CausePath": "States.JsonToString($.failure)",
        },
        "pipeline_succeeded": {"Type": "Succeed"},
    }
    for position, step in enumerate(pipeline.steps):
        following = entries[position + 1] if position + 1 < len(entries) else None
        next_state = following or "pipeline_succeeded"
        states |= _failure_states(step.name)
        if isinstance(step, GlueJob):
            states[step.name] = _glue_task(step, names, next_state)
        elif isinstance(step, WarehouseLoad):
            states |= _load_states(step, names, target, load_statements, next_state)
        else:
            states[step.name] = {
                "Type": "Task",
                "Resource": GLUE_START_CRAWLER,
                "Parameters": {"Name": names.glue_crawler},
                "ResultPath": None,
                "Catch": [_catch(step.name)],
                "Next": next_state,
            }
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
