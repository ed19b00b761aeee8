"""CloudWatch's CloudFormation types: alarms (moto has no model), dashboards (moto's own); and
`publish`, how an emulated service puts the metrics its AWS service publishes of itself."""

from __future__ import annotations

import logging
from typing import Any

from ecomdw.emulation.clients import cached_client
from ecomdw.emulation.services.cloudformation.properties import subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)

LOG = logging.getLogger(__name__)


def publish(
    endpoint: str, region: str, account_id: str, namespace: str, metric_data: list[dict[str, Any]]
) -> None:
    """PutMetricData into the emulator at `endpoint`, as an AWS service publishes its vended
    metrics (`AWS/States`, `AWS/Redshift`): alarms and dashboards then see what they watch. A
    metric that cannot be put is logged; it never fails the service that measured it."""
    try:
        cached_client(endpoint, region, "cloudwatch", account_id).put_metric_data(
            Namespace=namespace, MetricData=metric_data
        )
    except Exception:  # the service's own work goes on whatever the metric's fate
        LOG.warning("could not publish %s metrics", namespace, exc_info=True)


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
