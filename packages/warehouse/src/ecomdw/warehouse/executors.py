"""Run Redshift SQL on DuckDB or on Redshift, so one migration, load and query code serves both.

The DuckDB executor translates every statement with Redshift's semantics, typed by Redshift's
column types, not DuckDB's storage types (CHAR vs VARCHAR matters for comparisons, INT4 vs
BIGINT for overflow): the types given to it, else those of the Redshift DDL that created the
table (kept in the DuckDB file as column comments), else the model's, else what DuckDB stores.
The Redshift executor sends the same SQL through the Redshift Data API and turns its typed
records back into the Python values DuckDB gives, so a `QueryResult` is equal whichever engine
answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb

from ecomdw.core.aws import client
from ecomdw.core.duckdb_session import connect
from ecomdw.core.errors import UserError
from ecomdw.core.model import WAREHOUSE_TABLES
from ecomdw.core.redshift_ddl import redshift_type
from ecomdw.core.settings import Settings

from .redshift_errors import INTERNAL_ERROR, RedshiftError, from_message, redshift_error
from .translate import Catalog, TranslationError, split_script, translate_script
from .translate.translator import remembered_types

MODEL_CATALOG = {
    table.name: {column.name: redshift_type(column.type) for column in table.columns}
    for table in WAREHOUSE_TABLES
}


class WarehouseError(UserError):
    """A statement the warehouse refused, in Redshift's words; `redshift` has its SQLSTATE."""

    def __init__(self, message: str, redshift: RedshiftError | None = None) -> None:
        self.redshift = redshift or RedshiftError(INTERNAL_ERROR, message)
        super().__init__(message)

    @classmethod
    def of(cls, error: BaseException) -> WarehouseError:
        """The warehouse error for a DuckDB or translation error, worded as Redshift words it."""
        redshift = redshift_error(error)
        return cls(redshift.message, redshift)


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


class Executor(Protocol):
    """What load and query code needs of a warehouse, whichever engine runs it."""

    def run(self, sql: str) -> QueryResult | None: ...

    def transaction(self) -> AbstractContextManager[Any]: ...

    def close(self) -> None: ...


class DuckDBExecutor:
    """Redshift SQL on a DuckDB file (or in memory), with Redshift semantics."""

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        read_only: bool = False,
        s3: Settings | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        """`catalog`: Redshift column types of tables (e.g. `catalog_from_ddl` of their DDL)
        that were not created through an executor, so DuckDB's storage types are all it knows."""
        self.connection = connect(database, read_only=read_only, s3=s3)
        self._in_transaction = False
        self._declared = {table: dict(columns) for table, columns in (catalog or {}).items()}

    @classmethod
    def sharing(cls, connection: duckdb.DuckDBPyConnection) -> DuckDBExecutor:
        """An executor on a new cursor of `connection`: the same database, its own transaction
        (DuckDB's cursors are connections to one database instance)."""
        executor = cls.__new__(cls)
        executor.connection = connection.cursor()
        executor.connection.execute("SET TimeZone = 'UTC'")  # a setting of each connection
        executor._in_transaction = False
        executor._declared = {}
        return executor

    def catalog(self) -> dict[str, dict[str, str]]:
        """The Redshift type of every column of the current schema's tables and views."""
        rows = self.connection.execute(
            "SELECT c.table_name, c.column_name, c.data_type, t.comment "
            "FROM information_schema.columns c LEFT JOIN duckdb_tables() t "
            "ON t.table_name = c.table_name AND t.schema_name = c.table_schema "
            "AND t.database_name = c.table_catalog "
            "WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.ordinal_position"
        ).fetchall()
        found: dict[str, dict[str, str]] = {}
        remembered: dict[str, dict[str, str]] = {}
        for table, column, data_type, comment in rows:
            found.setdefault(table, {})[column] = data_type
            if table not in remembered and (types := remembered_types(comment)):
                remembered[table] = types
        for table in found.keys() & MODEL_CATALOG.keys() - remembered.keys():
            found[table] = dict(MODEL_CATALOG[table])
        for table, columns in [*remembered.items(), *self._declared.items()]:
            if table in found:
                found[table].update(columns)
        return found

    def translate(self, sql: str) -> list[str]:
        """The DuckDB statements that answer the Redshift script `sql` as Redshift would."""
        try:
            return translate_script(sql, self.catalog())
        except TranslationError as error:
            raise WarehouseError.of(error) from None

    def execute(self, statement: str) -> StatementOutcome:
        """Run one translated statement; only queries give rows, DML gives the rows it changed."""
        try:
            kind = self.connection.extract_statements(statement)[0].type
            cursor = self.connection.execute(statement)
            description = cursor.description
            rows = cursor.fetchall() if description else []
        except duckdb.Error as error:
            raise WarehouseError.of(error) from None
        if kind in RESULT_SET_STATEMENTS and description:
            result = QueryResult(tuple(d[0] for d in description), rows)
            return StatementOutcome(result, tuple(str(d[1]) for d in description), len(rows))
        changed = int(rows[0][0]) if kind in ROW_COUNT_STATEMENTS and rows else -1
        return StatementOutcome(None, (), changed)

    def run(self, sql: str) -> QueryResult | None:
        """Run a script of Redshift statements; the last statement's rows, if it returns any.

        A script of several statements is one transaction, as a Data API batch is.
        """
        statements = self.translate(sql)
        if len(statements) > 1 and not self._in_transaction:
            with self.transaction():
                return self._run_translated(statements)
        return self._run_translated(statements)

    def _run_translated(self, statements: list[str]) -> QueryResult | None:
        result: QueryResult | None = None
        for statement in statements:
            result = self.execute(statement).result
        return result

    @contextmanager
    def transaction(self) -> Iterator[DuckDBExecutor]:
        """All or nothing: a failure inside leaves the warehouse as it was."""
        if self._in_transaction:
            raise WarehouseError("transactions do not nest")
        self.connection.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")
        finally:
            self._in_transaction = False

    def close(self) -> None:
        self.connection.close()


