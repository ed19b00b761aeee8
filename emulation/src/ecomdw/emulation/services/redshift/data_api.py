"""Redshift Data API statements that run: the SQL goes through the translator onto DuckDB.

moto records a statement and answers every `GetStatementResult` with the same canned rows.
Here each cluster identifier or workgroup name with a database is one DuckDB file,
`<home>/redshift/<cluster>-<database>.duckdb`, with one worker thread that runs its statements
in order, as Redshift runs those of a session, so `DescribeStatement` moves SUBMITTED ->
STARTED -> FINISHED, FAILED (with Redshift's `ERROR: ...`, from the warehouse's Redshift
error mapping) or ABORTED. A statement, and a whole batch, is one transaction. Results are
typed as the Data API types them (decimals, dates and timestamps as strings; Redshift type
names in the column metadata) and paged with `NextToken`. COPY and UNLOAD reach this
emulator's own S3.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.redshiftdata.exceptions import ResourceNotFoundException, ValidationException
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

from ecomdw.core.settings import Settings
from ecomdw.emulation.patching import replace
from ecomdw.emulation.services.redshift.metrics import ClusterMetrics
from ecomdw.emulation.state import RUNNING
from ecomdw.warehouse.executors import DuckDBExecutor, StatementOutcome, WarehouseError
from ecomdw.warehouse.translate import TranslationError, bind_parameters, split_script

RESULT_PAGE_ROWS = 1000
"""Records per `GetStatementResult` page (Redshift pages by size, 100 MB; rows are simpler)."""
LIST_PAGE_DEFAULT = 100
ENDED = ("FINISHED", "FAILED", "ABORTED")

# DuckDB type (without its parameters) -> the Redshift type name the Data API reports.
REDSHIFT_TYPE_NAMES = {
    "BOOLEAN": "bool",
    "TINYINT": "int2",
    "SMALLINT": "int2",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "HUGEINT": "int8",
    "UTINYINT": "int2",
    "USMALLINT": "int4",
    "UINTEGER": "int8",
    "UBIGINT": "int8",
    "FLOAT": "float4",
    "DOUBLE": "float8",
    "DECIMAL": "numeric",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "BLOB": "varbyte",
}
LONG_TYPES = {"int2", "int4", "int8"}
DOUBLE_TYPES = {"float4", "float8"}


def _timestamp_text(value: datetime) -> str:
    """PostgreSQL's text form: no trailing zeros in the fraction, `+00` for UTC."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
        text += f"{sign}{minutes // 60:02d}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return text


def _field(value: Any, type_name: str) -> dict[str, Any]:
    """One Data API `Field`: the typed member Redshift would fill for this value."""
    if value is None:
        return {"isNull": True}
    if type_name == "bool":
        return {"booleanValue": bool(value)}
    if type_name in LONG_TYPES:
        return {"longValue": int(value)}
    if type_name in DOUBLE_TYPES:
        return {"doubleValue": float(value)}
    if isinstance(value, datetime):
        return {"stringValue": _timestamp_text(value)}
    return {"stringValue": str(value)}


def _column_metadata(name: str, duckdb_type: str) -> dict[str, Any]:
    base = duckdb_type.split("(", maxsplit=1)[0].strip()
    type_name = REDSHIFT_TYPE_NAMES.get(base, base.lower())
    precision, scale = 0, 0
    if match := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type):
        precision, scale = int(match[1]), int(match[2])
    return {
        "name": name,
        "label": name,
        "typeName": type_name,
        "precision": precision,
        "scale": scale,
        "length": 0,
        "nullable": 1,
        "isSigned": type_name in LONG_TYPES | DOUBLE_TYPES | {"numeric"},
        "isCaseSensitive": type_name == "varchar",
        "isCurrency": False,
        "schemaName": "",
        "tableName": "",
    }


