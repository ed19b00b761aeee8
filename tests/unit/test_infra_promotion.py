"""Promotion goes one environment up, reading the lower one through a role made for just that."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from ecomdw.cli.main import app
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.infra import stacks
from ecomdw.infra.environments import parameters_for

pytestmark = pytest.mark.unit

SETTINGS = Settings(region="eu-west-1", backup_region="eu-central-1")


def reader_role(env: Environment) -> dict[str, Any] | None:
    [security] = [s for s in stacks(env, SETTINGS) if s.concern == "security"]
    resource: dict[str, Any] | None = security.template["Resources"].get("PromotionReaderRole")
    return resource and resource["Properties"]


@pytest.mark.parametrize(
    ("env", "promoted_to"),
    [
        (Environment.LOCAL, "staging"),
        (Environment.DEV, "staging"),
        (Environment.STAGING, "prod"),
    ],
)
def test_the_environment_above_may_read_the_artifact_and_nothing_more(
    env: Environment, promoted_to: str
) -> None:
    role = reader_role(env)
    assert role is not None
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        f"repo:ecomdw/ecomdw:environment:{promoted_to}"
    )
    [read] = role["Policies"]
    scripts = SETTINGS.model_copy(update={"env": env}).names.scripts_bucket
    assert [(s["Action"], s["Resource"]) for s in read["PolicyDocument"]["Statement"]] == [
        (["s3:ListBucket"], [{"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{scripts}"}]),
        (
            ["s3:GetObject"],
            [
                {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{scripts}/glue/*"},
                {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{scripts}/deployments/*"},
            ],
        ),
        (["kms:Decrypt"], [{"Fn::GetAtt": ["DataKey", "Arn"]}]),
    ]


def test_prod_is_promoted_to_nothing() -> None:
    assert parameters_for(Environment.PROD).promotes_to is None
    assert reader_role(Environment.PROD) is None


@pytest.mark.parametrize(("low", "high"), [("dev", "prod"), ("staging", "dev"), ("local", "dev")])
def test_promote_refuses_anything_but_the_next_environment_up(low: str, high: str) -> None:
    result = CliRunner().invoke(app, ["infra", "promote", "--from", low, "--to", high])
    assert result.exit_code == 1
    assert str(result.exception) == (
        f"cannot promote {low} -> {high}: only dev -> staging, staging -> prod"
    )
