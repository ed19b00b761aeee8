"""A pipeline run as its users and operators see it: the metrics it leaves in CloudWatch (every
alarm and chart of the monitoring stack watches one of them), and `ecomdw report` on its
warehouse, whose headline figures are the warehouse's and whose pages draw in headless
Chromium with the network cut off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ecomdw.core.aws import client
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.emulation.services.stepfunctions.executions import SECOND_SECONDS_VARIABLE
from ecomdw.infra import monitoring
from ecomdw.infra.runs import deploy_for_run, execute, land, new_run_id, refresh_analytics
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.predictive_clv import refresh_predicted_clv
from ecomdw.warehouse.report import ReportOptions, write_report
from ecomdw.warehouse.report.pages import BUILDERS

from .browser import chromium, headless_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "report"
SAMPLE = GeneratorConfig(seed=11, customers=60, products=25, orders=120, days=2, defect_rate=0.05)
NOT_EMULATED = {"Glue": "the emulated Glue publishes no job metrics (--enable-metrics)"}
"""Namespaces of the dashboard whose metrics no run here publishes, and why."""


@dataclass(frozen=True)
class Ran:
    warehouse: Path
    run_id: str
    analytics: str
    kept_before: int  # predictions after the run's own refresh
    predicted: int
    via_data_api: Path  # the report of the same warehouse, read through the Data API
    alarms: list[dict[str, Any]]
    datapoints: dict[str, list[dict[str, Any]]]  # alarm name -> its statistic over the run
    charted: list[tuple[str, str, frozenset[tuple[str, str]]]]  # the dashboard's metrics
    listed: set[tuple[str, str, frozenset[tuple[str, str]]]]  # ListMetrics after the run


def metric_key(namespace: str, name: str, dimensions: list[dict[str, str]]) -> tuple[Any, ...]:
    return namespace, name, frozenset((d["Name"], d["Value"]) for d in dimensions)


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str, frozenset[tuple[str, str]]]]:
    """Each widget's metrics: `[namespace, name, dimension, value, ...]`, an options dict last."""
    found = []
    for widget in body["widgets"]:
        for metric in widget["properties"]["metrics"]:
            namespace, name, *rest = [m for m in metric if not isinstance(m, dict)]
            pairs = frozenset(zip(rest[::2], rest[1::2], strict=True))
            found.append((str(namespace), str(name), pairs))
    return found


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """Deploy, then a run whose load finds no plan (it fails: an operator's alarm sees it),
    then a run of a small sample with defects, as `ecomdw run` runs it; what CloudWatch holds
    is read before the emulator stops."""
    os.environ.setdefault(SECOND_SECONDS_VARIABLE, "0.01")
    root = tmp_path_factory.mktemp("run")
    raw, home, warehouse = root / "raw", root / "home", root / "warehouse.duckdb"
    generate(SAMPLE, raw)
    base = Settings(home=home)
    names = base.names
    files = {(names.redshift_cluster, names.redshift_database): warehouse}
    with EmbeddedEmulator(home=home, redshift_files=files) as emulator:
        settings = base.model_copy(update={"endpoint_url": emulator.endpoint})
        deployment = deploy_for_run(settings)
        started = dt.datetime.now(dt.UTC)
        failed = execute(settings, deployment, new_run_id(), resume_from="load_warehouse")
        assert failed.status == "FAILED" and failed.failed_step == "load_warehouse"
        land(raw, settings, deployment.raw_uri)
        run_id = new_run_id()
        execution = execute(settings, deployment, run_id)
        assert execution.status == "SUCCEEDED", execution.error
        analytics = refresh_analytics(deployment.warehouse, run_id)  # too short a history
        ((before,),) = deployment.warehouse.run("SELECT COUNT(*) FROM analytics_predicted_clv").rows  # type: ignore[union-attr]
        # What a longer history keeps, written through the Data API as on Redshift.
        predicted = refresh_predicted_clv(deployment.warehouse, run_id, min_history_days=0)
        via_data_api = root / "via-data-api"
        write_report(deployment.warehouse, via_data_api, ReportOptions(source="the Data API"))

        cloudwatch = client("cloudwatch", settings)
        resources = client("cloudformation", settings).list_stack_resources(
            StackName=names.stack(monitoring.CONCERN)
        )["StackResourceSummaries"]
        physical: dict[str, list[str]] = {r["ResourceType"]: [] for r in resources}
        for r in resources:
            physical[r["ResourceType"]].append(r["PhysicalResourceId"])
        alarms = cloudwatch.describe_alarms(AlarmNames=physical["AWS::CloudWatch::Alarm"])[
            "MetricAlarms"
        ]
        window = {
            "StartTime": started - dt.timedelta(minutes=10),
            "EndTime": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10),
        }
        datapoints = {
            alarm["AlarmName"]: cloudwatch.get_metric_statistics(
                Namespace=alarm["Namespace"],
                MetricName=alarm["MetricName"],
                Dimensions=alarm["Dimensions"],
                Period=alarm["Period"],
                Statistics=[alarm["Statistic"]],
                **window,
            )["Datapoints"]
            for alarm in alarms
        }
        (dashboard,) = physical["AWS::CloudWatch::Dashboard"]
        body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
        listed = {
            metric_key(m["Namespace"], m["MetricName"], m.get("Dimensions", []))
            for page in cloudwatch.get_paginator("list_metrics").paginate()
            for m in page["Metrics"]
        }
    return Ran(
        warehouse,
        run_id,
        analytics,
        before,
        predicted,
        via_data_api,
        alarms,
        datapoints,
        dashboard_metrics(body),
        listed,
    )


