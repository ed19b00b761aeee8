"""The cheaper forms the translator emits are still exact, on the values a shortcut would break.

Trailing blanks: a column is RTRIMmed only when it ends with a blank, so a value that does must
still compare as Redshift compares it. DECIMAL division: rows whose operands fit a BIGINT
divide in BIGINT, the others in HUGEINT; both must give Redshift's truncated quotient,
including at the bound between the two and for values far beyond a BIGINT.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

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


# DECIMAL(38, 2) / BIGINT is DECIMAL(38, 4) in Redshift, computed in BIGINT while the dividend
# is below 10**14; DECIMAL(38, 2) / DECIMAL(38, 4) is DECIMAL(38, 4), in BIGINT while the
# dividend is below 10**10 and the divisor below 10**14.
DIVIDENDS = [
    "0.00", "0.01", "-0.01", "1.00", "-1.00", "115.15", "-115.15", "9999999999.99",
    "10000000000.00", "99999999999999.99", "-99999999999999.99", "100000000000000.00",
    "-100000000000000.00", "1234567890123456789012345678.90", "-1234567890123456789012345678.90",
    None,
]  # fmt: skip
BIGINT_DIVISORS = [1, -1, 2, 3, -3, 7, 97, 9223372036854775807, -9223372036854775807]
DECIMAL_DIVISORS = [
    "0.0001", "-0.0001", "2.5000", "-3.0000", "7.0000", "99999999999999.9999",
    "100000000000000.0000", "-100000000000000.0000", "1234567890123456789012345678.9012",
]  # fmt: skip
DIVISION_CATALOG = {
    "dividends": {"x": "decimal(38,2)"},
    "divisors": {"n": "bigint", "y": "decimal(38,4)"},
}


@pytest.fixture(scope="module")
def numbers() -> duckdb.DuckDBPyConnection:
    connection = connect()
    connection.execute("CREATE TABLE dividends (x DECIMAL(38, 2))")
    connection.executemany("INSERT INTO dividends VALUES (?)", [[v] for v in DIVIDENDS])
    connection.execute("CREATE TABLE divisors (n BIGINT, y DECIMAL(38, 4))")
    rows = [[n, None] for n in BIGINT_DIVISORS] + [[None, y] for y in DECIMAL_DIVISORS]
    connection.executemany("INSERT INTO divisors VALUES (?, ?)", rows)
    return connection


def _truncated(dividend: Decimal, divisor: Decimal, scale: int) -> Decimal:
    with localcontext() as context:
        context.prec = 100
        return (dividend / divisor).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_DOWN)


def _quotients(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(connection.execute(sql).fetchall(), key=repr)


@pytest.mark.parametrize("divisor", ["n", "y"])
def test_decimal_division_is_exact_on_both_sides_of_the_bigint_bound(
    numbers: duckdb.DuckDBPyConnection, divisor: str
) -> None:
    sql = translate(
        f"select x, {divisor}, x / {divisor} from dividends cross join divisors "
        f"where {divisor} is not null",
        DIVISION_CATALOG,
    )
    assert "AS BIGINT" in sql and "AS INT128" in sql  # both paths are in the query
    got = _quotients(numbers, sql)
    divisors = BIGINT_DIVISORS if divisor == "n" else [Decimal(y) for y in DECIMAL_DIVISORS]
    expected = [
        (
            None if x is None else Decimal(x),
            d,
            None if x is None else _truncated(Decimal(x), Decimal(d), 4),
        )
        for x in DIVIDENDS
        for d in divisors
    ]
    assert got == sorted(expected, key=repr)
    assert {q.as_tuple().exponent for _, _, q in got if q is not None} == {-4}


def test_decimal_division_by_zero_still_raises(numbers: duckdb.DuckDBPyConnection) -> None:
    sql = translate("select x / 0.00 from dividends", DIVISION_CATALOG)
    with pytest.raises(duckdb.Error, match="division by zero"):
        numbers.execute(sql).fetchall()
