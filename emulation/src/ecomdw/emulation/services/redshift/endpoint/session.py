"""One client connection's session on a cluster database: Redshift SQL in, rows out.

Each session has its own DuckDB connection to the database's file (the file the Data API
emulation uses; DuckDB shares one database instance per file in a process), so sessions run
side by side, each with its own transaction: DuckDB's snapshot isolation, where Redshift's is
serializable. Statements are translated as the Data API's are. What the translator does not
take is answered here as Redshift answers it: transaction control (BEGIN, COMMIT, ROLLBACK,
END, ABORT; no savepoints), SET, RESET and SHOW of session parameters, `SELECT version()` and
the other session functions, and the user and privilege statements (`users`).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ecomdw.warehouse.executors import (
    RESULT_SET_STATEMENTS,
    ROW_COUNT_STATEMENTS,
    DuckDBExecutor,
    StatementOutcome,
    WarehouseError,
)
from ecomdw.warehouse.translate import TranslationError, output_types, translate_script

from . import values
from .errors import WireError, wire_error
from .users import User, Users

SERVER_VERSION = "8.0.2"
# What `SELECT version()` answers on a provisioned cluster (Redshift Database Developer Guide,
# VERSION function).
VERSION = (
    "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 "
    "(Red Hat 3.4.2-6.fc3), Redshift 1.0.77467"
)
IDLE, IN_TRANSACTION, FAILED = b"I", b"T", b"E"
# Session parameters and their defaults (SHOW answers them; SET changes those listed).
PARAMETERS = {
    "application_name": "",
    "datestyle": "ISO, MDY",
    "extra_float_digits": "0",
    "search_path": "$user, public",
    "statement_timeout": "0",
    "query_group": "default",
    "timezone": "UTC",
    "client_encoding": "UTF8",
    "standard_conforming_strings": "off",
    "server_version": SERVER_VERSION,
    "transaction_isolation": "serializable",
    "enable_result_cache_for_session": "on",
    "describe_field_name_in_uppercase": "off",
}
READ_ONLY_PARAMETERS = {"server_version", "standard_conforming_strings", "transaction_isolation"}
FIXED_PARAMETERS = {"timezone": "UTC", "client_encoding": "UTF8", "datestyle": "ISO, MDY"}
# Statements answered here that return no rows.
SESSION_COMMANDS = (
    "begin", "start", "commit", "end", "rollback", "abort", "set", "reset", "savepoint", "release"
)  # fmt: skip
FIRST_WORDS = re.compile(r"\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?(?:\s+([A-Za-z]+))?")
SET = re.compile(r"\s*set\s+(?:session\s+|local\s+)?(\w+)\s*(?:to|=)\s*(.+?)\s*$", re.I | re.S)
RESET = re.compile(r"\s*reset\s+(\w+)\s*$", re.I)
SHOW = re.compile(r"\s*show\s+(.+?)\s*$", re.I | re.S)
SESSION_SELECT = re.compile(r"\s*select\s+(.+?)\s*$", re.I | re.S)
SELECT_ITEM = re.compile(r"\s*([\w.]+(?:\s*\(\s*\))?)(?:\s+(?:as\s+)?(\w+))?\s*$", re.I)
_query_ids = itertools.count(1)


@dataclass
class Result:
    """A statement's outcome: its command tag, and its columns and rows if it returns any."""

    tag: str
    columns: list[values.Column] | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    notice: tuple[str, str] | None = None  # (SQLSTATE, message) of a WARNING


def _words(sql: str) -> tuple[str, str, str]:
    match = FIRST_WORDS.match(sql)
    if match is None:
        return "", "", ""
    first, second, third = (part.lower() if part else "" for part in match.groups())
    return first, second, third


def _command_tag(sql: str, outcome: StatementOutcome | None, kind: Any) -> str:
    """PostgreSQL's command tag for the statement: `SELECT 3`, `INSERT 0 1`, `CREATE TABLE`."""
    first, second, third = _words(sql)
    rows = outcome.row_count if outcome is not None else 0
    if outcome is not None and outcome.result is not None:
        return f"SELECT {len(outcome.result.rows)}"
    if first == "insert":
        return f"INSERT 0 {max(rows, 0)}"
    if first in ("update", "delete", "merge", "copy") or kind in ROW_COUNT_STATEMENTS:
        return f"{first.upper()} {max(rows, 0)}"
    if first in ("create", "drop", "alter"):
        objects = [w for w in (second, third) if w not in ("or", "replace", "temp", "temporary")]
        if first == "create" and re.search(r"\bas\s+(select|with)\b", sql, re.I):
            return f"SELECT {max(rows, 0)}"
        return f"{first.upper()} {(objects[0] if objects else second).upper()}".strip()
    if first == "truncate":
        return "TRUNCATE TABLE"
    return first.upper()


