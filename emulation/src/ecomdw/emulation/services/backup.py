"""AWS Backup's CloudFormation types: vaults and plans (no moto model); selections, not
emulated."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import FieldMap
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)

BACKUP_PLAN = FieldMap(
    {"BackupPlanName": "BackupPlanName", "BackupPlanRule": "Rules"},
    items={"BackupPlanRule": FieldMap({"TargetBackupVault": "TargetBackupVaultName"}, others=True)},
)
"""A backup plan as CloudFormation and as the Backup API spell it."""


def create_backup_vault(c: Creating, props: dict[str, Any]) -> Created:
    vault = c.client("backup").create_backup_vault(
        BackupVaultName=props["BackupVaultName"],
        EncryptionKeyArn=props["EncryptionKeyArn"],
        BackupVaultTags=props.get("BackupVaultTags", {}),
    )
    return Created(
        props["BackupVaultName"],
        {"BackupVaultArn": vault["BackupVaultArn"], "BackupVaultName": props["BackupVaultName"]},
    )


def read_backup_vault(r: Reading) -> dict[str, Any]:
    backup = r.client("backup")
    vault = backup.describe_backup_vault(BackupVaultName=r.physical_id)
    tags = backup.list_tags(ResourceArn=vault["BackupVaultArn"])["Tags"]
    return {
        "BackupVaultName": vault["BackupVaultName"],
        "EncryptionKeyArn": vault["EncryptionKeyArn"],
        "BackupVaultTags": tags,
    }


def create_backup_plan(c: Creating, props: dict[str, Any]) -> Created:
    created = c.client("backup").create_backup_plan(
        BackupPlan=BACKUP_PLAN.to_api(props["BackupPlan"]),
        BackupPlanTags=props.get("BackupPlanTags", {}),
    )
    return Created(
        created["BackupPlanId"],
        {
            "BackupPlanId": created["BackupPlanId"],
            "BackupPlanArn": created["BackupPlanArn"],
            "VersionId": created["VersionId"],
        },
    )


def read_backup_plan(r: Reading) -> dict[str, Any]:
    backup = r.client("backup")
    answer = backup.get_backup_plan(BackupPlanId=r.physical_id)
    tags = backup.list_tags(ResourceArn=answer["BackupPlanArn"])["Tags"]
    return {"BackupPlan": BACKUP_PLAN.from_api(answer["BackupPlan"]), "BackupPlanTags": tags}


RESOURCE_TYPES = (
    ResourceType("AWS::Backup::BackupVault", read_backup_vault, create_backup_vault, NO_MODEL),
    ResourceType("AWS::Backup::BackupPlan", read_backup_plan, create_backup_plan, NO_MODEL),
    ResourceType(
        "AWS::Backup::BackupSelection",
        why="moto's Backup has no backup selections (no API to hold one)",
    ),
)
