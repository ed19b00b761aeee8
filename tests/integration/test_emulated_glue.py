"""Glue job runs in the emulator execute their scripts, with Glue's states, logs and limits."""

from __future__ import annotations

import io
import json
import os
import textwrap
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.services.glue.arguments import ERROR_LOG_GROUP, OUTPUT_LOG_GROUP
from ecomdw.emulation.services.glue.jobs import MINUTE_SECONDS_VARIABLE

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]

SCRIPTS_BUCKET = "glue-scripts"
DATA_BUCKET = "glue-data"
FINAL_STATES = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"}


def deploy_job(settings: Settings, name: str, script: str, **job: Any) -> None:
    """Upload `script` to the scripts bucket and create a Glue job that runs it."""
    ensure_bucket(SCRIPTS_BUCKET, settings)
    client("s3", settings).put_object(
        Bucket=SCRIPTS_BUCKET, Key=f"jobs/{name}.py", Body=textwrap.dedent(script).encode()
    )
    client("glue", settings).create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/ecomdw-glue",
        Command={
            "Name": "glueetl",
            "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/jobs/{name}.py",
            "PythonVersion": "3",
        },
        GlueVersion="5.0",
        **job,
    )


def wait_for_run(settings: Settings, name: str, run_id: str, within: float = 120) -> Any:
    glue = client("glue", settings)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] in FINAL_STATES:
            return run
        time.sleep(0.1)
    raise AssertionError(f"{name} run {run_id} still {run['JobRunState']} after {within}s")


def log_messages(settings: Settings, group: str, run_id: str) -> list[str]:
    events = client("logs", settings).get_log_events(logGroupName=group, logStreamName=run_id)
    return [event["message"] for event in events["events"]]


