"""Facts: exchange rates, order lines, orders and payments, with amounts in USD.

The rate of an amount is the one of its currency on its date in UTC (order date for orders and
their lines, payment date for payments). When that day has no rate, the latest earlier rate of
the currency is used (rates are published on business days; carrying the last one forward is
what a finance team does); with no rate on or before that day `usd_per_unit` stays NULL and the
facts job fails, naming the currency and day, rather than load an amount it cannot convert. A
rate staged again for a day it already had replaces the earlier one. Amounts in USD are the
exact products rounded half up to cents.

Surrogate keys come from the dimension version valid at `order_ts` (`valid_from <= order_ts <
valid_to`); an order older than every version of its customer or product takes the earliest
version. Product cost is that version's `unit_cost`, so a re-priced product does not rewrite
past margins. The versions of a key must not overlap (`check_disjoint_versions`; the
dimensions job's never do): the job fails rather than pick one of two.

A batch re-emits every order it touched (a new status, or lines that arrived late), as of that
batch: the order's latest version staged up to it, with all its lines staged up to it.
Amounts per order: `items_amount_usd` = the lines' net amounts, `discount_amount_usd` = the
order-level discount, `total_amount_usd` = items - discount + shipping.
"""

from __future__ import annotations

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as fn
from pyspark.sql.types import DecimalType

from ecomdw.core.model import (
    FACT_EXCHANGE_RATE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_PAYMENT,
    MONEY,
    PAYMENTS,
)

MONEY_TYPE = DecimalType(MONEY.precision or 18, MONEY.scale or 2)
BATCH = "_batch"
"""The run batch a fact row belongs to (its folder and `batch_date`)."""


def date_key(day: SparkColumn) -> SparkColumn:
    """yyyymmdd of a date or of a timestamp's UTC day, as dim_date's key: integer arithmetic,
    not a formatted string parsed back (3% of the facts job's JVM samples at 1M orders)."""
    return fn.year(day) * 10000 + fn.month(day) * 100 + fn.dayofmonth(day)


def usd(
    amount: SparkColumn, rate: str = "usd_per_unit", *, quantity: SparkColumn | None = None
) -> SparkColumn:
    """`amount` (times `quantity`, when given) converted with `rate`, rounded half up to cents
    once, from the exact product.

    Multiplied as written, quantity (INT: 10 digits) x MONEY (18, 2) x RATE (18, 8) needs 48
    digits, more than Spark's 38, so Spark (`spark.sql.decimalOperations.allowPrecisionLoss`)
    keeps 6 decimals: 1.0049999900 became 1.005000, then 1.01 rather than 1.00. Converting the
    amount first is exact (DECIMAL(37, 10)); kept as DECIMAL(27, 10) it holds any amount below
    10^17 USD, and times the quantity it fits DECIMAL(38, 10). What does not fit there does not
    fit MONEY either (a quantity is at least 1): NULL both ways, as before."""
    converted = amount * fn.col(rate)
    if quantity is not None:
        converted = quantity * converted.cast(DecimalType(27, 10))
    return fn.round(converted, 2).cast(MONEY_TYPE)


def fact_exchange_rate(rates: DataFrame, run_id: str) -> DataFrame:
    return rates.withColumn("run_id", fn.lit(run_id)).select(*FACT_EXCHANGE_RATE.column_names)


def daily_rates(rates: DataFrame) -> DataFrame:
    """Per currency, a row per day from its first rate date to its last one: `_rate_day` and
    `usd_per_unit`, the rate of that day, else the latest earlier one. A (currency, date) staged
    more than once takes its latest staged rate."""
    staged_last = Window.partitionBy("currency", "rate_date").orderBy(
        fn.col("batch_date").desc(), fn.col("source_file").desc(), fn.col("source_line").desc()
    )
    one_per_day = (
        rates.withColumn("_rank", fn.row_number().over(staged_last))
        .where("_rank = 1")
        .select("currency", "rate_date", "usd_per_unit")
    )
    following = Window.partitionBy("currency").orderBy("rate_date")
    next_date = fn.lead("rate_date").over(following)
    return one_per_day.withColumn(
        "_until", fn.coalesce(fn.date_sub(next_date, 1), fn.col("rate_date"))
    ).select(
        "currency",
        fn.explode(fn.sequence(fn.col("rate_date"), fn.col("_until"))).alias("_rate_day"),
        "usd_per_unit",
    )


