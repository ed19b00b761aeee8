"""Job runs on a warm Spark driver stay apart: nothing one run sets or leaves reaches the next,
runs that overlap take drivers of their own, and a run that crashes or is stopped leaves a
driver the next run can use (or a new one, when the driver itself died)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
import uuid
from typing import Any

import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.services.glue.arguments import OUTPUT_LOG_GROUP

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation, pytest.mark.spark]

BUCKET = "glue-warm"
LEAVES = """
import json, sys
from pyspark.sql import SparkSession
from pyspark.sql.functions import udf

spark = SparkSession.builder.getOrCreate()
sc = spark.sparkContext
spark.conf.set("spark.sql.shuffle.partitions", "3")
spark.conf.set("ecomdw.left.behind", "yes")
sc._jsc.hadoopConfiguration().set("ecomdw.left.behind", "yes")
spark.range(10).createOrReplaceTempView("left_view")
spark.range(10).createOrReplaceGlobalTempView("left_global_view")
spark.udf.register("left_udf", lambda x: x + 1, "long")
spark.sql("CREATE DATABASE IF NOT EXISTS left_db")
spark.range(5).write.saveAsTable("left_db.left_table")
cached = spark.range(1000).cache()
cached.count()
spark.range(3).rdd.persist().count()
shared = sc.broadcast(list(range(100)))
import builtins
builtins.LEFT_BEHIND = "yes"  # Python state: of this process alone anyway
run_of = lambda x: __import__("os").environ.get("ECOMDW_JOB_RUN_ID")  # noqa: E731
marker = spark.range(2).rdd.map(run_of).collect()
print(json.dumps({"broadcast": shared._jbroadcast.id(), "worker_runs": sorted(set(marker))}))
spark.stop()  # a script that stops its Spark must not stop the driver
"""
FINDS = """
import builtins, json, os, sys, time
from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

broadcast = int(getResolvedOptions(sys.argv, ["broadcast"])["broadcast"])
spark = SparkSession.builder.getOrCreate()
sc = spark.sparkContext
jvm = sc._jvm
names = [table.name for table in spark.catalog.listTables()]
global_names = [table.name for table in spark.catalog.listTables("global_temp")]
functions = [f.name for f in spark.catalog.listFunctions() if f.name == "left_udf"]
persisted = sc._jsc.getPersistentRDDs().size()
worker_runs = sorted(set(
    spark.range(2).rdd.map(lambda x: __import__("os").environ.get("ECOMDW_JOB_RUN_ID")).collect()
))
blocks = jvm.org.apache.spark.SparkEnv.get().blockManager()
block = jvm.org.apache.spark.storage.BroadcastBlockId(broadcast, "")
for _ in range(50):  # nothing holds it: Spark's cleaner drops it after a collection
    if not blocks.getStatus(block).isDefined():
        break
    jvm.java.lang.System.gc()
    time.sleep(0.2)