@pytest.mark.spark
@pytest.mark.slow
def test_job_reads_csv_from_s3_and_writes_parquet(local_settings: Settings) -> None:
    ensure_bucket(DATA_BUCKET, local_settings)
    client("s3", local_settings).put_object(
        Bucket=DATA_BUCKET, Key="raw/orders.csv", Body=b"order_id,total\n1,10.5\n2,4.25\n"
    )
    deploy_job(
        local_settings,
        "csv-to-parquet",
        """
        import sys
        from awsglue.utils import getResolvedOptions
        from pyspark.sql import SparkSession

        args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
        spark = SparkSession.builder.appName(args["JOB_NAME"]).getOrCreate()
        orders = spark.read.option("header", True).csv(args["source"])
        typed = orders.selectExpr("cast(order_id as int) order_id", "cast(total as double) total")
        typed.write.mode("overwrite").parquet(args["target"])
        print(f"run {args['JOB_RUN_ID']} of {args['JOB_NAME']} wrote {typed.count()} orders")
        """,
        DefaultArguments={
            "--source": f"s3://{DATA_BUCKET}/raw/",
            "--target": f"s3://{DATA_BUCKET}/overridden-by-the-run/",
        },
    )

    run_id = client("glue", local_settings).start_job_run(
        JobName="csv-to-parquet", Arguments={"--target": f"s3://{DATA_BUCKET}/processed/orders/"}
    )["JobRunId"]
    run = wait_for_run(local_settings, "csv-to-parquet", run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["ExecutionTime"] >= 1
    assert run["CompletedOn"] >= run["StartedOn"]
    assert run["Arguments"]["--target"] == f"s3://{DATA_BUCKET}/processed/orders/"
    table = pq.read_table(
        f"{DATA_BUCKET}/processed/orders", filesystem=s3_filesystem(local_settings)
    )
    assert sorted(table.to_pylist(), key=lambda row: row["order_id"]) == [
        {"order_id": 1, "total": 10.5},
        {"order_id": 2, "total": 4.25},
    ]
    output = log_messages(local_settings, OUTPUT_LOG_GROUP, run_id)
    assert f"run {run_id} of csv-to-parquet wrote 2 orders" in output


@pytest.mark.spark
@pytest.mark.slow
def test_a_dynamic_partition_overwrite_replaces_the_partitions_it_writes_only(
    local_settings: Settings,
) -> None:
    """Writes go straight to their destination (as Glue's EMRFS committer writes), yet
    `partitionOverwriteMode=dynamic` still replaces each partition written and keeps the rest."""
    ensure_bucket(DATA_BUCKET, local_settings)
    deploy_job(
        local_settings,
        "dynamic-overwrite",
        """
        import sys
        from awsglue.utils import getResolvedOptions
        from pyspark.sql import SparkSession

        target = getResolvedOptions(sys.argv, ["target"])["target"]
        spark = SparkSession.builder.getOrCreate()
        for rows in ([("a", 1), ("a", 2), ("b", 3)], [("a", 10)]):
            (
                spark.createDataFrame(rows, "day string, n int")
                .write.mode("overwrite")
                .option("partitionOverwriteMode", "dynamic")
                .partitionBy("day")
                .parquet(target)
            )
        """,
    )
    target = f"s3://{DATA_BUCKET}/dynamic/"
    run_id = client("glue", local_settings).start_job_run(
        JobName="dynamic-overwrite", Arguments={"--target": target}
    )["JobRunId"]
    run = wait_for_run(local_settings, "dynamic-overwrite", run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    table = pq.read_table(f"{DATA_BUCKET}/dynamic", filesystem=s3_filesystem(local_settings))
    assert sorted((str(r["day"]), r["n"]) for r in table.to_pylist()) == [("a", 10), ("b", 3)]
    listed = client("s3", local_settings).list_objects_v2(Bucket=DATA_BUCKET, Prefix="dynamic/")
    folders = sorted(obj["Key"].split("/")[1] for obj in listed["Contents"])
    assert folders == ["day=a", "day=b"], "one file per partition, no staging folder left"


def test_failing_script_is_failed_with_its_python_error(local_settings: Settings) -> None:
    deploy_job(
        local_settings,
        "fails",
        """
        import sys
        from awsglue.utils import getResolvedOptions

        args = getResolvedOptions(sys.argv, ["batch_date"])
        raise ValueError(f"no orders for {args['batch_date']}")
        """,
        DefaultArguments={"--batch_date": "2026-01-01"},
    )
    run_id = client("glue", local_settings).start_job_run(JobName="fails")["JobRunId"]
    run = wait_for_run(local_settings, "fails", run_id)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: no orders for 2026-01-01"
    errors = log_messages(local_settings, ERROR_LOG_GROUP, run_id)
    assert "Traceback (most recent call last):" in errors
    assert "ValueError: no orders for 2026-01-01" in errors


def test_missing_script_is_failed_saying_so(local_settings: Settings) -> None:
    ensure_bucket(SCRIPTS_BUCKET, local_settings)
    client("glue", local_settings).create_job(
        Name="no-script",
        Role="arn:aws:iam::123456789012:role/ecomdw-glue",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/absent.py"},
        GlueVersion="5.0",
    )
    run_id = client("glue", local_settings).start_job_run(JobName="no-script")["JobRunId"]
    run = wait_for_run(local_settings, "no-script", run_id)

    assert run["JobRunState"] == "FAILED"
    assert "cannot read the job script 's3://glue-scripts/absent.py'" in run["ErrorMessage"]


def test_job_over_its_timeout_is_killed(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MINUTE_SECONDS_VARIABLE, "1")
    deploy_job(
        local_settings,
        "sleeps",
        """
        import os, time
        print(f"pid {os.getpid()}", flush=True)
        time.sleep(600)
        """,
        Timeout=2,
    )
    run_id = client("glue", local_settings).start_job_run(JobName="sleeps")["JobRunId"]
    run = wait_for_run(local_settings, "sleeps", run_id, within=30)

    assert run["JobRunState"] == "TIMEOUT"
    assert run["Timeout"] == 2
    assert 2 <= run["ExecutionTime"] < 10
    (pid_line,) = log_messages(local_settings, OUTPUT_LOG_GROUP, run_id)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_line.split()[1]), 0)


