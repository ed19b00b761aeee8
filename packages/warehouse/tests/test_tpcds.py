"""TPC-DS's 103 statements in Redshift's dialect answer as Redshift does, however DuckDB stores
their tables.

Run twice: on tables created through the executor from Redshift's TPC-DS DDL (INT4, CHAR(n))
and on tables as DuckDB's dsdgen stores them (BIGINT, VARCHAR). The reference is DuckDB's own
answer to the query text, with the edits of `tpcds/reference_edits.json` where Redshift's
rules give another answer (see tpcds_reference). Rows are compared as multisets: ORDER BY
leaves the order of ties open, and DuckDB's parallel sort fills them differently from run to
run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from ecomdw.warehouse.executors import DuckDBExecutor, WarehouseError

from .tpcds_reference import Statement, reference_edits, reference_sql, statements, tpcds_executor
from .tpch_reference import cell_matches

pytestmark = [pytest.mark.integration, pytest.mark.duckdb]

STATEMENTS = statements()
EDITS = reference_edits()


@pytest.fixture(scope="module", params=["redshift", "duckdb"])
def warehouse(request: pytest.FixtureRequest) -> Iterator[tuple[str, DuckDBExecutor]]:
    typing = str(request.param)
    executor = tpcds_executor(typing)
    yield typing, executor
    executor.close()


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    def key(value: Any) -> tuple[int, Any]:
        if value is None:
            return (0, 0)
        if isinstance(value, (int, float, Decimal)):
            return (1, round(float(value), 6))
        return (2, str(value).rstrip(" "))

    return tuple(key(value) for value in row)


def _reference(connection: duckdb.DuckDBPyConnection, statement: Statement) -> list[Any] | str:
    """DuckDB's answer to the edited query, NULLs ordered as Redshift orders them: last in
    ascending order, first in descending ("ORDER BY clause",
    https://docs.aws.amazon.com/redshift/latest/dg/r_ORDER_BY_clause.html)."""
    connection.execute("SET default_null_order = 'nulls_last_on_asc_first_on_desc'")
    try:
        sql = reference_sql(statement, EDITS.get(statement.name, []))
        return connection.execute(sql).fetchall()
    except duckdb.Error as error:
        return str(error)
    finally:
        connection.execute("RESET default_null_order")


def test_every_statement_is_found() -> None:
    assert len(STATEMENTS) == 103
    assert set(EDITS) <= {s.name for s in STATEMENTS}


def test_redshift_typing_comes_from_the_ddl(warehouse: tuple[str, DuckDBExecutor]) -> None:
    typing, executor = warehouse
    columns = executor.catalog()["store_sales"]
    expected = ("INTEGER", "DECIMAL(7, 2)") if typing == "redshift" else ("BIGINT", "DECIMAL(7,2)")
    assert (columns["ss_quantity"], columns["ss_net_profit"]) == expected
    item_id = executor.catalog()["item"]["i_item_id"]
    assert item_id == ("CHAR(16)" if typing == "redshift" else "VARCHAR")


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.name for s in STATEMENTS])
def test_tpcds_statement_answers_as_redshift(
    warehouse: tuple[str, DuckDBExecutor], statement: Statement
) -> None:
    _, executor = warehouse
    expected = _reference(executor.connection, statement)
    if isinstance(expected, str):
        with pytest.raises(WarehouseError) as raised:
            executor.run(statement.sql)
        assert str(raised.value).split(": ")[-1] in expected
        return
    result = executor.run(statement.sql)
    assert result is not None
    rows = sorted(result.rows, key=_sort_key)
    want = sorted(expected, key=_sort_key)
    assert len(rows) == len(want)
    for got, row in zip(rows, want, strict=True):
        mismatches = [
            (g, w)
            for g, w in zip(got, row, strict=True)
            if not cell_matches(g, "" if w is None else str(w))
            and not (isinstance(w, float) and isinstance(g, float) and math.isclose(g, w))
        ]
        assert not mismatches, f"{statement.name}: {mismatches} in row {got}"
