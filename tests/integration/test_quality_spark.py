"""The model's rules on Spark, on small frames: each kind of rule fails exactly when it should,
with the count of rows (or batches) that break it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pyspark.sql.types import DateType, StructField, StructType

from ecomdw.core.model import (
    BIGINT,
    MONEY,
    TIMESTAMP,
    ZERO,
    Column,
    Entity,
    ForeignKey,
    Layer,
    char,
    varchar,
)
from ecomdw.core.quality import RuleResult, rules_for_tables
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.quality import BATCH, evaluate

if TYPE_CHECKING:
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
    freshness_hours=48,
    max_volume_change=3.0,
    columns=(
        Column("sale_id", varchar(8), nullable=False),
        Column("thing_sk", BIGINT, nullable=False),
        Column("status", varchar(8), accepted_values=("paid", "refunded")),
        Column("amount", MONEY, min_value=ZERO),
        Column("code", char(3), pattern="^[A-Z]{3}$"),
        Column("updated_at", TIMESTAMP, nullable=False),
    ),
)
RULES = rules_for_tables((DIM_THING, FACT_SALE))
BATCHES = [dt.date(2026, 3, 1) + dt.timedelta(days=d) for d in range(5)]
CHECKED = BATCHES[3:]


def frame(spark: SparkSession, entity: Entity, rows: list[tuple[Any, ...]]) -> DataFrame:
    schema = StructType([*struct_type(entity).fields, StructField(BATCH, DateType())])
    loose = StructType([StructField(f.name, f.dataType, True) for f in schema.fields])
    return spark.createDataFrame(rows, loose)


def sale(batch: dt.date, sale_id: str | None, **changes: Any) -> tuple[Any, ...]:
    """A clean sale of `batch`: known thing, accepted status, amount >= 0, ISO code, fresh."""
    values: dict[str, Any] = {
        "sale_id": sale_id,
        "thing_sk": 1,
        "status": "paid",
        "amount": Decimal("0.00"),
        "code": "USD",
        "updated_at": dt.datetime.combine(batch, dt.time(12)),
    }
    values |= changes
    return (*values.values(), batch)


def sales(*extra: tuple[Any, ...], last_batch_rows: int = 3) -> list[tuple[Any, ...]]:
    """Three clean sales a day; the same ids every day (a sale changed on several days)."""
    rows = [sale(b, f"s{i}", thing_sk=i + 1) for b in BATCHES[:-1] for i in range(3)]
    rows += [sale(BATCHES[-1], f"s{i}", thing_sk=i % 3 + 1) for i in range(last_batch_rows)]
    return [*rows, *extra]


def failures(spark: SparkSession, sale_rows: list[tuple[Any, ...]]) -> dict[str, RuleResult]:
    frames = {
        "dim_thing": frame(spark, DIM_THING, [(sk, BATCHES[0]) for sk in (1, 2, 3)]),
        "fact_sale": frame(spark, FACT_SALE, sale_rows),
    }
    found = evaluate(RULES, frames, CHECKED, BATCHES)
    assert [r.rule for r in found] == list(RULES)
    return {r.rule.name: r for r in found if not r.passed}


def counts(found: dict[str, RuleResult]) -> dict[str, tuple[int, int]]:
    return {name: (r.failed_count, r.checked_count) for name, r in found.items()}


def test_clean_batches_pass_every_rule(spark: SparkSession) -> None:
    assert failures(spark, sales()) == {}


def test_each_rule_fails_on_its_defect_alone(spark: SparkSession) -> None:
    day = BATCHES[-1]
    stale = dt.datetime.combine(day, dt.time(12)) - dt.timedelta(days=3)
    defects = [
        sale(day, None),  # null key
        sale(day, "dup"),
        sale(day, "dup"),  # the same key twice in a batch
        sale(day, "orphan", thing_sk=999),
        sale(day, "negative", amount=Decimal("-0.01")),
        sale(day, "lost", status="lost"),
        sale(day, "lower", code="usd"),
    ]
    old = [sale(day, f"old{i}", updated_at=stale) for i in range(3)]
    failed = failures(spark, sales(*defects))
    checked_rows = 3 + 3 + len(defects)  # the two checked batches
    assert counts(failed) == {
        "fact_sale.not_null.sale_id": (1, checked_rows),
        "fact_sale.unique.sale_id": (2, checked_rows - 1),
        "fact_sale.relationships.thing_sk": (1, checked_rows),
        "fact_sale.range.amount": (1, checked_rows),
        "fact_sale.accepted_values.status": (1, checked_rows),
        "fact_sale.pattern.code": (1, checked_rows),
        "fact_sale.volume": (1, 2),  # 10 rows on the last day against a mean of 3
    }
    assert "thing_sk=999" in failed["fact_sale.relationships.thing_sk"].detail
    assert "sale_id=dup" in failed["fact_sale.unique.sale_id"].detail
    # a batch whose rows are all older than 48 h at its day's end is stale
    stale_only = [r for r in sales(last_batch_rows=0) if r[-1] != day] + old
    assert counts(failures(spark, stale_only)) == {"fact_sale.freshness.updated_at": (1, 2)}