def with_rate(frame: DataFrame, rates: DataFrame, day: SparkColumn) -> DataFrame:
    """`frame` plus `usd_per_unit`: its currency's rate on `day`, else the latest earlier one.

    Equality joins to small broadcast tables, not every row to every earlier rate: a day after
    the currency's last rate date looks up that date, any other day itself in `daily_rates`."""
    last = rates.groupBy(fn.col("currency").alias("_last_currency")).agg(
        fn.max("rate_date").alias("_last_rate_day")
    )
    dated = (
        frame.withColumn("_day", day)
        .join(fn.broadcast(last), fn.col("currency") == fn.col("_last_currency"), "left")
        .withColumn(
            "_day",
            fn.when(fn.col("_day") > fn.col("_last_rate_day"), fn.col("_last_rate_day")).otherwise(
                fn.col("_day")
            ),
        )
    )
    daily = daily_rates(rates).withColumnRenamed("currency", "_rate_currency")
    return dated.join(
        fn.broadcast(daily),
        (fn.col("currency") == fn.col("_rate_currency")) & (fn.col("_day") == fn.col("_rate_day")),
        "left",
    ).drop("_day", "_last_currency", "_last_rate_day", "_rate_currency", "_rate_day")


class OverlappingVersionsError(ValueError):
    """A dimension whose versions of one natural key overlap: `version_at` would be ambiguous."""


def check_disjoint_versions(dimension: DataFrame, natural_key: str) -> None:
    """Fail unless every version of `dimension` has both bounds and, per `natural_key`, ends
    no later than the next one starts (`valid_to <= ` next `valid_from`, starts all distinct):
    what `version_at` relies on. The SCD2 rows of the dimensions job are so (a superseded
    version ends where its successor starts). One small job over the (small) dimension."""
    history = Window.partitionBy(natural_key).orderBy("valid_from")
    next_from = fn.lead("valid_from").over(history)
    broken = (
        dimension.select(
            natural_key,
            "valid_from",
            "valid_to",
            (
                fn.col("valid_from").isNull()
                | fn.col("valid_to").isNull()
                | (next_from < fn.col("valid_to"))
                | (next_from == fn.col("valid_from"))
            ).alias("_broken"),
        )
        .where("_broken")
        .drop("_broken")
        .limit(5)
        .collect()
    )
    if broken:
        raise OverlappingVersionsError(
            f"versions of one {natural_key} overlap or lack a bound, e.g. "
            + ", ".join(str(row.asDict()) for row in broken)
        )


def version_at(
    frame: DataFrame,
    dimension: DataFrame,
    *,
    natural_key: str,
    at: str,
    wanted: list[str],
) -> DataFrame:
    """`frame` plus the `wanted` columns of the dimension version valid at `at` (else the
    earliest version) of the row's `natural_key`.

    Relies on the versions of a natural key being disjoint (`check_disjoint_versions`), so that
    at most one covers `at`: then it is a lookup in a broadcast of the dimension, the key equal
    and `at` in range, with the key's earliest version (another broadcast) where none covers,
    not every row joined to every version of its key and the frame sorted to pick one."""
    versions = dimension.select(
        fn.col(natural_key).alias("_version_key"),
        fn.col("valid_from").alias("_valid_from"),
        fn.col("valid_to").alias("_valid_to"),
        *(fn.col(name).alias(f"_version_{name}") for name in wanted),
    )
    first = Window.partitionBy(natural_key).orderBy("valid_from")
    earliest = (
        dimension.withColumn("_rank", fn.row_number().over(first))
        .where("_rank = 1")
        .select(
            fn.col(natural_key).alias("_earliest_key"),
            *(fn.col(name).alias(f"_earliest_{name}") for name in wanted),
        )
    )
    covers = (
        (fn.col(natural_key) == fn.col("_version_key"))
        & (fn.col("_valid_from") <= fn.col(at))
        & (fn.col(at) < fn.col("_valid_to"))
    )
    covered = fn.col("_version_key").isNotNull()
    return (
        frame.join(fn.broadcast(versions), covers, "left")
        .join(fn.broadcast(earliest), fn.col(natural_key) == fn.col("_earliest_key"), "left")
        .select(
            *frame.columns,
            *(
                fn.when(covered, fn.col(f"_version_{name}"))
                .otherwise(fn.col(f"_earliest_{name}"))
                .alias(name)
                for name in wanted
            ),
        )
    )


