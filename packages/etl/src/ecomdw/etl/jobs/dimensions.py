"""Glue job `dimensions`: staged batches -> dim_date and the SCD2 changes of dim_customer and
dim_product. `--processed_uri --batch_dates (YYYY-MM-DD,... | pending) --run_id`."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn

from ecomdw.core.model import (
    CUSTOMERS,
    DIM_CUSTOMER,
    DIM_DATE,
    DIM_PRODUCT,
    EXCHANGE_RATES,
    ORDERS,
    PAYMENTS,
    PRODUCTS,
    Entity,
)
from ecomdw.core.processed import STAGED, WAREHOUSE
from ecomdw.core.spark_schema import struct_type
from ecomdw.etl.io import (
    StepSummary,
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
from ecomdw.etl.transforms.dimensions import dim_date, scd2_changes
from ecomdw.etl.transforms.stage import staged_schema

JOB = "dimensions"
UPSTREAM = "stage"
SCD2 = ((CUSTOMERS, DIM_CUSTOMER), (PRODUCTS, DIM_PRODUCT))
DATES_SEEN = ((ORDERS, "order_ts"), (PAYMENTS, "created_at"), (EXCHANGE_RATES, "rate_date"))


def run(spark: SparkSession, options: JobOptions) -> None:
    processed = options.processed_uri
    batches = batch_dates(options, spark, lambda: finished_batches(spark, processed, UPSTREAM), JOB)
    if not batches:
        print(f"{JOB}: no batch to process")
        report_step(spark, options, JOB, StepSummary(0, 0))
        return

    def staged(entity: Entity) -> DataFrame:
        # Not cached: each staged entity is read once, and dim_date's reads take one column of
        # the parquet files, where a cache would first hold every column.
        uri = join_uri(processed, STAGED, entity.name)
        return read_batches(spark, uri, staged_schema(entity), only=batches)

    def written_before(table: Entity) -> DataFrame:
        uri = join_uri(processed, WAREHOUSE, table.name)
        return read_batches(spark, uri, struct_type(table), exclude=batches)

    batch_days = spark.createDataFrame([(d, d) for d in batches], "full_date date, batch_date date")
    seen = [
        staged(entity).select(fn.to_date(column).alias("full_date"), "batch_date")
        for entity, column in DATES_SEEN
    ]
    for frame in seen:
        batch_days = batch_days.unionByName(frame)
    outputs = [
        *(
            (
                dimension,
                scd2_changes(staged(raw), written_before(dimension), dimension, options.run_id),
            )
            for raw, dimension in SCD2
        ),
        (DIM_DATE, dim_date(batch_days, written_before(DIM_DATE))),
    ]
    # Side by side: on the dimensions' few rows, most of each write is the driver planning and
    # compiling it while the cores wait.
    with ThreadPoolExecutor(max_workers=len(outputs)) as pool:
        written = {
            table.name: pool.submit(write_warehouse_table, rows, processed, table, batches, JOB)
            for table, rows in outputs
        }
        rows_out = {name: done.result() for name, done in written.items()}
    sources = {e.name: e for e in [*(raw for raw, _ in SCD2), *(e for e, _ in DATES_SEEN)]}
    rows_in = records_staged(spark, processed, sources.values(), batches)
    summary = StepSummary(rows_in, sum(rows_out.values()), detail={"rows_out": rows_out})
    report_step(spark, options, JOB, summary)
    mark_finished(spark, processed, JOB, batches, options.run_id)
    print(f"{JOB}: batches {len(batches)}")


def main(argv: list[str]) -> None:
    options = resolve_options(argv)
    with job_session(options, argv) as spark:
        run(spark, options)


if __name__ == "__main__":
    main(sys.argv)
