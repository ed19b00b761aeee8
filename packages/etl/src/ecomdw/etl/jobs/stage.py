"""Glue job `stage`: raw files of the batch dates -> staged records, quarantine, batch lineage,
and the run's plan: the batch dates the warehouse load will take.

`--raw_uri --processed_uri --batch_dates (YYYY-MM-DD,... | pending) --run_id`. All the dates
are staged in one run, in date order, as Glue job bookmarks would hand them over.
"""

from __future__ import annotations

import datetime as dt
import sys
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn

from ecomdw.core.model import BATCH_LINEAGE, QUARANTINE, RAW_ENTITIES
from ecomdw.core.processed import STAGED, WAREHOUSE
from ecomdw.etl.io import (
    StepSummary,
    finished_batches,
    join_uri,
    mark_finished,
    read_batches,
    read_raw_files,
    write_batches,
    write_run_plan,
)
from ecomdw.etl.jobs.runtime import (
    JobOptions,
    batch_dates,
    job_session,
    raw_batches,
    report_step,
    resolve_options,
)
from ecomdw.etl.pipeline import PENDING_BATCHES, PIPELINE, load_handover
from ecomdw.etl.transforms.stage import (
    batch_counts,
    batch_lineage,
    check_counts,
    parse_raw_files,
    stage,
    staged_columns,
    staged_schema,
)

JOB = "stage"
RAW_SPLIT_BYTES = 64 * 1024 * 1024
CONCURRENT_WRITES = 3


def load_plan(spark: SparkSession, options: JobOptions, batches: list[dt.date]) -> set[dt.date]:
    """The batches this run will load into the warehouse once every step before the load has
    passed: the ones it stages, and, for a `pending` run, those an earlier run (such as the
    Glue workflow's) got ready but did not load."""
    if options.batch_dates.strip() != PENDING_BATCHES:
        return set(batches)
    ready, load = load_handover(PIPELINE)
    processed = options.processed_uri
    waiting = finished_batches(spark, processed, ready) - finished_batches(spark, processed, load)
    return set(batches) | waiting


def run(spark: SparkSession, options: JobOptions) -> None:
    batches = batch_dates(options, spark, lambda: raw_batches(spark, options.raw_uri), JOB)
    write_run_plan(spark, options.processed_uri, options.run_id, load_plan(spark, options, batches))
    if not batches:
        print(f"{JOB}: no batch to stage")
        report_step(spark, options, JOB, StepSummary(0, 0, 0))
        return
    processed = options.processed_uri
    # Raw files are parsed whole, one task per split, and the cached records keep those
    # partitions: 16 MB splits made every later pass over them (counts, quarantine) 263 tasks at
    # 1M orders; 64 MB makes 4 of orders, still enough for each core (stage 93 -> 80 s).
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(RAW_SPLIT_BYTES))
    parsed = {
        e.name: parse_raw_files(read_raw_files(spark, options.raw_uri, e, batches), e)
        for e in RAW_ENTITIES
    }
    staged_before: dict[str, DataFrame] = {
        e.name: read_batches(
            spark, join_uri(processed, STAGED, e.name), staged_schema(e), exclude=batches
        )
        for e in RAW_ENTITIES
        if any(fk.references == e.name for other in RAW_ENTITIES for fk in other.foreign_keys)
    }
    result = stage(parsed, staged_before, options.run_id)
    counts = batch_counts(result).cache()
    check_counts(counts)  # before anything is written: a lost record stops the run
    warehouse = join_uri(processed, WAREHOUSE)
    lineage = batch_lineage(counts, options.run_id, dt.datetime.now(dt.UTC))
    outputs = [
        (result.staged[e.name], join_uri(processed, STAGED, e.name), staged_columns(e), False)
        for e in RAW_ENTITIES
    ] + [
        (result.quarantine, join_uri(warehouse, QUARANTINE.name), QUARANTINE.column_names, True),
        (lineage, join_uri(warehouse, BATCH_LINEAGE.name), BATCH_LINEAGE.column_names, True),
    ]
    # Each write's last tasks leave a core idle; written side by side, the tables fill both.
    with ThreadPoolExecutor(max_workers=CONCURRENT_WRITES) as pool:
        written = [
            pool.submit(write_batches, frame, uri, columns, batches, placeholders=placeholders)
            for frame, uri, columns, placeholders in outputs
        ]
        for done in written:
            done.result()
    measures = ("records_read", "records_loaded", "records_quarantined")
    per_entity = counts.groupBy("entity").agg(*(fn.sum(c).alias(c) for c in measures))
    entities = {row.entity: [int(row[c]) for c in measures] for row in per_entity.collect()}
    for entity, (read, loaded, quarantined) in sorted(entities.items()):
        print(f"{JOB}: {entity}: read {read} = loaded {loaded} + quarantined {quarantined}")
    read, loaded, quarantined = (sum(n[i] for n in entities.values()) for i in range(3))
    detail = {"read_loaded_quarantined": entities}
    summary = StepSummary(read, loaded, quarantined, detail=detail)
    report_step(spark, options, JOB, summary)
    mark_finished(spark, processed, JOB, batches, options.run_id)
    print(f"{JOB}: late arrivals {result.late_arrivals.count()}; batches {len(batches)}")


def main(argv: list[str]) -> None:
    options = resolve_options(argv, needs_raw=True)
    with job_session(options, argv) as spark:
        run(spark, options)


if __name__ == "__main__":
    main(sys.argv)
