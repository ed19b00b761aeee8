"""Integration fixtures: the session's Spark with its `s3://` pointed at the session's emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ecomdw.core.aws import spark_s3_conf
from ecomdw.core.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def s3_spark(spark: SparkSession, emulator_endpoint: str) -> SparkSession:
    """The one test Spark, its S3A settings those `spark_s3_conf` gives for the emulator.

    The session may already be running, so the `spark.hadoop.*` settings are applied to its
    Hadoop configuration rather than passed at start.
    """
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in spark_s3_conf(Settings(endpoint_url=emulator_endpoint)).items():
        hadoop.set(key.removeprefix("spark.hadoop."), value)
    return spark
