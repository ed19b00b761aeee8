"""Security Hub's CloudFormation types: the hub (no moto model); its standards, not emulated."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_security_hub(c: Creating, props: dict[str, Any]) -> Created:
    c.client("securityhub").enable_security_hub(
        EnableDefaultStandards=props["EnableDefaultStandards"],
        ControlFindingGenerator=props["ControlFindingGenerator"],
        Tags=props.get("Tags", {}),
    )
    hub = c.arn("securityhub", "hub/default")
    return Created(hub, {"ARN": hub})


def read_security_hub(r: Reading) -> dict[str, Any]:
    hub = r.client("securityhub").describe_hub(HubArn=r.physical_id)
    return {
        "AutoEnableControls": hub["AutoEnableControls"],
        "ControlFindingGenerator": hub["ControlFindingGenerator"],
    }


RESOURCE_TYPES = (
    ResourceType(
        "AWS::SecurityHub::Hub",
        read_security_hub,
        create_security_hub,
        NO_MODEL,
        unreadable={
            "EnableDefaultStandards": "moto's Security Hub has no GetEnabledStandards",
            "Tags": "moto's Security Hub has no ListTagsForResource",
        },
    ),
    ResourceType(
        "AWS::SecurityHub::Standard", why="moto's Security Hub has no BatchEnableStandards"
    ),
)
