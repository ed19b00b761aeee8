"""The ETL bench's DuckDB baseline agrees with the contract's strict reader on a small sample:
the same records staged (values and batches), the same defects per reason, the same counts per
batch, so the bench's ratio compares the ETL with a baseline known to do the same work."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks import etl as bench
from ecomdw.core.contract import read_raw_tree
from ecomdw.core.duckdb_session import connect
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import RAW_ENTITIES

pytestmark = [pytest.mark.integration, pytest.mark.duckdb, pytest.mark.slow]


def test_the_duckdb_baseline_stages_what_the_strict_reader_reads(tmp_path: Path) -> None:
    config = GeneratorConfig(customers=60, products=20, orders=300, days=4, defect_rate=0.05)
    generate(config, tmp_path / "raw")
    reference = read_raw_tree(tmp_path / "raw", keep_records=True)
    out = tmp_path / "duckdb"

    steps = bench.baseline(tmp_path / "raw", out)

    assert list(steps) == ["stage", "quality_staged", "dimensions", "facts", "quality_warehouse"]
    con = connect()

    def rows(sql: str) -> list[tuple[object, ...]]:
        return con.execute(sql).fetchall()

    for entity in RAW_ENTITIES:
        columns = ", ".join(entity.column_names)
        staged = rows(
            f"SELECT batch_date, {columns} FROM read_parquet('{out}/staged/{entity.name}/*/*')"
        )
        expected = [
            (record.batch_date, *(record.values[c] for c in entity.column_names))
            for record in reference.loaded[entity.name]
        ]
        assert Counter(staged) == Counter(expected), entity.name
    defects = {
        (entity, reason): count
        for entity, reason, count in rows(
            f"SELECT entity, reason, count(*) FROM read_parquet('{out}/warehouse/quarantine/*/*') "
            "GROUP BY ALL"
        )
    }
    assert defects == {(e, str(r)): n for (e, r), n in reference.defect_counts().items()}
    assert {reason for _, reason in defects} >= {"duplicate_key", "orphan_reference"}
    lineage = {
        (batch, entity): (read, loaded, quarantined)
        for batch, entity, read, loaded, quarantined in rows(
            "SELECT batch_date, entity, sum(records_read), sum(records_loaded), "
            f"sum(records_quarantined) FROM read_parquet('{out}/warehouse/batch_lineage/*/*') "
            "GROUP BY ALL"
        )
    }
    assert lineage == {
        key: (c.read, c.loaded, c.quarantined) for key, c in reference.counts.items() if c.read
    }
    # Every fact carries a dimension version and a rate: the facts step checks the rates itself.
    assert rows(
        f"SELECT count(*) FROM read_parquet('{out}/warehouse/fact_order_line/*/*') "
        "WHERE customer_sk IS NULL OR product_sk IS NULL OR usd_per_unit IS NULL"
    ) == [(0,)]
