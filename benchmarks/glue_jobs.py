"""Glue job run overhead: StartJobRun + GetJobRun polling against the same script run directly.

Both sides run one script with Glue's argv (`--JOB_NAME`, `--JOB_RUN_ID`, `--target`: each run
writes a fresh prefix) and the same environment (`script_run_environment`: Glue 5.0's Python,
Spark's master, S3A and boto3 on the emulator), stdout and stderr to files. The direct side is
`python script.py` timed to its exit; the Glue side is `StartJobRun` timed until `GetJobRun` says
SUCCEEDED, polled every `POLL_SECONDS` as a client would. The difference is what the emulation
adds: reading the script from S3, the run's thread, the CloudWatch Logs upload and the polling.

Runs come in pairs, direct then Glue and Glue then direct by turns, after one unmeasured direct
warm-up (the JVM's first start, the file caches). A small Spark job's time is mostly Spark's
start and the S3A commit, which move with the machine's load by more than the overhead; the
plain script shows the overhead itself. The caption gives the load average at the start.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.table import Table

from ecomdw.core.aws import client
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings, load_settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.emulation.services.glue.jobs import glue_argv, script_run_environment
from ecomdw.emulation.services.glue.runtime import RUNTIMES

POLL_SECONDS = 0.1
BUCKET = "bench-glue"

SPARK_SCRIPT = """
import sys
from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target"])
spark = SparkSession.builder.appName(args["JOB_NAME"]).getOrCreate()
orders = spark.range(1000, numPartitions=1).selectExpr("id as order_id", "id * 1.5 as total")
orders.write.mode("overwrite").parquet(args["target"])
print(f"{args['JOB_RUN_ID']} wrote {orders.count()} orders")
spark.stop()
"""
PLAIN_SCRIPT = """
import sys
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target"])
print(f"{args['JOB_RUN_ID']} would write {args['target']}")
"""
SCRIPTS = {
    # label: (job name, script, pairs of runs)
    "Spark: 1,000 rows to parquet on S3": ("bench-spark", SPARK_SCRIPT, 3),
    "plain Python (no Spark)": ("bench-plain", PLAIN_SCRIPT, 5),
}


def _arguments(name: str, side: str, run: int) -> dict[str, str]:
    return {"--target": f"s3://{BUCKET}/out/{name}/{side}-{run}/"}


def _seconds(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class _Bench:
    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self.glue = client("glue", settings)
        self.s3 = client("s3", settings)

    def deploy(self, name: str, script: str) -> Path:
        """The job `name` in the emulator, and the same script as a local file."""
        source = textwrap.dedent(script).lstrip()
        local = self.workdir / f"{name}.py"
        local.write_text(source)
        self.s3.put_object(Bucket=BUCKET, Key=f"scripts/{name}.py", Body=source.encode())
        self.glue.create_job(
            Name=name,
            Role="arn:aws:iam::123456789012:role/ecomdw-glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/scripts/{name}.py"},
            GlueVersion="5.0",
            ExecutionProperty={"MaxConcurrentRuns": 1},
        )
        return local

    def direct(self, name: str, script: Path, run: int) -> None:
        argv = glue_argv(name, f"direct_{run}", _arguments(name, "direct", run))
        with (
            (self.workdir / "stdout").open("wb") as out,
            (self.workdir / "stderr").open("wb") as err,
        ):
            python = RUNTIMES["5.0"].require()
            environment = script_run_environment(
                self.settings, python=python, py_files=[], jars=[], conf={}, workdir=self.workdir
            )
            subprocess.run(
                [str(python), str(script), *argv],
                cwd=self.workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                check=True,
            )

    def through_glue(self, name: str, run: int) -> None:
        arguments = _arguments(name, "glue", run)
        run_id = self.glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"]
        while True:
            job_run = self.glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
            if job_run["JobRunState"] == "SUCCEEDED":
                return
            if job_run["JobRunState"] not in ("STARTING", "RUNNING"):
                state, error = job_run["JobRunState"], job_run.get("ErrorMessage")
                raise RuntimeError(f"{name}: {state} {error}")
            time.sleep(POLL_SECONDS)

    def timings(self, name: str, script: str, pairs: int) -> tuple[list[float], list[float]]:
        """Seconds of each direct run and each Glue run, in pairs taking turns to go first."""
        local = self.deploy(name, script)
        self.direct(name, local, run=0)  # warm-up: caches, the JVM's first start
        direct: list[float] = []
        glue: list[float] = []
        for run in range(1, pairs + 1):
            pair = [
                (direct, partial(self.direct, name, local, run)),
                (glue, partial(self.through_glue, name, run)),
            ]
            for timings, action in pair if run % 2 else reversed(pair):
                timings.append(_seconds(action))
        return direct, glue


def _median_and_range(timings: list[float]) -> str:
    return f"{statistics.median(timings):.2f}\n({min(timings):.2f}-{max(timings):.2f})"


def run() -> Table:
    load = os.getloadavg()[0]
    results: dict[str, tuple[list[float], list[float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ecomdw-bench-glue-") as home,
        EmbeddedEmulator(home=Path(home)) as emulator,
    ):
        # The settings the emulator's runner uses: the same Spark master and region.
        settings = load_settings(
            env=Environment.LOCAL, endpoint_url=emulator.endpoint, home=Path(home)
        )
        ensure_bucket(BUCKET, settings)
        bench = _Bench(settings, Path(home))
        for label, (name, script, pairs) in SCRIPTS.items():
            results[label] = bench.timings(name, script, pairs)
    table = Table(
        title="Glue job run (StartJobRun, GetJobRun polled) against `python script.py`, seconds",
        caption="median, (min-max); overhead = Glue median - direct median; paired = median of "
        f"(Glue - direct) within each pair; load average {load:.1f} on {os.cpu_count()} CPUs",
    )
    for column in ("script", "runs", "direct", "Glue run", "overhead", "paired", "ratio"):
        if column == "script":
            table.add_column(column, ratio=1)
        else:  # figures whole, the label wraps
            table.add_column(column, justify="right", no_wrap=True)
    for label, (direct, glue) in results.items():
        overhead = statistics.median(glue) - statistics.median(direct)
        paired = statistics.median(g - d for g, d in zip(glue, direct, strict=True))
        table.add_row(
            label,
            str(len(direct)),
            _median_and_range(direct),
            _median_and_range(glue),
            f"{overhead:+.2f}",
            f"{paired:+.2f}",
            f"{statistics.median(glue) / statistics.median(direct):.2f}x",
        )
    return table
