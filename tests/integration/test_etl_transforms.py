"""The dimension and fact transforms on small hand-made frames."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from ecomdw.core.model import CUSTOMERS, DIM_CUSTOMER, DIM_PRODUCT, PRODUCTS, Entity
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.transforms.dimensions import OPEN_END, scd2_changes
from ecomdw.etl.transforms.facts import dimension_state, order_lines, touched_orders
from ecomdw.etl.transforms.stage import staged_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

UTC = dt.UTC
DAY1, DAY2, DAY3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)


def ts(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def staged(spark: SparkSession, entity: Entity, rows: list[dict[str, Any]]) -> DataFrame:
    schema = staged_schema(entity)
    lineage = {"source_file": f"{entity.name}/x.csv"}
    full = [{**lineage, "source_line": i + 2, **row} for i, row in enumerate(rows)]
    return spark.createDataFrame([tuple(r.get(n) for n in schema.names) for r in full], schema)


def customer(day: dt.date, city: str) -> dict[str, Any]:
    return {
        "customer_id": "C1",
        "email": "a@b.io",
        "first_name": "Ada",
        "last_name": "L",
        "country_code": "FR",
        "city": city,
        "signup_ts": ts(DAY1),
        "marketing_opt_in": True,
        "updated_at": ts(day, 9),
        "batch_date": day,
    }


def test_a_moved_customer_gets_a_new_version(spark: SparkSession) -> None:
    records = staged(
        spark,
        CUSTOMERS,
        [customer(DAY1, "Paris"), customer(DAY2, "Paris"), customer(DAY3, "Berlin")],
    )
    previous = spark.createDataFrame([], struct_type(DIM_CUSTOMER))
    rows = scd2_changes(records, previous, DIM_CUSTOMER, "run").collect()
    got = sorted((r.batch_date, r.city, r.valid_from, r.valid_to, r.is_current) for r in rows)
    naive = {d: ts(d, 9).replace(tzinfo=None) for d in (DAY1, DAY3)}
    assert got == [
        (DAY1, "Paris", naive[DAY1], OPEN_END, True),  # as of day 1
        (DAY3, "Berlin", naive[DAY3], OPEN_END, True),
        (DAY3, "Paris", naive[DAY1], naive[DAY3], False),  # superseded by the move
    ]
    paris = {r.customer_sk for r in rows if r.city == "Paris"}
    assert len(paris) == 1 and paris != {r.customer_sk for r in rows if r.city == "Berlin"}
    assert len({r.row_hash for r in rows}) == 2


def product(day: dt.date, price: str, cost: str) -> dict[str, Any]:
    return {
        "product_id": "P1",
        "sku": "SKU-1",
        "product_name": "Mug",
        "category": "Home",
        "subcategory": "Kitchen",
        "brand": "Acme",
        "unit_price": Decimal(price),
        "unit_cost": Decimal(cost),
        "active": True,
        "updated_at": ts(day),
        "batch_date": day,
    }


def dim_product_rows(spark: SparkSession, records: DataFrame) -> DataFrame:
    previous = spark.createDataFrame([], struct_type(DIM_PRODUCT))
    return scd2_changes(records, previous, DIM_PRODUCT, "earlier")


def test_a_repriced_product_supersedes_the_earlier_runs_version(spark: SparkSession) -> None:
    first_run = dim_product_rows(spark, staged(spark, PRODUCTS, [product(DAY1, "10.00", "4.00")]))
    repriced = staged(spark, PRODUCTS, [product(DAY3, "12.00", "5.00")])
    rows = scd2_changes(repriced, first_run, DIM_PRODUCT, "run").collect()
    got = sorted((r.unit_price, r.valid_to, r.is_current, r.batch_date, r.run_id) for r in rows)
    assert got == [
        (Decimal("10.00"), dt.datetime(2026, 1, 3), False, DAY3, "run"),
        (Decimal("12.00"), OPEN_END, True, DAY3, "run"),
    ]
    unchanged = staged(spark, PRODUCTS, [product(DAY3, "10.00", "4.00")])
    assert scd2_changes(unchanged, first_run, DIM_PRODUCT, "run").count() == 0


def priced_line(
    spark: SparkSession,
    *,
    quantity: int = 3,
    unit_price: str = "9.99",
    rates: list[tuple[dt.date, str]] | None = None,
) -> Any:
    """The fact_order_line row of one EUR order on day 2 (at 23:00), with one line of product
    P1 (cost 4.00 then, 5.00 from day 3); EUR rates `(rate_date, usd_per_unit)`, by default
    1.1 on day 1 and 2 on day 3 (none on day 2)."""
    from ecomdw.core.model import EXCHANGE_RATES, ORDER_ITEMS, ORDERS

    orders = staged(
        spark,
        ORDERS,
        [
            {
                "order_id": "O1",
                "customer_id": "C1",
                "order_ts": ts(DAY2, 23),
                "status": "paid",
                "channel": "web",
                "currency": "EUR",
                "shipping_amount": Decimal("5.00"),
                "discount_amount": Decimal("0.00"),
                "updated_at": ts(DAY2, 23),
                "batch_date": DAY2,
            }
        ],
    )
    items = staged(
        spark,
        ORDER_ITEMS,
        [
            {
                "order_id": "O1",
                "line_number": 1,
                "product_id": "P1",
                "quantity": quantity,
                "unit_price": Decimal(unit_price),
                "discount_amount": Decimal("1.00"),
                "batch_date": DAY2,
            }
        ],
    )
    published = [(DAY1, "1.1"), (DAY3, "2")] if rates is None else rates
    staged_rates = staged(
        spark,
        EXCHANGE_RATES,
        [
            {"currency": "EUR", "rate_date": d, "usd_per_unit": Decimal(r), "batch_date": d}
            for d, r in published
        ],
    )
    customers = scd2_changes(
        staged(spark, CUSTOMERS, [customer(DAY1, "Paris")]),
        spark.createDataFrame([], struct_type(DIM_CUSTOMER)),
        DIM_CUSTOMER,
        "run",
    )
    products = dimension_state(  # cost 4.00 at order time; 5.00 only from day 3
        scd2_changes(
            staged(
                spark, PRODUCTS, [product(DAY1, "10.00", "4.00"), product(DAY3, "12.00", "5.00")]
            ),
            spark.createDataFrame([], struct_type(DIM_PRODUCT)),
            DIM_PRODUCT,
            "run",
        ),
        "product_sk",
    )
    touched = touched_orders(orders, items, [DAY2.isoformat()])
    [line] = order_lines(
        touched,
        items,
        rates=staged_rates,
        dim_customer=customers,
        dim_product=products,
        run_id="run",
    ).collect()
    return line


def test_an_order_line_in_usd_with_the_latest_earlier_rate(spark: SparkSession) -> None:
    line = priced_line(spark)  # no EUR rate on day 2: day 1's is used, not day 3's
    assert line.usd_per_unit == Decimal("1.10000000")
    assert line.gross_amount_usd == Decimal("32.97")  # 3 * 9.99 * 1.1 = 32.967
    assert line.discount_amount_usd == Decimal("1.10")
    assert line.net_amount_usd == Decimal("31.87")
    assert line.cost_amount_usd == Decimal("12.00")  # 3 * 4.00, the version valid at order time
    assert line.order_date_key == 20260102
    assert line.batch_date == DAY2


@pytest.mark.parametrize(
    ("quantity", "unit_price", "rate", "cents"),
    [
        (1, "1.00", "1.00499999", "1.00"),  # exactly 1.0049999900; at 6 decimals 1.005000
        (3, "0.35", "0.99523809", "1.04"),  # exactly 1.0449999945; at 6 decimals 1.045000
        (2, "0.25", "1.00999999", "0.50"),  # exactly 0.5049999950; at 6 decimals 0.505000
    ],
)
def test_a_line_amount_is_rounded_to_cents_once_from_the_exact_product(
    spark: SparkSession, quantity: int, unit_price: str, rate: str, cents: str
) -> None:
    """quantity x unit_price x rate would need 48 digits, so Spark keeps the plain product at 6
    decimals (DECIMAL(38, 6)): rounding that to cents rounds twice, 1.0049999900 -> 1.005000
    -> 1.01. The line amount is the exact product rounded half up once."""
    from pyspark.sql import functions as fn

    amounts = spark.createDataFrame(
        [(quantity, Decimal(unit_price), Decimal(rate))],
        "quantity INT, unit_price DECIMAL(18, 2), usd_per_unit DECIMAL(18, 8)",
    )
    plain = fn.col("quantity") * fn.col("unit_price") * fn.col("usd_per_unit")
    assert amounts.select(plain).schema[0].dataType.simpleString() == "decimal(38,6)"

    line = priced_line(spark, quantity=quantity, unit_price=unit_price, rates=[(DAY1, rate)])

    assert line.gross_amount_usd == Decimal(cents)
