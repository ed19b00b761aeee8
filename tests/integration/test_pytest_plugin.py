"""The pytest plugin, as a user's test session meets it: a pytest of its own (the plugin loaded
by its entry point) on tests of the fixtures' promises against the embedded emulator, and on
the examples/ project with `--ecomdw-target=aws` on a stand-in for AWS. (examples/ on the
emulator runs from the built wheels: test_wheels.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket

# A whole user session each: its own emulator (or none), its own Spark, Glue runs on local Spark.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.ecomdw_emulation,
    pytest.mark.slow,
    pytest.mark.timeout(900),
]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_TESTS = 8
# What a user's session sees of this one: not its target, nor its hypothesis profile.
PASSED_ON = ("ECOMDW_TEST_TARGET", "HYPOTHESIS_PROFILE", "PYTEST_ADDOPTS")


def user_environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in PASSED_ON}
    return {**environment, **extra}


def run_pytest(project: Path, *args: str, environment: dict[str, str]) -> str:
    """`pytest` in `project` as its user runs it; the report, checked to have ended."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    return done.stdout + done.stderr + f"\n[exit {done.returncode}]"


def outcome(report: str) -> dict[str, int]:
    """pytest's closing counts: outcome -> number."""
    summary = [line for line in report.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    assert summary, report[-3000:]
    return {kind: int(n) for n, kind in re.findall(r"(\d+) (\w+)", summary[-1])}


def examples_copy(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__"))
    return project


def test_the_examples_pass_on_aws_with_the_emulator_standing_in(
    tmp_path: Path, local_settings: Settings, emulator_endpoint: str
) -> None:
    """`--ecomdw-target=aws` starts no emulator and resets nothing: it uses the endpoint,
    credentials and resources its variables name (here this session's emulator's)."""
    test_id = uuid.uuid4().hex[:8]
    bucket, cluster, kept = f"user-tests-{test_id}", f"user-warehouse-{test_id}", f"kept-{test_id}"
    ensure_bucket(bucket, local_settings)
    ensure_bucket(kept, local_settings)
    client("redshift", local_settings).create_cluster(
        ClusterIdentifier=cluster,
        NodeType="ra3.xlplus",
        MasterUsername="admin",
        MasterUserPassword="Password1",
    )
    account = "arn:aws:iam::123456789012:role"
    environment = user_environment(
        AWS_ENDPOINT_URL=emulator_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=local_settings.region,
        ECOMDW_TEST_BUCKET=bucket,
        ECOMDW_TEST_GLUE_ROLE=f"{account}/user-glue",
        ECOMDW_TEST_STATES_ROLE=f"{account}/user-states",
        ECOMDW_TEST_REDSHIFT_CLUSTER=cluster,
        ECOMDW_TEST_REDSHIFT_DATABASE="dev",
    )

    report = run_pytest(examples_copy(tmp_path), "--ecomdw-target=aws", environment=environment)

    assert "ecomdw target: aws" in report
    assert outcome(report) == {"passed": EXAMPLE_TESTS}, report[-3000:]
    s3 = client("s3", local_settings)
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert kept in buckets, "the aws target emptied the account"
    uploaded = s3.list_objects_v2(Bucket=bucket, Prefix="ecomdw-tests/")["KeyCount"]
    assert uploaded >= 3, "job scripts and COPY's files go to ECOMDW_TEST_BUCKET"
    roles = {job["Role"] for job in client("glue", local_settings).get_jobs()["Jobs"]}
    assert f"{account}/user-glue" in roles, "the jobs run as ECOMDW_TEST_GLUE_ROLE"


CONTRACT = '''
"""The fixtures' promises, in a user's session on the emulator."""

import datetime as dt
import time

import pytest
from hypothesis import given, settings

from ecomdw.etl.pipeline import PIPELINE
from ecomdw.testing import strategies
from ecomdw.warehouse.executors import WarehouseError


@pytest.mark.parametrize("test", ["first", "second"])
def test_each_test_finds_the_emulator_empty(aws, test):
    """Both make the same bucket, cluster and table: each passes only if the other's are gone."""
    assert aws("s3").list_buckets()["Buckets"] == []
    aws("s3").create_bucket(Bucket="the-same-name")
    aws("redshift").create_cluster(ClusterIdentifier="shared", NodeType="ra3.xlplus",
                                   MasterUsername="admin", MasterUserPassword="Password1")
    data = aws("redshift-data")
    first = data.execute_statement(ClusterIdentifier="shared", Database="dev",
                                   Sql="CREATE TABLE made_by_a_test (id INT)")
    while data.describe_statement(Id=first["Id"])["Status"] not in ("FINISHED", "FAILED"):
        time.sleep(0.05)
    assert data.describe_statement(Id=first["Id"])["Status"] == "FINISHED", test


def test_a_failing_job_reports_its_python_error_and_logs(glue_job):
    run = glue_job("""
        import sys
        from awsglue.utils import getResolvedOptions
        args = getResolvedOptions(sys.argv, ["batch_date"])
        print("starting", args["batch_date"])
        raise ValueError("no orders for " + args["batch_date"])
        """, {"--batch_date": "2026-01-01"})
    assert (run.state, run.error) == ("FAILED", "ValueError: no orders for 2026-01-01")
    assert "starting 2026-01-01" in run.logs
    assert "Traceback (most recent call last):" in run.error_logs
    assert run.duration > 0


def test_a_job_importing_what_glue_lacks_fails_as_on_glue(glue_job):
    run = glue_job("import duckdb\\n")
    assert run.error == "ModuleNotFoundError: No module named 'duckdb'"


def test_redshift_refuses_in_redshift_words(redshift):
    redshift.execute("CREATE TABLE t (id SMALLINT)")
    with pytest.raises(WarehouseError, match="out of range"):
        redshift.execute("INSERT INTO t VALUES (40000)")
    assert redshift.scalar("SELECT COUNT(*) FROM t") == 0


def test_redshift_loads_a_parquet_folder(redshift, spark, tmp_path):
    rows = [(1, dt.date(2026, 1, 2)), (2, dt.date(2026, 1, 3))]
    spark.createDataFrame(rows, "id INT, day DATE").write.parquet(str(tmp_path / "days"))
    redshift.execute("CREATE TABLE days (id INTEGER, day DATE)")
    uri = redshift.load("days", tmp_path / "days")
    assert uri.startswith("s3://")
    assert redshift.query("SELECT * FROM days ORDER BY id") == rows


def test_our_pipeline_renders_and_runs_to_its_first_missing_job(state_machine):
    execution = state_machine(PIPELINE, {"run_id": "r1", "batch_dates": "2026-01-01",
                                         "resume_from": ""}, seconds_per_second=0.001)
    assert execution.status == "FAILED"
    assert execution.states_entered[:2] == ["resume_from", "stage_started"]
    assert execution.events("ExecutionFailed")


@settings(max_examples=20)
@given(strategies.records("customers"))
def test_the_models_strategies_are_there(customer):
    assert set(customer) == set(strategies.ENTITIES["customers"].column_names)
'''
CONTRACT_TESTS = 8


def test_the_fixtures_keep_their_promises(tmp_path: Path) -> None:
    project = tmp_path / "contract"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_contract.py").write_text(CONTRACT)

    report = run_pytest(project, environment=user_environment())

    assert outcome(report) == {"passed": CONTRACT_TESTS}, report[-4000:]
