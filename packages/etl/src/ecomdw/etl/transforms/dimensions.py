"""Dimensions: dim_date, and the change rows of the SCD2 dimensions dim_customer and dim_product.

A batch's folder holds the rows that batch changed, as of that batch: each new version (current,
unless a later version of the same batch supersedes it) and, in the batch of its successor, the
superseded version again with `valid_to` = the successor's `valid_from` and `is_current` false.
MERGEd in batch order on the surrogate key, the folders give the full history.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as fn

from ecomdw.core.model import Entity, Kind

OPEN_END = dt.datetime(9999, 12, 31)
"""`valid_to` of a current version."""
HASH_SEPARATOR = "\x1f"
TIMESTAMP_TEXT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"


def tracked_columns(dimension: Entity) -> list[str]:
    """The columns whose change makes a new version: all but the keys, SCD2 and lineage ones."""
    bookkeeping = {*dimension.key, *dimension.natural_key, "valid_from", "valid_to", "is_current"}
    bookkeeping.add("row_hash")
    bookkeeping |= {"batch_date", "run_id"}
    return [name for name in dimension.column_names if name not in bookkeeping]


def canonical_text(dimension: Entity) -> SparkColumn:
    """The one text `row_hash` hashes: the tracked columns in model order, NULL as empty (the
    contract has no empty strings), timestamps to the microsecond, decimals at their scale,
    booleans true/false, joined by the ASCII unit separator."""
    parts = []
    for name in tracked_columns(dimension):
        value = fn.col(name)
        if dimension.column(name).type.kind is Kind.TIMESTAMP:
            text = fn.date_format(value, TIMESTAMP_TEXT)
        else:
            text = value.cast("string")
        parts.append(fn.coalesce(text, fn.lit("")))
    return fn.concat_ws(HASH_SEPARATOR, *parts)


def row_hash(dimension: Entity) -> SparkColumn:
    return fn.sha2(canonical_text(dimension), 256)


def surrogate_key(dimension: Entity) -> SparkColumn:
    """`model.SURROGATE_KEY`: Spark's xxhash64 of the natural key and valid_from."""
    return fn.xxhash64(*dimension.natural_key, "valid_from")


def scd2_changes(
    records: DataFrame, previous: DataFrame, dimension: Entity, run_id: str
) -> DataFrame:
    """The change rows of `dimension` for the staged `records` of the run's batches.

    `previous` holds the dimension rows earlier runs wrote (any batches, any versions); only
    each natural key's latest version matters. Records are ordered by `updated_at` (ties: the
    later batch, file and line wins); a record starts a version only when its `row_hash` differs
    from the version before it, and one no newer than the latest known version is ignored.
    """
    key = list(dimension.natural_key)
    tracked = tracked_columns(dimension)
    sk = dimension.key[0]
    latest_first = Window.partitionBy(*key).orderBy(fn.col("valid_from").desc())
    known = (
        previous.withColumn("_rank", fn.row_number().over(latest_first))
        .where("_rank = 1")
        .select(
            *key, *tracked, "valid_from", "row_hash", fn.lit(None).cast("date").alias("batch_date")
        )
    )
    same_instant = Window.partitionBy(*key, "updated_at").orderBy(
        fn.col("batch_date").desc(), fn.col("source_file").desc(), fn.col("source_line").desc()
    )
    candidates = (
        records.withColumn("_rank", fn.row_number().over(same_instant))
        .where("_rank = 1")
        .select(*key, *tracked, fn.col("updated_at").alias("valid_from"), "batch_date")
        .withColumn("row_hash", row_hash(dimension))
        .join(known.select(*key, fn.col("valid_from").alias("_known_from")), key, "left")
        .where(fn.col("_known_from").isNull() | (fn.col("valid_from") > fn.col("_known_from")))
        .drop("_known_from")
    )
    history = Window.partitionBy(*key).orderBy("valid_from")
    versions = (
        candidates.unionByName(known)
        .withColumn("_previous_hash", fn.lag("row_hash").over(history))
        .where(
            fn.col("batch_date").isNull()
            | fn.col("_previous_hash").isNull()
            | (fn.col("row_hash") != fn.col("_previous_hash"))
        )
        .withColumn("_next_from", fn.lead("valid_from").over(history))
        .withColumn("_next_batch", fn.lead("batch_date").over(history))
        .withColumn(sk, surrogate_key(dimension))
    )
    new_versions = versions.where(fn.col("batch_date").isNotNull()).withColumn(
        "_superseded_in_batch", fn.col("_next_batch") == fn.col("batch_date")
    )
    created = new_versions.select(
        "*",
        fn.when(fn.col("_superseded_in_batch"), fn.col("_next_from"))
        .otherwise(fn.lit(OPEN_END))
        .alias("valid_to"),
        fn.coalesce(~fn.col("_superseded_in_batch"), fn.lit(True)).alias("is_current"),
    )
    superseded = (
        versions.where(
            fn.col("_next_batch").isNotNull()
            & (fn.col("batch_date").isNull() | (fn.col("_next_batch") != fn.col("batch_date")))
        )
        .select(
            "*",
            fn.col("_next_from").alias("valid_to"),
            fn.lit(False).alias("is_current"),
        )
        .withColumn("batch_date", fn.col("_next_batch"))
    )
    return (
        created.unionByName(superseded, allowMissingColumns=True)
        .withColumn("run_id", fn.lit(run_id))
        .select(*dimension.column_names)
    )


def dim_date(dates: DataFrame, previous: DataFrame) -> DataFrame:
    """dim_date rows of the `full_date`s not in `previous` (earlier dim_date rows), with a
    `batch_date` column saying which batch first saw each (dim_date itself has no lineage)."""
    first_seen = dates.groupBy("full_date").agg(fn.min("batch_date").alias("batch_date"))
    new = first_seen.join(previous.select("full_date"), "full_date", "left_anti")
    day = fn.col("full_date")
    iso_day_of_week = (fn.dayofweek(day) + 5) % 7 + 1
    return new.select(
        (fn.year(day) * 10000 + fn.month(day) * 100 + fn.dayofmonth(day)).alias("date_key"),
        day,
        fn.year(day).cast("smallint").alias("year"),
        fn.quarter(day).cast("smallint").alias("quarter"),
        fn.month(day).cast("smallint").alias("month"),
        fn.date_format(day, "MMMM").alias("month_name"),
        fn.weekofyear(day).cast("smallint").alias("iso_week"),
        fn.dayofmonth(day).cast("smallint").alias("day_of_month"),
        iso_day_of_week.cast("smallint").alias("day_of_week"),
        fn.date_format(day, "EEEE").alias("day_name"),
        (iso_day_of_week >= 6).alias("is_weekend"),
        "batch_date",
    )
