"""A processed folder the jobs wrote on local disk loads with the translated COPY, as from S3.

Hadoop's default `file://` file system (a checksummed LocalFileSystem) writes a hidden
`.<name>.crc` beside every file; COPY reads every file under a prefix, as Redshift's does, and
DuckDB fails on a `.crc` that is no parquet. The jobs' Spark writes local output raw instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.core.processed import batch_folder, warehouse_prefix
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.io import finished_batches, mark_finished, write_batches
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse, load_batch

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.duckdb, pytest.mark.slow]

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
TABLE = next(t for t in WAREHOUSE_TABLES if t.name == "fact_exchange_rate")
ROWS = [
    ("EUR", D1, Decimal("1.08000000"), D1, "r1"),
    ("GBP", D1, Decimal("1.27000000"), D1, "r1"),
    ("EUR", D2, Decimal("1.09000000"), D2, "r1"),
]


@pytest.mark.parametrize("scheme", ["", "file://"])
def test_local_output_of_a_job_loads_with_copy(
    spark: SparkSession, tmp_path: Path, scheme: str
) -> None:
    processed = tmp_path / "processed"
    root = f"{scheme}{processed}"
    frame = spark.createDataFrame(ROWS, struct_type(TABLE))
    write_batches(frame, f"{root}/{warehouse_prefix(TABLE.name)}", TABLE.column_names, [D1, D2])
    mark_finished(spark, root, "facts", [D1, D2], "r1")

    executor = DuckDBExecutor()
    try:
        create_warehouse(executor)
        for day in (D1, D2):
            assert load_batch(executor, str(processed), day) == [TABLE.name]
        loaded = executor.run(f"SELECT * FROM {TABLE.name} ORDER BY rate_date, currency")
    finally:
        executor.close()
    assert loaded is not None
    assert loaded.rows == sorted(ROWS, key=lambda r: (r[1], r[0]))

    # No checksum files anywhere, and the markers the jobs write directly still read back.
    written = sorted(p.relative_to(processed).as_posix() for p in processed.rglob("*"))
    assert not [name for name in written if name.endswith(".crc")], written
    assert finished_batches(spark, root, "facts") == {D1, D2}
    for day in (D1, D2):
        folder = processed / batch_folder(warehouse_prefix(TABLE.name), day)
        assert [p.suffix for p in folder.iterdir()] == [".parquet"]