@dataclass
class SubStatement:
    """One SQL statement: alone (`ExecuteStatement`) or one of a batch (`<id>:<n>`)."""

    id: str
    sql: str
    bound_sql: str
    status: str = "SUBMITTED"
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    duration_ns: int = -1
    result_rows: int = -1
    result_size: int = -1
    query_id: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)
    records: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def has_result_set(self) -> bool:
        return bool(self.columns)

    def move(self, status: str, error: str | None = None) -> None:
        self.status, self.error, self.updated_at = status, error, time.time()

    def keep(self, outcome: StatementOutcome | None) -> None:
        """Hold the statement's result as Data API records, typed once here."""
        if outcome is None or outcome.result is None:
            self.result_rows = outcome.row_count if outcome is not None else -1
            return
        self.columns = [
            _column_metadata(name, duckdb_type)
            for name, duckdb_type in zip(outcome.result.columns, outcome.column_types, strict=True)
        ]
        types = [column["typeName"] for column in self.columns]
        self.records = [
            [_field(value, type_name) for value, type_name in zip(row, types, strict=True)]
            for row in outcome.result.rows
        ]
        self.result_rows = len(self.records)
        self.result_size = len(json.dumps(self.records))

    def description(self) -> dict[str, Any]:
        described = {
            "Id": self.id,
            "QueryString": self.sql,
            "Status": self.status,
            "Error": self.error,
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
            "Duration": self.duration_ns,
            "HasResultSet": self.has_result_set,
            "ResultRows": self.result_rows,
            "ResultSize": self.result_size,
            "RedshiftQueryId": self.query_id,
        }
        return {key: value for key, value in described.items() if value is not None}


@dataclass
class Statement:
    """A request: one statement, or a batch that runs as one transaction."""

    target: str
    database: str
    request: dict[str, Any]
    sqls: list[str]
    bound_sqls: list[str]
    is_batch: bool
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "SUBMITTED"
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    duration_ns: int = -1
    redshift_pid: int = 0
    cancel_requested: bool = False
    subs: list[SubStatement] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.subs = [
            SubStatement(f"{self.id}:{n}" if self.is_batch else self.id, sql, bound)
            for n, (sql, bound) in enumerate(zip(self.sqls, self.bound_sqls, strict=True), start=1)
        ]

    def move(self, status: str, error: str | None = None) -> None:
        self.status, self.error, self.updated_at = status, error, time.time()

    def identity(self) -> dict[str, Any]:
        """The connection fields the request named, as the Data API echoes them."""
        names = ("ClusterIdentifier", "WorkgroupName", "Database", "DbUser", "SecretArn")
        return {name: self.request[name] for name in names if self.request.get(name)}

    def description(self) -> dict[str, Any]:
        last = self.subs[-1]
        described: dict[str, Any] = {
            **self.identity(),
            "Id": self.id,
            "Status": self.status,
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
            "Duration": self.duration_ns,
            "RedshiftPid": self.redshift_pid,
            "HasResultSet": any(sub.has_result_set for sub in self.subs),
            "ResultRows": sum(max(sub.result_rows, 0) for sub in self.subs)
            if self.is_batch
            else last.result_rows,
            "ResultSize": last.result_size,
            "QueryParameters": self.request.get("Parameters"),
        }
        if self.error is not None:
            described["Error"] = self.error
        if self.is_batch:
            described["SubStatements"] = [sub.description() for sub in self.subs]
        else:
            described |= {"QueryString": last.sql, "RedshiftQueryId": last.query_id}
        return {key: value for key, value in described.items() if value is not None}

    def listing(self) -> dict[str, Any]:
        listed: dict[str, Any] = {
            "Id": self.id,
            "Status": self.status,
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
            "IsBatchStatement": self.is_batch,
            "StatementName": self.request.get("StatementName"),
            "SecretArn": self.request.get("SecretArn"),
            "QueryParameters": self.request.get("Parameters"),
        }
        if self.is_batch:
            listed["QueryStrings"] = self.sqls
        else:
            listed["QueryString"] = self.sqls[0]
        return {key: value for key, value in listed.items() if value is not None}