ENDED_STATES = ("FINISHED", "FAILED", "ABORTED")
# Data API type name -> the Python value DuckDB would give for the same column.
FROM_STRING: dict[str, Callable[[str], Any]] = {
    "numeric": Decimal,
    "decimal": Decimal,
    "date": date.fromisoformat,
    "timestamp": datetime.fromisoformat,
    "timestamptz": datetime.fromisoformat,
}


def python_value(field: dict[str, Any], type_name: str) -> Any:
    """One Data API `Field` as a Python value: Decimal, date and datetime from their strings."""
    if field.get("isNull"):
        return None
    for member in ("longValue", "doubleValue", "booleanValue", "blobValue"):
        if member in field:
            return field[member]
    text = field["stringValue"]
    return FROM_STRING.get(type_name, str)(text)


class RedshiftDataApiExecutor:
    """Redshift SQL on a Redshift cluster or serverless workgroup, through the Data API.

    A script of several statements is one `BatchExecuteStatement`, so it is one transaction as
    on DuckDB. Inside `transaction()` statements are collected and sent as one batch when the
    block ends: the Data API keeps no transaction open between calls. Reading inside it gives
    None, so load code that only writes there runs the same on both engines.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        cluster_identifier: str | None = None,
        workgroup_name: str | None = None,
        database: str | None = None,
        db_user: str | None = None,
        secret_arn: str | None = None,
        timeout_seconds: float = 3600.0,
    ) -> None:
        if cluster_identifier and workgroup_name:
            raise ValueError("give a cluster identifier or a workgroup name, not both")
        self._client = client("redshift-data", settings)
        target = (
            {"WorkgroupName": workgroup_name}
            if workgroup_name
            else {"ClusterIdentifier": cluster_identifier or settings.names.redshift_cluster}
        )
        credentials = {"DbUser": db_user, "SecretArn": secret_arn}
        self._connection: dict[str, str] = {
            **target,
            "Database": database or settings.names.redshift_database,
            **{name: value for name, value in credentials.items() if value},
        }
        self._timeout_seconds = timeout_seconds
        self._collected: list[str] | None = None

    def run(self, sql: str) -> QueryResult | None:
        """Run a script of Redshift statements; the last statement's rows, if it returns any."""
        statements = self._split(sql)
        if self._collected is not None:
            self._collected.extend(statements)
            return None
        return self._send(statements)

    @contextmanager
    def transaction(self) -> Iterator[RedshiftDataApiExecutor]:
        """All or nothing: the statements run inside are sent as one batch at the end."""
        if self._collected is not None:
            raise WarehouseError("transactions do not nest")
        self._collected = []
        try:
            yield self
            statements = self._collected
        finally:
            self._collected = None
        self._send(statements)

    def close(self) -> None:
        """Nothing to release: every call is a stateless request."""

    def _split(self, sql: str) -> list[str]:
        try:
            return split_script(sql)
        except TranslationError as error:
            raise WarehouseError.of(error) from None

    def _send(self, statements: list[str]) -> QueryResult | None:
        if not statements:
            return None
        if len(statements) == 1:
            started = self._client.execute_statement(Sql=statements[0], **self._connection)
        else:
            started = self._client.batch_execute_statement(Sqls=statements, **self._connection)
        described = self._wait(started["Id"])
        if described["Status"] != "FINISHED":
            redshift = from_message(
                str(described.get("Error") or f"statement {described['Status']}")
            )
            raise WarehouseError(redshift.message, redshift)
        last = described["SubStatements"][-1] if "SubStatements" in described else described
        return self._result(last["Id"]) if last.get("HasResultSet") else None

    def _wait(self, statement_id: str) -> dict[str, Any]:
        """DescribeStatement until the statement ends, polling less often as it runs longer."""
        deadline = time.monotonic() + self._timeout_seconds
        pause = 0.005
        while True:
            described: dict[str, Any] = self._client.describe_statement(Id=statement_id)
            if described["Status"] in ENDED_STATES:
                return described
            if time.monotonic() > deadline:
                self._client.cancel_statement(Id=statement_id)
                raise WarehouseError(
                    f"statement {statement_id} still {described['Status']} after "
                    f"{self._timeout_seconds:.0f}s: cancelled"
                )
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _result(self, statement_id: str) -> QueryResult:
        pages = [self._client.get_statement_result(Id=statement_id)]
        while token := pages[-1].get("NextToken"):
            pages.append(self._client.get_statement_result(Id=statement_id, NextToken=token))
        columns = pages[0]["ColumnMetadata"]
        types = [column["typeName"] for column in columns]
        rows = [
            tuple(
                python_value(field, type_name)
                for field, type_name in zip(record, types, strict=True)
            )
            for page in pages
            for record in page["Records"]
        ]
        return QueryResult(tuple(column["name"] for column in columns), rows)
