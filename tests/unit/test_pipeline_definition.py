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


def successors(state: dict[str, Any]) -> set[str]:
    found = {state[key] for key in ("Next", "Default") if key in state}
    found |= {choice["Next"] for choice in state.get("Choices", [])}
    found |= {catch["Next"] for catch in state.get("Catch", [])}
    return found


def test_every_transition_lands_on_a_state_and_every_state_is_reachable() -> None:
    definition = state_machine(PIPELINE, NAMES, TARGET, LOADS)
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
    states = state_machine(PIPELINE, NAMES, TARGET, LOADS)["States"]
    for job in PIPELINE.glue_jobs:
        task = states[job.name]
        assert task["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
        assert task["Parameters"]["JobName"] == NAMES.glue_job(job.name)
        assert "Glue.ConcurrentRunsExceededException" in task["Retry"][0]["ErrorEquals"]
        assert task["Catch"][0]["Next"] == f"{job.name}_failed"


def test_every_step_but_the_first_can_be_resumed_from() -> None:
    choices = state_machine(PIPELINE, NAMES, TARGET, LOADS)["States"]["resume_from"]["Choices"]
    resumed = [(c["StringEquals"], c["Next"]) for c in choices]
    expected = [(name, name) for name in PIPELINE.step_names()[1:]]
    expected[PIPELINE.step_names().index("load_warehouse") - 1] = (
        "load_warehouse",
        "load_warehouse_plan",
    )
    assert resumed == expected


def test_the_load_takes_the_batches_the_stage_job_planned() -> None:
    states = state_machine(PIPELINE, NAMES, TARGET, LOADS)["States"]
    plan = states["load_warehouse_plan"]
    assert plan["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert plan["Parameters"] == {
        "Bucket": NAMES.processed_bucket,
        "Key.$": "States.Format('_runs/{}/batch_dates.json', $.run_id)",
    }
    assert plan["ResultPath"] == "$.plan" and plan["Next"] == "load_warehouse"
    assert states["load_warehouse"]["ItemsPath"] == "$.plan.batch_dates"
    assert states["quality_warehouse"]["Next"] == "load_warehouse_plan"
    batch = states["load_warehouse"]["ItemProcessor"]["States"]
    assert batch["batch_done"]["Choices"][0]["Next"] == "mark_loaded"
    assert batch["mark_loaded"]["Parameters"]["Key.$"] == (
        "States.Format('_jobs/load_warehouse/batch={}/finished.json', $.batch_date)"
    )
    assert load_handover(PIPELINE) == ("quality_warehouse", "load_warehouse")


def test_load_statements_become_one_transaction_per_batch() -> None:
    load = state_machine(PIPELINE, NAMES, TARGET, LOADS)["States"]["load_warehouse"]
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
