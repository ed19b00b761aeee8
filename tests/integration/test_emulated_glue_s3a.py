"""Spark reads and writes `s3://` in the emulator, as a Glue job does on AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.etl import spark as spark_module

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]


def test_spark_writes_parquet_that_boto3_and_pyarrow_read_back(
    s3_spark: SparkSession, local_settings: Settings
) -> None:
    ensure_bucket("spark-s3a", local_settings)
    rows = [(1, "one"), (2, "two"), (3, "three")]
    s3_spark.createDataFrame(rows, "id int, name string").write.parquet("s3://spark-s3a/out/")

    listed = client("s3", local_settings).list_objects_v2(Bucket="spark-s3a", Prefix="out/")
    keys = [item["Key"] for item in listed["Contents"]]
    assert "out/_SUCCESS" in keys
    assert any(key.endswith(".parquet") for key in keys)

    table = pq.read_table("spark-s3a/out", filesystem=s3_filesystem(local_settings))
    assert sorted(zip(table["id"].to_pylist(), table["name"].to_pylist(), strict=True)) == rows


def test_spark_reads_what_boto3_put(s3_spark: SparkSession, local_settings: Settings) -> None:
    ensure_bucket("spark-s3a", local_settings)
    client("s3", local_settings).put_object(
        Bucket="spark-s3a", Key="in/orders.csv", Body=b"order_id,total\n7,10.5\n8,4.5\n"
    )
    frame = s3_spark.read.option("header", True).csv("s3://spark-s3a/in/")
    assert sorted(row.order_id for row in frame.collect()) == ["7", "8"]


def test_missing_s3a_jars_are_one_line_saying_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    spark_module.s3a_jars.cache_clear()
    monkeypatch.setattr(spark_module.importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(spark_module.S3AJarsMissingError) as caught:
            spark_module.spark_conf()
        assert "\n" not in str(caught.value)
        assert "uv sync" in str(caught.value)
    finally:
        monkeypatch.undo()
        spark_module.s3a_jars.cache_clear()
    assert all(jar.is_file() for jar in spark_module.s3a_jars())
