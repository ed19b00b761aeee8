"""The facts job on local folders: row counts as written, and no write without every rate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.etl.jobs import dimensions, facts, stage
from ecomdw.etl.jobs.runtime import resolve_options

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

FACTS = ("fact_exchange_rate", "fact_order_line", "fact_order", "fact_payment")


def staged_run(tmp_path: Path, spark: SparkSession) -> list[str]:
    """Stage and dimensions run on a small generated raw tree; the argv for the facts job."""
    generate(GeneratorConfig(customers=30, products=10, orders=60, days=3), tmp_path / "raw")
    argv = [
        "job.py",
        "--JOB_NAME",
        "test",
        "--raw_uri",
        str(tmp_path / "raw"),
        "--processed_uri",
        str(tmp_path / "processed"),
        "--batch_dates",
        "pending",
        "--run_id",
        "r1",
    ]
    stage.run(spark, resolve_options(argv, needs_raw=True))
    dimensions.run(spark, resolve_options(argv))
    return argv


def test_the_printed_counts_are_the_rows_written(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = staged_run(tmp_path, spark)
    capsys.readouterr()
    facts.run(spark, resolve_options(argv))
    printed = capsys.readouterr().out
    for table in FACTS:
        rows = pq.read_table(tmp_path / "processed" / "warehouse" / table).num_rows
        assert rows > 0, table
        assert f"facts: {table}: {rows} rows" in printed


def test_an_amount_without_a_rate_fails_the_job_before_any_write(
    spark: SparkSession, tmp_path: Path
) -> None:
    argv = staged_run(tmp_path, spark)
    processed = tmp_path / "processed"
    orders = pq.read_table(processed / "staged" / "orders")
    currency = str(pc.min(pc.drop_null(orders["currency"])))
    for file in (processed / "staged" / "exchange_rates").glob("batch=*/*.parquet"):
        rates = pq.read_table(file)
        pq.write_table(rates.filter(pc.not_equal(rates["currency"], currency)), file)

    with pytest.raises(facts.MissingRateError, match=currency):
        facts.run(spark, resolve_options(argv))
    for table in FACTS:
        assert not (processed / "warehouse" / table).exists(), table
    assert not (processed / "_jobs" / "facts").exists()
