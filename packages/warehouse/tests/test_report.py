"""The report's pages over a hand-made shop: what each page's headline figures and charts hold,
that a page carries everything it shows, and that an empty warehouse still gives every page."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ecomdw.core.model import DQ_RESULT, PIPELINE_RUN, QUARANTINE
from ecomdw.etl.pipeline import RUN_STEP
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse
from ecomdw.warehouse.predictive_clv import create_predicted_clv_sql
from ecomdw.warehouse.report import ReportOptions, queries, write_report
from ecomdw.warehouse.report.html import PLOTLY_JS
from ecomdw.warehouse.report.pages import BUILDERS
from ecomdw.warehouse.views import create_views

from .test_views import AT, shop
from .warehouse_rows import insert, quarantined

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

NOW = dt.datetime(2026, 2, 12, 6)
__all__ = ["shop"]  # the fixture, imported to be used here


class Page(HTMLParser):
    """What a test reads of a page: headline figures, chart slots, JSON data, what it loads."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.headlines: dict[str, str] = {}
        self.charts: list[str] = []
        self.sources: list[str] = []
        self.links: list[str] = []
        self.data: dict[str, Any] = {}
        self._json: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-headline" in found:
            self.headlines[str(found["data-headline"])] = str(found["data-value"])
        if tag == "div" and "chart" in (found.get("class") or "").split():
            self.charts.append(str(found["id"]))
        if tag == "script" and found.get("src"):
            self.sources.append(str(found["src"]))
        if tag == "script" and found.get("type") == "application/json":
            self._json = str(found["id"])
        for attribute in ("href", "src"):
            if tag != "script" and found.get(attribute):
                self.links.append(str(found[attribute]))

    def handle_data(self, data: str) -> None:
        if self._json is not None:
            self.data[self._json] = json.loads(data)
            self._json = None


def read_pages(folder: Path) -> dict[str, Page]:
    return {file: Page((folder / file).read_text()) for file, _ in BUILDERS}


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 2, 11, hour, minute)


def step(
    run: str, name: str, status: str, start: dt.datetime, seconds: int, **counts: Any
) -> dict[str, Any]:
    detail = counts.pop("detail", {})
    values = {"rows_in": None, "rows_out": None, "quarantined": None, "dq_score": None} | counts
    return {
        "run_id": run,
        "step": name,
        "status": status,
        "started_at": start,
        "finished_at": start + dt.timedelta(seconds=seconds),
        **values,
        "detail": json.dumps(detail),
    }


def dq(run: str, table: str, rule: str, passed: bool) -> dict[str, Any]:
    return {
        "run_id": run,
        "table_name": table,
        "rule": rule,
        "severity": "warn",
        "passed": passed,
        "checked_count": 10,
        "failed_count": 0 if passed else 2,
        "detail": None if passed else "2 rows",
        "checked_at": at(5),
    }


