"""CloudWatch Logs' CloudFormation type: log groups (moto's model drops the KMS key)."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import tag_map, tags_of_map
from ecomdw.emulation.services.cloudformation.resource_types import (
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_log_group(c: Creating, props: dict[str, Any]) -> Created:
    logs = c.client("logs")
    name = props.get("LogGroupName", c.generated_name)
    key = {"kmsKeyId": props["KmsKeyId"]} if "KmsKeyId" in props else {}
    logs.create_log_group(logGroupName=name, tags=tag_map(props), **key)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=props["RetentionInDays"])
    return Created(name, {"Arn": c.arn("logs", f"log-group:{name}:*")})


def delete_log_group(c: Creating, physical_id: str, props: dict[str, Any]) -> None:
    c.client("logs").delete_log_group(logGroupName=physical_id)


def read_log_group(r: Reading) -> dict[str, Any]:
    logs = r.client("logs")
    group = next(
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
        if g["logGroupName"] == r.physical_id
    )
    tags = logs.list_tags_log_group(logGroupName=r.physical_id)["tags"]
    return {
        "LogGroupName": group["logGroupName"],
        "RetentionInDays": group.get("retentionInDays"),
        "KmsKeyId": group.get("kmsKeyId"),
        "Tags": tags_of_map(tags),
    }


RESOURCE_TYPES = (
    ResourceType(
        "AWS::Logs::LogGroup",
        read_log_group,
        create_log_group,
        "moto's model drops the KMS key",
        delete=delete_log_group,
    ),
)
