"""The jobs' edges: listing batches, reading raw files and processed batches, writing batches.

Roots are local folders, `file://` or `s3://` URIs; every listing goes through Hadoop's
FileSystem so that all three behave alike, in local Spark and in Glue.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as fn
from pyspark.sql.types import BinaryType, LongType, StringType, StructField, StructType

from ecomdw.core.contract import BATCH_PARTITION, extension
from ecomdw.core.model import BATCH_LINEAGE, Entity
from ecomdw.core.processed import (
    BATCH_FOLDER,
    JOB_MARKERS,
    WAREHOUSE,
    job_marker_key,
    run_plan_key,
    run_step_key,
)

RAW_FILES_SCHEMA = StructType(
    [StructField("path", StringType(), False), StructField("content", BinaryType(), True)]
)


def join_uri(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def _file_system(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    path = _hadoop_path(spark, uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def batch_dates_under(spark: SparkSession, uri: str, partition: str = BATCH_FOLDER) -> set[dt.date]:
    """The dates of the `<partition>=YYYY-MM-DD` folders directly under `uri` (none if absent)."""
    fs, path = _file_system(spark, uri)
    if not fs.exists(path):
        return set()
    pattern = re.compile(rf"{partition}=(\d{{4}}-\d{{2}}-\d{{2}})")
    found = set()
    for status in fs.listStatus(path):
        match = pattern.fullmatch(status.getPath().getName())
        if status.isDirectory() and match:
            found.add(dt.date.fromisoformat(match.group(1)))
    return found


def content_bytes(spark: SparkSession, uri: str) -> int:
    """Bytes of every file under `uri` (0 when it does not exist)."""
    fs, path = _file_system(spark, uri)
    return int(fs.getContentSummary(path).getLength()) if fs.exists(path) else 0


def read_raw_files(
    spark: SparkSession, raw_uri: str, entity: Entity, batches: Iterable[dt.date]
) -> DataFrame:
    """Whole raw files (`path`, `content`) of `entity` in `batches`; names starting with `_` or
    `.` are skipped (Spark's rule, and the contract reader's)."""
    folder = join_uri(raw_uri, entity.name)
    wanted = batch_dates_under(spark, folder, BATCH_PARTITION) & set(batches)
    paths = [join_uri(folder, f"{BATCH_PARTITION}={d.isoformat()}") for d in sorted(wanted)]
    if not paths:
        return spark.createDataFrame([], RAW_FILES_SCHEMA)
    return (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", f"*.{extension(entity)}")
        .load(paths)
        .select("path", "content")
    )


def read_batches(
    spark: SparkSession,
    uri: str,
    schema: StructType,
    *,
    only: Iterable[dt.date] | None = None,
    exclude: Iterable[dt.date] = (),
) -> DataFrame:
    """The parquet batch folders under `uri` (`only` those, or all but `exclude`), as `schema`."""
    wanted = batch_dates_under(spark, uri) - set(exclude)
    if only is not None:
        wanted &= set(only)
    if not wanted:
        return spark.createDataFrame([], schema)
    paths = [join_uri(uri, f"{BATCH_FOLDER}={d.isoformat()}") for d in sorted(wanted)]
    return spark.read.schema(schema).parquet(*paths).select(*schema.fieldNames())


def write_batches(
    frame: DataFrame,
    uri: str,
    columns: Iterable[str],
    batches: Iterable[dt.date],
    *,
    placeholders: bool = False,
) -> None:
    """Replace the folders of `batches` under `uri` by `columns` of `frame`, one folder per
    `batch_date`; every row's `batch_date` is one of `batches`.

    The folders are deleted, then the rows appended: a batch that now has no rows loses its old
    folder too, and the commit moves each file once (a dynamic partition overwrite moves it
    twice, and on S3 a move is a copy and a delete). A job killed in between has not marked its
    batches finished, so its rerun replaces them again. Rows are gathered by folder first: one
    file per folder, not one per Spark partition.

    With `placeholders`, each batch without rows gets a folder with one empty parquet file: the
    warehouse COPYs every table's folder of a batch, and Redshift COPY fails on a prefix with
    no objects.
    """
    spark = frame.sparkSession
    days = set(batches)
    fs, _ = _file_system(spark, uri)
    for day in sorted(batch_dates_under(spark, uri) & days):
        fs.delete(_hadoop_path(spark, _batch_folder(uri, day)), True)
    chosen = list(columns)
    (
        frame.withColumn(BATCH_FOLDER, fn.date_format("batch_date", "yyyy-MM-dd"))
        .select(*chosen, BATCH_FOLDER)
        .repartition(BATCH_FOLDER)
        .write.mode("append")
        .partitionBy(BATCH_FOLDER)
        .parquet(uri)
    )
    missing = sorted(days - batch_dates_under(spark, uri)) if placeholders else []
    if not missing:
        return
    # Spark writes the empty file once; the other folders get copies, not a Spark job each.
    folders = [_batch_folder(uri, day) for day in missing]
    empty = spark.createDataFrame([], frame.select(*chosen).schema).coalesce(1)
    empty.write.mode("overwrite").parquet(folders[0])
    files = [
        status.getPath()
        for status in fs.listStatus(_hadoop_path(spark, folders[0]))
        if status.isFile() and not status.getPath().getName().startswith(("_", "."))
    ]
    jvm: Any = spark.sparkContext._jvm
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for folder in folders[1:]:
        for file in files:
            target = _hadoop_path(spark, join_uri(folder, file.getName()))
            jvm.org.apache.hadoop.fs.FileUtil.copy(fs, file, fs, target, False, hadoop)


def write_warehouse_table(
    frame: DataFrame,
    processed_uri: str,
    table: Entity,
    batches: Iterable[dt.date],
    job: str,
) -> int:
    """`write_batches` of `table`'s columns into its warehouse folder (with placeholders), and
    `<job>: <table>: N rows` printed, counted as written (an `Observation`), not in a 2nd pass:
    the rows written."""
    counted = Observation(f"{job}_{table.name}")
    observed = frame.observe(counted, fn.count(fn.lit(1)).alias("rows"))
    uri = join_uri(processed_uri, WAREHOUSE, table.name)
    write_batches(observed, uri, table.column_names, batches, placeholders=True)
    rows = int(counted.get.get("rows", 0))
    print(f"{job}: {table.name}: {rows} rows")
    return rows


@dataclass(frozen=True)
class StepSummary:
    """What a job's run read and wrote, for the run's records (`pipeline_run`): the state
    machine reads it back from `run_step_key` once the job has succeeded."""

    rows_in: int | None = None
    rows_out: int | None = None
    quarantined: int | None = None
    dq_score: float | None = None
    detail: Mapping[str, object] = field(default_factory=dict)


def write_step_summary(
    spark: SparkSession, processed_uri: str, run_id: str, step: str, summary: StepSummary
) -> None:
    _write_json(spark, join_uri(processed_uri, run_step_key(run_id, step)), asdict(summary))


def records_staged(
    spark: SparkSession, processed_uri: str, entities: Iterable[Entity], batches: Iterable[dt.date]
) -> int:
    """Records of `entities` the stage loaded in `batches`, from the batch lineage it wrote:
    what a job reading those staged batches takes in, without counting them again."""
    lineage = read_batches(
        spark,
        join_uri(processed_uri, WAREHOUSE, BATCH_LINEAGE.name),
        StructType(
            [StructField("entity", StringType()), StructField("records_loaded", LongType())]
        ),
        only=batches,
    )
    names = [entity.name for entity in entities]
    total = lineage.where(fn.col("entity").isin(names)).agg(fn.sum("records_loaded")).first()
    return int(total[0] or 0) if total else 0


def _batch_folder(uri: str, day: dt.date) -> str:
    return join_uri(uri, f"{BATCH_FOLDER}={day.isoformat()}")


def _hadoop_path(spark: SparkSession, uri: str) -> Any:
    jvm: Any = spark.sparkContext._jvm
    return jvm.org.apache.hadoop.fs.Path(uri)


def finished_batches(spark: SparkSession, processed_uri: str, job: str) -> set[dt.date]:
    return batch_dates_under(spark, join_uri(processed_uri, JOB_MARKERS, job))


def write_run_plan(
    spark: SparkSession, processed_uri: str, run_id: str, batches: Iterable[dt.date]
) -> None:
    """The run's batch dates, for the warehouse load (`run_plan_key`), written directly."""
    _write_json(
        spark,
        join_uri(processed_uri, run_plan_key(run_id)),
        sorted(d.isoformat() for d in set(batches)),
    )


def _write_json(spark: SparkSession, uri: str, value: object) -> None:
    fs, path = _file_system(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(json.dumps(value).encode()))
    finally:
        stream.close()


def mark_finished(
    spark: SparkSession, processed_uri: str, job: str, batches: Iterable[dt.date], run_id: str
) -> None:
    """Record that `job` finished `batches` (after all its output is written): a small JSON
    object per batch folder, written directly rather than by a Spark job."""
    for day in sorted(set(batches)):
        marker = {"batch_date": day.isoformat(), "run_id": run_id}
        _write_json(spark, join_uri(processed_uri, job_marker_key(job, day.isoformat())), marker)
