"""Duplicate keys in a batch: found per file as it is parsed, or across the batch's files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.contract import read_raw_tree
from ecomdw.core.model import CUSTOMERS, RAW_ENTITIES
from ecomdw.etl.io import read_raw_files
from ecomdw.etl.transforms.stage import parse_raw_files, stage

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

D1, D2 = "2026-01-01", "2026-01-02"


def _customer(customer_id: str, opt_in: str = "true") -> str:
    return f"{customer_id},a@example.com,Ann,Lee,US,Paris,{D1}T00:00:00Z,{opt_in},{D1}T00:00:00Z"


def _write(root: Path, day: str, name: str, customers: list[str]) -> None:
    folder = root / "customers" / f"ingest_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(CUSTOMERS.column_names), *customers]
    (folder / name).write_text("\n".join(lines) + "\n")


def _duplicates(spark: SparkSession, root: Path, days: list[str]) -> set[tuple[str, int]]:
    """The stage's duplicate_key records (file, line), checked against the reference reader."""
    batches = [dt.date.fromisoformat(d) for d in days]
    parsed = {
        e.name: parse_raw_files(read_raw_files(spark, str(root), e, batches), e)
        for e in RAW_ENTITIES
    }
    quarantine = stage(parsed, {}, run_id="test").quarantine
    found = {
        (r.source_file, r.line_number)
        for r in quarantine.where("reason = 'duplicate_key'").collect()
    }
    expected = {
        (d.source_file, d.line_number)
        for d in read_raw_tree(root).defects
        if d.reason.value == "duplicate_key"
    }
    assert found == expected
    return found


def test_duplicates_within_each_file(spark: SparkSession, tmp_path: Path) -> None:
    # One file per batch: found as the file is parsed. An invalid first copy does not count.
    _write(tmp_path, D1, "part.csv", [_customer("C1"), _customer("C2"), _customer("C1")])
    _write(tmp_path, D2, "part.csv", [_customer("C1"), _customer("C3", "maybe"), _customer("C3")])
    assert _duplicates(spark, tmp_path, [D1, D2]) == {(f"customers/ingest_date={D1}/part.csv", 4)}


def test_duplicates_across_the_files_of_a_batch(spark: SparkSession, tmp_path: Path) -> None:
    # Two files in a batch: the first by file name, then line, wins.
    _write(tmp_path, D1, "b.csv", [_customer("C1"), _customer("C2")])
    _write(tmp_path, D1, "a.csv", [_customer("C2"), _customer("C3"), _customer("C3")])
    _write(tmp_path, D2, "a.csv", [_customer("C2")])
    assert _duplicates(spark, tmp_path, [D1, D2]) == {
        (f"customers/ingest_date={D1}/a.csv", 4),
        (f"customers/ingest_date={D1}/b.csv", 3),
    }