def dimension_state(rows: DataFrame, surrogate_key: str) -> DataFrame:
    """Every version of a dimension as its latest written row (batch folders re-emit them)."""
    latest = Window.partitionBy(surrogate_key).orderBy(fn.col("batch_date").desc())
    return rows.withColumn("_rank", fn.row_number().over(latest)).where("_rank = 1").drop("_rank")


def touched_orders(orders: DataFrame, items: DataFrame, batches: list[str]) -> DataFrame:
    """(order_id, `_batch`): the orders each run batch re-emits, as the latest version staged
    up to that batch. `orders`, `items`: every staged record up to the run's last batch."""
    in_run = fn.col("batch_date").cast("string").isin(batches)
    touched = (
        orders.where(in_run)
        .select("order_id", fn.col("batch_date").alias(BATCH))
        .unionByName(items.where(in_run).select("order_id", fn.col("batch_date").alias(BATCH)))
        .distinct()
    )
    latest = Window.partitionBy("order_id", BATCH).orderBy(
        fn.col("updated_at").desc(),
        fn.col("batch_date").desc(),
        fn.col("source_file").desc(),
        fn.col("source_line").desc(),
    )
    return (
        touched.join(orders, "order_id")
        .where(fn.col("batch_date") <= fn.col(BATCH))
        .withColumn("_rank", fn.row_number().over(latest))
        .where("_rank = 1")
        .drop("_rank", "batch_date", "source_file", "source_line")
    )


def order_lines(
    orders: DataFrame,
    items: DataFrame,
    *,
    rates: DataFrame,
    dim_customer: DataFrame,
    dim_product: DataFrame,
    run_id: str,
) -> DataFrame:
    """fact_order_line rows (plus `_batch`) of the `touched_orders` output `orders`."""
    latest_line = Window.partitionBy("order_id", "line_number", BATCH).orderBy(
        fn.col("batch_date").desc(), fn.col("source_file").desc(), fn.col("source_line").desc()
    )
    order_columns = orders.select(
        "order_id", BATCH, "customer_id", "order_ts", "status", "currency"
    )
    lines = (
        order_columns.join(
            items.select(
                "order_id",
                "line_number",
                "product_id",
                "quantity",
                "unit_price",
                "discount_amount",
                "batch_date",
                "source_file",
                "source_line",
            ),
            "order_id",
        )
        .where(fn.col("batch_date") <= fn.col(BATCH))
        .withColumn("_rank", fn.row_number().over(latest_line))
        .where("_rank = 1")
        .drop("_rank", "batch_date", "source_file", "source_line")
    )
    lines = with_rate(lines, rates, fn.to_date("order_ts"))
    lines = version_at(
        lines,
        dim_customer,
        natural_key="customer_id",
        at="order_ts",
        wanted=["customer_sk"],
    )
    lines = version_at(
        lines,
        dim_product,
        natural_key="product_id",
        at="order_ts",
        wanted=["product_sk", "unit_cost"],
    )
    gross = usd(fn.col("unit_price"), quantity=fn.col("quantity"))
    discount = usd(fn.col("discount_amount"))
    return lines.select(
        "*",
        date_key(fn.col("order_ts")).alias("order_date_key"),
        gross.alias("gross_amount_usd"),
        discount.alias("discount_amount_usd"),
        (gross - discount).cast(MONEY_TYPE).alias("net_amount_usd"),
        fn.round(fn.col("quantity") * fn.col("unit_cost"), 2)
        .cast(MONEY_TYPE)
        .alias("cost_amount_usd"),
        fn.col(BATCH).alias("batch_date"),
        fn.lit(run_id).alias("run_id"),
    ).select(*FACT_ORDER_LINE.column_names, BATCH)


def rated_orders(orders: DataFrame, rates: DataFrame) -> DataFrame:
    """The `touched_orders` output plus `usd_per_unit`, the rate of their order date."""
    return with_rate(orders, rates, fn.to_date("order_ts"))


