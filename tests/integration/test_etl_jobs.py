"""The three Glue job scripts, end to end on local folders, write the processed layout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.etl.jobs import dimensions, facts, stage
from ecomdw.etl.jobs.runtime import resolve_options

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

WRITTEN = {
    "quarantine",
    "batch_lineage",
    "dim_date",
    "dim_customer",
    "dim_product",
    "fact_exchange_rate",
    "fact_order",
    "fact_order_line",
    "fact_payment",
}


def test_the_three_jobs_write_every_table_per_batch(spark: SparkSession, tmp_path: Path) -> None:
    config = GeneratorConfig(customers=30, products=10, orders=40, days=2, defect_rate=0.05)
    generate(config, tmp_path / "raw")
    processed = tmp_path / "processed"
    argv = [
        "job.py",
        "--JOB_NAME",
        "test",
        "--raw_uri",
        str(tmp_path / "raw"),
        "--processed_uri",
        str(processed),
        "--batch_dates",
        "pending",
        "--run_id",
        "r1",
    ]
    stage.run(spark, resolve_options(argv, needs_raw=True))
    dimensions.run(spark, resolve_options(argv))
    facts.run(spark, resolve_options(argv))

    batches = {f"batch={config.batch_date(d).isoformat()}" for d in range(config.days)}
    for table in WAREHOUSE_TABLES:
        if table.name not in WRITTEN:
            continue
        folder = processed / "warehouse" / table.name
        assert {p.name for p in folder.iterdir() if p.is_dir()} == batches, table.name
        columns = pq.read_schema(next(folder.glob("batch=*/*.parquet"))).names
        assert columns == list(table.column_names), table.name
    for job in ("stage", "dimensions", "facts"):
        assert {p.name for p in (processed / "_jobs" / job).iterdir()} >= batches

    before = sorted(p.name for p in processed.rglob("*.parquet"))
    facts.run(spark, resolve_options(argv))  # nothing pending: nothing rewritten
    assert sorted(p.name for p in processed.rglob("*.parquet")) == before
