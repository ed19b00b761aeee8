"""The DuckDB executor runs Redshift SQL with Redshift semantics, typed by the model."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ecomdw.warehouse.executors import DuckDBExecutor, WarehouseError
from ecomdw.warehouse.translate import bind_parameters, catalog_from_ddl

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


def test_a_later_session_types_tables_by_the_redshift_ddl_that_created_them(
    tmp_path: Path,
) -> None:
    """DuckDB stores CHAR(2) as VARCHAR; the file remembers the DDL, so 'NY ' still equals 'NY'."""
    database = tmp_path / "warehouse.duckdb"
    first = DuckDBExecutor(database)
    first.run("create table visits (state char(2), n int4)")
    first.run("insert into visits values ('NY ', 3), ('NY', 4)")
    first.close()
    later = DuckDBExecutor(database)
    assert later.catalog()["visits"] == {"state": "CHAR(2)", "n": "INTEGER"}
    result = later.run("select count(*), sum(n) / count(*) from visits where state = 'NY'")
    assert result is not None and result.rows == [(2, 3)]
    later.close()


def test_declared_catalog_types_tables_the_executor_did_not_create() -> None:
    """Tables loaded outside the executor are BIGINT in DuckDB; the declared DDL makes them INT4,
    and SUM over them a BIGINT whose division is integer division (SUM function)."""
    executor = DuckDBExecutor(
        catalog=catalog_from_ddl("create table q (k char(3), n int4) diststyle all")
    )
    executor.connection.execute("CREATE TABLE q (k VARCHAR, n DOUBLE)")
    executor.connection.execute("INSERT INTO q VALUES ('a  ', 3), ('a', 4)")
    assert executor.catalog()["q"] == {"k": "CHAR(3)", "n": "INTEGER"}
    result = executor.run("select count(*), sum(n) / sum(n + 1) from q where k = 'a'")
    assert result is not None and result.rows == [(2, 0)]


@pytest.mark.parametrize(
    "value",
    ['{"error": "No module named \'x\'", "cause": "a\\\\b \\"quoted\\""}', "tab\there", "\\"],
)
def test_a_bound_parameter_arrives_exactly_as_sent(value: str) -> None:
    """The Data API binds a parameter as a value: quotes and backslashes in it stay as they
    are, though Redshift's string literals take a backslash as an escape."""
    result = DuckDBExecutor().run(bind_parameters("SELECT :value AS v", {"value": value}))
    assert result is not None
    assert result.rows == [(value,)]


def test_a_warehouse_killed_before_its_checkpoint_opens_again_with_its_types(
    tmp_path: Path,
) -> None:
    """DuckDB replays its write-ahead log on open: what the executor writes there (tables with
    length checks, the comment that keeps their Redshift types) must replay."""
    database = tmp_path / "killed.duckdb"
    script = (
        "import os, sys\n"
        "from ecomdw.warehouse.executors import DuckDBExecutor\n"
        "executor = DuckDBExecutor(sys.argv[1])\n"
        "executor.run('create table t (a varchar(3), b char(2), c int4)')\n"
        "executor.run(\"insert into t values ('ab', 'x', 1)\")\n"
        "os._exit(9)  # no checkpoint: all of it is in the log\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(database)], check=False)
    assert killed.returncode == 9
    assert database.with_name("killed.duckdb.wal").exists()
    executor = DuckDBExecutor(database)
    result = executor.run("select a, b, c from t")
    assert result is not None and result.rows == [("ab", "x", 1)]
    assert executor.catalog()["t"] == {"a": "VARCHAR(3)", "b": "CHAR(2)", "c": "INTEGER"}
