"""What every job script shares: its arguments, its Spark (and Glue's Job when in Glue), and
which batch dates it is to process."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from ecomdw.core.contract import BATCH_PARTITION
from ecomdw.core.errors import UserError
from ecomdw.core.metrics import NAMESPACE, QUARANTINED, ROWS_IN, ROWS_OUT, step_metrics
from ecomdw.core.model import RAW_ENTITIES
from ecomdw.etl.io import (
    StepSummary,
    batch_dates_under,
    finished_batches,
    join_uri,
    write_step_summary,
)
from ecomdw.etl.pipeline import PENDING_BATCHES

GLUE_CONTEXT_CLASS = "com.amazonaws.services.glue.GlueContext"
JOB_ARGUMENTS = ["JOB_NAME", "processed_uri", "batch_dates"]
ENVIRONMENT_ARGUMENT = "ecomdw-env"
"""The environment the job is deployed in (its DefaultArguments): the metrics' dimension."""
RUN_ID_ARGUMENTS = ("run_id", "WORKFLOW_RUN_ID")
"""Where a job's run id comes from: the pipeline run's, else the Glue workflow run's (a job the
workflow started); else it is the job run's own id."""


@dataclass(frozen=True)
class JobOptions:
    job_name: str
    processed_uri: str
    batch_dates: str  # comma-separated YYYY-MM-DD, or `pending`
    run_id: str
    raw_uri: str = ""
    environment: str | None = None  # None: a job run outside a deployment publishes no metric


def resolve_options(argv: list[str], *, needs_raw: bool = False) -> JobOptions:
    """The job's `--key value` arguments, read the way Glue reads them."""
    from awsglue.utils import getResolvedOptions

    given = [name for name in RUN_ID_ARGUMENTS if f"--{name}" in argv]
    deployed = [ENVIRONMENT_ARGUMENT] if f"--{ENVIRONMENT_ARGUMENT}" in argv else []
    names = [*JOB_ARGUMENTS, *(["raw_uri"] if needs_raw else []), *given, *deployed]
    resolved = getResolvedOptions(argv, names)
    run_id = next((resolved[name] for name in given), resolved.get("JOB_RUN_ID"))
    if not run_id:
        raise UserError(f"{resolved['JOB_NAME']}: no --run_id, and no Glue run id to use")
    return JobOptions(
        job_name=resolved["JOB_NAME"],
        processed_uri=resolved["processed_uri"],
        batch_dates=resolved["batch_dates"],
        run_id=str(run_id),
        raw_uri=resolved.get("raw_uri", ""),
        environment=resolved.get(ENVIRONMENT_ARGUMENT.replace("-", "_")),
    )


def _spark() -> SparkSession:
    """The script's Spark: the one Glue or spark-submit started, else a local one."""
    launched = "PYSPARK_GATEWAY_PORT" in os.environ or "PYSPARK_SUBMIT_ARGS" in os.environ
    if launched:
        session = SparkSession.builder.getOrCreate()
    else:
        from ecomdw.etl.spark import local_spark

        session = local_spark(
            "ecomdw-job", master=os.environ.get("ECOMDW_SPARK_MASTER", "local[*]")
        )
    session.conf.set("spark.sql.session.timeZone", "UTC")
    # Cached frames held as plain columns: to choose an encoding Spark first builds a hash map
    # of every string column's values per batch of 10,000 rows, which took 30% of the stage
    # job's JVM samples (JFR, 1M orders); the caches are read a few times each and then dropped.
    session.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
    # No _SUCCESS objects: Redshift COPY reads every object under a prefix.
    hadoop: Any = session.sparkContext._jsc.hadoopConfiguration()
    hadoop.set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
    # A task's commit moves its files into the batch folders, which a rerun deletes first.
    # With algorithm 1 a job killed between task and job commit leaves committed tasks under
    # `_temporary/0/`, and the rerun's job commit into the same table merges them with its own:
    # every row of that table twice.
    hadoop.set("mapreduce.fileoutputcommitter.algorithm.version", "2")
    return session


def in_glue(spark: SparkSession) -> bool:
    """True when Glue's JVM classes are on the driver: only then may GlueContext be used."""
    jvm: Any = spark.sparkContext._jvm
    try:
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        jvm.java.lang.Class.forName(GLUE_CONTEXT_CLASS, False, loader)
    except Exception:  # py4j's Py4JJavaError wrapping ClassNotFoundException
        return False
    return True


@contextmanager
def job_session(options: JobOptions, argv: list[str]) -> Iterator[SparkSession]:
    """Spark for the job's body; in Glue also `Job.init` before and `Job.commit` after it."""
    spark = _spark()
    if not in_glue(spark):
        yield spark
        return
    from awsglue.context import GlueContext
    from awsglue.job import Job

    glue = GlueContext(spark.sparkContext)
    job = Job(glue)
    job.init(options.job_name, {"JOB_NAME": options.job_name})
    yield glue.spark_session
    job.commit()


def batch_dates(
    options: JobOptions, spark: SparkSession, upstream: Callable[[], set[dt.date]], job: str
) -> list[dt.date]:
    """The dates named by `--batch_dates`; `pending`: upstream's batches this job has not
    finished yet."""
    if options.batch_dates.strip() != PENDING_BATCHES:
        return sorted({dt.date.fromisoformat(d.strip()) for d in options.batch_dates.split(",")})
    return sorted(upstream() - finished_batches(spark, options.processed_uri, job))


def raw_batches(spark: SparkSession, raw_uri: str) -> set[dt.date]:
    """Every batch date with a folder of any raw entity."""
    found: set[dt.date] = set()
    for entity in RAW_ENTITIES:
        found |= batch_dates_under(spark, join_uri(raw_uri, entity.name), BATCH_PARTITION)
    return found


def report_step(spark: SparkSession, options: JobOptions, step: str, summary: StepSummary) -> None:
    """The step's summary for its `pipeline_run` row, and its metrics for CloudWatch (rows in
    and out, quarantined, a gate's score), published before a gate decides, so a failing
    gate's score reaches its alarm. A metric that cannot be published does not fail the job."""
    write_step_summary(spark, options.processed_uri, options.run_id, step, summary)
    if options.environment is None:
        return
    counts = {
        ROWS_IN: summary.rows_in,
        ROWS_OUT: summary.rows_out,
        QUARANTINED: summary.quarantined,
    }
    data = step_metrics(options.environment, step, counts, summary.dq_score)
    try:
        import boto3

        boto3.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)
    except Exception as error:  # the job's work is done; a metric is not worth failing it
        print(f"{step}: metrics not published: {error}")
