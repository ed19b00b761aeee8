"""The emulation's template <-> API shape conversions, each declared once for both directions."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.emulation.services import backup
from ecomdw.emulation.services.cloudformation.properties import FieldMap
from ecomdw.emulation.services.glue import resources as glue
from ecomdw.emulation.services.s3 import resources as s3
from ecomdw.infra import stacks

pytestmark = pytest.mark.unit


@cache
def prod_resources() -> list[dict[str, Any]]:
    return [
        resource
        for stack in stacks(Environment.PROD, Settings())
        for resource in stack.template["Resources"].values()
    ]


def declared(resource_type: str) -> list[dict[str, Any]]:
    """The properties of every resource of `resource_type` the prod stacks declare."""
    return [r["Properties"] for r in prod_resources() if r["Type"] == resource_type]


def shapes() -> list[tuple[str, FieldMap, dict[str, Any]]]:
    buckets = declared("AWS::S3::Bucket")
    return [
        *(
            ("lifecycle rule", s3.LIFECYCLE_RULE, rule)
            for bucket in buckets
            for rule in bucket["LifecycleConfiguration"]["Rules"]
        ),
        *(
            ("replication rule", s3.REPLICATION_RULE, rule)
            for bucket in buckets
            for rule in bucket.get("ReplicationConfiguration", {}).get("Rules", [])
        ),
        *(
            ("backup plan", backup.BACKUP_PLAN, plan["BackupPlan"])
            for plan in declared("AWS::Backup::BackupPlan")
        ),
        *(
            ("glue encryption", glue.ENCRYPTION, configuration["EncryptionConfiguration"])
            for configuration in declared("AWS::Glue::SecurityConfiguration")
        ),
    ]


def test_the_stacks_declare_every_converted_shape() -> None:
    kinds = {kind for kind, _, _ in shapes()}
    assert kinds == {"lifecycle rule", "replication rule", "backup plan", "glue encryption"}


@pytest.mark.parametrize(("kind", "shape", "template"), shapes())
def test_what_the_stacks_declare_comes_back_as_declared(
    kind: str, shape: FieldMap, template: dict[str, Any]
) -> None:
    """Created through the API, read back through it: nothing declared is lost on the way."""
    assert shape.from_api(shape.to_api(template)) == template


def test_a_lifecycle_rule_takes_the_s3_apis_names() -> None:
    """CloudFormation's `AWS::S3::Bucket Rule` against S3's PutBucketLifecycleConfiguration
    `LifecycleRule`: the id is `ID`, the prefix a filter's, days nested in their action."""
    template = {
        "Id": "tier",
        "Status": "Enabled",
        "Prefix": "tmp/",
        "ExpirationInDays": 7,
        "Transitions": [{"TransitionInDays": 30, "StorageClass": "GLACIER"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
    }
    assert s3.LIFECYCLE_RULE.to_api(template) == {
        "ID": "tier",
        "Status": "Enabled",
        "Filter": {"Prefix": "tmp/"},
        "Expiration": {"Days": 7},
        "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
    }


def test_a_backup_plan_names_its_rules_vault_as_the_backup_api_does() -> None:
    """`AWS::Backup::BackupPlan BackupRuleResourceType` says `TargetBackupVault`, CreateBackupPlan
    `TargetBackupVaultName`; the API's own fields (a rule's id) pass through untouched."""
    api = {
        "BackupPlanName": "daily",
        "Rules": [{"RuleName": "r", "TargetBackupVaultName": "vault", "RuleId": "1"}],
    }
    assert backup.BACKUP_PLAN.from_api(api) == {
        "BackupPlanName": "daily",
        "BackupPlanRule": [{"RuleName": "r", "TargetBackupVault": "vault", "RuleId": "1"}],
    }
