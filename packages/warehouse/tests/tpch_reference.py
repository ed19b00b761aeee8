"""TPC-H at scale factor 0.01 on DuckDB: data and reference answers from the tpch extension."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb

from ecomdw.core.duckdb_session import connect

QUERIES = Path(__file__).parent / "tpch"
SCALE_FACTOR = 0.01


def tpch_connection() -> duckdb.DuckDBPyConnection:
    """A UTC DuckDB session holding the TPC-H tables, loaded from the installed wheel."""
    connection = connect(extensions=("tpch",))
    connection.execute(f"CALL dbgen(sf = {SCALE_FACTOR})")
    return connection


def catalog(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "ORDER BY ordinal_position"
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    return tables


def reference_rows(connection: duckdb.DuckDBPyConnection, query_number: int) -> list[list[str]]:
    (answer,) = connection.execute(
        "SELECT answer FROM tpch_answers() WHERE query_nr = ? AND scale_factor = ?",
        [query_number, SCALE_FACTOR],
    ).fetchone() or (None,)
    lines = str(answer).split("\n")[1:-1]
    return [line.split("|") for line in lines]


def cell_matches(actual: object, expected: str) -> bool:
    """Equal, or within one unit of the last digit of the Redshift-typed DECIMAL we computed."""
    if actual is None:
        return expected == ""
    if isinstance(actual, Decimal):
        exponent = actual.as_tuple().exponent
        step = Decimal(1).scaleb(exponent) if isinstance(exponent, int) else Decimal(0)
        return abs(actual - Decimal(expected)) <= max(
            step, abs(Decimal(expected)) * Decimal("1e-12")
        )
    if isinstance(actual, float):
        return math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(actual, int):
        return str(actual) == expected
    # The reference answers are printed without trailing blanks.
    return str(actual).rstrip(" ") == expected.rstrip(" ")


def query_text(query_number: int) -> str:
    return (QUERIES / f"q{query_number:02d}.sql").read_text(encoding="utf-8")