def sql(warehouse: Path, statement: str) -> list[tuple[Any, ...]]:
    executor = DuckDBExecutor(warehouse, read_only=True)
    try:
        result = executor.run(statement)
    finally:
        executor.close()
    assert result is not None
    return result.rows


@pytest.mark.timeout(1200)  # the module's run
def test_every_alarm_of_the_monitoring_stack_sees_its_metric_from_a_run(ran: Ran) -> None:
    watched = {(a["Namespace"], a["MetricName"]) for a in ran.alarms}
    assert watched >= {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionTime"),
        (monitoring.METRIC_NAMESPACE, monitoring.DATA_QUALITY_SCORE_METRIC),
        ("AWS/Redshift", "CPUUtilization"),
        ("AWS/Redshift", "PercentageDiskSpaceUsed"),
    }
    silent = [name for name, points in ran.datapoints.items() if not points]
    assert not silent, f"alarms whose metric no run published: {silent}"
    by_metric = {a["MetricName"]: ran.datapoints[a["AlarmName"]] for a in ran.alarms}
    assert sum(p["Sum"] for p in by_metric["ExecutionsFailed"]) == 1  # the run without a plan
    score = min(p["Minimum"] for p in by_metric[monitoring.DATA_QUALITY_SCORE_METRIC])
    (gates,) = sql(
        ran.warehouse,
        f"select min(dq_score) from pipeline_run where run_id = '{ran.run_id}' "
        "and step like 'quality%'",
    )[0]
    assert score == pytest.approx(float(gates) / 100)


@pytest.mark.timeout(1200)
def test_every_metric_the_dashboard_charts_is_published(ran: Ran) -> None:
    charted = [m for m in ran.charted if m[0] not in NOT_EMULATED]
    missing = [m for m in charted if m not in ran.listed]
    assert charted and not missing, f"charted, never published: {missing}"


