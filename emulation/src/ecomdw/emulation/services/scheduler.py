"""EventBridge Scheduler's CloudFormation type: schedules (no moto model)."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)

SCHEDULE_FIELDS = (
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
)
"""A schedule's properties besides its name, spelled alike in the template and the API."""


def create_schedule(c: Creating, props: dict[str, Any]) -> Created:
    schedule = c.client("scheduler").create_schedule(
        Name=props["Name"], **subset(props, *SCHEDULE_FIELDS)
    )["ScheduleArn"]
    return Created(schedule, {"Arn": schedule})


def read_schedule(r: Reading) -> dict[str, Any]:
    name = r.physical_id.rsplit("/", 1)[-1]
    schedule = r.client("scheduler").get_schedule(Name=name)
    return subset(schedule, "Name", *SCHEDULE_FIELDS)


RESOURCE_TYPES = (
    ResourceType("AWS::Scheduler::Schedule", read_schedule, create_schedule, NO_MODEL),
)
