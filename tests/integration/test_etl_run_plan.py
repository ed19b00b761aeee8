"""The batches a run loads: named ones as given; `pending` also takes what an earlier run (the
Glue workflow's, at 02:00) got ready for the warehouse and did not load."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.processed import run_plan_key
from ecomdw.etl.io import mark_finished, write_run_plan
from ecomdw.etl.jobs.runtime import JobOptions
from ecomdw.etl.jobs.stage import load_plan

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

D1, D2, D3 = (dt.date(2026, 1, day) for day in (1, 2, 3))


def options(processed: Path, batch_dates: str) -> JobOptions:
    return JobOptions("stage", str(processed), batch_dates, "r1", raw_uri="")


def test_pending_adds_the_batches_ready_for_the_load_and_not_loaded(
    spark: SparkSession, tmp_path: Path
) -> None:
    processed = tmp_path / "processed"
    mark_finished(spark, str(processed), "quality_warehouse", [D1, D2], "workflow-run")
    mark_finished(spark, str(processed), "load_warehouse", [D1], "earlier-run")

    assert load_plan(spark, options(processed, "pending"), [D3]) == {D2, D3}
    assert load_plan(spark, options(processed, "2026-01-03"), [D3]) == {D3}
    assert load_plan(spark, options(tmp_path / "empty", "pending"), []) == set()


def test_the_plan_is_a_json_array_where_the_state_machine_reads_it(
    spark: SparkSession, tmp_path: Path
) -> None:
    write_run_plan(spark, str(tmp_path), "r1", {D2, D1})
    assert json.loads((tmp_path / run_plan_key("r1")).read_text()) == ["2026-01-01", "2026-01-02"]
