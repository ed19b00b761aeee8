"""TPC-DS's 103 statements in Redshift's dialect answer as Redshift does, however DuckDB stores
their tables.

Run twice: on tables created through the executor from Redshift's TPC-DS DDL (INT4, CHAR(n))
and on tables as DuckDB's dsdgen stores them (BIGINT, VARCHAR). The reference is DuckDB's own
answer to the query text, with the edits of `tpcds/reference_edits.json` where Redshift's
rules give another answer (see tpcds_reference). Every reference answer must say something
(MAY_SAY_NOTHING lists the exceptions): two empty answers agree whatever the translation.

Rows are compared as multisets: ORDER BY leaves the order of ties open, and DuckDB's parallel
sort fills them differently from run to run. The order itself is checked apart: the translated
rows must be sorted by the leading ORDER BY keys that name an output column (by alias, ordinal
or the same expression); a key computed from other columns (Q36's CASE on GROUPING) ends the
checked keys, since telling its value would take evaluating it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from ecomdw.warehouse.executors import DuckDBExecutor, WarehouseError

from .tpcds_reference import Statement, reference_edits, reference_sql, statements, tpcds_executor
from .tpch_reference import cell_matches

pytestmark = [pytest.mark.integration, pytest.mark.duckdb]

STATEMENTS = statements()
EDITS = reference_edits()
# Statements whose reference answer may say nothing at tpcds_reference.SCALE_FACTOR, each with
# the reason; tpcds/scale_parameters.json gives the others parameters the small data has.
MAY_SAY_NOTHING: dict[str, str] = {}


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


def _says_something(row: tuple[Any, ...]) -> bool:
    """At least half the cells hold a value other than NULL and zero: an aggregate over no rows
    gives NULLs and zero counts, a ROLLUP over none adds only its GROUPING flags."""
    return 2 * sum(1 for value in row if value is not None and value != 0) >= len(row)


def _order_keys(sql: str, columns: tuple[str, ...]) -> list[tuple[int, bool]]:
    """(output column, descending) for the leading ORDER BY keys that are output columns."""
    query = sqlglot.parse_one(sql, read="redshift")
    order = query.args.get("order")
    if order is None:
        return []
    selects = [select.unalias() for select in query.selects]
    names = [column.lower() for column in columns]
    keys: list[tuple[int, bool]] = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Literal) and key.is_int:
            index = int(key.this) - 1
        elif key in selects:
            index = selects.index(key)
        elif isinstance(key, exp.Column) and not key.table and names.count(key.name.lower()) == 1:
            index = names.index(key.name.lower())
        else:
            break
        keys.append((index, bool(ordered.args.get("desc"))))
    return keys


def _is_sorted(rows: list[tuple[Any, ...]], keys: list[tuple[int, bool]]) -> bool:
    """Sorted as Redshift sorts: NULL above every value, so last ascending and first descending
    ("ORDER BY clause", https://docs.aws.amazon.com/redshift/latest/dg/r_ORDER_BY_clause.html);
    CHAR's trailing blanks do not count."""

    def compare(a: Any, b: Any) -> int:
        if a is None or b is None:
            return (a is None) - (b is None)
        if isinstance(a, str):
            a, b = a.rstrip(" "), b.rstrip(" ")
        return (a > b) - (a < b)

    for earlier, later in itertools.pairwise(rows):
        for index, descending in keys:
            order = compare(earlier[index], later[index])
            if order:
                if (order > 0) != descending:
                    return False
                break
    return True


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
    assert set(EDITS) | set(MAY_SAY_NOTHING) <= {s.name for s in STATEMENTS}


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
    if not isinstance(expected, str) and statement.name not in MAY_SAY_NOTHING:
        assert any(_says_something(row) for row in expected), f"{statement.name} finds nothing"
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
    keys = _order_keys(statement.sql, result.columns)
    assert _is_sorted(result.rows, keys), f"{statement.name}: not sorted by {keys}"
