"""The e2e test's comparison with the oracle, proven cheaply: a warehouse loaded from the
oracle's own output by the warehouse's real load (COPY and MERGE through the Redshift
translator, batch after batch) differs from it in nothing, and each fault made in a copy of it
is reported, naming the tables it touched."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse, load_batch

from .warehouse_oracle import FAULTS, differences, run_oracle, tables_named, with_fault

pytestmark = [pytest.mark.integration, pytest.mark.duckdb, pytest.mark.slow]

SAMPLE = GeneratorConfig(customers=80, products=30, orders=240, days=3, defect_rate=0.05)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a warehouse file, the oracle output it was loaded from)."""
    root = tmp_path_factory.mktemp("oracle")
    generate(SAMPLE, root / "raw")
    oracle = run_oracle(root / "raw", root / "oracle")
    executor = DuckDBExecutor(root / "warehouse.duckdb")
    try:
        create_warehouse(executor)
        for day in range(SAMPLE.days):
            assert load_batch(executor, str(oracle), SAMPLE.batch_date(day))
    finally:
        executor.close()
    return root / "warehouse.duckdb", oracle


def test_a_warehouse_loaded_from_the_oracle_has_no_differences(loaded: tuple[Path, Path]) -> None:
    assert differences(*loaded) == []


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_reported(loaded: tuple[Path, Path], fault: str, tmp_path: Path) -> None:
    warehouse, oracle = loaded
    found = differences(with_fault(warehouse, tmp_path / "faulty.duckdb", fault), oracle)
    assert FAULTS[fault][1] <= tables_named(found), found


def test_the_findings_say_what_is_wrong(loaded: tuple[Path, Path], tmp_path: Path) -> None:
    warehouse, oracle = loaded
    dropped = differences(with_fault(warehouse, tmp_path / "a.duckdb", "a payment dropped"), oracle)
    counts = [line for line in dropped if line.startswith("fact_payment: ") and "rows, " in line]
    assert len(counts) == 1
    got, expected = (int(word) for word in counts[0].split() if word.isdigit())
    assert got == expected - 1
    twice = differences(
        with_fault(warehouse, tmp_path / "b.duckdb", "the last batch loaded twice"), oracle
    )
    assert any(
        line.startswith("batch_lineage: ") and "loaded more than once" in line for line in twice
    )
    rate = differences(
        with_fault(warehouse, tmp_path / "c.duckdb", "facts at a wrong USD rate"), oracle
    )
    assert any(line.startswith("fact_order: Σ total_amount_usd") for line in rate)
    assert "fact_exchange_rate" not in tables_named(rate)  # the rate table was left right


def test_the_oracle_keeps_run_boundaries(loaded: tuple[Path, Path], tmp_path: Path) -> None:
    """Staged by two runs, the second taking the last day, a child whose parent lands on the
    last day stays orphan_reference in its own batch; one run over every day loads it."""
    raw, one_run = loaded[1].parent / "raw", loaded[1]
    ends = (SAMPLE.batch_date(SAMPLE.days - 2), SAMPLE.batch_date(SAMPLE.days - 1))
    two_runs = run_oracle(raw, tmp_path / "two-runs", run_ends=ends)
    con = duckdb.connect()
    orphans = [
        con.execute(
            "SELECT entity, count(*) FROM read_parquet("
            f"'{oracle}/warehouse/quarantine/*/*.parquet') WHERE reason = 'orphan_reference' "
            f"AND batch_date <= DATE '{ends[0]}' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        for oracle in (one_run, two_runs)
    ]
    assert dict(orphans[1]).get("orders", 0) > dict(orphans[0]).get("orders", 0), orphans
    assert differences(loaded[0], two_runs), "the warehouse of one run is not the two runs'"
