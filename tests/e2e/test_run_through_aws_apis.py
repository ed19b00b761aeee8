"""A run driven through the AWS APIs alone (the raw files put in S3, StartExecution of the deployed
state machine; no `ecomdw run`) leaves the run records and the ledger that `ecomdw run` leaves,
and each step's rows are the tables' counts.

The two runs also take the two ways the emulated Glue runs a job: the API run cold (a Spark per
job run, as on Glue), `ecomdw run` on warm drivers; both write the same processed outputs and
the same warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyarrow import dataset, fs, parquet

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location, upload_tree
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.emulation.services.stepfunctions.executions import SECOND_SECONDS_VARIABLE
from ecomdw.infra.runs import deploy_for_run
from ecomdw.warehouse.executors import DuckDBExecutor

pytestmark = [pytest.mark.e2e, pytest.mark.spark, pytest.mark.slow]

SAMPLE = GeneratorConfig(seed=5, customers=60, products=25, orders=150, days=2, defect_rate=0.05)
STAMPED = {"run_id", "loaded_at", "checked_at"}  # what differs between two runs of the same data
SCOPES = {"quality_staged", "quality_warehouse"}
DIMENSIONS = ("dim_customer", "dim_product", "dim_date")
FACTS = ("fact_exchange_rate", "fact_order_line", "fact_order", "fact_payment")


def rows(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    executor = DuckDBExecutor(warehouse, read_only=True)
    try:
        result = executor.run(sql)
    finally:
        executor.close()
    assert result is not None
    return result.rows


def one(warehouse: Path, sql: str) -> Any:
    ((value,),) = rows(warehouse, sql)
    return value


def processed_outputs(filesystem: fs.FileSystem, root: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every parquet folder under `root` (staged, quarantine, warehouse tables by batch): its
    rows, sorted, without the per-run stamps."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for info in filesystem.get_file_info(fs.FileSelector(root, recursive=True)):
        if info.type != fs.FileType.File or not info.path.endswith(".parquet"):
            continue
        folder = info.path.removeprefix(root).strip("/").rsplit("/", 1)[0]
        table = parquet.read_table(info.path, filesystem=filesystem)
        table = table.select([c for c in table.column_names if c not in STAMPED])
        found.setdefault(folder, []).extend(tuple(row.values()) for row in table.to_pylist())
    return {folder: sorted(rows, key=repr) for folder, rows in found.items()}


def warehouse_rows(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without the per-run stamps (`pipeline_run` is all stamps)."""
    found = {}
    for table in WAREHOUSE_TABLES:
        if table.name == "pipeline_run":
            continue
        columns = ", ".join(c for c in table.column_names if c not in STAMPED)
        found[table.name] = sorted(rows(warehouse, f"select {columns} from {table.name}"), key=repr)
    return found


def run_records(warehouse: Path) -> list[dict[str, Any]]:
    """The run's `pipeline_run` rows as a run of the same data gives them again: without the
    run id, the times and the execution."""
    found = []
    for step, status, rows_in, rows_out, quarantined, score, detail in rows(
        warehouse,
        "select step, status, rows_in, rows_out, quarantined, dq_score, detail "
        "from pipeline_run order by finished_at, step",
    ):
        kept = json.loads(detail) if detail else None
        if isinstance(kept, dict):
            kept.pop("execution", None)
        found.append(
            {
                "step": step,
                "status": status,
                "rows": (rows_in, rows_out, quarantined, score),
                "detail": kept,
            }
        )
    return found


def ledger(warehouse: Path, markers: list[str]) -> dict[str, Any]:
    lineage = rows(
        warehouse,
        "select batch_date, entity, source_file, records_read, records_loaded, "
        "records_quarantined from batch_lineage order by 1, 2, 3",
    )
    return {"lineage": lineage, "markers": sorted(markers)}


@dataclass
class ApiRun:
    markers: list[str]  # the load's batch markers, the processed bucket's `_jobs/load_warehouse/`
    written: dict[str, int]  # rows of each table the jobs wrote to the processed bucket
    outputs: dict[str, list[tuple[Any, ...]]]  # `processed_outputs` of the processed bucket


