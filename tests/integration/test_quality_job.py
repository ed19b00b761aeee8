"""The quality gate job on a generated sample staged by the stage job: it passes with a perfect
score, keeps every result, and stops the run when a processed file is corrupted.

Dimensions and facts are not run here, to keep the test short (Spark on two cores): the
warehouse gate then checks the tables the stage job writes (quarantine, batch lineage) and
finds the others empty; its rules on facts and dimensions are tested on small frames.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import DQ_RESULT, RAW_ENTITIES
from ecomdw.core.quality import rules_for_tables
from ecomdw.etl.jobs import quality, stage
from ecomdw.etl.jobs.runtime import resolve_options
from ecomdw.etl.quality import SCOPES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

CONFIG = GeneratorConfig(customers=20, products=8, orders=30, days=2)
BATCHES = [CONFIG.batch_date(d).isoformat() for d in range(CONFIG.days)]


def argv(processed: Path, raw: Path, run_id: str) -> list[str]:
    return [
        "job.py",
        "--JOB_NAME",
        "test",
        "--raw_uri",
        str(raw),
        "--processed_uri",
        str(processed),
        "--batch_dates",
        ",".join(BATCHES),
        "--run_id",
        run_id,
    ]


@pytest.fixture(scope="module")
def processed(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample through the stage job; the gates have not run on it."""
    root = tmp_path_factory.mktemp("quality")
    generate(CONFIG, root / "raw")
    stage.run(spark, resolve_options(argv(root / "processed", root / "raw", "etl"), needs_raw=True))
    return root / "processed"


def gate(spark: SparkSession, processed: Path, scope: str, run_id: str) -> None:
    quality.run(spark, resolve_options(argv(processed, processed, run_id)), SCOPES[scope])


def dq_result_rows(processed: Path, batch: str) -> pa.Table:
    return pq.read_table(processed / "warehouse" / "dq_result" / f"batch={batch}")


def test_both_gates_pass_the_sample_and_keep_every_result(
    spark: SparkSession, processed: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "processed"
    shutil.copytree(processed, mine)
    gate(spark, mine, "staged", "r1")
    gate(spark, mine, "warehouse", "r1")

    for scope in ("staged", "warehouse"):
        report = json.loads((mine / "quality" / "r1" / f"{scope}.json").read_text())
        assert (report["passed"], report["score"]) == (True, 100.0), report["results"]
        assert set(report["table_scores"].values()) == {100.0}
        assert report["batch_dates"] == BATCHES
        for batch in BATCHES:
            assert (mine / "_jobs" / f"quality_{scope}" / f"batch={batch}").is_dir()
    rules = {r.name for s in SCOPES.values() for r in rules_for_tables(s.tables)}
    for batch in BATCHES:  # both gates' rows, in every batch the warehouse load MERGEs
        rows = dq_result_rows(mine, batch)
        assert rows.column_names == list(DQ_RESULT.column_names)
        assert set(rows.column("rule").to_pylist()) == rules
        assert set(rows.column("run_id").to_pylist()) == {"r1"}


def test_a_corrupted_staged_file_stops_the_run(
    spark: SparkSession, processed: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "processed"
    shutil.copytree(processed, mine)
    files = (mine / "staged" / "orders" / f"batch={BATCHES[-1]}").glob("*.parquet")
    orders_file = max(files, key=lambda f: pq.read_metadata(f).num_rows)
    orders = pq.read_table(orders_file).to_pylist()
    orders[1]["customer_id"] = "nobody"
    corrupted = pa.Table.from_pylist([*orders, orders[0]], pq.read_schema(orders_file))
    pq.write_table(corrupted, orders_file)  # a repeated order, and an order of no customer

    with pytest.raises(quality.QualityGateFailedError) as failed:
        gate(spark, mine, "staged", "r2")

    blocking = {"orders.unique.order_id", "orders.relationships.customer_id"}
    assert all(name in str(failed.value) for name in blocking)
    report = json.loads((mine / "quality" / "r2" / "staged.json").read_text())
    assert (report["passed"], set(report["blocking_failures"])) == (False, blocking)
    assert report["table_scores"]["orders"] < 100.0
    assert not (mine / "_jobs" / "quality_staged").exists()
    kept = dq_result_rows(mine, BATCHES[-1]).to_pylist()
    failed_rules = {r["rule"]: r["failed_count"] for r in kept if not r["passed"]}
    assert failed_rules == {"orders.unique.order_id": 2, "orders.relationships.customer_id": 1}
    assert len(kept) == len(rules_for_tables(RAW_ENTITIES))