def test_max_concurrent_runs_is_honoured(local_settings: Settings, tmp_path: Path) -> None:
    release = tmp_path / "release"
    deploy_job(
        local_settings,
        "waits",
        """
        import os, sys, time
        while not os.path.exists(sys.argv[sys.argv.index("--release") + 1]):
            time.sleep(0.05)
        """,
        DefaultArguments={"--release": str(release)},
        ExecutionProperty={"MaxConcurrentRuns": 2},
    )
    glue = client("glue", local_settings)
    first, second = (glue.start_job_run(JobName="waits")["JobRunId"] for _ in range(2))
    with pytest.raises(ClientError) as refused:
        glue.start_job_run(JobName="waits")
    assert refused.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"

    release.touch()
    for run_id in (first, second):
        assert wait_for_run(local_settings, "waits", run_id)["JobRunState"] == "SUCCEEDED"
    third = glue.start_job_run(JobName="waits")["JobRunId"]
    assert wait_for_run(local_settings, "waits", third)["JobRunState"] == "SUCCEEDED"
    listed = glue.get_job_runs(JobName="waits")["JobRuns"]
    assert {run["Id"]: run["JobRunState"] for run in listed} == {
        first: "SUCCEEDED",
        second: "SUCCEEDED",
        third: "SUCCEEDED",
    }


def unique(name: str) -> str:
    """A job name of this test alone: moto's Glue jobs live as long as the test process."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def gone(pid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_batch_stop_job_run_kills_the_script_and_its_children(
    local_settings: Settings, tmp_path: Path
) -> None:
    name, pids = unique("stopped"), tmp_path / "pids"
    deploy_job(
        local_settings,
        name,
        """
        import os, subprocess, sys, time
        child = subprocess.Popen(["sleep", "600"])
        pids = sys.argv[sys.argv.index("--pids") + 1]
        with open(pids + ".tmp", "w") as out:
            out.write(f"{os.getpid()} {child.pid}")
        os.rename(pids + ".tmp", pids)
        time.sleep(600)
        """,
        DefaultArguments={"--pids": str(pids)},
    )
    glue = client("glue", local_settings)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    deadline = time.monotonic() + 30
    while not pids.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    script_pid, child_pid = map(int, pids.read_text().split())

    stopped = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])

    assert stopped["SuccessfulSubmissions"] == [{"JobName": name, "JobRunId": run_id}]
    assert stopped["Errors"] == []
    right_after = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"]
    assert right_after in {"STOPPING", "STOPPED"}
    run = wait_for_run(local_settings, name, run_id, within=30)
    assert run["JobRunState"] == "STOPPED"
    assert "ErrorMessage" not in run
    assert run["CompletedOn"] >= run["StartedOn"]
    assert gone(script_pid) and gone(child_pid)
    # The job may run again at once: a stopped run holds no concurrency slot.
    again = glue.start_job_run(JobName=name, Arguments={"--pids": str(tmp_path / "again")})
    glue.batch_stop_job_run(JobName=name, JobRunIds=[again["JobRunId"]])
    assert wait_for_run(local_settings, name, again["JobRunId"])["JobRunState"] == "STOPPED"


def test_batch_stop_job_run_reports_the_runs_it_cannot_stop(local_settings: Settings) -> None:
    name = unique("finished")
    deploy_job(local_settings, name, "print('done')\n")
    glue = client("glue", local_settings)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    assert wait_for_run(local_settings, name, run_id)["JobRunState"] == "SUCCEEDED"

    stopped = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id, "jr_unknown"])

    assert stopped["SuccessfulSubmissions"] == []
    errors = {error["JobRunId"]: error for error in stopped["Errors"]}
    assert errors[run_id]["JobName"] == name
    assert errors[run_id]["ErrorDetail"]["ErrorCode"] == "InvalidInputException"
    assert "SUCCEEDED" in errors[run_id]["ErrorDetail"]["ErrorMessage"]
    assert errors["jr_unknown"]["ErrorDetail"]["ErrorCode"] == "EntityNotFoundException"
    assert glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] == "SUCCEEDED"


def attempts(settings: Settings, name: str, first_run_id: str) -> list[Any]:
    """The job's runs from `first_run_id` on, following `PreviousRunId`, each waited for."""
    glue = client("glue", settings)
    chain = [wait_for_run(settings, name, first_run_id)]
    while True:
        runs = glue.get_job_runs(JobName=name)["JobRuns"]
        following = [run for run in runs if run.get("PreviousRunId") == chain[-1]["Id"]]
        if not following:
            return chain
        (next_run,) = following
        chain.append(wait_for_run(settings, name, next_run["Id"]))


