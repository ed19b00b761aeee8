"""CloudWatch's CloudFormation types: alarms (moto has no model), dashboards (moto's own)."""

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

ALARM_FIELDS = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "AlarmActions",
    "OKActions",
)
"""An alarm's properties besides its name, spelled alike in the template and the API."""


def create_alarm(c: Creating, props: dict[str, Any]) -> Created:
    c.client("cloudwatch").put_metric_alarm(
        AlarmName=props["AlarmName"], **subset(props, *ALARM_FIELDS)
    )
    return Created(props["AlarmName"], {"Arn": c.arn("cloudwatch", f"alarm:{props['AlarmName']}")})


def read_alarm(r: Reading) -> dict[str, Any]:
    alarm = r.client("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"][0]
    return subset(alarm, "AlarmName", *ALARM_FIELDS)


def read_dashboard(r: Reading) -> dict[str, Any]:
    dashboard = r.client("cloudwatch").get_dashboard(DashboardName=r.physical_id)
    return {
        "DashboardName": dashboard["DashboardName"],
        "DashboardBody": dashboard["DashboardBody"],
    }


RESOURCE_TYPES = (
    ResourceType("AWS::CloudWatch::Alarm", read_alarm, create_alarm, NO_MODEL),
    ResourceType("AWS::CloudWatch::Dashboard", read_dashboard),
)
