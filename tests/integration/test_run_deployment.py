"""`ecomdw run` runs on what the stacks deploy: names and ARNs from their outputs, the jobs'
scripts from the artifact, the state machine the orchestration stack holds."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.etl.pipeline import PIPELINE, RedshiftTarget
from ecomdw.infra.pipeline import PipelineInput
from ecomdw.infra.runs import Deployment, deploy_for_run

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]


@pytest.fixture(scope="module")
def deployed(emulator_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The local stacks in the session's emulator, where test_infra_deploy may have deployed
    the very same templates already."""
    settings = run_settings(emulator_endpoint, tmp_path_factory.mktemp("home"))
    outcomes: list[str] = []
    deployment = deploy_for_run(settings, lambda _name, outcome: outcomes.append(outcome))
    assert set(outcomes) in ({"created"}, {"unchanged"})
    return deployment


def run_settings(endpoint: str, home: Path) -> Settings:
    return Settings(home=home, endpoint_url=endpoint)


@pytest.fixture
def deployment(deployed: Deployment) -> Deployment:
    return deployed


@pytest.fixture
def settings(emulator_endpoint: str, tmp_path: Path) -> Settings:
    return run_settings(emulator_endpoint, tmp_path)


def outputs(settings: Settings, concern: str) -> dict[str, str]:
    stack = client("cloudformation", settings).describe_stacks(
        StackName=settings.names.stack(concern)
    )["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_the_run_uses_the_stacks_outputs(deployment: Deployment, settings: Settings) -> None:
    storage = outputs(settings, "storage")
    assert deployment.raw_uri == f"s3://{storage['RawBucketName']}"
    assert deployment.processed_uri == f"s3://{storage['ProcessedBucketName']}"
    orchestration = outputs(settings, "orchestration")
    assert deployment.state_machine_arn == orchestration["StateMachineArn"]
    machine = client("stepfunctions", settings).describe_state_machine(
        stateMachineArn=deployment.state_machine_arn
    )
    names = settings.names
    target = RedshiftTarget(names.redshift_database, cluster_identifier=names.redshift_cluster)
    assert json.loads(machine["definition"]) == PipelineInput().definition(names, target)


def test_each_job_runs_its_hashed_script_with_the_steps_arguments(
    deployment: Deployment, settings: Settings
) -> None:
    glue, s3 = client("glue", settings), client("s3", settings)
    jobs = resources.files("ecomdw.etl")
    for step in PIPELINE.glue_jobs:
        job = glue.get_job(JobName=settings.names.glue_job(step.name))["Job"]
        location = job["Command"]["ScriptLocation"]
        bucket, _, key = location.removeprefix("s3://").partition("/")
        assert key.endswith(f"/{Path(step.script).name}") and key.startswith("glue/")
        deployed_script = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert deployed_script == jobs.joinpath(step.script).read_bytes()
        arguments = job["DefaultArguments"]
        assert arguments["--raw_uri"] == deployment.raw_uri
        assert arguments["--processed_uri"] == deployment.processed_uri
        assert dict(step.arguments).items() <= arguments.items()


def test_a_second_deploy_changes_nothing(deployment: Deployment, settings: Settings) -> None:
    first = deployment
    outcomes: list[str] = []
    again = deploy_for_run(settings, lambda _name, outcome: outcomes.append(outcome))
    assert set(outcomes) == {"unchanged"}
    assert (again.state_machine_arn, again.raw_uri, again.processed_uri) == (
        first.state_machine_arn,
        first.raw_uri,
        first.processed_uri,
    )
