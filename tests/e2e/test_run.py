"""`ecomdw run` as a user runs it: a generated sample with defects, and a user's own exports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ecomdw.warehouse.executors import DuckDBExecutor

pytestmark = [pytest.mark.e2e, pytest.mark.duckdb]

SMALL = ["--customers", "120", "--products", "40", "--orders", "400", "--days", "12"]


def ecomdw(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecomdw.cli.main", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "ECOMDW_HOME": str(home), "COLUMNS": "200"},
    )


def quarantine_fingerprint(warehouse: Path) -> list[tuple[object, ...]]:
    executor = DuckDBExecutor(warehouse, read_only=True)
    try:
        result = executor.run(
            "select entity, source_file, line_number, reason, raw_text from quarantine "
            "union all select entity, source_file, records_read, 'lineage', "
            "cast(records_quarantined as varchar) from batch_lineage order by 1, 2, 3, 4"
        )
    finally:
        executor.close()
    assert result is not None
    return result.rows


def test_sample_run_quarantines_exactly_the_planted_defects_and_reruns_cleanly(
    tmp_path: Path,
) -> None:
    home, warehouse = tmp_path / "home", tmp_path / "w.duckdb"
    first = ecomdw(home, "run", "--warehouse", str(warehouse), "--defect-rate", "0.05", *SMALL)
    assert first.returncode == 0, first.stderr
    assert "records read" in first.stdout and str(warehouse) in first.stdout

    manifest = json.loads((home / "sample" / "_manifest.json").read_text())
    planted = Counter((d["entity"], d["defect"]) for d in manifest["defects"])
    rows = quarantine_fingerprint(warehouse)
    found = Counter((entity, reason) for entity, _, _, reason, _ in rows if reason != "lineage")
    assert found == planted and sum(found.values()) > 0

    located = {(d["entity"], d["file"].split("/", 1)[1], d["line"]) for d in manifest["defects"]}
    assert located == {
        (entity, source.split("/", 3)[3].split("/", 1)[1], line)
        for entity, source, line, reason, _ in rows
        if reason != "lineage"
    }

    second = ecomdw(home, "run", "--warehouse", str(warehouse), "--defect-rate", "0.05", *SMALL)
    assert second.returncode == 0, second.stderr
    assert quarantine_fingerprint(warehouse) == rows


def test_a_users_own_exports_with_a_bad_line(tmp_path: Path) -> None:
    raw = tmp_path / "exports"
    batch = raw / "exchange_rates" / "ingest_date=2026-02-01"
    batch.mkdir(parents=True)
    (batch / "rates.csv").write_text(
        "currency,rate_date,usd_per_unit\nEUR,2026-02-01,1.08\nGBP,2026-02-01,lots\n"
    )
    warehouse = tmp_path / "w.duckdb"
    result = ecomdw(tmp_path / "home", "run", "--input", str(raw), "--warehouse", str(warehouse))
    assert result.returncode == 0, result.stderr
    rows = quarantine_fingerprint(warehouse)
    quarantined = [r for r in rows if r[3] != "lineage"]
    assert len(quarantined) == 1
    entity, source, line, reason, raw_text = quarantined[0]
    assert (entity, line, reason, raw_text) == (
        "exchange_rates",
        3,
        "wrong_type",
        "GBP,2026-02-01,lots",
    )
    assert source.endswith("exchange_rates/ingest_date=2026-02-01/rates.csv")


def test_a_missing_input_folder_is_one_clear_line(tmp_path: Path) -> None:
    result = ecomdw(tmp_path / "home", "run", "--input", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "nope" in result.stderr and len(result.stderr.strip().splitlines()) == 1
