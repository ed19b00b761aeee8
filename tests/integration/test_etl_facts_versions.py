"""The dimension version of a fact row on local Spark: the one valid at its time, else the
earliest of its key; versions of one key must not overlap."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

import pytest
from pyspark.sql import Window
from pyspark.sql import functions as fn

from ecomdw.etl.transforms.facts import (
    OverlappingVersionsError,
    check_disjoint_versions,
    version_at,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

T0 = dt.datetime(2026, 1, 1)
OPEN_END = dt.datetime(9999, 12, 31)
DIMENSION = "sk BIGINT, key STRING, valid_from TIMESTAMP, valid_to TIMESTAMP, cost INT"


def hours(n: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def window_version_at(frame: DataFrame, dimension: DataFrame) -> DataFrame:
    """The join to every version and sort by row the lookup replaced, as the reference."""
    versions = dimension.select(
        fn.col("key").alias("_natural_key"), "valid_from", "valid_to", "sk", "cost"
    )
    joined = frame.join(versions, fn.col("key") == fn.col("_natural_key"), "left")
    covers = (fn.col("valid_from") <= fn.col("at")) & (fn.col("at") < fn.col("valid_to"))
    best = Window.partitionBy("row_id").orderBy(covers.desc(), fn.col("valid_from").asc())
    return (
        joined.withColumn("_rank", fn.row_number().over(best))
        .where("_rank = 1")
        .drop("_rank", "_natural_key", "valid_from", "valid_to")
    )


def random_dimension(rng: random.Random) -> list[tuple[int, str, dt.datetime, dt.datetime, int]]:
    """Disjoint versions per key: contiguous ones as the dimensions job writes, some with gaps
    or a closed last version; key k9 has none."""
    rows = []
    for k in range(9):
        start = rng.randrange(0, 50)
        for v in range(rng.randrange(1, 5)):
            end = start + rng.randrange(1, 40)
            closed = v == 3 or rng.random() < 0.1
            rows.append((len(rows), f"k{k}", hours(start), hours(end) if closed else OPEN_END, v))
            start = end + (rng.randrange(1, 10) if rng.random() < 0.3 else 0)
            if not closed:
                break
    return rows


def test_the_lookup_picks_what_the_window_picked(spark: SparkSession) -> None:
    rng = random.Random(7)
    dimension = spark.createDataFrame(random_dimension(rng), DIMENSION)
    check_disjoint_versions(dimension, "key")
    facts = spark.createDataFrame(
        [
            (
                row_id,
                None if rng.random() < 0.05 else f"k{rng.randrange(10)}",
                None if rng.random() < 0.05 else hours(rng.randrange(-5, 200)),
            )
            for row_id in range(2000)
        ],
        "row_id INT, key STRING, at TIMESTAMP",
    )
    found = version_at(facts, dimension, natural_key="key", at="at", wanted=["sk", "cost"])
    assert found.columns == ["row_id", "key", "at", "sk", "cost"]
    assert sorted(found.collect()) == sorted(window_version_at(facts, dimension).collect())


def test_an_order_before_every_version_takes_the_earliest(spark: SparkSession) -> None:
    dimension = spark.createDataFrame(
        [(2, "a", hours(10), OPEN_END, 20), (1, "a", hours(5), hours(10), 10)], DIMENSION
    )
    facts = spark.createDataFrame(
        [(1, "a", hours(0)), (2, "a", hours(5)), (3, "a", hours(10)), (4, "b", hours(10))],
        "row_id INT, key STRING, at TIMESTAMP",
    )
    found = version_at(facts, dimension, natural_key="key", at="at", wanted=["sk"])
    assert sorted((r.row_id, r.sk) for r in found.collect()) == [(1, 1), (2, 1), (3, 2), (4, None)]


@pytest.mark.parametrize(
    "versions",
    [
        [("a", hours(0), hours(10)), ("a", hours(5), OPEN_END)],  # overlap
        [("a", hours(0), hours(0)), ("a", hours(0), OPEN_END)],  # same start
        [("a", hours(0), None)],  # no end
    ],
    ids=["overlap", "same-start", "no-end"],
)
def test_versions_that_are_not_disjoint_fail_loudly(
    spark: SparkSession, versions: list[tuple[str, dt.datetime, dt.datetime | None]]
) -> None:
    rows = [(sk, key, start, end, 0) for sk, (key, start, end) in enumerate(versions)]
    rows.append((99, "b", hours(0), hours(1), 0))
    with pytest.raises(OverlappingVersionsError, match="key"):
        check_disjoint_versions(spark.createDataFrame(rows, DIMENSION), "key")
