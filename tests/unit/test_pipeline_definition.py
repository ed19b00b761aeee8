"""The pipeline definition renders a well-formed state machine and Glue workflow."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from ecomdw.core.names import Environment, ResourceNames
from ecomdw.etl.pipeline import (
    PIPELINE,
    GlueJob,
    RedshiftTarget,
    glue_workflow_triggers,
    intrinsic_string,
    load_handover,
    state_machine,
)

pytestmark = pytest.mark.unit

NAMES = ResourceNames(Environment.DEV, "eu-west-1")
TARGET = RedshiftTarget(database="ecomdw", cluster_identifier=NAMES.redshift_cluster)
LOADS = ["DELETE FROM t WHERE d = '{batch_date}'", "INSERT INTO t VALUES ('{batch_date}')"]
LOADED_ROWS = "(SELECT COUNT(*) FROM t WHERE run_id = :run_id)"


def machine() -> dict[str, Any]:
    return state_machine(PIPELINE, NAMES, TARGET, LOADS, LOADED_ROWS)


def successors(state: dict[str, Any]) -> set[str]:
    found = {state[key] for key in ("Next", "Default") if key in state}
    found |= {choice["Next"] for choice in state.get("Choices", [])}
    found |= {catch["Next"] for catch in state.get("Catch", [])}
    return found


def test_every_transition_lands_on_a_state_and_every_state_is_reachable() -> None:
    definition = machine()
    states = definition["States"]
    reached, frontier = set(), [definition["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reached:
            continue
        reached.add(name)
        assert name in states, f"transition to missing state {name}"
        frontier.extend(successors(states[name]))
    assert reached == set(states)


def test_glue_steps_retry_transient_errors_and_catch_the_rest() -> None:
    states = machine()["States"]
    for job in PIPELINE.glue_jobs:
        task = states[job.name]
        assert task["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
        assert task["Parameters"]["JobName"] == NAMES.glue_job(job.name)
        assert "Glue.ConcurrentRunsExceededException" in task["Retry"][0]["ErrorEquals"]
        assert task["Catch"][0]["Next"] == f"{job.name}_failed"


def test_every_step_but_the_first_can_be_resumed_from() -> None:
    choices = machine()["States"]["resume_from"]["Choices"]
    resumed = [(c["StringEquals"], c["Next"]) for c in choices]
    assert resumed == [(name, f"{name}_started") for name in PIPELINE.step_names()[1:]]


def test_each_step_notes_its_start_and_records_its_row_as_it_ends() -> None:
    states = machine()["States"]
    for step in PIPELINE.steps:
        started = states[f"{step.name}_started"]
        assert started["Parameters"] == {"at.$": "$$.State.EnteredTime"}
        record = states[f"{step.name}_record"]
        assert record["Resource"] == "arn:aws:states:::aws-sdk:redshiftdata:executeStatement"
        assert record["Parameters"]["ClusterIdentifier"] == NAMES.redshift_cluster
        assert f"'{step.name}', 'SUCCEEDED'" in record["Parameters"]["Sql"]
        values = {p["Name"]: p for p in record["Parameters"]["Parameters"]}
        assert values["started_at"]["Value.$"] == f"$.started.{step.name}.at"
        assert values["finished_at"]["Value.$"] == "$$.State.EnteredTime"
        assert states[f"{step.name}_record_done"]["Choices"][0]["StringEquals"] == "FINISHED"
        failed = states[f"{step.name}_record_failed"]
        assert f"'{step.name}', 'FAILED'" in failed["Parameters"]["Sql"]
    for job in PIPELINE.glue_jobs:  # a job's counts come from the summary it wrote
        assert states[job.name]["Next"] == f"{job.name}_summary"
        summary = states[f"{job.name}_summary"]["Parameters"]["Key.$"]
        assert summary == f"States.Format('_runs/{{}}/steps/{job.name}.json', $.run_id)"
        values = {p["Name"]: p for p in states[f"{job.name}_record"]["Parameters"]["Parameters"]}
        assert values["rows_out"]["Value.$"] == (
            f"States.Format('{{}}', $.summaries.{job.name}.report.rows_out)"
        )
    load = states["load_warehouse_record"]["Parameters"]
    assert LOADED_ROWS in load["Sql"]
    assert "rows_out" not in {p["Name"] for p in load["Parameters"]}
    last = states[f"{PIPELINE.steps[-1].name}_record_done"]["Choices"][0]["Next"]
    assert last == "pipeline_done"
    assert states["pipeline_record_done"]["Choices"][0]["Next"] == "pipeline_succeeded"
    assert states["pipeline_record_failed_done"]["Choices"][0]["Next"] == "pipeline_failed"


def test_the_load_takes_the_batches_the_stage_job_planned() -> None:
    states = machine()["States"]
    plan = states["load_warehouse_plan"]
    assert plan["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert plan["Parameters"] == {
        "Bucket": NAMES.processed_bucket,
        "Key.$": "States.Format('_runs/{}/batch_dates.json', $.run_id)",
    }
    assert plan["ResultPath"] == "$.plan" and plan["Next"] == "load_warehouse"
    assert states["load_warehouse"]["ItemsPath"] == "$.plan.batch_dates"
    assert states["quality_warehouse_record_done"]["Choices"][0]["Next"] == (
        "load_warehouse_started"
    )
    assert states["load_warehouse_started"]["Next"] == "load_warehouse_plan"
    batch = states["load_warehouse"]["ItemProcessor"]["States"]
    assert batch["merge_batch_done"]["Choices"][0]["Next"] == "mark_loaded"
    assert batch["mark_loaded"]["Parameters"]["Key.$"] == (
        "States.Format('_jobs/load_warehouse/batch={}/finished.json', $.batch_date)"
    )
    assert load_handover(PIPELINE) == ("quality_warehouse", "load_warehouse")


def test_load_statements_become_one_transaction_per_batch() -> None:
    load = machine()["States"]["load_warehouse"]
    assert load["Type"] == "Map" and load["MaxConcurrency"] == 1
    merge = load["ItemProcessor"]["States"]["merge_batch"]["Parameters"]
    assert merge["ClusterIdentifier"] == NAMES.redshift_cluster
    assert merge["Sqls.$"] == (
        "States.Array(States.Format('DELETE FROM t WHERE d = \\'{}\\'', $.batch_date), "
        "States.Format('INSERT INTO t VALUES (\\'{}\\')', $.batch_date))"
    )


def test_intrinsic_strings_escape_quotes_braces_and_backslashes() -> None:
    assert intrinsic_string("a'b{c}\\d") == "'a\\'b\\{c\\}\\\\d'"


def test_workflow_triggers_are_valid_glue_api_calls_in_step_order() -> None:
    shape = get_session().get_service_model("glue").operation_model("CreateTrigger").input_shape
    triggers = glue_workflow_triggers(PIPELINE, NAMES)
    for trigger in triggers:
        report = ParamValidator().validate(trigger, shape)
        assert not report.has_errors(), report.generate_report()
    assert triggers[0]["Schedule"] == "cron(0 2 * * ? *)"
    started = [t["Actions"][0].get("JobName") or t["Actions"][0]["CrawlerName"] for t in triggers]
    jobs = [NAMES.glue_job(step.name) for step in PIPELINE.steps if isinstance(step, GlueJob)]
    assert started == [*jobs, NAMES.glue_crawler]


def test_state_machine_runs_an_hour_after_the_workflow() -> None:
    assert PIPELINE.state_machine_schedule.hour_utc == PIPELINE.workflow_schedule.hour_utc + 1