def test_failed_run_is_retried_and_the_retry_succeeds(local_settings: Settings) -> None:
    name = unique("flaky")
    marker = f"markers/{name}"
    ensure_bucket(DATA_BUCKET, local_settings)
    deploy_job(
        local_settings,
        name,
        """
        import sys
        import boto3
        from botocore.exceptions import ClientError
        from awsglue.utils import getResolvedOptions

        args = getResolvedOptions(sys.argv, ["bucket", "marker"])
        s3 = boto3.client("s3")
        try:
            s3.head_object(Bucket=args["bucket"], Key=args["marker"])
        except ClientError:
            s3.put_object(Bucket=args["bucket"], Key=args["marker"], Body=args["JOB_RUN_ID"])
            raise RuntimeError("first attempt fails") from None
        print(f"attempt after {s3.get_object(Bucket=args['bucket'], Key=args['marker'])['Body'].read().decode()}")
        """,  # noqa: E501
        DefaultArguments={"--bucket": DATA_BUCKET, "--marker": marker},
        MaxRetries=2,
    )
    run_id = client("glue", local_settings).start_job_run(JobName=name)["JobRunId"]

    first, second = attempts(local_settings, name, run_id)

    assert (first["JobRunState"], first["Attempt"]) == ("FAILED", 0)
    assert first["ErrorMessage"] == "RuntimeError: first attempt fails"
    assert (second["JobRunState"], second["Attempt"]) == ("SUCCEEDED", 1)
    assert second["Id"] != first["Id"]
    assert second["PreviousRunId"] == first["Id"]
    assert second["Arguments"] == first["Arguments"]
    assert log_messages(local_settings, OUTPUT_LOG_GROUP, second["Id"]) == [
        f"attempt after {first['Id']}"
    ]
    assert len(client("glue", local_settings).get_job_runs(JobName=name)["JobRuns"]) == 2


def test_run_that_always_fails_is_tried_max_retries_plus_one_times(
    local_settings: Settings,
) -> None:
    name = unique("broken")
    deploy_job(
        local_settings,
        name,
        """
        import sys
        from awsglue.utils import getResolvedOptions

        raise ValueError(f"run {getResolvedOptions(sys.argv, [])['JOB_RUN_ID']} fails")
        """,
        MaxRetries=2,
    )
    run_id = client("glue", local_settings).start_job_run(JobName=name)["JobRunId"]

    chain = attempts(local_settings, name, run_id)

    assert [(run["Attempt"], run["JobRunState"]) for run in chain] == [
        (0, "FAILED"),
        (1, "FAILED"),
        (2, "FAILED"),
    ]
    assert [run["ErrorMessage"] for run in chain] == [
        f"ValueError: run {run['Id']} fails" for run in chain
    ]
    assert "PreviousRunId" not in chain[0]
    assert [run["PreviousRunId"] for run in chain[1:]] == [run["Id"] for run in chain[:-1]]
    runs = client("glue", local_settings).get_job_runs(JobName=name)["JobRuns"]
    assert sorted(run["Id"] for run in runs) == sorted(run["Id"] for run in chain)