print(json.dumps({
    "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
    "sql_conf": spark.conf.get("ecomdw.left.behind", None),
    "hadoop_conf": sc._jsc.hadoopConfiguration().get("ecomdw.left.behind"),
    "views": names,
    "global_views": global_names,
    "functions": functions,
    "databases": [db.name for db in spark.catalog.listDatabases()],
    "persisted_rdds": persisted,
    "cached_storage": len(sc._jsc.sc().getRDDStorageInfo()),
    "python_state": getattr(builtins, "LEFT_BEHIND", None),
    "worker_runs": worker_runs,
    "broadcast_kept": blocks.getStatus(block).isDefined(),
    "warm_driver": os.environ.get("ECOMDW_WARM_DRIVER"),
}))
"""


def deploy(settings: Settings, script: str, **job: Any) -> str:
    name = f"warm-{uuid.uuid4().hex[:8]}"
    ensure_bucket(BUCKET, settings)
    client("s3", settings).put_object(
        Bucket=BUCKET, Key=f"jobs/{name}.py", Body=textwrap.dedent(script).encode()
    )
    client("glue", settings).create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/ecomdw-glue",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/jobs/{name}.py"},
        GlueVersion="5.0",
        **job,
    )
    return name


def run(settings: Settings, name: str, within: float = 240, **request: Any) -> dict[str, Any]:
    glue = client("glue", settings)
    run_id = glue.start_job_run(JobName=name, **request)["JobRunId"]
    return wait(settings, name, run_id, within)


def wait(settings: Settings, name: str, run_id: str, within: float = 240) -> dict[str, Any]:
    glue = client("glue", settings)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found: dict[str, Any] = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if found["JobRunState"] not in {"STARTING", "RUNNING", "STOPPING"}:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{name} still running after {within} s")


def printed(settings: Settings, job_run: dict[str, Any]) -> dict[str, Any]:
    events = client("logs", settings).get_log_events(
        logGroupName=OUTPUT_LOG_GROUP, logStreamName=job_run["Id"]
    )["events"]
    (line,) = [e["message"] for e in events if e["message"].startswith("{")]
    found: dict[str, Any] = json.loads(line)
    return found


@pytest.mark.slow
def test_nothing_a_run_sets_or_leaves_reaches_the_next(local_settings: Settings) -> None:
    leaves, finds = deploy(local_settings, LEAVES), deploy(local_settings, FINDS)
    before = printed(local_settings, run(local_settings, finds, Arguments={"--broadcast": "0"}))

    first = run(local_settings, leaves)
    assert first["JobRunState"] == "SUCCEEDED", first.get("ErrorMessage")
    left = printed(local_settings, first)
    assert left["worker_runs"] == [first["Id"]]  # its Python workers were its own
    found = run(local_settings, finds, Arguments={"--broadcast": str(left["broadcast"])})
    after = printed(local_settings, found)
    assert after["warm_driver"] == found["Id"]  # on a warm driver, as the run before

    assert before["shuffle_partitions"] == after["shuffle_partitions"] != "3"
    assert after["sql_conf"] is None
    assert after["hadoop_conf"] is None
    assert after["views"] == [] and after["global_views"] == []
    assert after["functions"] == []
    assert "left_db" not in after["databases"]
    assert after["persisted_rdds"] == 0 and after["cached_storage"] == 0
    assert after["python_state"] is None
    assert after["worker_runs"] != left["worker_runs"]
    assert after["broadcast_kept"] is False


@pytest.mark.slow
def test_overlapping_runs_take_drivers_of_their_own(local_settings: Settings) -> None:
    name = deploy(
        local_settings,
        """
        import json, os, time
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        spark.conf.set("ecomdw.run", os.environ.get("ECOMDW_WARM_DRIVER", "cold"))
        gateway = os.environ.get("PYSPARK_GATEWAY_PORT")
        time.sleep(3)
        print(json.dumps({"gateway": gateway, "mine": spark.conf.get("ecomdw.run")}))
        """,
        ExecutionProperty={"MaxConcurrentRuns": 2},
    )
    glue = client("glue", local_settings)
    ids = [glue.start_job_run(JobName=name)["JobRunId"] for _ in range(2)]
    runs = [wait(local_settings, name, run_id) for run_id in ids]

    assert [r["JobRunState"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"]
    seen = [printed(local_settings, r) for r in runs]
    assert [s["mine"] for s in seen] == ids  # each saw its own setting
    gateways = [s["gateway"] for s in seen]
    assert None not in gateways and gateways[0] != gateways[1]  # on two warm drivers


@pytest.mark.slow
def test_a_crashed_or_stopped_run_leaves_a_driver_the_next_run_can_use(
    local_settings: Settings,
) -> None:
    crashes = deploy(
        local_settings,
        """
        import os
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        spark.range(10).count()
        os._exit(3)  # dies without a word, its Spark work half done
        """,
    )
    hangs = deploy(
        local_settings,
        """
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        spark.range(1).rdd.map(lambda x: __import__("time").sleep(600)).count()
        """,
    )
    finds = deploy(local_settings, FINDS, DefaultArguments={"--broadcast": "0"})

    crashed = run(local_settings, crashes)
    assert crashed["JobRunState"] == "FAILED"
    found = run(local_settings, finds)
    assert found["JobRunState"] == "SUCCEEDED"
    assert printed(local_settings, found)["warm_driver"] == found["Id"]

    glue = client("glue", local_settings)
    started = glue.start_job_run(JobName=hangs)["JobRunId"]
    time.sleep(8)  # its Spark job is running in the driver
    glue.batch_stop_job_run(JobName=hangs, JobRunIds=[started])
    assert wait(local_settings, hangs, started)["JobRunState"] == "STOPPED"
    after = run(local_settings, finds, within=120)
    assert after["JobRunState"] == "SUCCEEDED", after.get("ErrorMessage")
    assert printed(local_settings, after)["warm_driver"] == after["Id"]


@pytest.mark.slow
def test_a_driver_that_died_is_replaced(local_settings: Settings) -> None:
    name = deploy(
        local_settings,
        """
        import json, os
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        jvm_pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
        warm = os.environ.get("ECOMDW_WARM_DRIVER")
        print(json.dumps({"jvm": jvm_pid, "rows": spark.range(5).count(), "warm": warm}))
        """,
    )
    ran = run(local_settings, name)
    first = printed(local_settings, ran)
    assert first["warm"] == ran["Id"]
    os.kill(first["jvm"], signal.SIGKILL)
    again = run(local_settings, name)
    assert again["JobRunState"] == "SUCCEEDED", again.get("ErrorMessage")
    second = printed(local_settings, again)
    assert second["rows"] == 5 and second["jvm"] != first["jvm"]
    assert second["warm"] == again["Id"]  # on a new warm driver
