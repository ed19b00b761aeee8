"""EventBridge's CloudFormation type: rules, which moto's own model creates; read back here."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import as_json, renamed
from ecomdw.emulation.services.cloudformation.resource_types import Reading, ResourceType


def read_rule(r: Reading) -> dict[str, Any]:
    events = r.client("events")
    name = r.physical_id.rsplit("/", 1)[-1]
    rule = events.describe_rule(Name=name)
    observed = renamed(rule, Name="Name", Description="Description", State="State")
    observed["EventPattern"] = as_json(rule.get("EventPattern"))
    observed["Targets"] = events.list_targets_by_rule(Rule=name)["Targets"]
    return observed


RESOURCE_TYPES = (ResourceType("AWS::Events::Rule", read_rule),)