def via_aws_apis(raw: Path, home: Path, warehouse: Path) -> ApiRun:
    """Deploy, put the raw files in the raw bucket, start the state machine, wait."""
    os.environ.setdefault(SECOND_SECONDS_VARIABLE, "0.01")
    base = Settings(home=home)
    names = base.names
    files = {(names.redshift_cluster, names.redshift_database): warehouse}
    with EmbeddedEmulator(home=home, redshift_files=files) as emulator:
        settings = base.model_copy(update={"endpoint_url": emulator.endpoint})
        deployment = deploy_for_run(settings)
        upload_tree(raw, S3Location.parse(deployment.raw_uri), settings)
        states = client("stepfunctions", settings)
        started = states.start_execution(
            stateMachineArn=deployment.state_machine_arn,
            input=json.dumps({"run_id": "api-run", "batch_dates": "pending", "resume_from": ""}),
        )
        deadline = time.monotonic() + 900
        while (described := states.describe_execution(executionArn=started["executionArn"]))[
            "status"
        ] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not end in 15 minutes"
            time.sleep(1)
        assert described["status"] == "SUCCEEDED", described.get("cause")
        listed = client("s3", settings).list_objects_v2(
            Bucket=names.processed_bucket, Prefix="_jobs/load_warehouse/"
        )
        s3 = s3_filesystem(settings)
        written = {
            table: dataset.dataset(
                f"{names.processed_bucket}/warehouse/{table}", filesystem=s3, format="parquet"
            ).count_rows()
            for table in (*DIMENSIONS, *FACTS)
        }
        return ApiRun(
            [obj["Key"] for obj in listed.get("Contents", [])],
            written,
            processed_outputs(s3, names.processed_bucket),
        )


@pytest.mark.timeout(1200)  # two whole pipeline runs
def test_a_run_through_the_aws_apis_records_what_ecomdw_run_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    generate(SAMPLE, raw)

    api_warehouse = tmp_path / "api.duckdb"
    with monkeypatch.context() as cold:
        cold.setenv("ECOMDW_GLUE_DRIVER", "cold")
        api = via_aws_apis(raw, tmp_path / "api-home", api_warehouse)
    written = api.written

    records = run_records(api_warehouse)
    steps = [
        "stage", "quality_staged", "dimensions", "facts", "quality_warehouse",
        "load_warehouse", "crawl_processed", "pipeline",
    ]  # fmt: skip
    assert [(r["step"], r["status"]) for r in records] == [(s, "SUCCEEDED") for s in steps]
    by_step = {r["step"]: r for r in records}

    # Each step's rows are the tables' counts.
    read, loaded, bad = rows(
        api_warehouse,
        "select sum(records_read), sum(records_loaded), sum(records_quarantined) "
        "from batch_lineage",
    )[0]
    assert by_step["stage"]["rows"][:3] == (read, loaded, bad)
    assert bad == one(api_warehouse, "select count(*) from quarantine") > 0
    for job, tables in {"dimensions": DIMENSIONS, "facts": FACTS}.items():
        # What the job wrote to the processed bucket (an SCD2 version closed by a later batch
        # of the run is written again in that batch, and MERGEd into one warehouse row).
        counts = {table: written[table] for table in tables}
        assert by_step[job]["detail"] == {"rows_out": counts}
        assert by_step[job]["rows"][1] == sum(counts.values())
        for table in tables:
            assert 0 < one(api_warehouse, f"select count(*) from {table}") <= written[table]
    rules = one(api_warehouse, "select count(*) from dq_result where run_id = 'api-run'")
    assert sum(by_step[s]["detail"]["rules"] for s in SCOPES) == rules
    assert all(0 <= by_step[s]["rows"][3] <= 100 for s in SCOPES)
    stamped = sum(
        one(api_warehouse, f"select count(*) from {t} where run_id = 'api-run'")
        for t in (
            "dim_customer", "dim_product", "fact_exchange_rate", "quarantine", "dq_result",
            "batch_lineage", "fact_order", "fact_order_line", "fact_payment",
        )
    )  # fmt: skip
    batches = SAMPLE.days
    assert by_step["load_warehouse"]["rows"][:2] == (batches, stamped)
    assert by_step["pipeline"]["detail"] == {"batch_dates": "pending", "resume_from": ""}

    # `ecomdw run` on the same data leaves the same records and ledger.
    cli_home, cli_warehouse = tmp_path / "cli-home", tmp_path / "cli.duckdb"
    done = subprocess.run(
        [
            sys.executable, "-m", "ecomdw.cli.main", "run",
            "--input", str(raw), "--warehouse", str(cli_warehouse),
        ],
        env={
            **os.environ,
            "ECOMDW_HOME": str(cli_home),
            "ECOMDW_GLUE_DRIVER": "warm",
            "COLUMNS": "200",
        },
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert run_records(cli_warehouse) == records
    kept = cli_home / "buckets" / "processed"
    cli_markers = [
        str(path.relative_to(kept)) for path in (kept / "_jobs" / "load_warehouse").rglob("*.json")
    ]
    assert ledger(cli_warehouse, cli_markers) == ledger(api_warehouse, api.markers)
    assert len(api.markers) == batches

    # Cold (the API run) and warm (`ecomdw run`): the same outputs, the same warehouse.
    warm_outputs = processed_outputs(fs.LocalFileSystem(), kept.as_posix())
    assert {f for f in api.outputs if f.startswith("staged/")} and set(warm_outputs) == set(
        api.outputs
    )
    for folder, expected in api.outputs.items():
        assert warm_outputs[folder] == expected, folder
    assert warehouse_rows(cli_warehouse) == warehouse_rows(api_warehouse)
