"""The error conformance list on the DuckDB executor: Redshift's code and words, every case."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdw.warehouse.error_conformance import COMMON_SETUP, ErrorCase, load_error_cases
from ecomdw.warehouse.executors import DuckDBExecutor, WarehouseError
from ecomdw.warehouse.redshift_errors import RedshiftError

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

CASES = load_error_cases()


def test_the_list_covers_the_common_classes_and_cites_a_source() -> None:
    assert len(CASES) >= 20
    assert len({case.name for case in CASES}) == len(CASES)
    assert all(case.url.startswith("https://") for case in CASES)
    classes = {case.sqlstate for case in CASES}
    assert {"42703", "42P01", "42883", "42601", "22012", "22P02", "22001", "22003"} <= classes
    assert {"25006", "0A000"} <= classes


def _warehouse(case: ErrorCase, tmp_path: Path) -> DuckDBExecutor:
    """A warehouse holding the common tables and the case's own, read-only if it asks."""
    path = tmp_path / "w.duckdb"
    executor = DuckDBExecutor(path)
    executor.run(COMMON_SETUP)
    if case.setup:
        executor.run(case.setup)
    if not case.read_only:
        return executor
    executor.close()
    return DuckDBExecutor(path, read_only=True)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_duckdb_executor_answers_as_redshift(case: ErrorCase, tmp_path: Path) -> None:
    executor = _warehouse(case, tmp_path)
    try:
        with pytest.raises(WarehouseError) as caught:
            executor.run(case.sql)
    finally:
        executor.close()
    assert caught.value.redshift == RedshiftError(
        case.sqlstate, case.message, caught.value.redshift.detail, caught.value.redshift.hint
    )
    assert str(caught.value) == case.message
