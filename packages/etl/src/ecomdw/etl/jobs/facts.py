"""Glue job `facts`: staged batches and dimensions -> fact_exchange_rate, fact_order_line,
fact_order and fact_payment in USD. `--processed_uri --batch_dates (... | pending) --run_id`.

Reads every staged batch up to the run's last one: an order touched now may have lines or an
earlier version from any batch before.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn

from ecomdw.core.model import (
    DIM_CUSTOMER,
    DIM_PRODUCT,
    EXCHANGE_RATES,
    FACT_EXCHANGE_RATE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_PAYMENT,
    ORDER_ITEMS,
    ORDERS,
    PAYMENTS,
    Entity,
)
from ecomdw.core.processed import STAGED, WAREHOUSE
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.io import (
    StepSummary,
    batch_dates_under,
    finished_batches,
    join_uri,
    mark_finished,
    read_batches,
    records_staged,
    write_warehouse_table,
)
from ecomdw.etl.jobs.runtime import (
    JobOptions,
    batch_dates,
    job_session,
    report_step,
    resolve_options,
)
from ecomdw.etl.transforms.facts import (
    BATCH,
    check_disjoint_versions,
    dimension_state,
    fact_exchange_rate,
    missing_rates,
    order_facts,
    order_lines,
    payment_facts,
    rated_orders,
    rated_payments,
    touched_orders,
)
from ecomdw.etl.transforms.stage import staged_schema

JOB = "facts"
CONCURRENT_WRITES = 2
UPSTREAM = "dimensions"
SOURCES = (ORDERS, ORDER_ITEMS, PAYMENTS, EXCHANGE_RATES)


class MissingRateError(RuntimeError):
    """An amount in a currency with no rate on or before its day: it cannot be put in USD."""


def run(spark: SparkSession, options: JobOptions) -> None:
    processed = options.processed_uri
    batches = batch_dates(options, spark, lambda: finished_batches(spark, processed, UPSTREAM), JOB)
    if not batches:
        print(f"{JOB}: no batch to process")
        report_step(spark, options, JOB, StepSummary(0, 0))
        return
    last = max(batches)

    def staged(entity: Entity) -> DataFrame:
        uri = join_uri(processed, STAGED, entity.name)
        up_to_last = {d for d in batch_dates_under(spark, uri) if d <= last}
        return read_batches(spark, uri, staged_schema(entity), only=up_to_last)

    def dimension(table: Entity) -> DataFrame:
        rows = read_batches(spark, join_uri(processed, WAREHOUSE, table.name), struct_type(table))
        return dimension_state(rows, table.key[0]).cache()

    # Cached: what several facts read (staged orders and items are read again instead, only
    # the columns each use needs; caching them cost more than the parquet scans).
    names = [d.isoformat() for d in batches]
    rates = staged(EXCHANGE_RATES).cache()
    orders, items, payments = staged(ORDERS), staged(ORDER_ITEMS), staged(PAYMENTS)
    customers, products = dimension(DIM_CUSTOMER), dimension(DIM_PRODUCT)
    check_disjoint_versions(customers, "customer_id")
    check_disjoint_versions(products, "product_id")
    touched = touched_orders(orders, items, names).cache()
    lines = order_lines(
        touched,
        items,
        rates=rates,
        dim_customer=customers,
        dim_product=products,
        run_id=options.run_id,
    )
    payments_due = rated_payments(payments, orders, rates=rates, batches=names).cache()
    # fact_order has the rows, currencies and rates of `touched`, fact_payment those of
    # `payments_due`: checked there, before any write.
    unconverted = {
        FACT_ORDER.name: missing_rates(rated_orders(touched, rates), "order_ts"),
        FACT_PAYMENT.name: missing_rates(payments_due, "created_at"),
    }
    if any(unconverted.values()):
        raise MissingRateError(f"no USD rate on or before: {unconverted}")

    rows_out: dict[str, int] = {}

    def write(table: Entity, frame: DataFrame) -> None:
        rows_out[table.name] = write_warehouse_table(frame, processed, table, batches, JOB)

    # Written side by side, so that one table's last tasks do not leave a core idle; fact_order
    # sums the lines, so it waits for them.
    with ThreadPoolExecutor(max_workers=CONCURRENT_WRITES) as pool:
        rates_written = pool.submit(
            write,
            FACT_EXCHANGE_RATE,
            fact_exchange_rate(
                rates.where(rates.batch_date.cast("string").isin(names)), options.run_id
            ),
        )
        payments_written = pool.submit(
            write,
            FACT_PAYMENT,
            payment_facts(payments_due, dim_customer=customers, run_id=options.run_id),
        )
        write(FACT_ORDER_LINE, lines)
        # The order totals sum the lines just written, read back (a few columns of parquet)
        # rather than computed again or cached.
        written_lines = read_batches(
            spark,
            join_uri(processed, WAREHOUSE, FACT_ORDER_LINE.name),
            struct_type(FACT_ORDER_LINE),
            only=batches,
        ).withColumn(BATCH, fn.col("batch_date"))
        write(FACT_ORDER, order_facts(touched, written_lines, rates, customers, options.run_id))
        rates_written.result()
        payments_written.result()
    rows_in = records_staged(spark, processed, SOURCES, batches)
    summary = StepSummary(rows_in, sum(rows_out.values()), detail={"rows_out": rows_out})
    report_step(spark, options, JOB, summary)
    mark_finished(spark, processed, JOB, batches, options.run_id)


def main(argv: list[str]) -> None:
    options = resolve_options(argv)
    with job_session(options, argv) as spark:
        run(spark, options)


if __name__ == "__main__":
    main(sys.argv)