@pytest.fixture(scope="module")
def report(ran: Ran, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecomdw.cli.main",
            "report",
            "--warehouse",
            str(ran.warehouse),
            "--out",
            str(out),
        ],
        env={**os.environ, "ECOMDW_HOME": str(out.parent / "report-home"), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


class Headlines(HTMLParser):
    """A page's headline figures (exact values) and embedded JSON (figures, lookup)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self._element: str | None = None
        self.feed(text)

    @property
    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = self.data["figures"]
        return figures

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-headline" in found:
            self.values[str(found["data-headline"])] = str(found["data-value"])
        if tag == "script" and found.get("type") == "application/json":
            self._element = str(found["id"])

    def handle_data(self, data: str) -> None:
        if self._element is not None:
            self.data[self._element] = json.loads(data)
            self._element = None


def page(report: Path, file: str) -> Headlines:
    return Headlines((report / file).read_text())


@pytest.mark.timeout(1200)
def test_the_pages_headline_figures_are_what_sql_finds(ran: Ran, report: Path) -> None:
    ((revenue, orders),) = sql(
        ran.warehouse,
        "select sum(total_amount_usd), count(*) from fact_order "
        "where status not in ('cancelled', 'returned')",
    )
    ((customers,),) = sql(ran.warehouse, "select count(*) from dim_customer where is_current")
    sales = page(report, "index.html").values
    assert Decimal(sales["revenue_usd"]) == revenue > 0
    assert int(sales["orders"]) == orders > 0
    assert int(sales["customers"]) == customers > 0

    ((score,),) = sql(
        ran.warehouse,
        f"select min(dq_score) from pipeline_run where run_id = '{ran.run_id}' "
        "and step in ('quality_staged', 'quality_warehouse')",
    )
    ((quarantined, by_run),) = sql(
        ran.warehouse,
        f"select count(*), sum(case when run_id = '{ran.run_id}' then 1 else 0 end) "
        "from quarantine",
    )
    operations = page(report, "operations.html").values
    assert operations["last_run_status"] == "SUCCEEDED"
    assert Decimal(operations["dq_score"]) == score
    assert int(operations["quarantined"]) == quarantined == by_run > 0


@pytest.mark.timeout(1200)
def test_the_operations_page_shows_each_steps_rows(ran: Ran, report: Path) -> None:
    recorded = sql(
        ran.warehouse,
        "select step, rows_in, rows_out, quarantined from pipeline_run "
        f"where run_id = '{ran.run_id}' and step <> 'pipeline' order by started_at, step",
    )
    traces = page(report, "operations.html").figures["step-rows"]["data"]
    shown = list(zip(traces[0]["x"], *(t["y"] for t in traces), strict=True))
    assert shown == [tuple(row) for row in recorded]
    stage = next(row for row in recorded if row[0] == "stage")
    assert stage[1] and stage[2] and stage[3]  # read, written and quarantined: all counted


@pytest.mark.timeout(1200)
def test_the_predicted_clv_table_holds_every_buyer_once_the_history_is_long_enough(
    ran: Ran, report: Path
) -> None:
    assert ran.analytics == (
        "predicted CLV kept as it was: the kept orders span 1 of the 28 days predictions need"
    )
    assert ran.kept_before == 0
    ((predicted, horizons),) = sql(
        ran.warehouse,
        "select count(*), count(distinct horizon_weeks) from analytics_predicted_clv",
    )
    ((buyers,),) = sql(
        ran.warehouse,
        "select count(distinct c.customer_id) from fact_order o join dim_customer c "
        "on c.customer_sk = o.customer_sk where o.status not in ('cancelled', 'returned')",
    )
    assert predicted == ran.predicted == buyers > 0 and horizons == 1
    assert int(page(report, "clv.html").values["predicted_customers"]) == predicted


@pytest.mark.timeout(1200)
def test_the_report_through_the_data_api_is_the_report_of_the_file(ran: Ran, report: Path) -> None:
    """The same Redshift SQL through the Data API (as on Redshift) and on the DuckDB file gives
    the same figures, charts and lookup on every page."""
    for file, _ in BUILDERS:
        from_file, through_api = page(report, file), page(ran.via_data_api, file)
        assert through_api.values == from_file.values, file
        assert through_api.data == from_file.data, file


LOOKUP = """(() => {
  const search = document.getElementById("customer-search");
  search.value = %s;
  search.dispatchEvent(new Event("input"));
  return [document.getElementById("customer-count").textContent,
          document.querySelector("#customer-card h2").textContent];
})()"""


@pytest.mark.timeout(1200)
def test_every_page_draws_offline_in_headless_chromium(ran: Ran, report: Path) -> None:
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium: Debian's package installs it (apt-get install -y chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ((customer_id,),) = sql(ran.warehouse, "select min(customer_id) from dim_customer")

    async def browse() -> tuple[dict[str, Any], list[str]]:
        async with headless_chromium(executable) as browser:
            await browser.open_page()
            visits = {
                file: await browser.visit(
                    (report / file).as_uri(), ARTIFACTS / file.replace(".html", ".png")
                )
                for file, _ in BUILDERS
            }
            await browser.visit((report / "customers.html").as_uri(), ARTIFACTS / "lookup.png")
            found = await browser.evaluate(LOOKUP % json.dumps(customer_id))
            return visits, found

    visits, (matched, card) = asyncio.run(browse())
    for file, visit in visits.items():
        assert visit.loaded, file
        assert not visit.errors, f"{file}: {visit.errors}"
        outside = [
            url
            for url in visit.requests
            if not (url.startswith("data:") or url.startswith(report.as_uri() + "/"))
        ]
        assert not outside, f"{file} asked for {outside}"
        figures = page(report, file).figures
        assert sorted(c["id"] for c in visit.charts) == sorted(figures), file
        assert not visit.undrawn(), f"{file}: {visit.undrawn()}"
        assert (ARTIFACTS / file.replace(".html", ".png")).stat().st_size > 10_000
    assert matched.startswith("1 of ") and customer_id in card