def put_object(settings: Settings, key: str, body: bytes) -> str:
    ensure_bucket(SCRIPTS_BUCKET, settings)
    client("s3", settings).put_object(Bucket=SCRIPTS_BUCKET, Key=key, Body=body)
    return f"s3://{SCRIPTS_BUCKET}/{key}"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_module_glue_lacks_fails_the_run_with_module_not_found(
    local_settings: Settings,
) -> None:
    """The emulator's own packages (pydantic, duckdb, ecomdw, ...) are not Glue's: a script that
    imports one fails here as it would on AWS, in GetJobRun and in the error log."""
    name = unique("imports-duckdb")
    deploy_job(
        local_settings,
        name,
        """
        import pyarrow  # Glue 5.0 provides it
        import duckdb  # Glue 5.0 does not
        """,
    )
    run_id = client("glue", local_settings).start_job_run(JobName=name)["JobRunId"]
    run = wait_for_run(local_settings, name, run_id)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ModuleNotFoundError: No module named 'duckdb'"
    assert run["ErrorMessage"] in log_messages(local_settings, ERROR_LOG_GROUP, run_id)


def test_the_script_sees_glue_versions_and_its_extra_py_files_only(
    local_settings: Settings,
) -> None:
    """Glue 5.0's numpy, pyarrow and pandas; `--extra-py-files` (a zip, and a single `.py`
    module, which Glue takes without zipping) importable in the driver and in Spark's Python
    workers; a module of the workspace not importable."""
    library = put_object(
        local_settings,
        "libs/shoplib.zip",
        zipped({"shoplib/__init__.py": "def vat(amount):\n    return round(amount * 1.2, 2)\n"}),
    )
    module = put_object(
        local_settings, "libs/rounding.py", b"def cents(amount):\n    return int(amount * 100)\n"
    )
    name = unique("versions")
    deploy_job(
        local_settings,
        name,
        """
        import importlib.util, json
        import numpy, pandas, pyarrow, pyspark
        from pyspark.sql import SparkSession
        import rounding
        import shoplib

        spark = SparkSession.builder.getOrCreate()
        in_workers = spark.sparkContext.parallelize([10.0, 20.0], 2).map(
            lambda amount: __import__("rounding").cents(__import__("shoplib").vat(amount))
        ).collect()
        print(json.dumps({
            "versions": [numpy.__version__, pyarrow.__version__, pandas.__version__,
                         pyspark.__version__],
            "driver": rounding.cents(shoplib.vat(100.0)),
            "workers": in_workers,
            "pydantic": importlib.util.find_spec("pydantic") is not None,
            "ecomdw": importlib.util.find_spec("ecomdw") is not None,
        }))
        """,
        DefaultArguments={"--extra-py-files": f"{library},{module}"},
    )
    run_id = client("glue", local_settings).start_job_run(JobName=name)["JobRunId"]
    run = wait_for_run(local_settings, name, run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    (line,) = [m for m in log_messages(local_settings, OUTPUT_LOG_GROUP, run_id) if "{" in m]
    assert json.loads(line) == {
        "versions": ["1.26.4", "17.0.0", "2.2.2", "3.5.4"],
        "driver": 12000,
        "workers": [1200, 2400],
        "pydantic": False,
        "ecomdw": False,
    }


def wheel(name: str, version: str, module: str) -> bytes:
    """A pure-Python wheel holding `module` as `<name>/__init__.py`."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": module,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: ecomdw-test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    records = [f"{path},," for path in files] + [f"{dist}/RECORD,,"]
    return zipped({**files, f"{dist}/RECORD": "\n".join(records) + "\n"})


def test_additional_python_modules_from_s3_are_installed_over_glue_modules(
    local_settings: Settings,
) -> None:
    """A wheel in S3 named by `--additional-python-modules` is pip-installed for the run, as Glue
    installs it; Glue's own modules stay at their versions."""
    package = f"ecomdwtax{uuid.uuid4().hex[:6]}"
    location = put_object(
        local_settings,
        f"wheels/{package}-1.0-py3-none-any.whl",
        wheel(package, "1.0", "RATE = 0.2\n"),
    )
    name = unique("with-wheel")
    deploy_job(
        local_settings,
        name,
        f"""
        import numpy, {package}
        print("rate", {package}.RATE, "numpy", numpy.__version__)
        """,
        DefaultArguments={"--additional-python-modules": location},
    )
    glue = client("glue", local_settings)
    first = wait_for_run(local_settings, name, glue.start_job_run(JobName=name)["JobRunId"])
    second = wait_for_run(local_settings, name, glue.start_job_run(JobName=name)["JobRunId"])

    for run in (first, second):  # the second run takes the environment the first installed
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        output = log_messages(local_settings, OUTPUT_LOG_GROUP, run["Id"])
        assert "rate 0.2 numpy 1.26.4" in output


def test_glue_5_logging_arguments_choose_the_groups_and_4_0_ones_are_named_ignored(
    local_settings: Settings,
) -> None:
    name = unique("custom-logs")
    prefix = f"/ecomdw-test/{name}"
    deploy_job(
        local_settings,
        name,
        """
        import sys
        print("hello from the driver")
        """,
        DefaultArguments={
            "--custom-logGroup-prefix": prefix,
            "--custom-logStream-prefix": "nightly",
            "--enable-continuous-cloudwatch-log": "true",
            "--continuous-log-logGroup": "/aws-glue/jobs/logs-v2",
        },
    )
    run_id = client("glue", local_settings).start_job_run(JobName=name)["JobRunId"]
    run = wait_for_run(local_settings, name, run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["LogGroupName"] == prefix
    assert log_messages(local_settings, f"{prefix}/output", "nightly-driver") == [
        "hello from the driver"
    ]
    warnings = log_messages(local_settings, f"{prefix}/error", "nightly-driver")
    assert [w.split(" ")[0] for w in warnings] == [
        "--enable-continuous-cloudwatch-log",
        "--continuous-log-logGroup",
    ]
    assert all("ignored by Glue 5.0" in warning for warning in warnings)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"GlueVersion": "4.0"}, "GlueVersion 4.0 is not emulated"),
        ({"DefaultArguments": {"--job-language": "scala"}}, "only Python jobs are emulated"),
        (
            {"DefaultArguments": {"--custom-logGroup-prefix": "bad:prefix"}},
            "--custom-logGroup-prefix 'bad:prefix'",
        ),
        (
            {"DefaultArguments": {"--extra-py-files": "s3://glue-scripts/absent.zip"}},
            "cannot read --extra-py-files 's3://glue-scripts/absent.zip'",
        ),
    ],
)
def test_what_glue_refuses_fails_the_run_before_the_script(
    local_settings: Settings, job: dict[str, Any], message: str
) -> None:
    name = unique("refused")
    ensure_bucket(SCRIPTS_BUCKET, local_settings)
    client("s3", local_settings).put_object(
        Bucket=SCRIPTS_BUCKET, Key=f"jobs/{name}.py", Body=b"print('ran')\n"
    )
    client("glue", local_settings).create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/ecomdw-glue",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/jobs/{name}.py"},
        **{"GlueVersion": "5.0", **job},
    )
    run_id = client("glue", local_settings).start_job_run(JobName=name)["JobRunId"]
    run = wait_for_run(local_settings, name, run_id)

    assert run["JobRunState"] == "FAILED"
    assert message in run["ErrorMessage"]
