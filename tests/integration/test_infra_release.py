"""`ecomdw infra deploy --env dev` and `promote` with the emulator standing in for AWS.

Each environment is its own account, as on AWS: the commands run as CI runs them, in their own
process, with the credentials of a role assumed in that environment's account.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ecomdw.cli.main import app
from ecomdw.core.aws import EMULATOR_CREDENTIALS
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.emulation.services.cloudformation.verification import verify_stacks
from ecomdw.infra.artifact import RECORD_KEY, build
from ecomdw.infra.deploy import PropertyChange, ResourceChange, execute_plan, plan_all
from ecomdw.infra.environments import PARAMETERS, parameters_for
from ecomdw.infra.pipeline import PipelineInput
from ecomdw.infra.synth import SynthesizedStack, stacks

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.ecomdw_emulation]

ACCOUNTS = {"dev": "210000000006", "staging": "220000000006", "empty": "230000000006"}
ECOMDW = Path(sys.executable).with_name("ecomdw")
REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class Aws:
    """The emulator as AWS: a session per account, each a role assumed there."""

    endpoint: str
    credentials: dict[str, dict[str, str]]
    config_file: Path

    def session(self, account: str) -> Any:
        session_class: Any = boto3.session.Session
        return session_class(region_name=REGION, **self.credentials[account])

    def clients(self, account: str) -> Any:
        session = self.session(account)

        def clients(service: str, region: str) -> Any:
            return session.client(service, region_name=region, endpoint_url=self.endpoint)

        return clients

    def client(self, account: str, service: str) -> Any:
        return self.clients(account)(service, REGION)

    def environ(self, account: str, home: Path) -> dict[str, str]:
        """A process environment as CI's: the account's role credentials, the endpoint."""
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECOMDW_"))}
        keys = self.credentials[account]
        return {
            **kept,
            "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": keys["aws_session_token"],
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.config_file.with_name("none")),
            "ECOMDW_ENDPOINT_URL": self.endpoint,
            "ECOMDW_HOME": str(home),
            "ECOMDW_CONFIG": str(home / "none.toml"),
            "COLUMNS": "200",
        }


@pytest.fixture(scope="module")
def aws(emulator_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Aws:
    session_class: Any = boto3.session.Session
    sts = session_class(region_name=REGION, **EMULATOR_CREDENTIALS).client(
        "sts", endpoint_url=emulator_endpoint
    )
    credentials = {}
    for name, account in ACCOUNTS.items():
        assumed = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/ecomdw-deploy", RoleSessionName="ci"
        )["Credentials"]
        credentials[name] = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    config = tmp_path_factory.mktemp("aws") / "config"
    config.write_text(
        "".join(
            f"[profile ecomdw-{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
            for name, keys in credentials.items()
        )
    )
    return Aws(emulator_endpoint, credentials, config)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def ecomdw(
    aws: Aws, home: Path, account: str, *args: str, region: str = REGION
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ECOMDW), "infra", *args],
        env={**aws.environ(account, home), "ECOMDW_REGION": region},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def env_stacks(aws: Aws, env: Environment) -> list[SynthesizedStack]:
    return stacks(env, Settings(endpoint_url=aws.endpoint))


def record(aws: Aws, account: str, env: Environment) -> dict[str, Any]:
    bucket = Settings(env=env).names.scripts_bucket
    body = aws.client(account, "s3").get_object(Bucket=bucket, Key=RECORD_KEY)["Body"].read()
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def dev_stack(aws: Aws, stack: SynthesizedStack) -> tuple[str, list[dict[str, Any]]]:
    """A stack in the dev account: its status and its change sets."""
    cfn = aws.clients("dev")("cloudformation", stack.region)
    status: str = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    return status, cfn.list_change_sets(StackName=stack.name)["Summaries"]


@dataclasses.dataclass(frozen=True)
class FirstDeploy:
    """`deploy --env dev` into the empty dev account, and each stack's status and change sets'
    execution statuses as it left them (tests after it, in any order, add change sets)."""

    process: subprocess.CompletedProcess[str]
    stacks: dict[str, tuple[str, list[str]]]


@pytest.fixture(scope="module")
def dev_deploy(aws: Aws, home: Path) -> FirstDeploy:
    process = ecomdw(aws, home, "dev", "deploy", "--env", "dev", "--yes")
    stacks = {}
    for stack in env_stacks(aws, Environment.DEV) if process.returncode == 0 else []:
        status, change_sets = dev_stack(aws, stack)
        stacks[stack.name] = (status, [c["ExecutionStatus"] for c in change_sets])
    return FirstDeploy(process, stacks)


def test_a_first_deploy_creates_every_stack_through_a_create_change_set(
    aws: Aws, dev_deploy: FirstDeploy
) -> None:
    assert dev_deploy.process.returncode == 0, dev_deploy.process.stderr
    synthesized = env_stacks(aws, Environment.DEV)
    declared = sum(len(s.template["Resources"]) for s in synthesized)
    artifact = build(PipelineInput().scripts)
    assert dev_deploy.process.stdout.splitlines()[-1] == (
        f"dev: deployed, 11 stacks, {declared} resource changes; artifact {artifact.id[:12]} "
        "recorded"
    )
    assert dev_deploy.stacks == {
        s.name: ("CREATE_COMPLETE", ["EXECUTE_COMPLETE"]) for s in synthesized
    }
    # Every resource, the ecomdw-created types included, exists in dev's own account.
    verification = verify_stacks(
        aws.endpoint, [(s.name, s.region, s.template) for s in synthesized], ACCOUNTS["dev"]
    )
    assert len(verification.checks) == declared
    assert [(c.stack, c.logical_id, c.error or c.mismatches) for c in verification.failures] == []


def test_the_deploy_records_its_artifact_and_uploads_each_script_under_its_hash(
    aws: Aws, dev_deploy: FirstDeploy
) -> None:
    artifact = build(PipelineInput().scripts)
    recorded = record(aws, "dev", Environment.DEV)
    assert recorded["artifact"] == {"id": artifact.id, **artifact.manifest}
    assert (recorded["environment"], recorded["promoted_from"]) == ("dev", None)
    s3, names = aws.client("dev", "s3"), Settings(env=Environment.DEV).names
    for script, digest in artifact.scripts.items():
        body = s3.get_object(Bucket=names.scripts_bucket, Key=artifact.key(script))["Body"]
        assert hashlib.sha256(body.read()).hexdigest() == digest
    job = aws.client("dev", "glue").get_job(JobName=names.glue_job("stage"))["Job"]
    assert job["Command"]["ScriptLocation"] == (
        f"s3://{names.scripts_bucket}/{artifact.key('stage.py')}"
    )


def test_a_second_deploy_with_nothing_changed_reports_no_changes(
    aws: Aws, home: Path, dev_deploy: FirstDeploy
) -> None:
    synthesized = env_stacks(aws, Environment.DEV)
    before = {s.name: dev_stack(aws, s)[1] for s in synthesized}
    again = ecomdw(aws, home, "dev", "deploy", "--env", "dev", "--yes")
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert lines[:-1] == [f"{s.name}: no changes" for s in synthesized]
    assert ", 11 stacks, 0 resource changes;" in lines[-1]
    # Its empty change sets were deleted: each stack has those it had before, no more.
    assert {s.name: dev_stack(aws, s)[1] for s in synthesized} == before


def test_one_parameter_changed_is_exactly_one_modify_of_that_property(
    aws: Aws, dev_deploy: FirstDeploy
) -> None:
    clients, settings = aws.clients("dev"), Settings(endpoint_url=aws.endpoint)
    dev = parameters_for(Environment.DEV)
    changed = dataclasses.replace(dev, monthly_budget_usd=dev.monthly_budget_usd + 100)
    budget = "/Properties/Budget/BudgetLimit/Amount"
    expected = {
        "ecomdw-dev-cost": (
            ResourceChange(
                "Modify",
                "MonthlyBudget",
                "AWS::Budgets::Budget",
                (PropertyChange("Budget", budget, "300", "400"),),
            ),
        )
    }
    plans = plan_all(clients, stacks(Environment.DEV, settings, parameters=changed), "budget")
    assert {p.stack.name: p.changes for p in plans if not p.empty} == expected
    [plan] = [p for p in plans if not p.empty]
    execute_plan(clients, plan)
    budgets = aws.client("dev", "budgets")
    described = budgets.describe_budget(AccountId=ACCOUNTS["dev"], BudgetName="ecomdw-dev-monthly")
    assert described["Budget"]["BudgetLimit"]["Amount"] in {"400", "400.0"}
    # And back: the deployed stacks are what the checkout says again.
    [back] = [p for p in plan_all(clients, env_stacks(aws, Environment.DEV), "back") if not p.empty]
    assert [c.properties for c in back.changes] == [
        (PropertyChange("Budget", budget, "400", "300"),)
    ]
    execute_plan(clients, back)
    assert all(p.empty for p in plan_all(clients, env_stacks(aws, Environment.DEV), "none"))


def test_the_plan_table_shows_the_changed_value_and_a_declined_change_set_records_nothing(
    aws: Aws, home: Path, dev_deploy: FirstDeploy, monkeypatch: Any
) -> None:
    dev = parameters_for(Environment.DEV)
    changed = dataclasses.replace(dev, monthly_budget_usd=dev.monthly_budget_usd + 100)
    monkeypatch.setitem(PARAMETERS, Environment.DEV, changed)
    for key, value in aws.environ("empty", home).items():
        if key.startswith(("AWS_", "ECOMDW_", "COLUMNS")):
            monkeypatch.setenv(key, value)
    before = record(aws, "dev", Environment.DEV)
    result = CliRunner().invoke(
        app, ["infra", "deploy", "--env", "dev", "--profile", "ecomdw-dev"], input="n\n"
    )
    assert result.exit_code == 1, result.output
    assert "Budget/BudgetLimit/Amount: 300 -> 400" in result.output
    assert "│ Modify │ MonthlyBudget │ AWS::Budgets::Budget │" in result.output
    assert result.output.splitlines()[-1] == (
        "dev: stopped at ecomdw-dev-cost, its change set declined and deleted; nothing recorded"
    )
    assert record(aws, "dev", Environment.DEV) == before
    cfn = aws.client("dev", "cloudformation")
    summaries = cfn.list_change_sets(StackName="ecomdw-dev-cost")["Summaries"]
    assert "AVAILABLE" not in [s["ExecutionStatus"] for s in summaries]


@pytest.fixture(scope="module")
def promoted(aws: Aws, home: Path, dev_deploy: FirstDeploy) -> subprocess.CompletedProcess[str]:
    """dev -> staging as CI's promote job: staging's role, dev's artifact read with dev's."""
    return ecomdw(
        aws, home, "staging", "promote", "--from", "dev", "--to", "staging", "--yes",
        "--from-profile", "ecomdw-dev",
    )  # fmt: skip


def test_promote_deploys_the_exact_artifact_dev_recorded_to_staging(
    aws: Aws, promoted: subprocess.CompletedProcess[str]
) -> None:
    assert promoted.returncode == 0, promoted.stderr
    dev_record = record(aws, "dev", Environment.DEV)
    staging_record = record(aws, "staging", Environment.STAGING)
    assert staging_record["artifact"] == dev_record["artifact"]
    assert (staging_record["environment"], staging_record["promoted_from"]) == ("staging", "dev")
    artifact_id = dev_record["artifact"]["id"]
    assert promoted.stdout.splitlines()[-1].startswith("staging: promoted from dev, 11 stacks, ")
    assert promoted.stdout.splitlines()[-1].endswith(f"; artifact {artifact_id[:12]} recorded")
    dev_names = Settings(env=Environment.DEV).names
    staging_names = Settings(env=Environment.STAGING).names
    for script in dev_record["artifact"]["scripts"]:
        key = f"glue/{dev_record['artifact']['scripts'][script]}/{script}"
        dev_body = aws.client("dev", "s3").get_object(Bucket=dev_names.scripts_bucket, Key=key)
        staging_body = aws.client("staging", "s3").get_object(
            Bucket=staging_names.scripts_bucket, Key=key
        )
        assert staging_body["Body"].read() == dev_body["Body"].read()
    synthesized = env_stacks(aws, Environment.STAGING)
    verification = verify_stacks(
        aws.endpoint, [(s.name, s.region, s.template) for s in synthesized], ACCOUNTS["staging"]
    )
    assert verification.checks
    assert [(c.stack, c.logical_id, c.error or c.mismatches) for c in verification.failures] == []
    job = aws.client("staging", "glue").get_job(JobName=staging_names.glue_job("facts"))["Job"]
    assert job["NumberOfWorkers"] == parameters_for(Environment.STAGING).glue.workers


def test_promote_refuses_a_lower_environment_with_no_recorded_deploy(
    aws: Aws, home: Path, promoted: subprocess.CompletedProcess[str]
) -> None:
    """dev is deployed in us-east-1 only: in eu-west-1 it has nothing to promote."""
    refused = ecomdw(
        aws, home, "staging", "promote", "--from", "dev", "--to", "staging", "--yes",
        "--from-profile", "ecomdw-dev", region="eu-west-1",
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "error: dev has no recorded successful deploy: deploy it first "
        "(`ecomdw infra deploy --env dev`)"
    ]


@pytest.fixture
def tampered_script(aws: Aws, promoted: subprocess.CompletedProcess[str]) -> Iterator[str]:
    """dev's facts.py object, overwritten behind the record's back (restored afterwards)."""
    s3, bucket = aws.client("dev", "s3"), Settings(env=Environment.DEV).names.scripts_bucket
    artifact = record(aws, "dev", Environment.DEV)["artifact"]
    key = f"glue/{artifact['scripts']['facts.py']}/facts.py"
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=original + b"\n# changed\n")
    yield key
    s3.put_object(Bucket=bucket, Key=key, Body=original)


def test_promote_refuses_a_script_that_does_not_match_its_hash(
    aws: Aws, home: Path, tampered_script: str
) -> None:
    before = record(aws, "staging", Environment.STAGING)
    refused = ecomdw(
        aws, home, "staging", "promote", "--from", "dev", "--to", "staging", "--yes",
        "--from-profile", "ecomdw-dev",
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: dev: {tampered_script} does not match its recorded sha256: the object changed "
        "after it was deployed; refusing to promote"
    ]
    assert record(aws, "staging", Environment.STAGING) == before
