"""The metrics a run publishes, as the monitoring stack watches them: names, dimensions and
units, each once (`ecomdw.core.metrics`), and what the emulated services publish of
themselves."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ecomdw.core import metrics
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.emulation.services.redshift.metrics import cluster_metrics
from ecomdw.emulation.services.stepfunctions.executions import execution_metrics
from ecomdw.etl.pipeline import PIPELINE
from ecomdw.infra import stacks

pytestmark = pytest.mark.unit

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:ecomdw-dev-pipeline"


def names(data: list[dict[str, Any]]) -> list[str]:
    return [d["MetricName"] for d in data]


def test_a_gate_publishes_its_score_as_a_share_under_the_environment_alone() -> None:
    data = metrics.step_metrics("dev", "quality_staged", {metrics.ROWS_IN: 40}, 98.5)
    assert names(data) == ["RowsIn", "RowsOut", "Quarantined", "DataQualityScore"]
    score = data[-1]
    assert score["Value"] == pytest.approx(0.985)
    assert score["Dimensions"] == [{"Name": "Environment", "Value": "dev"}]
    counted = {d["MetricName"]: d["Value"] for d in data[:-1]}
    assert counted == {"RowsIn": 40.0, "RowsOut": 0.0, "Quarantined": 0.0}  # a gate writes none
    assert all(
        d["Dimensions"]
        == [{"Name": "Environment", "Value": "dev"}, {"Name": "Step", "Value": "quality_staged"}]
        for d in data[:-1]
    )


def test_a_step_that_is_no_gate_publishes_no_score() -> None:
    data = metrics.step_metrics("dev", "stage", {"RowsIn": 3, "RowsOut": 2, "Quarantined": 1})
    assert [d["Value"] for d in data] == [3.0, 2.0, 1.0]


def test_the_dashboard_charts_what_the_steps_and_services_publish() -> None:
    """Every metric row of the dashboard in the pipeline's namespace is one a step publishes
    (with the dimensions it publishes it with), and the data-quality alarm watches the score."""
    monitoring = next(s for s in stacks(Environment.DEV, Settings()) if s.concern == "monitoring")
    resources = monitoring.template["Resources"]
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    charted = [
        m
        for w in json.loads(body)["widgets"]
        for m in w["properties"]["metrics"]
        if m[0] == metrics.NAMESPACE
    ]
    published = {
        (metrics.NAMESPACE, d["MetricName"], *(v for p in d["Dimensions"] for v in p.values()))
        for job in PIPELINE.glue_jobs
        for d in metrics.step_metrics("dev", job.name, {}, 100.0)
    }
    assert {tuple(m) for m in charted} == published
    alarm = resources["DataQualityAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (metrics.NAMESPACE, "DataQualityScore")
    assert alarm["Dimensions"] == [{"Name": "Environment", "Value": "dev"}]


def test_an_execution_publishes_how_it_ended_and_its_time() -> None:
    started = dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)
    assert names(execution_metrics(ARN, None, started, None)) == ["ExecutionsStarted"]
    ended = execution_metrics(ARN, "FAILED", started, started + dt.timedelta(seconds=90))
    assert [(d["MetricName"], d["Value"], d["Unit"]) for d in ended] == [
        ("ExecutionsFailed", 1.0, "Count"),
        ("ExecutionTime", 90_000.0, "Milliseconds"),
    ]
    assert all(d["Dimensions"] == [{"Name": "StateMachineArn", "Value": ARN}] for d in ended)
    assert names(execution_metrics(ARN, "SUCCEEDED", started, started)) == [
        "ExecutionsSucceeded",
        "ExecutionTime",
    ]


def test_a_cluster_publishes_cpu_and_disk_in_percent() -> None:
    data = cluster_metrics("ecomdw-dev-warehouse", 12.5, 40.0)
    assert [(d["MetricName"], d["Value"], d["Unit"]) for d in data] == [
        ("CPUUtilization", 12.5, "Percent"),
        ("PercentageDiskSpaceUsed", 40.0, "Percent"),
    ]
    assert all(
        d["Dimensions"] == [{"Name": "ClusterIdentifier", "Value": "ecomdw-dev-warehouse"}]
        for d in data
    )
