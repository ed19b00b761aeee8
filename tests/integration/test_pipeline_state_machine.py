"""The pipeline's own state machine runs in the emulator: Glue jobs, the Data API load, the
crawl; a failing step fails the run and names itself; a rerun resumes from that step."""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from contextlib import suppress
from typing import Any

import pytest

from ecomdw.core.aws import client
from ecomdw.core.model import PIPELINE_RUN
from ecomdw.core.redshift_ddl import create_table
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.services.stepfunctions.executions import SECOND_SECONDS_VARIABLE
from ecomdw.etl.pipeline import PIPELINE, RedshiftTarget, state_machine

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]

ROLE = "arn:aws:iam::123456789012:role/ecomdw-pipeline"
OWN_REGION = "eu-north-1"
LOADED_ROWS = "(SELECT COUNT(*) FROM loaded_batches)"
LOADS = [
    "CREATE TABLE IF NOT EXISTS loaded_batches (batch_date DATE)",
    "DELETE FROM loaded_batches WHERE batch_date = '{batch_date}'",
    "INSERT INTO loaded_batches VALUES ('{batch_date}')",
]
TRACE_SCRIPT = """
import json, sys, time, boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_id", "batch_dates"])
s3 = boto3.client("s3")
if s3.list_objects_v2(Bucket="{bucket}", Prefix="fail/" + args["JOB_NAME"]).get("KeyCount"):
    raise RuntimeError("planted failure in " + args["JOB_NAME"])
key = "trace/" + args["run_id"] + "/" + args["JOB_NAME"] + "/" + str(time.time_ns())
s3.put_object(Bucket="{bucket}", Key=key, Body=args["batch_dates"].encode())
if args["JOB_NAME"].endswith("-stage"):  # as the stage job: the batches the load will take
    plan = json.dumps(args["batch_dates"].split(","))
    key = "_runs/" + args["run_id"] + "/batch_dates.json"
    s3.put_object(Bucket="{processed}", Key=key, Body=plan)
step = args["JOB_NAME"].removeprefix("{prefix}-")
summary = {"rows_in": len(step), "rows_out": 1, "quarantined": None, "dq_score": 99.5,
           "detail": {"traced": step}}
key = "_runs/" + args["run_id"] + "/steps/" + step + ".json"
s3.put_object(Bucket="{processed}", Key=key, Body=json.dumps(summary))
"""


@pytest.fixture
def settings(local_settings: Settings) -> Settings:
    """A region of its own: the session's emulator holds the local stacks' jobs, crawler and
    cluster under these very names in the default region (test_infra_deploy, run deployment)."""
    return local_settings.model_copy(update={"region": OWN_REGION})


