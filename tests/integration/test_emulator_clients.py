"""Every client kind from the one factory reaches the same emulated S3."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.duckdb_session import connect
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location, ensure_bucket, upload_tree
from ecomdw.emulation.server import EmbeddedEmulator

pytestmark = pytest.mark.integration


def test_boto3_pyarrow_and_duckdb_see_the_same_objects(
    local_settings: Settings, tmp_path: Path
) -> None:
    ensure_bucket("clients", local_settings)
    (tmp_path / "tree" / "a").mkdir(parents=True)
    (tmp_path / "tree" / "a" / "x.csv").write_text("k,v\n1,one\n2,two\n")
    keys = upload_tree(tmp_path / "tree", S3Location.parse("s3://clients/in"), local_settings)
    assert keys == ["in/a/x.csv"]

    listed = client("s3", local_settings).list_objects_v2(Bucket="clients")["Contents"]
    assert [o["Key"] for o in listed] == ["in/a/x.csv"]

    with s3_filesystem(local_settings).open_input_stream("clients/in/a/x.csv") as stream:
        assert stream.read() == b"k,v\n1,one\n2,two\n"

    conn = connect(s3=local_settings)
    conn.execute(
        "copy (select * from read_csv('s3://clients/in/a/x.csv')) to 's3://clients/out.parquet'"
    )
    assert conn.sql("select sum(k) from 's3://clients/out.parquet'").fetchone() == (3,)


def test_long_lived_emulator_up_endpoint_down(tmp_path: Path) -> None:
    env_home = {"ECOMDW_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "ecomdw.cli.main", "emulator"]

    def ecomdw(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *args],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, **env_home, "COLUMNS": "200"},
        )

    assert ecomdw("status").returncode == 1
    up = ecomdw("up")
    assert up.returncode == 0
    try:
        assert "no cluster yet" in up.stdout and "ecomdw infra deploy --env local" in up.stdout
        endpoint = ecomdw("endpoint").stdout.strip()
        assert endpoint.startswith("http://127.0.0.1:")
        s3 = client("s3", Settings(endpoint_url=endpoint))
        s3.create_bucket(Bucket="from-another-process")
        assert "from-another-process" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
        # A cluster made in the emulator answers PostgreSQL clients where `status` says.
        port = client("redshift", Settings(endpoint_url=endpoint)).create_cluster(
            ClusterIdentifier="printed",
            NodeType="ra3.xlplus",
            MasterUsername="admin",
            MasterUserPassword="Master1pass",
            DBName="dev",
        )["Cluster"]["Endpoint"]["Port"]
        printed = f"postgresql://admin@127.0.0.1:{port}/dev?sslmode=disable"
        assert f"redshift printed: {printed}" in ecomdw("status").stdout
        with psycopg.connect(printed, password="Master1pass") as connection:
            assert connection.execute("select current_user").fetchone() == ("admin",)
    finally:
        assert ecomdw("down").returncode == 0
    missing = ecomdw("endpoint")
    assert missing.returncode == 1
    assert "ecomdw emulator up" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.ecomdw_emulation
def test_a_second_emulator_stopping_hands_glue_back_to_the_first(
    local_settings: Settings, tmp_path: Path
) -> None:
    """moto's backends are per process: a stopped emulator must not take job runs with it."""
    with EmbeddedEmulator(home=tmp_path / "second"):
        pass
    ensure_bucket("handback", local_settings)
    s3, glue = client("s3", local_settings), client("glue", local_settings)
    s3.put_object(Bucket="handback", Key="job.py", Body=b"print('ran')\n")
    glue.create_job(
        Name="handback",
        Role="arn:aws:iam::123456789012:role/glue",
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://handback/job.py"},
    )
    run_id = glue.start_job_run(JobName="handback")["JobRunId"]
    deadline = time.monotonic() + 60
    state = "RUNNING"
    while state in {"STARTING", "RUNNING"} and time.monotonic() < deadline:
        time.sleep(0.1)
        run = glue.get_job_run(JobName="handback", RunId=run_id)["JobRun"]
        state = run["JobRunState"]
    assert state == "SUCCEEDED", run.get("ErrorMessage")


AFTER_ANOTHER = """
import sys
from pathlib import Path
from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.server import EmbeddedEmulator

home = Path(sys.argv[1])
with EmbeddedEmulator(home=home / "first") as first:
    settings = Settings(endpoint_url=first.endpoint, home=home / "first")
    ensure_bucket("left-behind", settings)
    client("s3", settings).put_object(Bucket="left-behind", Key="_jobs/stage/done", Body=b"")
with EmbeddedEmulator(home=home / "second") as second:
    settings = Settings(endpoint_url=second.endpoint, home=home / "second")
    print(sorted(b["Name"] for b in client("s3", settings).list_buckets()["Buckets"]))
"""


@pytest.mark.ecomdw_emulation
def test_an_emulator_started_after_another_stopped_starts_empty(tmp_path: Path) -> None:
    """moto's backends outlive a stopped emulator; the next one of the process holds nothing of
    the last (in a process of its own: this one's session emulator shares moto's state)."""
    done = subprocess.run(
        [sys.executable, "-c", AFTER_ANOTHER, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
