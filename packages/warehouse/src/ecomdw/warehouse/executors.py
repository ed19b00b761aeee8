"""Run Redshift SQL against the local warehouse, so one migration, load and query code serves both.

The DuckDB executor translates every statement with Redshift's semantics, typed against the
model's declared column types (CHAR vs VARCHAR matters for comparisons) and, for tables the
model does not declare, against what the database reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ecomdw.core.duckdb_session import connect
from ecomdw.core.errors import UserError
from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.core.redshift_ddl import redshift_type
from ecomdw.core.settings import Settings

from .translate import TranslationError, translate_script

MODEL_CATALOG = {
    table.name: {column.name: redshift_type(column.type) for column in table.columns}
    for table in WAREHOUSE_TABLES
}


class WarehouseError(UserError):
    """A statement the warehouse refused: the message names the construct or the problem."""


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class StatementOutcome:
    """One DuckDB statement's effect: its rows (None for DDL and DML), their types, row count."""

    result: QueryResult | None
    column_types: tuple[str, ...]
    row_count: int


# Statements that answer with rows; DuckDB answers the others with a one-row `Count` table,
# which for these is the rows changed, as Redshift reports it.
RESULT_SET_STATEMENTS = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.CALL,
}
ROW_COUNT_STATEMENTS = {
    duckdb.StatementType.INSERT,
    duckdb.StatementType.UPDATE,
    duckdb.StatementType.DELETE,
    duckdb.StatementType.MERGE_INTO,
    duckdb.StatementType.COPY,
}


class DuckDBExecutor:
    """Redshift SQL on a DuckDB file (or in memory), with Redshift semantics."""

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        read_only: bool = False,
        s3: Settings | None = None,
    ) -> None:
        self.connection = connect(database, read_only=read_only, s3=s3)

    def catalog(self) -> dict[str, dict[str, str]]:
        rows = self.connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
        found: dict[str, dict[str, str]] = {}
        for table, column, data_type in rows:
            found.setdefault(table, {})[column] = data_type
        for table in found.keys() & MODEL_CATALOG.keys():
            found[table] = MODEL_CATALOG[table]
        return found

    def translate(self, sql: str) -> list[str]:
        """The DuckDB statements that answer the Redshift script `sql` as Redshift would."""
        try:
            return translate_script(sql, self.catalog())
        except TranslationError as error:
            raise WarehouseError(str(error)) from None

    def execute(self, statement: str) -> StatementOutcome:
        """Run one translated statement; only queries give rows, DML gives the rows it changed."""
        try:
            kind = self.connection.extract_statements(statement)[0].type
            cursor = self.connection.execute(statement)
            description = cursor.description
            rows = cursor.fetchall() if description else []
        except duckdb.Error as error:
            raise WarehouseError(_first_line(str(error))) from None
        if kind in RESULT_SET_STATEMENTS and description:
            result = QueryResult(tuple(d[0] for d in description), rows)
            return StatementOutcome(result, tuple(str(d[1]) for d in description), len(rows))
        changed = int(rows[0][0]) if kind in ROW_COUNT_STATEMENTS and rows else -1
        return StatementOutcome(None, (), changed)

    def run(self, sql: str) -> QueryResult | None:
        """Run a script of Redshift statements; the last statement's rows, if it returns any."""
        result: QueryResult | None = None
        for statement in self.translate(sql):
            result = self.execute(statement).result
        return result

    @contextmanager
    def transaction(self) -> Iterator[DuckDBExecutor]:
        """All or nothing: a failure inside leaves the warehouse as it was."""
        self.connection.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message