def order_facts(
    orders: DataFrame,
    lines: DataFrame,
    rates: DataFrame,
    dim_customer: DataFrame,
    run_id: str,
) -> DataFrame:
    """fact_order rows (plus `_batch`) of the `touched_orders` output and its `order_lines`."""
    totals = lines.groupBy("order_id", BATCH).agg(
        fn.count(fn.lit(1)).cast("int").alias("line_count"),
        fn.sum("quantity").cast("int").alias("item_quantity"),
        fn.sum("net_amount_usd").cast(MONEY_TYPE).alias("items_amount_usd"),
    )
    row_key = ["order_id", BATCH]
    facts = version_at(
        rated_orders(orders, rates),
        dim_customer,
        natural_key="customer_id",
        at="order_ts",
        wanted=["customer_sk"],
    )
    zero_money = fn.lit(0).cast(MONEY_TYPE)
    items = fn.coalesce(fn.col("items_amount_usd"), zero_money)
    discount = usd(fn.col("discount_amount"))
    shipping = usd(fn.col("shipping_amount"))
    return (
        facts.join(totals, row_key, "left")
        .select(
            "*",
            date_key(fn.col("order_ts")).alias("order_date_key"),
            discount.alias("discount_amount_usd"),
            shipping.alias("shipping_amount_usd"),
            (items - discount + shipping).cast(MONEY_TYPE).alias("total_amount_usd"),
            fn.col(BATCH).alias("batch_date"),
            fn.lit(run_id).alias("run_id"),
        )
        .withColumn("items_amount_usd", items.cast(MONEY_TYPE))
        .fillna(0, ["line_count", "item_quantity"])
        .select(*FACT_ORDER.column_names, BATCH)
    )


def rated_payments(
    payments: DataFrame,
    orders: DataFrame,
    *,
    rates: DataFrame,
    batches: list[str],
) -> DataFrame:
    """The payments `payment_facts` makes rows of (plus `_batch`), with their order's
    `customer_id` and `order_ts` and the `usd_per_unit` of their day: the run batches'
    payments, and earlier ones whose order first arrived in a run batch. `payments`, `orders`:
    every staged record up to the run's last batch."""
    by_order = Window.partitionBy("order_id")
    order_of = orders.select(
        "order_id",
        "customer_id",
        "order_ts",
        fn.col("batch_date").alias("_order_version_batch"),
        "updated_at",
        fn.min("batch_date").over(by_order).alias("_order_batch"),
    )
    latest_order = Window.partitionBy("payment_id", BATCH).orderBy(
        fn.col("updated_at").desc(), fn.col("_order_version_batch").desc()
    )
    due = (
        payments.join(order_of, "order_id")
        .withColumn(BATCH, fn.greatest("batch_date", "_order_batch"))
        .where(fn.col(BATCH).cast("string").isin(batches))
        .where(fn.col("_order_version_batch") <= fn.col(BATCH))
        .withColumn("_rank", fn.row_number().over(latest_order))
        .where("_rank = 1")
        .select(*PAYMENTS.column_names, "customer_id", "order_ts", BATCH)
    )
    return with_rate(due, rates, fn.to_date("created_at"))


def payment_facts(rated: DataFrame, *, dim_customer: DataFrame, run_id: str) -> DataFrame:
    """fact_payment rows (plus `_batch`) of the `rated_payments` output."""
    facts = version_at(
        rated,
        dim_customer,
        natural_key="customer_id",
        at="order_ts",
        wanted=["customer_sk"],
    )
    return facts.select(
        "*",
        date_key(fn.col("created_at")).alias("payment_date_key"),
        usd(fn.col("amount")).alias("amount_usd"),
    ).select(
        *(c for c in FACT_PAYMENT.column_names if c not in ("batch_date", "run_id")),
        fn.col(BATCH).alias("batch_date"),
        fn.lit(run_id).alias("run_id"),
        BATCH,
    )


def missing_rates(facts: DataFrame, day: str) -> list[tuple[str, str]]:
    """(currency, day) pairs the facts could not convert: no rate on or before the day."""
    rows = (
        facts.where(fn.col("usd_per_unit").isNull())
        .select("currency", fn.to_date(day).cast("string").alias("day"))
        .distinct()
        .collect()
    )
    return sorted((row["currency"], row["day"]) for row in rows)
