"""The jobs' batch folders on emulated S3: replaced whole, one file each, markers per batch."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.etl.io import finished_batches, mark_finished, write_batches

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
BUCKET = "etl-io"


def _objects(settings: Settings, prefix: str) -> list[str]:
    listed = client("s3", settings).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"].removeprefix(prefix) for o in listed.get("Contents", []))


def _folders(settings: Settings, prefix: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in _objects(settings, prefix):
        folder, _, name = key.partition("/")
        if key.startswith("_") or name.startswith("_"):  # the test Spark writes _SUCCESS
            continue
        counts[folder] = counts.get(folder, 0) + 1
    return counts


def test_batches_are_replaced_whole_and_others_kept(
    s3_spark: SparkSession, local_settings: Settings
) -> None:
    ensure_bucket(BUCKET, local_settings)
    uri = f"s3://{BUCKET}/t"
    schema = "id int, batch_date date"
    rows = [(i, day) for day in (D1, D2, D3) for i in range(20)]
    frame = s3_spark.createDataFrame(rows, schema).repartition(4)
    write_batches(frame, uri, ["id"], [D1, D2, D3])
    # One file per folder, however many Spark partitions held its rows.
    assert _folders(local_settings, "t/") == {f"batch={d}": 1 for d in (D1, D2, D3)}

    # D2 now has no rows: its old folder goes; D3 is not among the batches: it stays.
    write_batches(s3_spark.createDataFrame([(7, D1)], schema), uri, ["id"], [D1, D2])
    assert _folders(local_settings, "t/") == {"batch=2026-01-01": 1, "batch=2026-01-03": 1}
    assert sorted(r.id for r in s3_spark.read.parquet(uri).collect()) == sorted([7, *range(20)])

    # With placeholders a batch without rows keeps an empty file for Redshift COPY.
    write_batches(s3_spark.createDataFrame([], schema), uri, ["id"], [D1, D2], placeholders=True)
    assert _folders(local_settings, "t/") == {f"batch={d}": 1 for d in (D1, D2, D3)}
    assert s3_spark.read.parquet(f"{uri}/batch={D2}").count() == 0
    assert s3_spark.read.parquet(f"{uri}/batch={D1}").columns == ["id"]


def test_finished_batches_are_marked_per_batch(
    s3_spark: SparkSession, local_settings: Settings
) -> None:
    ensure_bucket(BUCKET, local_settings)
    processed = f"s3://{BUCKET}/processed"
    mark_finished(s3_spark, processed, "stage", [D1, D2], "run-1")
    mark_finished(s3_spark, processed, "stage", [D2, D3], "run-2")
    assert finished_batches(s3_spark, processed, "stage") == {D1, D2, D3}
    assert finished_batches(s3_spark, processed, "facts") == set()
    body = client("s3", local_settings).get_object(
        Bucket=BUCKET, Key="processed/_jobs/stage/batch=2026-01-02/finished.json"
    )["Body"]
    assert b'"run-2"' in body.read()
