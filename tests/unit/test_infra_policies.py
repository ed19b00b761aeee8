"""Our policy rules: every environment's templates pass, and each rule catches its breach."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.infra import stacks
from ecomdw.infra.environments import ServerlessWarehouse, parameters_for
from ecomdw.infra.policies import violations

pytestmark = pytest.mark.unit

SETTINGS = Settings()


def all_templates() -> list[tuple[str, dict[str, Any]]]:
    built = [(s.name, s.template) for env in Environment for s in stacks(env, SETTINGS)]
    serverless = dataclasses.replace(
        parameters_for(Environment.DEV), warehouse=ServerlessWarehouse()
    )
    built += [
        (f"{s.name} (serverless)", s.template)
        for s in stacks(Environment.DEV, SETTINGS, parameters=serverless)
    ]
    return built


@pytest.mark.parametrize(("name", "template"), all_templates(), ids=lambda v: str(v)[:40])
def test_every_synthesized_template_passes(name: str, template: dict[str, Any]) -> None:
    assert violations(template) == [], name


def test_every_kind_of_resource_the_rules_cover_is_present() -> None:
    """The rules are exercised, not vacuously passed: each covered type is synthesized."""
    kinds = {r["Type"] for _, t in all_templates() for r in t["Resources"].values()}
    assert {
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::Redshift::Cluster",
        "AWS::RedshiftServerless::Namespace",
        "AWS::Backup::BackupVault",
        "AWS::StepFunctions::StateMachine",
        "AWS::KMS::Key",
        "AWS::IAM::Role",
    } <= kinds


def stack_template(concern: str) -> dict[str, Any]:
    (stack,) = [s for s in stacks(Environment.DEV, SETTINGS) if s.concern == concern]
    return copy.deepcopy(stack.template)


def first(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(r for r in template["Resources"].values() if r["Type"] == kind)


def test_an_unencrypted_bucket_is_caught() -> None:
    template = stack_template("storage")
    del first(template, "AWS::S3::Bucket")["Properties"]["BucketEncryption"]
    assert any("no default encryption" in v for v in violations(template))


def test_a_bucket_open_to_public_policies_is_caught() -> None:
    template = stack_template("storage")
    block = first(template, "AWS::S3::Bucket")["Properties"]["PublicAccessBlockConfiguration"]
    block["BlockPublicPolicy"] = False
    assert any("public access" in v for v in violations(template))


def test_a_bucket_without_its_tls_only_policy_is_caught() -> None:
    template = stack_template("storage")
    policies = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::BucketPolicy"]
    del template["Resources"][policies[0]]
    assert any("plain HTTP" in v for v in violations(template))


def test_a_log_group_without_retention_or_key_is_caught() -> None:
    template = stack_template("orchestration")
    log_group = first(template, "AWS::Logs::LogGroup")["Properties"]
    del log_group["RetentionInDays"]
    assert any("no retention" in v for v in violations(template))
    template = stack_template("orchestration")
    del first(template, "AWS::Logs::LogGroup")["Properties"]["KmsKeyId"]
    assert any("not encrypted" in v for v in violations(template))


def test_an_unencrypted_topic_and_a_public_cluster_are_caught() -> None:
    template = stack_template("monitoring")
    del first(template, "AWS::SNS::Topic")["Properties"]["KmsMasterKeyId"]
    assert any("KmsMasterKeyId missing" in v for v in violations(template))
    template = stack_template("warehouse")
    first(template, "AWS::Redshift::Cluster")["Properties"]["PubliclyAccessible"] = True
    assert any("PubliclyAccessible" in v for v in violations(template))


@pytest.mark.parametrize("action", ["s3:*", "glue:*", "redshift-data:*", "s3:Get*", "*"])
def test_a_wildcard_data_action_is_caught(action: str) -> None:
    template = stack_template("security")
    role = first(template, "AWS::IAM::Role")["Properties"]
    role["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": [action], "Resource": ["arn:aws:s3:::x"]}
    )
    assert any("wildcard data actions" in v for v in violations(template))


def test_a_data_action_on_every_resource_is_caught_unless_conditioned() -> None:
    template = stack_template("security")
    statements = first(template, "AWS::IAM::Role")["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    statements.append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert any("on every resource" in v for v in violations(template))
    statements[-1]["Condition"] = {"StringEquals": {"aws:ResourceAccount": "123456789012"}}
    assert violations(template) == []


def test_a_deny_with_wildcards_is_fine_and_an_allow_to_anyone_is_not() -> None:
    template = stack_template("storage")
    policy = first(template, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]
    assert any(s["Action"] == "s3:*" and s["Effect"] == "Deny" for s in policy["Statement"])
    assert violations(template) == []
    policy["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:x"}
    )
    assert any("allows anyone" in v for v in violations(template))


def test_administrator_access_is_allowed_only_where_explained() -> None:
    template = stack_template("security")
    glue_role = template["Resources"]["GlueRole"]["Properties"]
    glue_role["ManagedPolicyArns"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"}
    ]
    assert any(v.startswith("GlueRole: attaches a broad") for v in violations(template))
