"""The stacks each environment synthesizes: names, wiring, parameters, determinism."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.etl.pipeline import (
    BATCH_DATE,
    PIPELINE,
    Crawl,
    Pipeline,
    RedshiftTarget,
    glue_workflow_triggers,
    state_machine,
)
from ecomdw.infra import PipelineInput, stacks, synthesize, write_templates
from ecomdw.infra.environments import (
    PARAMETERS,
    ServerlessWarehouse,
    parameters_for,
)
from ecomdw.infra.synth import CONCERNS, SynthesizedStack
from ecomdw.warehouse.load import batch_template_sql, loaded_rows_sql

pytestmark = pytest.mark.unit

SETTINGS = Settings(region="eu-west-1", backup_region="eu-central-1")
ROOT = Path(__file__).resolve().parents[2]


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def by_concern(env: Environment, **kwargs: Any) -> dict[str, SynthesizedStack]:
    return {stack.concern: stack for stack in stacks(env, SETTINGS, **kwargs)}


def exports(stack: SynthesizedStack) -> dict[str, Any]:
    return {
        output["Export"]["Name"]: output["Value"]
        for output in stack.template.get("Outputs", {}).values()
    }


def imports(value: Any) -> set[str]:
    """Every export name a template (or part of it) imports."""
    if isinstance(value, dict):
        found = {value["Fn::ImportValue"]} if "Fn::ImportValue" in value else set()
        for item in value.values():
            found |= imports(item)
        return found
    if isinstance(value, list):
        return set().union(*(imports(item) for item in value)) if value else set()
    return set()


@pytest.mark.parametrize("env", list(Environment))
def test_every_concern_is_one_stack_named_by_resource_names(env: Environment) -> None:
    templates = synthesize(env, SETTINGS)
    names = SETTINGS.model_copy(update={"env": env}).names
    assert list(templates) == [names.stack(concern) for concern, _ in CONCERNS]
    assert all(template["Resources"] for template in templates.values())


@pytest.mark.parametrize("env", list(Environment))
def test_imports_resolve_to_exports_of_earlier_stacks_in_the_same_region(
    env: Environment,
) -> None:
    exported: dict[str, set[str]] = {}
    imported: set[str] = set()
    for stack in stacks(env, SETTINGS):
        available = exported.setdefault(stack.region, set())
        imported |= imports(stack.template)
        missing = imports(stack.template) - available
        assert not missing, f"{stack.name} imports what no earlier stack exports: {missing}"
        assert not set(exports(stack)) & available, f"{stack.name} re-exports a name"
        available |= set(exports(stack))
    assert f"ecomdw-{env.value}-security-DataKeyArn" in imported


def test_only_the_replica_stack_lives_in_the_backup_region() -> None:
    regions = {stack.concern: stack.region for stack in stacks(Environment.DEV, SETTINGS)}
    assert regions.pop("replica") == "eu-central-1"
    assert set(regions.values()) == {"eu-west-1"}


def test_synthesis_is_deterministic(tmp_path: Path) -> None:
    first = write_templates(Environment.STAGING, tmp_path / "a", settings=SETTINGS)
    second = write_templates(Environment.STAGING, tmp_path / "b", settings=SETTINGS)
    assert [path.name for path in first] == [path.name for path in second]
    for one, other in zip(first, second, strict=True):
        assert one.read_bytes() == other.read_bytes()
        text = one.read_text()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_write_templates_writes_one_json_per_stack(tmp_path: Path) -> None:
    written = write_templates(Environment.DEV, tmp_path, settings=SETTINGS)
    templates = synthesize(Environment.DEV, SETTINGS)
    assert [path.name for path in written] == [f"{name}.json" for name in templates]
    assert {path.stem: json.loads(path.read_text()) for path in written} == templates


@pytest.mark.parametrize("env", list(Environment))
def test_glue_jobs_are_the_pipelines_steps_with_their_arguments_sized_for_the_env(
    env: Environment,
) -> None:
    catalog = by_concern(env)["catalog"].template
    names = SETTINGS.model_copy(update={"env": env}).names
    sizing = parameters_for(env).glue
    jobs = {
        job["Properties"]["Name"]: job["Properties"]
        for job in resources_of_type(catalog, "AWS::Glue::Job").values()
    }
    assert set(jobs) == {names.glue_job(step.name) for step in PIPELINE.glue_jobs}
    for step in PIPELINE.glue_jobs:
        job = jobs[names.glue_job(step.name)]
        assert job["GlueVersion"] == "5.0"
        script = Path(step.script).name
        digest = hashlib.sha256(
            (ROOT / "packages/etl/src/ecomdw/etl/jobs" / script).read_bytes()
        ).hexdigest()
        assert job["Command"]["ScriptLocation"] == (
            f"s3://{names.scripts_bucket}/glue/{digest}/{script}"
        )
        arguments = job["DefaultArguments"]
        assert re.fullmatch(
            rf"s3://{names.scripts_bucket}/glue/[0-9a-f]{{64}}/ecomdw\.zip",
            arguments["--extra-py-files"],
        )
        assert arguments["--raw_uri"] == f"s3://{names.raw_bucket}"
        assert arguments["--processed_uri"] == f"s3://{names.processed_bucket}"
        assert arguments["--batch_dates"] == "pending"
        assert dict(step.arguments).items() <= arguments.items()
        assert (job["WorkerType"], job["NumberOfWorkers"], job["Timeout"]) == (
            sizing.worker_type,
            sizing.workers,
            sizing.timeout_minutes,
        )
    quality = {jobs[names.glue_job(g)]["DefaultArguments"]["--scope"] for g in QUALITY_GATES}
    assert quality == {"staged", "warehouse"}


QUALITY_GATES = ("quality_staged", "quality_warehouse")


def test_the_workflow_is_the_pipelines_triggers() -> None:
    catalog = by_concern(Environment.DEV)["catalog"].template
    names = SETTINGS.model_copy(update={"env": Environment.DEV}).names
    deployed = sorted(
        (t["Properties"] for t in resources_of_type(catalog, "AWS::Glue::Trigger").values()),
        key=lambda t: t["Name"],
    )
    declared = sorted(glue_workflow_triggers(PIPELINE, names), key=lambda t: t["Name"])
    assert [t.pop("WorkflowName") for t in deployed] == [{"Ref": "Workflow"}] * len(declared)
    assert deployed == [{k: v for k, v in t.items() if k != "WorkflowName"} for t in declared]
    (start,) = [t for t in deployed if t["Type"] == "SCHEDULED"]
    assert start["Schedule"] == "cron(0 2 * * ? *)"
    assert start["Actions"] == [{"JobName": names.glue_job("stage")}]


@pytest.mark.parametrize(
    ("parameters", "target"),
    [
        (None, {"ClusterIdentifier": "ecomdw-dev-warehouse"}),
        (
            dataclasses.replace(
                parameters_for(Environment.DEV),
                warehouse=ServerlessWarehouse(base_capacity_rpus=16),
            ),
            {"WorkgroupName": "ecomdw-dev-warehouse"},
        ),
    ],
)
def test_the_state_machine_is_the_pipelines_loading_its_warehouse(
    parameters: Any, target: dict[str, str]
) -> None:
    names = SETTINGS.model_copy(update={"env": Environment.DEV}).names
    orchestration = by_concern(Environment.DEV, parameters=parameters)["orchestration"].template
    (machine,) = resources_of_type(orchestration, "AWS::StepFunctions::StateMachine").values()
    definition = machine["Properties"]["Definition"]
    expected = state_machine(
        PIPELINE,
        names,
        RedshiftTarget(names.redshift_database, **_snake(target)),
        batch_template_sql(f"s3://{names.processed_bucket}", BATCH_DATE),
        loaded_rows_sql(),
    )
    assert definition == json.loads(json.dumps(expected, sort_keys=True))
    merge = definition["States"]["load_warehouse"]["ItemProcessor"]["States"]["merge_batch"]
    assert target.items() <= merge["Parameters"].items()


def _snake(target: dict[str, str]) -> dict[str, str]:
    return {
        {"ClusterIdentifier": "cluster_identifier", "WorkgroupName": "workgroup_name"}[k]: v
        for k, v in target.items()
    }


def test_pipeline_input_refuses_a_pipeline_without_glue_jobs() -> None:
    empty = Pipeline((Crawl(),), PIPELINE.workflow_schedule, PIPELINE.state_machine_schedule)
    with pytest.raises(ValueError, match="at least one Glue job"):
        PipelineInput(empty)


def test_the_pipeline_is_scheduled_at_three_utc_on_the_warehouses_days() -> None:
    for env, days in ((Environment.DEV, "? * MON-FRI"), (Environment.PROD, "* * ?")):
        orchestration = by_concern(env)["orchestration"].template
        (schedule,) = resources_of_type(orchestration, "AWS::Scheduler::Schedule").values()
        assert schedule["Properties"]["ScheduleExpression"] == f"cron(0 3 {days} *)"
        assert schedule["Properties"]["ScheduleExpressionTimezone"] == "UTC"
        given = json.loads(schedule["Properties"]["Target"]["Input"])
        assert given == {
            "run_id": "<aws.scheduler.execution-id>",
            "batch_dates": "pending",
            "resume_from": "",
        }


@pytest.mark.parametrize(
    ("env", "paused"),
    [
        (Environment.LOCAL, True),
        (Environment.DEV, True),
        (Environment.STAGING, True),
        (Environment.PROD, False),
    ],
)
def test_warehouse_pauses_outside_working_hours_in_dev_and_staging_only(
    env: Environment, paused: bool
) -> None:
    cost = by_concern(env)["cost"].template
    actions = resources_of_type(cost, "AWS::Redshift::ScheduledAction")
    assert bool(actions) is paused
    if paused:
        hours = parameters_for(env).pause_resume
        assert hours is not None
        assert hours.resume_hour_utc < PIPELINE.workflow_schedule.hour_utc
        schedules = {a["Properties"]["Schedule"] for a in actions.values()}
        assert schedules == {
            f"cron(0 {hours.resume_hour_utc} ? * MON-FRI *)",
            f"cron(0 {hours.pause_hour_utc} ? * MON-FRI *)",
        }


def test_provisioned_warehouse_is_ra3_encrypted_private_and_audited() -> None:
    warehouse = by_concern(Environment.PROD)["warehouse"].template
    (cluster,) = resources_of_type(warehouse, "AWS::Redshift::Cluster").values()
    properties = cluster["Properties"]
    assert properties["NodeType"].startswith("ra3.")
    assert properties["Encrypted"] is True
    assert properties["PubliclyAccessible"] is False
    assert properties["LoggingProperties"]["BucketName"] == "ecomdw-prod-logs-eu-west-1"
    assert properties["AutomatedSnapshotRetentionPeriod"] == (
        PARAMETERS[Environment.PROD].snapshot_retention_days
    )
    assert properties["ManageMasterPassword"] is True


def test_serverless_by_parameter_replaces_the_cluster_and_its_schedule() -> None:
    serverless = dataclasses.replace(
        parameters_for(Environment.DEV), warehouse=ServerlessWarehouse(base_capacity_rpus=16)
    )
    built = by_concern(Environment.DEV, parameters=serverless)
    warehouse = built["warehouse"].template
    assert not resources_of_type(warehouse, "AWS::Redshift::Cluster")
    (workgroup,) = resources_of_type(warehouse, "AWS::RedshiftServerless::Workgroup").values()
    assert workgroup["Properties"]["BaseCapacity"] == 16
    assert workgroup["Properties"]["PubliclyAccessible"] is False
    assert not resources_of_type(built["cost"].template, "AWS::Redshift::ScheduledAction")


def test_one_parameter_changes_exactly_that_value() -> None:
    dev = parameters_for(Environment.DEV)
    bigger = dataclasses.replace(dev, glue=dataclasses.replace(dev.glue, workers=7))
    before = synthesize(Environment.DEV, SETTINGS)
    after = {s.name: s.template for s in stacks(Environment.DEV, SETTINGS, parameters=bigger)}
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["ecomdw-dev-catalog"]
    for logical_id, resource in before["ecomdw-dev-catalog"]["Resources"].items():
        new = after["ecomdw-dev-catalog"]["Resources"][logical_id]
        if resource["Type"] == "AWS::Glue::Job":
            assert new["Properties"].pop("NumberOfWorkers") == 7
            resource["Properties"].pop("NumberOfWorkers")
        assert new == resource


def test_outputs_feed_the_pipeline_settings() -> None:
    exported = set()
    for stack in stacks(Environment.DEV, SETTINGS):
        exported |= {name.removeprefix(f"{stack.name}-") for name in exports(stack)}
    assert {
        "RawBucketName",
        "ProcessedBucketName",
        "ScriptsBucketName",
        "LogsBucketName",
        "GlueRoleArn",
        "StatesRoleArn",
        "RedshiftRoleArn",
        "CiDeployRoleArn",
        "StageJobName",
        "DimensionsJobName",
        "FactsJobName",
        "GlueDatabaseName",
        "Endpoint",
        "StateMachineArn",
        "AlarmTopicArn",
    } <= exported


def test_raw_bucket_replicates_to_the_replica_in_the_backup_region() -> None:
    built = by_concern(Environment.DEV)
    (raw,) = [
        b["Properties"]
        for b in resources_of_type(built["storage"].template, "AWS::S3::Bucket").values()
        if b["Properties"]["BucketName"] == "ecomdw-dev-raw-eu-west-1"
    ]
    (rule,) = raw["ReplicationConfiguration"]["Rules"]
    (replica,) = resources_of_type(built["replica"].template, "AWS::S3::Bucket").values()
    replica_name = replica["Properties"]["BucketName"]
    assert replica_name.endswith("-eu-central-1")
    assert rule["Destination"]["Bucket"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{replica_name}"
    }
    assert (
        raw["VersioningConfiguration"]
        == replica["Properties"]["VersioningConfiguration"]
        == {"Status": "Enabled"}
    )


def test_backups_are_copied_to_the_vault_in_the_backup_region() -> None:
    built = by_concern(Environment.PROD)
    (plan,) = resources_of_type(built["backup"].template, "AWS::Backup::BackupPlan").values()
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    (copy,) = rule["CopyActions"]
    (vault,) = resources_of_type(built["replica"].template, "AWS::Backup::BackupVault").values()
    assert copy["DestinationBackupVaultArn"]["Fn::Sub"].endswith(
        f"backup-vault:{vault['Properties']['BackupVaultName']}"
    )
    assert ":eu-central-1:" in copy["DestinationBackupVaultArn"]["Fn::Sub"]
    assert (
        rule["Lifecycle"]["DeleteAfterDays"] == PARAMETERS[Environment.PROD].backup_retention_days
    )
