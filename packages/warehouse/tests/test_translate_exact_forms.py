"""The cheaper forms the translator emits are still exact, on the values a shortcut would break.

Trailing blanks: a column is RTRIMmed only when it ends with a blank, so a value that does must
still compare as Redshift compares it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import duckdb
import pytest

from ecomdw.core.duckdb_session import connect
from ecomdw.warehouse.translate import translate

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

# Blanks at either end, other whitespace before and after a blank, empty, blanks only, NULL.
TEXTS = ["a", "a ", "a  ", " a", "a\t", "a\t ", "", " ", "   ", "b", "ab", "a b ", "é ", "é", None]
TEXT_CATALOG = {"t": {"k": "varchar(10)"}, "u": {"k": "varchar(10)"}}
OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@pytest.fixture(scope="module")
def texts() -> duckdb.DuckDBPyConnection:
    connection = connect()
    for table in TEXT_CATALOG:
        connection.execute(f"CREATE TABLE {table} (k VARCHAR)")
        connection.executemany(f"INSERT INTO {table} VALUES (?)", [[v] for v in TEXTS])
    return connection


def _blankless(value: str) -> str:
    return value.rstrip(" ")


@pytest.mark.parametrize("symbol", OPERATORS)
def test_column_comparisons_ignore_trailing_blanks_only(
    texts: duckdb.DuckDBPyConnection, symbol: str
) -> None:
    sql = translate(f"select t.k, u.k from t cross join u where t.k {symbol} u.k", TEXT_CATALOG)
    assert "SUFFIX(t.k, ' ')" in sql  # the cheap form is the one under test
    compare = OPERATORS[symbol]
    expected = sorted(
        (x, y)
        for x in TEXTS
        for y in TEXTS
        if x is not None and y is not None and compare(_blankless(x), _blankless(y))
    )
    assert sorted(texts.execute(sql).fetchall()) == expected


@pytest.mark.parametrize(
    ("condition", "keep"),
    [
        ("k = 'a'", lambda v: _blankless(v) == "a"),
        ("k = 'a   '", lambda v: _blankless(v) == "a"),
        ("k <> 'a'", lambda v: _blankless(v) != "a"),
        ("k in ('a', 'b  ')", lambda v: _blankless(v) in ("a", "b")),
        ("k not in ('a ', 'é')", lambda v: _blankless(v) not in ("a", "é")),
        ("k = ''", lambda v: _blankless(v) == ""),
    ],
)
def test_comparisons_with_literals_ignore_trailing_blanks(
    texts: duckdb.DuckDBPyConnection, condition: str, keep: Callable[[str], bool]
) -> None:
    sql = translate(f"select k from t where {condition}", TEXT_CATALOG)
    expected = sorted(v for v in TEXTS if v is not None and keep(v))
    assert sorted(row[0] for row in texts.execute(sql).fetchall()) == expected
