"""TPC-DS on DuckDB for the translator's conformance tests: data, queries and reference answers.

Data: DuckDB's dsdgen at a small scale factor, stored either as DuckDB generates it (BIGINT keys,
VARCHAR text) or in tables created from Redshift's TPC-DS DDL (`tpcds/ddl.sql`, INT4 and CHAR(n)),
with one change: a second warehouse. A small scale factor has one, so the test "shipped from more
than one warehouse" of Q16, Q94 and Q95 could never hold; the catalog and web lines of
even-numbered items ship from a copy of it (SECOND_WAREHOUSE).

Queries: the 103 statements of the Redshift Cloud DW benchmark (`tpcds/queries.sql`), with the
parameter changes of `tpcds/scale_parameters.json`: its 1TB parameters name stores, dates,
manufacturers... for which a small scale factor has no rows, and a comparison of two empty
answers proves nothing.

Reference answers, independent of the translator: DuckDB runs the query text itself, with the
edits of `tpcds/reference_edits.json`. Each edit spells out, in DuckDB's own SQL, a Redshift rule
where DuckDB's native answer differs (AVG of integers is a truncated BIGINT, integer division
truncates, ...) or a DuckDB spelling of Redshift syntax; each names its Redshift documentation.
An entry without a pattern is a note: a Redshift rule the statement meets that gives DuckDB's
answer anyway, and why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ecomdw.core.duckdb_session import extension_path
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.translate import split_script

HERE = Path(__file__).parent / "tpcds"
# 0.1 generates in about 2 s, and with scale_parameters.json every statement finds rows; the
# smallest scale factor with two warehouses, 0.5, is five times the data (so SECOND_WAREHOUSE),
# and sf 1 (the only scale tpcds_answers() knows) has answers for other parameters.
SCALE_FACTOR = 0.1
TEMPLATE = re.compile(r"-- start template query(\d+)\.tpl.*?\n(.*?)-- end template", re.S)
# DATEADD(day, n, date) is Redshift's; DuckDB adds an interval (same timestamp, see "DATEADD
# function", https://docs.aws.amazon.com/redshift/latest/dg/r_DATEADD_function.html).
DATEADD_DAYS = re.compile(r"dateadd\(\s*day\s*,\s*(-?\d+)\s*,", re.I)


@dataclass(frozen=True)
class Statement:
    name: str  # Q<template>, with a/b for the templates of two statements
    sql: str


@dataclass(frozen=True)
class Edit:
    why: str
    doc: str
    find: str = ""  # a regular expression; none for a note
    replace: str = ""


def statements() -> list[Statement]:
    parameters = json.loads((HERE / "scale_parameters.json").read_text(encoding="utf-8"))
    found: list[Statement] = []
    for number, body in TEMPLATE.findall((HERE / "queries.sql").read_text(encoding="utf-8")):
        parts = split_script(body)
        for index, text in enumerate(parts):
            name = f"Q{number}{'ab'[index] if len(parts) > 1 else ''}"
            sql = text
            for change in parameters.get(name, []):
                if change["find"] not in sql:
                    raise AssertionError(f"{name}: parameter {change['find']!r} not in the query")
                sql = sql.replace(change["find"], change["replace"])
            found.append(Statement(name, sql))
    return found


def reference_edits() -> dict[str, list[Edit]]:
    raw = json.loads((HERE / "reference_edits.json").read_text(encoding="utf-8"))
    return {name: [Edit(**edit) for edit in edits] for name, edits in raw.items()}


def reference_sql(statement: Statement, edits: list[Edit]) -> str:
    """The statement as DuckDB SQL that means what Redshift computes."""
    sql = statement.sql
    for edit in (edit for edit in edits if edit.find):
        sql, replaced = re.subn(edit.find, edit.replace, sql)
        if not replaced:
            raise AssertionError(f"{statement.name}: edit pattern {edit.find!r} not in the query")
    return DATEADD_DAYS.sub(r"(INTERVAL (\1) DAY) + (", sql)


SECOND_WAREHOUSE = (
    "INSERT INTO warehouse SELECT * REPLACE (2 AS w_warehouse_sk,"
    " 'AAAAAAAACAAAAAAA' AS w_warehouse_id, 'Second warehouse' AS w_warehouse_name)"
    " FROM warehouse WHERE w_warehouse_sk = 1",
    "UPDATE catalog_sales SET cs_warehouse_sk = 2 WHERE cs_item_sk % 2 = 0",
    "UPDATE web_sales SET ws_warehouse_sk = 2 WHERE ws_item_sk % 2 = 0",
)


def tpcds_executor(typing: str) -> DuckDBExecutor:
    """An in-memory executor over TPC-DS at SCALE_FACTOR.

    typing "duckdb": the tables as dsdgen creates them; the executor knows only their storage
    types. typing "redshift": the tables created through the executor from Redshift's DDL, so
    typed by it, then filled from dsdgen's. Either with SECOND_WAREHOUSE.
    """
    executor = DuckDBExecutor()
    connection = executor.connection
    connection.load_extension(str(extension_path("tpcds")))
    if typing == "duckdb":
        connection.execute(f"CALL dsdgen(sf = {SCALE_FACTOR})")
    else:
        _load_into_redshift_ddl(executor)
    for statement in SECOND_WAREHOUSE:
        connection.execute(statement)
    return executor


def _load_into_redshift_ddl(executor: DuckDBExecutor) -> None:
    """Redshift's TPC-DS tables, filled from dsdgen's."""
    connection = executor.connection
    executor.run((HERE / "ddl.sql").read_text(encoding="utf-8"))
    connection.execute("CREATE SCHEMA generated")
    connection.execute(f"CALL dsdgen(sf = {SCALE_FACTOR}, schema = 'generated')")
    tables = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'generated'"
    ).fetchall()
    for (table,) in tables:
        # By position: the DDL spells s_tax_precentage as TPC-DS does, dsdgen corrects it.
        connection.execute(f"INSERT INTO main.{table} SELECT * FROM generated.{table}")
    connection.execute("DROP SCHEMA generated CASCADE")