@pytest.fixture(scope="module")
def report(shop: DuckDBExecutor, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    """The shop with two runs (the first failed at its staged gate), its data-quality results
    and one quarantined record, reported."""
    for statement in create_predicted_clv_sql():
        shop.run(statement)
    insert(
        shop,
        PIPELINE_RUN,
        [
            step("run-0", "stage", "SUCCEEDED", at(1), 30, rows_in=12, rows_out=11, quarantined=1),
            step("run-0", "quality_staged", "FAILED", at(1, 1), 20),
            step("run-0", RUN_STEP, "FAILED", at(1), 60),
            step("run-1", "stage", "SUCCEEDED", at(4), 30, rows_in=12, rows_out=11, quarantined=1),
            step("run-1", "quality_staged", "SUCCEEDED", at(4, 1), 20, rows_in=11,
                 dq_score=Decimal("98.50")),
            step("run-1", "quality_warehouse", "SUCCEEDED", at(4, 2), 20, rows_in=40,
                 dq_score=Decimal("100.00")),
            step("run-1", "facts", "SUCCEEDED", at(4, 3), 20, rows_in=11, rows_out=30,
                 detail={"rows_out": {"fact_order": 7, "fact_order_line": 23}}),
            step("run-1", RUN_STEP, "SUCCEEDED", at(4), 300),
        ],
    )  # fmt: skip
    insert(
        shop,
        DQ_RESULT,
        [
            dq("run-1", "orders", "status accepted", True),
            dq("run-1", "orders", "fresh", False),
            dq("run-1", "fact_order", "unique key", True),
        ],
    )
    insert(shop, QUARANTINE, [quarantined(7, AT)])
    out = tmp_path_factory.mktemp("report")
    written = write_report(shop, out, ReportOptions(now=NOW, source="the shop"))
    assert [p.name for p in written] == [file for file, _ in BUILDERS]
    return read_pages(out)


def test_headline_figures_are_the_warehouses(report: dict[str, Page]) -> None:
    # Kept orders O1 ($25), O2 ($12 + $3 shipping), O4 ($30), O6 ($5), O7 ($10); C1..C4 with
    # C3 never ordering (test_views' shop).
    assert report["index.html"].headlines == {
        "revenue_usd": "85.00",
        "orders": "5",
        "average_order_value_usd": "17.00",
        "customers": "4",
        "ordering_customers": "3",
    }
    operations = report["operations.html"].headlines
    assert operations["last_run_status"] == "SUCCEEDED"
    assert operations["last_run_seconds"] == "300.0"
    assert operations["dq_score"] == "98.50"  # the worse of run-1's two gates
    assert operations["quarantined"] == operations["last_run_quarantined"] == "1"
    assert report["basket.html"].headlines["min_support"] == str(queries.DEFAULT_MIN_SUPPORT)


def test_every_chart_has_its_figure_and_every_figure_data(report: dict[str, Page]) -> None:
    for file, page in report.items():
        figures = page.data["figures"]
        assert sorted(page.charts) == sorted(figures), file
        for name, figure in figures.items():
            assert figure["data"], f"{file}: {name} has no trace"
    drawn = {file: len(page.charts) for file, page in report.items()}
    assert drawn == {
        "index.html": 2, "products.html": 2, "customers.html": 1, "cohorts.html": 1,
        "clv.html": 0, "rfm.html": 2, "basket.html": 1, "operations.html": 6,
    }  # fmt: skip


def test_a_page_loads_nothing_but_plotly_beside_it(report: dict[str, Page]) -> None:
    pages = {file for file, _ in BUILDERS}
    for file, page in report.items():
        assert page.sources == [PLOTLY_JS], file
        assert set(page.links) <= pages, file


def test_the_lookup_holds_every_customer_of_a_small_shop(report: dict[str, Page]) -> None:
    customers = report["customers.html"].data["customers"]
    assert [c["customer_id"] for c in customers] == [
        "C1",
        "C2",
        "C4",
        "C3",
    ]  # by revenue: $45, $30, $10, none
    assert customers[0]["city"] == "Milan"  # the current version
    assert customers[0]["revenue_usd"] == "$45.00"  # over every version's orders


def test_the_failing_rule_and_the_quality_of_each_table_are_shown(
    report: dict[str, Page],
) -> None:
    figures = report["operations.html"].data["figures"]
    quality = figures["quality"]["data"][0]
    assert quality["y"] == ["fact_order", "orders"] and quality["z"] == [[1.0], [0.5]]
    row = re.search(r"<tr><td>[^<]*</td><td>run-1</td><td>orders</td><td>fresh</td>.*?</tr>",
                    report["operations.html"].text)  # fmt: skip
    assert row is not None and "<td>2 rows</td>" in row.group()


def test_the_report_names_the_pipelines_own_run_row() -> None:
    assert queries.RUN_STEP == RUN_STEP


def test_an_empty_warehouse_gives_every_page(tmp_path: Path) -> None:
    executor = DuckDBExecutor()
    create_warehouse(executor)
    for statement in create_predicted_clv_sql():
        executor.run(statement)
    create_views(executor)
    write_report(executor, tmp_path, ReportOptions(now=NOW))
    pages = read_pages(tmp_path)
    assert pages["index.html"].headlines["revenue_usd"] == "0.00"
    assert pages["operations.html"].headlines["last_run_status"] == ""
    plotly = resources.files("plotly").joinpath("package_data", PLOTLY_JS).read_bytes()
    assert (tmp_path / PLOTLY_JS).read_bytes() == plotly
    for page in pages.values():
        assert sorted(page.charts) == sorted(page.data["figures"])


def test_embedded_text_cannot_close_its_script_element(tmp_path: Path) -> None:
    from ecomdw.warehouse.report.html import embedded_json

    element = embedded_json("x", json.dumps({"name": "</script><script>alert(1)</script>"}))
    assert re.findall(r"</script", element, flags=re.IGNORECASE) == ["</script"]
    assert json.loads(element.split(">", 1)[1].rsplit("<", 1)[0])["name"].startswith("</script")
