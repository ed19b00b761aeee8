"""KMS's CloudFormation types: keys (moto's model fails on CloudFormation tags), aliases."""

from __future__ import annotations

import json
from typing import Any

from ecomdw.emulation.services.cloudformation.properties import api_tags, as_json, template_tags
from ecomdw.emulation.services.cloudformation.resource_types import (
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_key(c: Creating, props: dict[str, Any]) -> Created:
    kms = c.client("kms")
    key = kms.create_key(
        Policy=json.dumps(props["KeyPolicy"]),
        Description=props.get("Description", ""),
        KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        Tags=api_tags(props, "TagKey", "TagValue"),
    )["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return Created(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})


def read_key(r: Reading) -> dict[str, Any]:
    kms = r.client("kms")
    key = kms.describe_key(KeyId=r.physical_id)["KeyMetadata"]
    tags = kms.list_resource_tags(KeyId=r.physical_id)["Tags"]
    return {
        "Description": key["Description"],
        "KeyPolicy": as_json(
            kms.get_key_policy(KeyId=r.physical_id, PolicyName="default")["Policy"]
        ),
        "EnableKeyRotation": kms.get_key_rotation_status(KeyId=r.physical_id)["KeyRotationEnabled"],
        "Tags": template_tags(tags, "TagKey", "TagValue"),
    }


def read_alias(r: Reading) -> dict[str, Any]:
    aliases = r.client("kms").list_aliases()["Aliases"]
    alias = next(a for a in aliases if a["AliasName"] == r.physical_id)
    key_id = r.properties.get("TargetKeyId", "")
    target = alias["TargetKeyId"]
    # The template may name the key by id or by ARN; the API answers with the id.
    return {
        "AliasName": alias["AliasName"],
        "TargetKeyId": key_id if key_id.endswith(target) else target,
    }


RESOURCE_TYPES = (
    ResourceType(
        "AWS::KMS::Key",
        read_key,
        create_key,
        "moto's model fails on CloudFormation tags",
        unreadable={
            "PendingWindowInDays": "applies only when the key is scheduled for deletion; no API "
            "reads it back",
        },
    ),
    ResourceType("AWS::KMS::Alias", read_alias),
)
