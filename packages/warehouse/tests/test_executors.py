"""The DuckDB executor runs Redshift SQL with Redshift semantics, typed by the model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ecomdw.warehouse.executors import DuckDBExecutor, WarehouseError

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]


def test_script_returns_the_last_statements_rows() -> None:
    executor = DuckDBExecutor()
    result = executor.run(
        "create table t (n integer, price decimal(10,2)) diststyle all sortkey (n);"
        "insert into t values (7, 1.50), (2, 3.25);"
        "select n / 2 as half, avg(n) over () as mean, price from t order by n"
    )
    assert result is not None
    assert result.columns == ("half", "mean", "price")
    assert result.rows == [(1, 4, Decimal("3.25")), (3, 4, Decimal("1.50"))]


def test_model_tables_compare_char_columns_as_redshift_does() -> None:
    """fact_order.currency is CHAR(3) in the model: trailing blanks do not count."""
    executor = DuckDBExecutor()
    executor.run("create table fact_order (order_id varchar(32), currency char(3))")
    executor.run("insert into fact_order values ('o1', 'EU ')")
    assert executor.catalog()["fact_order"]["currency"] == "CHAR(3)"
    result = executor.run("select count(*) from fact_order where currency = 'EU'")
    assert result is not None and result.rows == [(1,)]


def test_errors_are_one_line_naming_the_problem() -> None:
    executor = DuckDBExecutor()
    with pytest.raises(WarehouseError, match="SOUNDEX"):
        executor.run("select soundex('x')")
    with pytest.raises(WarehouseError, match="division by zero") as caught:
        executor.run("select 1 / 0")
    assert "\n" not in str(caught.value)


def test_a_failed_transaction_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    executor = DuckDBExecutor(tmp_path / "w.duckdb")
    executor.run("create table t (n integer); insert into t values (1)")
    with pytest.raises(WarehouseError), executor.transaction():
        executor.run("insert into t values (2)")
        executor.run("insert into t values (1 / 0)")
    result = executor.run("select count(*) from t")
    assert result is not None and result.rows == [(1,)]