class DatabaseSession:
    """One cluster or workgroup database: its DuckDB file and the thread that runs its SQL."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self._path = path
        self._settings = settings
        self._queue: queue.Queue[Statement | None] = queue.Queue()
        self._running: Statement | None = None
        self._executor: DuckDBExecutor | None = None
        self._pid = int(uuid.uuid4().int % 1_000_000)
        self._metrics: ClusterMetrics | None = None  # a cluster's, not a workgroup's
        self._thread = threading.Thread(
            target=self._work, name=f"redshift-data-{path.stem}", daemon=True
        )
        self._thread.start()

    def submit(self, statement: Statement) -> None:
        statement.redshift_pid = self._pid
        cluster = statement.request.get("ClusterIdentifier")
        if cluster and self._metrics is None:
            self._metrics = ClusterMetrics(self._settings, str(cluster), self._path)
        self._queue.put(statement)

    def cancel(self, statement: Statement) -> None:
        """A queued statement never starts; a running one is interrupted and rolled back."""
        statement.cancel_requested = True
        if self._running is statement and self._executor is not None:
            self._executor.connection.interrupt()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _work(self) -> None:
        self._executor = DuckDBExecutor(self._path, s3=self._settings)
        try:
            while (statement := self._queue.get()) is not None:
                self._running = statement
                try:
                    self._run(self._executor, statement)
                finally:
                    self._running = None
                if self._metrics is not None:
                    self._metrics.observe()
        finally:
            self._executor.close()

    def _run(self, executor: DuckDBExecutor, statement: Statement) -> None:
        if statement.cancel_requested:
            statement.move("ABORTED")
            for sub in statement.subs:
                sub.move("ABORTED")
            return
        started = time.monotonic_ns()
        statement.move("STARTED")
        executor.connection.execute("BEGIN TRANSACTION")
        failure: str | None = None
        for sub in statement.subs:
            if failure is not None:
                sub.move("ABORTED")
                continue
            sub.move("STARTED")
            sub_started = time.monotonic_ns()
            try:
                outcomes = [executor.execute(sql) for sql in executor.translate(sub.bound_sql)]
            except WarehouseError as error:
                failure = error.redshift.data_api_text
                if statement.cancel_requested:
                    failure = "ERROR: Query (cancelled on user's request)"
            else:
                sub.keep(outcomes[-1] if outcomes else None)
            sub.duration_ns = time.monotonic_ns() - sub_started
            sub.query_id = sub_started % 1_000_000
            sub.move("FINISHED" if failure is None else "FAILED", failure)
        executor.connection.execute("COMMIT" if failure is None else "ROLLBACK")
        statement.duration_ns = time.monotonic_ns() - started
        if failure is None:
            statement.move("FINISHED")
        elif statement.cancel_requested:
            statement.move("ABORTED")
        else:
            statement.move("FAILED", failure)


def _encode_token(offset: int) -> str:
    return f"{offset:x}"


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(token, 16)
    except ValueError:
        raise ValidationException("NextToken is not valid") from None


class RedshiftDataEmulation:
    """Runs this process's moto Redshift Data API statements on DuckDB files under `home`."""

    def __init__(
        self, settings: Settings, files: Mapping[tuple[str, str], Path] | None = None
    ) -> None:
        """`files`: (cluster or workgroup, database) -> the DuckDB file chosen for it."""
        self.settings = settings
        self.folder = settings.home / "redshift"
        self._files = dict(files or {})
        self._sessions: dict[tuple[str, str], DatabaseSession] = {}
        self._statements: dict[str, Statement] = {}
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.close()

    def reset(self) -> None:
        """No database and no statement, as a new emulator has: the sessions end and the DuckDB
        files this emulation made are deleted (those the caller chose for it are kept)."""
        self.stop()
        with self._lock:
            self._statements.clear()
        for path in self.folder.glob("*.duckdb*"):
            path.unlink(missing_ok=True)

    def database_file(self, target: str, database: str) -> Path:
        return self._files.get((target, database), self.folder / f"{target}-{database}.duckdb")

    def execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        sql = str(request.get("Sql") or "")
        return self._submit(request, [sql], is_batch=False)

    def batch_execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        sqls = [str(sql) for sql in request.get("Sqls") or []]
        if not sqls:
            raise ValidationException("Sqls must hold at least one SQL statement")
        return self._submit(request, sqls, is_batch=True)

    def describe_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, sub = self._find(str(request.get("Id", "")))
        return sub.description() if sub is not None else statement.description()

    def get_statement_result(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, sub = self._find(str(request.get("Id", "")))
        if sub is None:
            if statement.is_batch:
                raise ValidationException(
                    "The statement is a batch: get the result of a sub-statement, <id>:<n>"
                )
            sub = statement.subs[0]
        if sub.status != "FINISHED" or not sub.has_result_set:
            raise ValidationException(
                f"Query does not have result ({sub.status}). Please check query status."
            )
        offset = _decode_token(request.get("NextToken"))
        end = offset + RESULT_PAGE_ROWS
        page: dict[str, Any] = {
            "Records": sub.records[offset:end],
            "ColumnMetadata": sub.columns,
            "TotalNumRows": len(sub.records),
        }
        if end < len(sub.records):
            page["NextToken"] = _encode_token(end)
        return page

    def list_statements(self, request: dict[str, Any]) -> dict[str, Any]:
        status = str(request.get("Status") or "ALL")
        filters = {
            name: request[name]
            for name in ("ClusterIdentifier", "WorkgroupName", "Database")
            if request.get(name)
        }
        name_prefix = str(request.get("StatementName") or "")
        with self._lock:
            statements = sorted(self._statements.values(), key=lambda s: -s.created_at)
        chosen = [
            s
            for s in statements
            if status in ("ALL", s.status)
            and all(s.request.get(name) == value for name, value in filters.items())
            and str(s.request.get("StatementName") or "").startswith(name_prefix)
        ]
        offset = _decode_token(request.get("NextToken"))
        end = offset + int(request.get("MaxResults") or LIST_PAGE_DEFAULT)
        listed: dict[str, Any] = {"Statements": [s.listing() for s in chosen[offset:end]]}
        if end < len(chosen):
            listed["NextToken"] = _encode_token(end)
        return listed

    def cancel_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, _ = self._find(str(request.get("Id", "")))
        if statement.status in ENDED:
            raise ValidationException(
                f"Could not cancel a query that is already in {statement.status} state "
                f"with ID: {statement.id}"
            )
        self._session(statement.target, statement.database).cancel(statement)
        return {"Status": True}

    def _submit(
        self, request: dict[str, Any], sqls: list[str], *, is_batch: bool
    ) -> dict[str, Any]:
        cluster, workgroup = request.get("ClusterIdentifier"), request.get("WorkgroupName")
        if bool(cluster) == bool(workgroup):
            raise ValidationException("Either ClusterIdentifier or WorkgroupName is required")
        database = request.get("Database")
        if not database:
            raise ValidationException("Database is required")
        values = {str(p["name"]): str(p["value"]) for p in request.get("Parameters") or []}
        try:
            bound = [bind_parameters(sql, values) if values else sql for sql in sqls]
            if not is_batch and len(split_script(bound[0])) != 1:
                raise ValidationException(
                    "ExecuteStatement runs a single SQL statement: use BatchExecuteStatement"
                )
        except TranslationError as error:
            raise ValidationException(str(error)) from None
        statement = Statement(
            str(cluster or workgroup), str(database), request, sqls, bound, is_batch
        )
        with self._lock:
            self._statements[statement.id] = statement
        self._session(statement.target, statement.database).submit(statement)
        return {
            **statement.identity(),
            "Id": statement.id,
            "CreatedAt": statement.created_at,
            "Status": statement.status,
        }

    def _session(self, target: str, database: str) -> DatabaseSession:
        with self._lock:
            key = (target, database)
            if key not in self._sessions:
                self._sessions[key] = DatabaseSession(
                    self.database_file(target, database), self.settings
                )
            return self._sessions[key]

    def _find(self, statement_id: str) -> tuple[Statement, SubStatement | None]:
        """The statement, and the sub-statement when the id names one (`<id>:<n>`)."""
        parent_id, _, number = statement_id.partition(":")
        with self._lock:
            statement = self._statements.get(parent_id)
        if statement is None:
            raise ResourceNotFoundException()
        if not number:
            return statement, None
        if not statement.is_batch or not number.isdigit():
            raise ValidationException(f"{statement_id} names no sub-statement")
        index = int(number) - 1
        if not 0 <= index < len(statement.subs):
            raise ResourceNotFoundException()
        return statement, statement.subs[index]


OPERATIONS = (
    "execute_statement",
    "batch_execute_statement",
    "describe_statement",
    "get_statement_result",
    "list_statements",
    "cancel_statement",
)


def install() -> None:
    """Answer the Data API requests that reach an emulator from that emulator's emulation.

    moto's response class is shared by every server in the process, so it dispatches on the
    port the request came to: two emulators in one process stay apart.
    """
    for operation in OPERATIONS:
        replace(RedshiftDataAPIServiceResponse, operation, _responder(operation))


def _responder(operation: str) -> Callable[[RedshiftDataAPIServiceResponse], TYPE_RESPONSE]:
    def respond(response: RedshiftDataAPIServiceResponse) -> TYPE_RESPONSE:
        state = RUNNING.reached_at(str(response.headers.get("Host", "")))
        if state is None:
            raise ValidationException("no ecomdw Redshift emulation serves this endpoint")
        handler: Callable[[dict[str, Any]], dict[str, Any]] = getattr(
            state.redshift_data, operation
        )
        return 200, {}, json.dumps(handler(json.loads(response.body or "{}")))

    return respond
