"""`ecomdw query` as a user runs it: formats, read-only by default, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def ecomdw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecomdw.cli.main", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_query_formats_and_read_only(tmp_path: Path) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    created = ecomdw(
        "query", "--write", "--warehouse", warehouse,
        "create table t (id int, amount decimal(10,2)); insert into t values (2, 3.25), (1, 0.10)",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    as_json = ecomdw("query", "--warehouse", warehouse, "--format", "json",
                     "select amount, id from t order by id")  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert rows == [{"amount": "0.10", "id": 1}, {"amount": "3.25", "id": 2}]
    assert list(rows[0]) == ["amount", "id"]

    as_csv = ecomdw("query", "--warehouse", warehouse, "--format", "csv",
                    "select id, amount from t order by id")  # fmt: skip
    assert as_csv.stdout.splitlines() == ["id,amount", "1,0.10", "2,3.25"]

    as_table = ecomdw("query", "--warehouse", warehouse, "select sum(amount) as total from t")
    assert "3.35" in as_table.stdout and "total" in as_table.stdout

    refused = ecomdw("query", "--warehouse", warehouse, "insert into t values (3, 1)")
    assert refused.returncode == 1
    assert "--write" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    unsupported = ecomdw("query", "--warehouse", warehouse, "select soundex('x')")
    assert unsupported.returncode == 1
    assert "SOUNDEX" in unsupported.stderr and "line 1" in unsupported.stderr


def test_query_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    missing = ecomdw("query", "--warehouse", str(tmp_path / "none.duckdb"), "select 1")
    assert missing.returncode == 1
    assert "ecomdw run" in missing.stderr
