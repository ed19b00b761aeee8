"""The gate's cheaper passes give the results of the plain ones: rules read from parquet (where
row-group statistics skip clean batches) count as on frames in memory, foreign keys to one
parent key share a join but keep their own results, and keys that cannot be hashed safely are
counted exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pyspark.sql import functions as fn
from pyspark.sql.types import DateType, DoubleType, StructField, StructType

from ecomdw.core.model import BIGINT, MONEY, ZERO, Column, Entity, ForeignKey, Layer, varchar
from ecomdw.core.quality import RuleResult, rules_for_tables
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.quality import BATCH, evaluate, read_table

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

DIM_THING = Entity(
    name="dim_thing",
    layer=Layer.DIMENSION,
    key=("thing_sk",),
    columns=(Column("thing_sk", BIGINT, nullable=False),),
)
FACT_SALE = Entity(
    name="fact_sale",
    layer=Layer.FACT,
    key=("sale_id",),
    foreign_keys=(ForeignKey(("thing_sk",), "dim_thing", ("thing_sk",)),),
    columns=(
        Column("sale_id", varchar(8), nullable=False),
        Column("thing_sk", BIGINT, nullable=False),
        Column("amount", MONEY, nullable=False, min_value=ZERO),
    ),
)
FACT_RETURN = Entity(
    name="fact_return",
    layer=Layer.FACT,
    key=("return_id",),
    foreign_keys=(ForeignKey(("returned_sk",), "dim_thing", ("thing_sk",)),),
    columns=(
        Column("return_id", varchar(8), nullable=False),
        Column("returned_sk", BIGINT, nullable=False),
    ),
)
ENTITIES = (DIM_THING, FACT_SALE, FACT_RETURN)
RULES = rules_for_tables(ENTITIES)
BATCHES = [dt.date(2026, 3, 1) + dt.timedelta(days=d) for d in range(4)]


def rows() -> dict[str, list[tuple[Any, ...]]]:
    """Clean batches but the last: a null amount, a negative one, a repeated sale, a sale and a
    return of no thing."""
    last = BATCHES[-1]
    sales = [(f"s{i}", i % 3 + 1, Decimal("1.00"), d) for d in BATCHES for i in range(4)]
    sales += [
        ("null", 1, None, last),
        ("neg", 2, Decimal("-0.50"), last),
        ("s0", 1, Decimal("2.00"), last),
        ("orphan", 99, Decimal("1.00"), last),
    ]
    returns = [(f"r{i}", i + 1, d) for d in BATCHES for i in range(2)]
    returns.append(("lost", 77, last))
    return {
        "dim_thing": [(sk, BATCHES[0]) for sk in (1, 2, 3)],
        "fact_sale": sales,
        "fact_return": returns,
    }


def with_batch(entity: Entity) -> StructType:
    schema = StructType([*struct_type(entity).fields, StructField(BATCH, DateType())])
    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


def in_memory(spark: SparkSession) -> dict[str, DataFrame]:
    return {e.name: spark.createDataFrame(rows()[e.name], with_batch(e)) for e in ENTITIES}


def from_parquet(spark: SparkSession, root: Path) -> dict[str, DataFrame]:
    """Each table written one parquet file per batch folder, as the jobs write them, and read
    back as the gate reads it."""
    frames = {}
    for entity in ENTITIES:
        uri = str(root / entity.name)
        (
            in_memory(spark)[entity.name]
            .withColumn(BATCH, fn.date_format(BATCH, "yyyy-MM-dd"))
            .repartition(BATCH)
            .write.partitionBy(BATCH)
            .parquet(uri)
        )
        frames[entity.name] = read_table(spark, uri, struct_type(entity), BATCHES)
    return frames


def by_name(results: list[RuleResult]) -> dict[str, tuple[int, int]]:
    return {r.rule.name: (r.checked_count, r.failed_count) for r in results}


def test_parquet_statistics_skip_no_broken_row(spark: SparkSession, tmp_path: Path) -> None:
    checked = BATCHES[1:]
    found = evaluate(RULES, from_parquet(spark, tmp_path), checked, BATCHES)
    assert found == evaluate(RULES, in_memory(spark), checked, BATCHES)
    failed = {n: c for n, c in by_name(found).items() if c[1]}
    sales = 3 * 4 + 4
    assert failed == {
        "fact_sale.not_null.amount": (sales, 1),
        "fact_sale.range.amount": (sales, 1),
        "fact_sale.unique.sale_id": (sales, 2),
        "fact_sale.relationships.thing_sk": (sales, 1),
        "fact_return.relationships.returned_sk": (3 * 2 + 1, 1),
    }
    details = {r.rule.name: r.detail for r in found}
    assert "amount=-0.50" in details["fact_sale.range.amount"]
    assert "thing_sk=99" in details["fact_sale.relationships.thing_sk"]
    assert "returned_sk=77" in details["fact_return.relationships.returned_sk"]


def test_children_of_one_parent_key_keep_their_own_results(spark: SparkSession) -> None:
    frames = in_memory(spark)
    frames["fact_sale"] = frames["fact_sale"].where(fn.col("sale_id") != "orphan")
    found = by_name(evaluate(RULES, frames, BATCHES, BATCHES))
    assert found["fact_sale.relationships.thing_sk"] == (4 * 4 + 3, 0)
    assert found["fact_return.relationships.returned_sk"] == (4 * 2 + 1, 1)


def test_a_key_of_floats_is_counted_exactly(spark: SparkSession) -> None:
    """-0.0 and 0.0 group together but hash apart: such a key skips the hashes."""
    schema = StructType([StructField("thing_sk", DoubleType()), StructField(BATCH, DateType())])
    things = spark.createDataFrame([(0.0, BATCHES[0]), (-0.0, BATCHES[0])], schema)
    rules = rules_for_tables((DIM_THING,))
    found = by_name(evaluate(rules, {"dim_thing": things}, BATCHES[:1], BATCHES[:1]))
    assert found["dim_thing.unique.thing_sk"] == (2, 2)