@pytest.fixture
def deployed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The pipeline's jobs (tracing scripts), crawler, cluster and state machine, deployed."""
    monkeypatch.setenv(SECOND_SECONDS_VARIABLE, "0.001")
    names = settings.names
    bucket = f"pipeline-{uuid.uuid4().hex[:8]}"
    ensure_bucket(bucket, settings)
    ensure_bucket(names.processed_bucket, settings)
    s3, glue = client("s3", settings), client("glue", settings)
    s3.put_object(
        Bucket=bucket,
        Key="jobs/trace.py",
        Body=textwrap.dedent(TRACE_SCRIPT)
        .replace("{bucket}", bucket)
        .replace("{processed}", names.processed_bucket)
        .replace("{prefix}", names.prefix)
        .encode(),
    )
    # moto's state is per process: an earlier run of this test may have made these already.
    job = {
        "Role": ROLE,
        "Command": {"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/jobs/trace.py"},
        "GlueVersion": "5.0",
    }
    for step in PIPELINE.glue_jobs:
        try:
            glue.create_job(Name=names.glue_job(step.name), **job)
        except glue.exceptions.AlreadyExistsException:
            glue.update_job(JobName=names.glue_job(step.name), JobUpdate=job)
    with suppress(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": names.glue_database})
    crawler = {
        "Role": ROLE,
        "DatabaseName": names.glue_database,
        "Targets": {"S3Targets": [{"Path": f"s3://{bucket}/trace/"}]},
    }
    try:
        glue.create_crawler(Name=names.glue_crawler, **crawler)
    except glue.exceptions.AlreadyExistsException:
        glue.update_crawler(Name=names.glue_crawler, **crawler)
    # A cluster of its own: the stacks' cluster (`names.redshift_cluster`) is the warehouse
    # stack's, which other tests of the session deploy into this emulator.
    cluster = f"{names.redshift_cluster}-states"
    redshift = client("redshift", settings)
    with suppress(redshift.exceptions.ClusterAlreadyExistsFault):
        redshift.create_cluster(
            ClusterIdentifier=cluster,
            NodeType="ra3.xlplus",
            MasterUsername="admin",
            MasterUserPassword="Password1",
        )
    target = RedshiftTarget(names.redshift_database, cluster_identifier=cluster)
    statements(
        "DROP TABLE IF EXISTS pipeline_run",
        create_table(PIPELINE_RUN),
        target=target,
        settings=settings,
    )
    definition = state_machine(PIPELINE, names, target, LOADS, LOADED_ROWS)
    arn = client("stepfunctions", settings).create_state_machine(
        name=f"{names.state_machine}-{bucket}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    return {"bucket": bucket, "arn": arn, "target": target}


def execute(settings: Settings, arn: str, given: dict[str, str]) -> dict[str, Any]:
    states = client("stepfunctions", settings)
    execution = states.start_execution(stateMachineArn=arn, input=json.dumps(given))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described: dict[str, Any] = states.describe_execution(
            executionArn=execution["executionArn"]
        )
        if described["status"] != "RUNNING":
            history = states.get_execution_history(executionArn=execution["executionArn"])
            failures = [
                str(event.get("taskFailedEventDetails") or event.get("taskSucceededEventDetails"))
                for event in history["events"]
                if event["type"] in {"TaskFailed"}
            ]
            return {**described, "failures": failures}
        time.sleep(0.2)
    raise AssertionError("the pipeline did not finish in 120 s")


def traced_steps(settings: Settings, bucket: str, run_id: str) -> list[str]:
    listed = client("s3", settings).list_objects_v2(Bucket=bucket, Prefix=f"trace/{run_id}/")
    return sorted(obj["Key"].split("/")[2] for obj in listed.get("Contents", []))


def statements(*sqls: str, target: RedshiftTarget, settings: Settings) -> list[list[Any]]:
    """Run `sqls` through the Data API one by one; the last one's records, as plain values."""
    data = client("redshift-data", settings)
    records: list[Any] = []
    for sql in sqls:
        statement = data.execute_statement(Sql=sql, **target.parameters())
        while (described := data.describe_statement(Id=statement["Id"]))["Status"] not in {
            "FINISHED",
            "FAILED",
        }:
            time.sleep(0.05)
        assert described["Status"] == "FINISHED", described.get("Error")
        if described.get("HasResultSet"):
            records = data.get_statement_result(Id=statement["Id"])["Records"]
    return [
        [None if cell.get("isNull") else next(iter(cell.values())) for cell in record]
        for record in records
    ]


def loaded_batches(settings: Settings, target: RedshiftTarget) -> list[str]:
    rows = statements(
        "SELECT batch_date FROM loaded_batches ORDER BY 1", target=target, settings=settings
    )
    return [row[0] for row in rows]


def run_records(settings: Settings, target: RedshiftTarget, run_id: str) -> list[list[Any]]:
    return statements(
        "SELECT step, status, rows_in, rows_out, quarantined, dq_score, detail FROM pipeline_run "
        f"WHERE run_id = '{run_id}' ORDER BY finished_at, step",
        target=target,
        settings=settings,
    )


def test_pipeline_runs_fails_at_a_step_and_resumes_there(
    settings: Settings, deployed: dict[str, Any]
) -> None:
    names, bucket = settings.names, deployed["bucket"]
    jobs = sorted(names.glue_job(step.name) for step in PIPELINE.glue_jobs)
    batches = "2026-01-01,2026-01-02"

    done = execute(
        settings, deployed["arn"], {"run_id": "r1", "batch_dates": batches, "resume_from": ""}
    )
    assert done["status"] == "SUCCEEDED", (done.get("cause"), done["failures"])
    assert traced_steps(settings, bucket, "r1") == jobs
    assert loaded_batches(settings, deployed["target"]) == ["2026-01-01", "2026-01-02"]
    markers = client("s3", settings).list_objects_v2(
        Bucket=names.processed_bucket, Prefix="_jobs/load_warehouse/"
    )
    assert [o["Key"] for o in markers["Contents"]] == [
        f"_jobs/load_warehouse/batch={d}/finished.json" for d in batches.split(",")
    ]
    records = run_records(settings, deployed["target"], "r1")
    assert [row[:2] for row in records] == [
        *([name, "SUCCEEDED"] for name in PIPELINE.step_names()),
        ["pipeline", "SUCCEEDED"],
    ]
    by_step = {row[0]: row for row in records}
    # a job's row is what its summary said; the load's counts its batches and rows
    assert by_step["facts"][2:6] == [5, 1, None, "99.50"]
    assert json.loads(by_step["facts"][6]) == {"traced": "facts"}
    assert by_step["load_warehouse"][2:4] == [2, 2]
    assert json.loads(by_step["pipeline"][6])["batch_dates"] == batches

    failing = names.glue_job("quality_warehouse")
    client("s3", settings).put_object(Bucket=bucket, Key=f"fail/{failing}", Body=b"")
    failed = execute(
        settings, deployed["arn"], {"run_id": "r2", "batch_dates": batches, "resume_from": ""}
    )
    assert failed["status"] == "FAILED"
    assert "quality_warehouse" in failed.get("cause", "")
    assert "planted failure" in failed.get("cause", "")
    order = [job.name for job in PIPELINE.glue_jobs]
    ran_before_failing = [names.glue_job(n) for n in order[: order.index("quality_warehouse")]]
    assert traced_steps(settings, bucket, "r2") == sorted(ran_before_failing)
    failures = [
        row for row in run_records(settings, deployed["target"], "r2") if row[1] == "FAILED"
    ]
    assert [row[0] for row in failures] == ["quality_warehouse", "pipeline"]
    for row in failures:  # what a resume needs: the step, its error and the batch dates
        detail = json.loads(row[6])
        assert detail["step"] == "quality_warehouse"
        assert detail["batch_dates"] == batches
        assert "planted failure" in json.dumps(detail["error"])

    client("s3", settings).delete_object(Bucket=bucket, Key=f"fail/{failing}")
    resumed = execute(  # the failed run, resumed under its own id, as `ecomdw run --resume` does
        settings,
        deployed["arn"],
        {"run_id": "r2", "batch_dates": batches, "resume_from": "quality_warehouse"},
    )
    assert resumed["status"] == "SUCCEEDED", resumed.get("cause")
    assert traced_steps(settings, bucket, "r2") == sorted([*ran_before_failing, failing])
    assert loaded_batches(settings, deployed["target"]) == ["2026-01-01", "2026-01-02"]
    after = [row[:2] for row in run_records(settings, deployed["target"], "r2")]
    assert ["quality_warehouse", "FAILED"] in after  # the failed rows stay
    assert after[-4:] == [  # the resumed steps add theirs
        ["quality_warehouse", "SUCCEEDED"],
        ["load_warehouse", "SUCCEEDED"],
        ["crawl_processed", "SUCCEEDED"],
        ["pipeline", "SUCCEEDED"],
    ]
