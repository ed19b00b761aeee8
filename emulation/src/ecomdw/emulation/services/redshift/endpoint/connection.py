"""One client connection: startup, authentication, then the simple and extended query protocols.

The flow is PostgreSQL's ("Message Flow" in the PostgreSQL documentation): an SSL or GSSAPI
encryption request is declined (`N`: the emulated cluster keeps `require_ssl` off); the
password is asked as Redshift asks it, md5 (or SCRAM-SHA-256 when the endpoint is set so);
after an error in the extended protocol, messages are skipped until Sync. A Describe never
runs the statement: its columns come from binding it, so a statement runs once, at Execute.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from ecomdw.warehouse.translate import TranslationError, bind_positional, split_script

from . import protocol as pg
from . import values
from .errors import WireError
from .scram import MECHANISM, ScramExchange
from .session import SERVER_VERSION, Result, Session
from .users import User

if TYPE_CHECKING:
    from .server import ClusterEndpoint

FLUSH_BYTES = 1 << 16
TEXT_FORMAT = 0


@dataclass
class Prepared:
    """A parsed statement: its SQL, the parameter types the client named, its columns."""

    sql: str
    oids: list[int]
    columns: list[values.Column] | None = None


@dataclass
class Portal:
    """A bound statement: its SQL with the parameters in, and the result formats asked for."""

    statement: Prepared
    sql: str
    formats: list[int]
    columns: list[values.Column] | None = None
    pending: Iterator[tuple[Any, ...]] | None = None
    tag: str = ""
    encoders: list[Callable[[Any], bytes]] = field(default_factory=list)


class ClientGoneError(Exception):
    """The client closed the connection."""


class Connection:
    """Serves one accepted socket until the client terminates or the endpoint stops."""

    def __init__(self, sock: socket.socket, endpoint: ClusterEndpoint) -> None:
        self._sock = sock
        self._endpoint = endpoint
        self._stream = sock.makefile("rb")
        self._out: list[bytes] = []
        self._size = 0
        self._session: Session | None = None
        self._statements: dict[str, Prepared] = {}
        self._portals: dict[str, Portal] = {}
        self._skipping = False
        self.pid = 0
        self.secret = 0

    # --- output -----------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        self._out.append(data)
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._out:
            self._sock.sendall(b"".join(self._out))
            self._out, self._size = [], 0

    def _read(self) -> tuple[bytes, bytes]:
        received = pg.read_message(self._stream)
        if received is None:
            raise ClientGoneError
        return received

    # --- lifecycle --------------------------------------------------------------------

    def serve(self) -> None:
        try:
            if self._start():
                self._loop()
        except (ClientGoneError, ConnectionError, pg.ProtocolError, OSError, duckdb.Error):
            pass  # the client went, broke the protocol, or the endpoint stopped under it
        finally:
            self._endpoint.forget(self)
            if self._session is not None:
                self._session.close()
            with contextlib.suppress(OSError):
                self._stream.close()  # the socket closes once its file is closed too
                self._sock.close()

    def cancel(self) -> None:
        if self._session is not None:
            self._session.interrupt()

    def close_socket(self) -> None:
        """End the connection from the server side (the endpoint is stopping)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def _start(self) -> bool:
        """Startup and authentication; False when the connection ends there."""
        while True:
            startup = pg.read_startup(self._stream)
            if startup is None:
                return False
            code, payload = startup
            if code in (pg.SSL_REQUEST, pg.GSSENC_REQUEST):
                self._sock.sendall(b"N")
                continue
            if code == pg.CANCEL_REQUEST:
                pid, secret = struct.unpack("!iI", payload[:8])
                self._endpoint.cancel(pid, secret)
                return False
            if code != pg.PROTOCOL_3:
                self._fatal("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}")
                return False
            break
        parameters = pg.startup_parameters(payload)
        name = parameters.get("user", "")
        database = parameters.get("database") or name
        user = self._endpoint.users.find(name)
        if not self._authenticate(name, user):
            self._fatal("28P01", f'password authentication failed for user "{name}"')
            return False
        assert user is not None
        if not self._endpoint.has_database(database):
            self._fatal("3D000", f'database "{database}" does not exist')
            return False
        self._session = self._endpoint.session(user, database)
        self.pid, self.secret = self._endpoint.register(self)
        self._session.pid = self.pid
        self._send(pg.authentication(pg.AUTH_OK))
        for key, value in self._startup_status(user, parameters).items():
            self._send(pg.parameter_status(key, value))
        self._send(pg.backend_key_data(self.pid, self.secret))
        self._ready()
        return True

    def _startup_status(self, user: User, parameters: dict[str, str]) -> dict[str, str]:
        """The ParameterStatus a Redshift cluster reports at startup."""
        return {
            "application_name": parameters.get("application_name", ""),
            "client_encoding": "UTF8",
            "DateStyle": "ISO, MDY",
            "integer_datetimes": "on",
            "IntervalStyle": "postgres",
            "is_superuser": "on" if user.superuser else "off",
            "server_encoding": "UTF8",
            "server_version": SERVER_VERSION,
            "session_authorization": user.name,
            "standard_conforming_strings": "off",
            "TimeZone": "UTC",
        }

    def _fatal(self, code: str, text: str) -> None:
        self._send(pg.error_response(code, text, severity="FATAL"))
        self._flush()

    def _password_message(self) -> bytes:
        self._flush()
        kind, payload = self._read()
        if kind != b"p":
            raise pg.ProtocolError(f"expected a password message, got {kind!r}")
        return payload

    def _authenticate(self, name: str, user: User | None) -> bool:
        if self._endpoint.auth == "scram-sha-256" and (user is None or user.password):
            return self._scram(user)
        salt = os.urandom(4)
        self._send(pg.authentication(pg.AUTH_MD5, salt))
        answer = self._password_message().rstrip(b"\x00").decode(errors="replace")
        if user is None or user.md5 is None:
            return False
        expected = "md5" + hashlib.md5(user.md5.encode() + salt).hexdigest()
        return hmac.compare_digest(answer, expected)

    def _scram(self, user: User | None) -> bool:
        """SCRAM-SHA-256; an unknown user goes through the exchange and fails at the proof."""
        exchange = ScramExchange(user.password if user and user.password else secrets.token_hex())
        self._send(pg.authentication(pg.AUTH_SASL, pg.cstring(MECHANISM) + b"\x00"))
        initial = pg.Payload(self._password_message())
        if initial.cstring() != MECHANISM:
            return False
        size = initial.int32()
        try:
            server_first = exchange.first(initial.take(size).decode())
        except (ValueError, KeyError):
            return False
        self._send(pg.authentication(pg.AUTH_SASL_CONTINUE, server_first.encode()))
        server_final = exchange.final(self._password_message().decode(errors="replace"))
        if server_final is None or user is None:
            return False
        self._send(pg.authentication(pg.AUTH_SASL_FINAL, server_final.encode()))
        return True

    # --- the query protocols ----------------------------------------------------------

    def _ready(self) -> None:
        assert self._session is not None
        self._send(pg.ready_for_query(self._session.status))
        self._flush()

    def _loop(self) -> None:
        handlers: dict[bytes, Callable[[pg.Payload], None]] = {
            b"Q": self._query,
            b"P": self._parse,
            b"B": self._bind,
            b"D": self._describe,
            b"E": self._execute,
            b"C": self._close,
        }
        while True:
            kind, payload = self._read()
            if kind == b"X":
                return
            if kind == b"S":
                self._skipping = False
                self._ready()
            elif kind == b"H":
                self._flush()
            elif kind in handlers:
                if self._skipping and kind != b"Q":
                    continue
                try:
                    handlers[kind](pg.Payload(payload))
                except (WireError, values.UnsupportedValueError) as error:
                    refused = (
                        error if isinstance(error, WireError) else WireError("0A000", str(error))
                    )
                    self._send(
                        pg.error_response(
                            refused.sqlstate,
                            refused.text,
                            refused.severity,
                            refused.detail,
                            refused.hint,
                        )
                    )
                    self._skipping = kind != b"Q"
                    if kind == b"Q":
                        self._ready()
            else:
                raise pg.ProtocolError(f"unknown message type {kind!r}")

    def _query(self, payload: pg.Payload) -> None:
        """Simple query: each statement's rows in text, one implicit transaction for several."""
        assert self._session is not None
        text = payload.cstring()
        try:
            statements = split_script(text)
        except TranslationError as error:
            raise WireError("42601", str(error)) from None
        if not statements:
            self._send(pg.EMPTY_QUERY)
            self._ready()
            return
        implicit = len(statements) > 1 and not any(
            s.split(None, 1)[0].lower() in ("begin", "start", "commit", "end", "rollback", "abort")
            for s in statements
        )
        if implicit:
            self._session.begin_implicit()
        try:
            for statement in statements:
                result = self._session.execute(statement)
                if result.columns is not None:
                    formats = [TEXT_FORMAT] * len(result.columns)
                    self._send(pg.row_description(result.columns, formats))
                    self._rows(result.rows, self._encoders(result.columns, formats))
                self._complete(result)
        finally:
            if implicit:
                self._session.end_implicit()
        self._ready()

    def _complete(self, result: Result) -> None:
        if result.notice is not None:
            self._send(pg.notice_response(*result.notice))
        self._send(pg.command_complete(result.tag))

    def _encoders(self, columns: list[values.Column], formats: list[int]) -> list[Any]:
        assert self._session is not None
        digits = self._session.extra_float_digits
        return [
            values.encoder(c, f != TEXT_FORMAT, digits)
            for c, f in zip(columns, formats, strict=True)
        ]

    def _rows(self, rows: Any, encoders: list[Callable[[Any], bytes]], limit: int = 0) -> int:
        sent = 0
        for row in rows:
            self._send(
                pg.data_row(
                    None if value is None else encode(value)
                    for value, encode in zip(row, encoders, strict=True)
                )
            )
            sent += 1
            if limit and sent >= limit:
                break
        return sent

    def _parse(self, payload: pg.Payload) -> None:
        name, sql = payload.cstring(), payload.cstring()
        oids = [payload.int32() for _ in range(payload.int16())]
        try:
            statements = split_script(sql)
        except TranslationError as error:
            raise WireError("42601", str(error)) from None
        if len(statements) > 1:
            raise WireError("42601", "cannot insert multiple commands into a prepared statement")
        self._statements[name] = Prepared(statements[0] if statements else "", oids)
        self._send(pg.PARSE_COMPLETE)

    def _statement(self, name: str) -> Prepared:
        statement = self._statements.get(name)
        if statement is None:
            raise WireError("26000", f'prepared statement "{name}" does not exist')
        return statement

    @staticmethod
    def _formats(codes: list[int], count: int) -> list[int]:
        if not codes:
            return [TEXT_FORMAT] * count
        if len(codes) == 1:
            return codes * count
        return codes

    def _bind(self, payload: pg.Payload) -> None:
        portal_name, statement = payload.cstring(), self._statement(payload.cstring())
        parameter_formats = [payload.int16() for _ in range(payload.int16())]
        count = payload.int16()
        raw: list[bytes | None] = []
        for _ in range(count):
            size = payload.int32()
            raw.append(None if size < 0 else payload.take(size))
        result_formats = [payload.int16() for _ in range(payload.int16())]
        formats = self._formats(parameter_formats, count)
        oids = [*statement.oids, *[0] * count][:count]
        literals = [
            values.parameter_sql(data, oid, fmt != TEXT_FORMAT)
            for data, oid, fmt in zip(raw, oids, formats, strict=True)
        ]
        try:
            sql = bind_positional(statement.sql, literals) if statement.sql else ""
        except TranslationError as error:
            raise WireError("08P01", str(error)) from None
        self._portals[portal_name] = Portal(statement, sql, result_formats)
        self._send(pg.BIND_COMPLETE)

    def _describe(self, payload: pg.Payload) -> None:
        assert self._session is not None
        target, name = payload.take(1), payload.cstring()
        if target == b"S":
            statement = self._statement(name)
            oids = [oid or values.OIDS["text"] for oid in statement.oids]
            self._send(pg.parameter_description(oids))
            placeholders = [values.placeholder_sql(oid) for oid in statement.oids]
            try:
                sql = bind_positional(statement.sql, placeholders) if statement.sql else ""
            except TranslationError as error:
                raise WireError("08P01", str(error)) from None
            statement.columns = self._session.describe(sql) if sql else None
            self._row_description(statement.columns, [])
            return
        portal = self._portals.get(name)
        if portal is None:
            raise WireError("34000", f'portal "{name}" does not exist')
        portal.columns = self._session.describe(portal.sql) if portal.sql else None
        self._row_description(portal.columns, portal.formats)

    def _row_description(self, columns: list[values.Column] | None, codes: list[int]) -> None:
        if columns is None:
            self._send(pg.NO_DATA)
        else:
            self._send(pg.row_description(columns, self._formats(codes, len(columns))))

    def _execute(self, payload: pg.Payload) -> None:
        name, limit = payload.cstring(), payload.int32()
        portal = self._portals.get(name)
        if portal is None:
            raise WireError("34000", f'portal "{name}" does not exist')
        if portal.pending is None:
            if not portal.sql:
                self._send(pg.EMPTY_QUERY)
                return
            assert self._session is not None
            result = self._session.execute(portal.sql)
            if result.columns is None:
                self._complete(result)
                return
            columns = portal.columns or portal.statement.columns or result.columns
            if len(columns) != len(result.columns):
                raise WireError("XX000", "the statement's columns changed since it was described")
            portal.encoders = self._encoders(columns, self._formats(portal.formats, len(columns)))
            portal.pending, portal.tag = iter(result.rows), result.tag
        sent = self._rows(portal.pending, portal.encoders, limit)
        if limit and sent == limit:
            self._send(pg.PORTAL_SUSPENDED)
            return
        portal.pending = None
        self._send(pg.command_complete(portal.tag))

    def _close(self, payload: pg.Payload) -> None:
        target, name = payload.take(1), payload.cstring()
        if target == b"S":
            self._statements.pop(name, None)
        else:
            self._portals.pop(name, None)
        self._send(pg.CLOSE_COMPLETE)