class Session:
    """A connection's session: its user, database, DuckDB connection and transaction state."""

    def __init__(
        self, warehouse: duckdb.DuckDBPyConnection, user: User, database: str, users: Users
    ) -> None:
        """`warehouse`: the database's DuckDB connection; the session works on a cursor of it."""
        self.user = user
        self.database = database
        self.pid = 0
        self._users = users
        self._executor = DuckDBExecutor.sharing(warehouse)
        self._parameters = dict(PARAMETERS)
        self._state = IDLE
        self._implicit = False
        self._cancelled = False

    # --- state the connection reports -------------------------------------------------

    @property
    def status(self) -> bytes:
        """ReadyForQuery's transaction status: idle, in a transaction, or in a failed one."""
        return self._state

    @property
    def extra_float_digits(self) -> int:
        try:
            return int(self._parameters["extra_float_digits"])
        except ValueError:
            return 0

    def interrupt(self) -> None:
        """Cancel the running statement (a CancelRequest): it fails with 57014."""
        self._cancelled = True
        self._executor.connection.interrupt()

    def close(self) -> None:
        """Roll back what is open; quiet if the endpoint closed the database first (stopping)."""
        with contextlib.suppress(duckdb.Error):
            if self._state != IDLE:
                self._executor.connection.execute("ROLLBACK")
            self._executor.close()

    # --- a simple query's statements run as one implicit transaction -------------------

    def begin_implicit(self) -> None:
        if self._state == IDLE:
            self._executor.connection.execute("BEGIN TRANSACTION")
            self._state, self._implicit = IN_TRANSACTION, True

    def end_implicit(self) -> None:
        if self._implicit:
            self._implicit = False
            committed = self._state == IN_TRANSACTION
            self._executor.connection.execute("COMMIT" if committed else "ROLLBACK")
            self._state = IDLE

    # --- statements -------------------------------------------------------------------

    def execute(self, sql: str) -> Result:
        """Run one Redshift statement; a failure inside a transaction fails the transaction."""
        first, second, _ = _words(sql)
        self._refuse_when_failed(first)
        try:
            return self._execute(sql, first, second)
        except WireError:
            if self._state == IN_TRANSACTION:
                self._state = FAILED
            raise

    def _refuse_when_failed(self, first: str) -> None:
        """In a failed transaction only its end is taken (PostgreSQL's rule, and Redshift's)."""
        if self._state == FAILED and first not in ("rollback", "abort", "commit", "end"):
            raise WireError(
                "25P02",
                "current transaction is aborted, commands ignored until end of transaction block",
            )

    def describe(self, sql: str) -> list[values.Column] | None:
        """The columns `sql` would return, found without running it (None: no rows)."""
        first, _, _ = _words(sql)
        self._refuse_when_failed(first)
        if first == "show" and (match := SHOW.match(sql)):
            return [values.Column(self._show_name(match[1]), "text")]
        if (selected := self._session_select(sql)) is not None:
            return selected.columns
        if first in SESSION_COMMANDS or self._users.manages(sql):
            return None
        try:
            catalog = self._executor.catalog()
            statements = translate_script(sql, catalog)
            if len(statements) != 1:
                return None
            kind = self._executor.connection.extract_statements(statements[0])[0].type
            if kind not in RESULT_SET_STATEMENTS:
                return None
            relation = self._executor.connection.sql(statements[0])  # bound, not run
            declared = output_types(sql, catalog)
        except (TranslationError, WarehouseError) as error:
            raise wire_error(error) from None
        except duckdb.Error as error:
            raise wire_error(error) from None
        return self._columns(relation.columns, [str(t) for t in relation.types], declared)

    def _execute(self, sql: str, first: str, second: str) -> Result:
        if first in ("begin", "start"):
            return self._begin()
        if first in ("commit", "end"):
            return self._finish(commit=True)
        if first in ("rollback", "abort") and second not in ("to",):
            return self._finish(commit=False)
        if first in ("savepoint", "release") or (first == "rollback" and second == "to"):
            raise WireError("0A000", f'SQL command "{sql.strip()}" not supported.')
        if first in ("set", "reset"):
            return self._set(sql)
        if first == "show" and (match := SHOW.match(sql)):
            name = self._show_name(match[1])
            value = self._parameters.get(name)
            if value is None:
                raise WireError("42704", f'unrecognized configuration parameter "{name}"')
            return Result("SHOW", [values.Column(name, "text")], [(value,)])
        if (selected := self._session_select(sql)) is not None:
            return selected
        if self._users.manages(sql):
            return Result(self._users.run(self.user, self.database, sql, self._tables()))
        return self._warehouse(sql)

    def _tables(self) -> set[str]:
        return set(self._executor.catalog())

    @staticmethod
    def _show_name(name: str) -> str:
        name = " ".join(name.lower().split())
        return "transaction_isolation" if name == "transaction isolation level" else name

    def _begin(self) -> Result:
        if self._state != IDLE:
            return Result("BEGIN", notice=("25001", "there is already a transaction in progress"))
        self._executor.connection.execute("BEGIN TRANSACTION")
        self._state = IN_TRANSACTION
        return Result("BEGIN")

    def _finish(self, *, commit: bool) -> Result:
        tag = "COMMIT" if commit and self._state != FAILED else "ROLLBACK"
        if self._state == IDLE:
            return Result(tag, notice=("25P01", "there is no transaction in progress"))
        self._executor.connection.execute(tag)
        self._state = IDLE
        return Result(tag)

    def _set(self, sql: str) -> Result:
        if match := RESET.match(sql):
            name = match[1].lower()
            if name in PARAMETERS and name not in READ_ONLY_PARAMETERS:
                self._parameters[name] = PARAMETERS[name]
                return Result("RESET")
            raise WireError("42704", f'unrecognized configuration parameter "{name}"')
        match = SET.match(sql)
        if match is None:
            if re.match(r"\s*set\s+session\s+characteristics\b", sql, re.I):
                return Result("SET")
            raise WireError("42601", f'syntax error at or near "{sql.strip()[:30]}"')
        name, value = match[1].lower(), match[2].strip().strip("'\"")
        if name not in PARAMETERS or name in READ_ONLY_PARAMETERS:
            raise WireError("42704", f'unrecognized configuration parameter "{name}"')
        fixed = FIXED_PARAMETERS.get(name)
        if fixed is not None and value.upper() not in (fixed.upper(), "DEFAULT"):
            raise WireError(
                "0A000", f"the emulated endpoint keeps {name} at {fixed}: cannot set it to {value}"
            )
        self._parameters[name] = PARAMETERS[name] if value.upper() == "DEFAULT" else value
        return Result("SET")

    def _session_select(self, sql: str) -> Result | None:
        """`SELECT version()`, `SELECT current_user, current_database()` and the like."""
        match = SESSION_SELECT.match(sql)
        if match is None or re.search(r"\bfrom\b", match[1], re.I):
            return None
        answers = {
            "version()": ("version", "varchar", VERSION),
            "pg_catalog.version()": ("version", "varchar", VERSION),
            "current_user": ("current_user", "name", self.user.name),
            "user": ("current_user", "name", self.user.name),
            "session_user": ("session_user", "name", self.user.name),
            "current_schema()": ("current_schema", "name", "public"),
            "current_database()": ("current_database", "name", self.database),
            "pg_backend_pid()": ("pg_backend_pid", "int4", self.pid),
        }
        columns, row = [], []
        for item in match[1].split(","):
            parts = SELECT_ITEM.match(item)
            if parts is None:
                return None
            answer = answers.get(re.sub(r"\s+", "", parts[1]).lower())
            if answer is None:
                return None
            name, type_name, value = answer
            columns.append(values.Column(parts[2].lower() if parts[2] else name, type_name))
            row.append(value)
        return Result("SELECT 1", columns, [tuple(row)])

    def _warehouse(self, sql: str) -> Result:
        """A statement the translator takes: checked against the user's privileges, run."""
        self._cancelled = False
        try:
            catalog = self._executor.catalog()
            self._users.check(self.user, self.database, sql, catalog.keys())
            statements = translate_script(sql, catalog)
            atomic = len(statements) > 1 and self._state == IDLE
            if atomic:
                self._executor.connection.execute("BEGIN TRANSACTION")
            try:
                outcomes = [self._executor.execute(statement) for statement in statements]
            except WarehouseError:
                if atomic:
                    self._executor.connection.execute("ROLLBACK")
                raise
            if atomic:
                self._executor.connection.execute("COMMIT")
        except (TranslationError, WarehouseError) as error:
            if self._cancelled:
                raise WireError(
                    "57014", f"Query ({next(_query_ids)}) cancelled on user's request"
                ) from None
            raise wire_error(error) from None
        self._users.ran(self.user, self.database, sql, catalog.keys())
        last = outcomes[-1] if outcomes else None
        kind = None
        if statements:
            kind = self._executor.connection.extract_statements(statements[-1])[0].type
        tag = _command_tag(sql, last, kind)
        if last is None or last.result is None:
            return Result(tag)
        declared = output_types(sql, catalog) if "VARCHAR" in last.column_types else []
        columns = self._columns(last.result.columns, list(last.column_types), declared)
        return Result(tag, columns, last.result.rows)

    @staticmethod
    def _columns(
        names: list[str] | tuple[str, ...], types: list[str], declared: list[str | None]
    ) -> list[values.Column]:
        padded = [*declared, *[None] * len(names)][: len(names)]
        return [
            values.column(name, duckdb_type, kind)
            for name, duckdb_type, kind in zip(names, types, padded, strict=True)
        ]
