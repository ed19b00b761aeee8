"""The rate of a fact on local Spark: its currency's on the day, else the latest earlier one."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.model import EXCHANGE_RATES
from ecomdw.etl.transforms.facts import missing_rates, with_rate
from ecomdw.etl.transforms.stage import staged_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

D = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(12)]


def rates_frame(spark: SparkSession, rows: list[tuple[str, dt.date, str, dt.date]]) -> DataFrame:
    """Staged exchange rates: (currency, rate_date, usd_per_unit, batch_date)."""
    return spark.createDataFrame(
        [
            (currency, day, Decimal(rate), batch, f"exchange_rates/{batch}.csv", line + 2)
            for line, (currency, day, rate, batch) in enumerate(rows)
        ],
        staged_schema(EXCHANGE_RATES),
    )


def facts_frame(
    spark: SparkSession, rows: Sequence[tuple[int, str, dt.datetime | None]]
) -> DataFrame:
    return spark.createDataFrame(rows, "row_id INT, currency STRING, created_at TIMESTAMP")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def rates_of(facts: DataFrame, rates: DataFrame) -> dict[int, Decimal | None]:
    from pyspark.sql import functions as fn

    rated = with_rate(facts, rates, fn.to_date("created_at")).collect()
    assert len(rated) == facts.count()  # one row out per row in, never a row per candidate
    return {row.row_id: row.usd_per_unit for row in rated}


def test_a_day_takes_its_rate_else_the_latest_earlier_one(spark: SparkSession) -> None:
    rates = rates_frame(
        spark,
        [  # EUR: gaps of one and two days; GBP: starts later, one gap of three days
            ("EUR", D[1], "1.10", D[1]),
            ("EUR", D[3], "1.30", D[3]),
            ("EUR", D[6], "1.60", D[6]),
            ("GBP", D[2], "1.20", D[2]),
            ("GBP", D[6], "1.25", D[6]),
        ],
    )
    facts = facts_frame(
        spark,
        [
            (1, "EUR", at(D[0], 23)),  # before EUR's first rate: none
            (2, "EUR", at(D[1], 0)),  # its own day
            (3, "EUR", at(D[2])),  # a day without a rate: the day before's
            (4, "EUR", at(D[5], 23)),  # two days after D3: still D3's
            (5, "EUR", at(D[6])),
            (6, "EUR", at(D[11])),  # after EUR's last rate, and after every rate: the last
            (7, "GBP", at(D[1])),  # EUR has a rate that day, GBP none yet
            (8, "GBP", at(D[3])),
            (9, "GBP", at(D[5])),
            (10, "GBP", at(D[8])),
            (11, "JPY", at(D[4])),  # a currency without any rate
            (12, "EUR", None),  # no day: no rate
            (13, "EUR", at(D[2])),  # two rows on one day both get it
        ],
    )

    got = rates_of(facts, rates)

    rate = {
        text: Decimal(text).quantize(Decimal("1E-8"))
        for text in ("1.1", "1.3", "1.6", "1.2", "1.25")
    }
    assert got == {
        1: None,
        2: rate["1.1"],
        3: rate["1.1"],
        4: rate["1.3"],
        5: rate["1.6"],
        6: rate["1.6"],
        7: None,
        8: rate["1.2"],
        9: rate["1.2"],
        10: rate["1.25"],
        11: None,
        12: None,
        13: rate["1.1"],
    }
    rated = with_rate(facts, rates, facts["created_at"].cast("date"))
    assert missing_rates(rated.where("created_at IS NOT NULL"), "created_at") == [
        ("EUR", D[0].isoformat()),
        ("GBP", D[1].isoformat()),
        ("JPY", D[4].isoformat()),
    ]


def test_a_rate_staged_again_takes_the_latest_staged_value(spark: SparkSession) -> None:
    rates = rates_frame(
        spark,
        [("EUR", D[1], "1.10", D[1]), ("EUR", D[1], "1.15", D[2]), ("EUR", D[4], "1.40", D[4])],
    )
    facts = facts_frame(spark, [(1, "EUR", at(D[1])), (2, "EUR", at(D[3])), (3, "EUR", at(D[4]))])

    assert rates_of(facts, rates) == {
        1: Decimal("1.15000000"),
        2: Decimal("1.15000000"),
        3: Decimal("1.40000000"),
    }


def test_random_days_get_the_rate_the_definition_gives(spark: SparkSession) -> None:
    """Against the definition itself: the rate of the latest rate date on or before the day."""
    pick = random.Random(11)
    published: dict[tuple[str, dt.date], str] = {}
    for currency in ("EUR", "GBP", "CHF"):
        for day in pick.sample(D[2:10], pick.randint(1, 5)):
            published[currency, day] = f"{pick.randint(1, 300) / 100:.2f}"
    rows = [(i, pick.choice(["EUR", "GBP", "CHF", "SEK"]), at(pick.choice(D))) for i in range(300)]
    rates = rates_frame(spark, [(c, d, r, d) for (c, d), r in published.items()])

    def expected(currency: str, when: dt.datetime) -> Decimal | None:
        earlier = [d for c, d in published if c == currency and d <= when.date()]
        if not earlier:
            return None
        return Decimal(published[currency, max(earlier)]).quantize(Decimal("1E-8"))

    got = rates_of(facts_frame(spark, rows), rates)

    assert got == {i: expected(currency, when) for i, currency, when in rows}
