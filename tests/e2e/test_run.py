"""`ecomdw run` as a user runs it: a generated sample with defects through the whole pipeline
(Glue jobs on local Spark, the Data API load, the state machine) into the warehouse, which
must hold what an oracle sharing no code with the pipeline computes from the same raw files
(`warehouse_oracle`): after a first run, after a rerun that has nothing to do, and after one
more day."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.warehouse.executors import DuckDBExecutor

from .warehouse_oracle import FAULTS, differences, run_oracle, tables_named, with_fault

pytestmark = [pytest.mark.e2e, pytest.mark.spark, pytest.mark.slow]

DAYS = 2
SAMPLE = GeneratorConfig(customers=80, products=30, orders=240, days=DAYS + 1, defect_rate=0.05)
RUN_ONLY = {"pipeline_run", "dq_result"}  # a new run adds its own rows there, by design


def ecomdw(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecomdw.cli.main", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "ECOMDW_HOME": str(home), "COLUMNS": "200"},
    )


def query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    executor = DuckDBExecutor(warehouse, read_only=True)
    try:
        result = executor.run(sql)
    finally:
        executor.close()
    assert result is not None
    return result.rows


def checksums(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every loaded table's rows, sorted, without the per-run stamps."""
    tables = [t for t in WAREHOUSE_TABLES if t.name not in RUN_ONLY]
    found = {}
    for table in tables:
        columns = [c for c in table.column_names if c not in {"run_id", "loaded_at"}]
        found[table.name] = query(
            warehouse, f"select {', '.join(columns)} from {table.name} order by 1, 2, 3"
        )
    return found


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample, and the same sample without its last day."""
    root = tmp_path_factory.mktemp("raw")
    full, first_days = root / "full", root / "first"
    generate(SAMPLE, full)
    shutil.copytree(full, first_days)
    last = SAMPLE.batch_date(DAYS).isoformat()
    for folder in first_days.glob(f"*/ingest_date={last}"):
        shutil.rmtree(folder)
    return {"full": full, "first": first_days}


@pytest.mark.timeout(1200)  # three whole pipeline runs
def test_run_rerun_and_one_more_day(raw: dict[str, Path], tmp_path: Path) -> None:
    home, warehouse = tmp_path / "home", tmp_path / "warehouse.duckdb"

    first = ecomdw(home, "run", "--input", str(raw["first"]), "--warehouse", str(warehouse))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    assert differences(warehouse, run_oracle(raw["first"], tmp_path / "oracle-first")) == []

    quarantined = query(warehouse, "select entity, reason from quarantine")
    manifest = json.loads((raw["full"] / "_manifest.json").read_text())
    planted = Counter(
        (d["entity"], d["defect"]) for d in manifest["defects"] if d["batch_date"] < last_day()
    )
    flagged = Counter((entity, reason) for entity, reason in quarantined)
    assert sum(planted.values()) > 0 and not planted - flagged, "every planted defect is found"

    # Three days of orders are too few to keep predicted CLV from; the run says so.
    assert "predicted CLV kept as it was: the kept orders span 1 of the 28 days" in first.stdout
    assert query(warehouse, "select count(*) from analytics_predicted_clv") == [(0,)]

    before = checksums(warehouse)
    again = ecomdw(home, "run", "--input", str(raw["first"]), "--warehouse", str(warehouse))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing to do" in again.stdout
    assert checksums(warehouse) == before

    more = ecomdw(home, "run", "--input", str(raw["full"]), "--warehouse", str(warehouse))
    assert more.returncode == 0, more.stdout[-3000:] + more.stderr[-3000:]
    assert f"1 batch(es) {last_day()}" in more.stdout
    # Two runs staged the batches: a child whose parent landed after the first stays flagged.
    runs = (SAMPLE.batch_date(DAYS - 1), SAMPLE.batch_date(DAYS))
    oracle = run_oracle(raw["full"], tmp_path / "oracle-full", run_ends=runs)
    # Every table's rows, per batch too, and money: a batch loaded twice or a record lost differ.
    assert differences(warehouse, oracle) == []
    # The day's records are all read, counted from its files as lines, not by any reader.
    read = query(
        warehouse,
        "select source_file, sum(records_read) from batch_lineage "
        f"where batch_date = '{last_day()}' group by 1",
    )
    assert {str(file): records for file, records in read} == records_per_file(
        raw["full"], last_day()
    )
    # And this very warehouse, a fault made in a copy, is told from the oracle.
    for fault, (_, touched) in FAULTS.items():
        found = differences(with_fault(warehouse, tmp_path / "faulty.duckdb", fault), oracle)
        assert touched <= tables_named(found), (fault, found)


def last_day() -> str:
    return SAMPLE.batch_date(DAYS).isoformat()


def records_per_file(root: Path, day: str) -> dict[str, int]:
    """Source file -> records in it: its non-blank lines, a CSV's header not counted."""
    found = {}
    for path in sorted(root.glob(f"*/ingest_date={day}/*")):
        lines = sum(1 for line in path.read_text().splitlines() if line.strip())
        found[path.relative_to(root).as_posix()] = lines - (path.suffix == ".csv")
    return found


def test_a_missing_input_folder_is_one_clear_line(tmp_path: Path) -> None:
    result = ecomdw(tmp_path / "home", "run", "--input", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "nope" in result.stderr and len(result.stderr.strip().splitlines()) == 1
