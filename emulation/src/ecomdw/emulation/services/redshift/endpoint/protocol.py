"""PostgreSQL's frontend/backend protocol 3.0, as Redshift speaks it: framing and messages.

Every message after the startup packet is a type byte, a 4-byte big-endian length that counts
itself, and a payload ("Message Formats" and "Message Flow" in the PostgreSQL documentation).
Pure functions from values to bytes and back; the connection does the I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from .values import Column

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_MESSAGE = 1 << 30

AUTH_OK = 0
AUTH_CLEARTEXT = 3
AUTH_MD5 = 5
AUTH_SASL = 10
AUTH_SASL_CONTINUE = 11
AUTH_SASL_FINAL = 12


class ProtocolError(Exception):
    """The client sent something the protocol does not allow (the connection is closed)."""


def _exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    if not data:
        return None
    if len(data) != size:
        raise ProtocolError("the client closed the connection inside a message")
    return data


def read_startup(stream: BinaryIO) -> tuple[int, bytes] | None:
    """The startup packet (no type byte): its request code and the rest, or None at EOF."""
    head = _exactly(stream, 4)
    if head is None:
        return None
    (length,) = struct.unpack("!i", head)
    if not 8 <= length <= 10_000:
        raise ProtocolError(f"invalid startup packet length {length}")
    body = _exactly(stream, length - 4)
    if body is None:
        return None
    return struct.unpack("!i", body[:4])[0], body[4:]


def startup_parameters(payload: bytes) -> dict[str, str]:
    """The name/value pairs of a startup message: `user`, `database`, `application_name`..."""
    parts = payload.split(b"\x00")
    return {
        name.decode(): value.decode()
        for name, value in zip(parts[0::2], parts[1::2], strict=False)
        if name
    }


def read_message(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    """One message: its type byte and payload, or None at EOF."""
    kind = _exactly(stream, 1)
    if kind is None:
        return None
    head = _exactly(stream, 4)
    if head is None:
        raise ProtocolError("the client closed the connection inside a message")
    (length,) = struct.unpack("!i", head)
    if not 4 <= length <= MAX_MESSAGE:
        raise ProtocolError(f"invalid message length {length}")
    payload = _exactly(stream, length - 4) if length > 4 else b""
    if payload is None:
        raise ProtocolError("the client closed the connection inside a message")
    return kind, payload


class Payload:
    """Reads a message's fields in order."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def cstring(self) -> str:
        end = self._data.index(b"\x00", self._at)
        value = self._data[self._at : end].decode()
        self._at = end + 1
        return value

    def int16(self) -> int:
        return int(struct.unpack("!h", self.take(2))[0])

    def int32(self) -> int:
        return int(struct.unpack("!i", self.take(4))[0])

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise ProtocolError("message shorter than its fields")
        value = self._data[self._at : self._at + size]
        self._at += size
        return value

    def rest(self) -> bytes:
        value = self._data[self._at :]
        self._at = len(self._data)
        return value


def message(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(payload) + 4) + payload


def cstring(value: str) -> bytes:
    return value.encode() + b"\x00"


def authentication(code: int, data: bytes = b"") -> bytes:
    return message(b"R", struct.pack("!i", code) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstring(name) + cstring(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!iI", pid, secret))


def ready_for_query(status: bytes) -> bytes:
    return message(b"Z", status)


def row_description(columns: Sequence[Column], formats: Sequence[int]) -> bytes:
    fields = [
        cstring(c.name) + struct.pack("!ihihih", 0, 0, c.oid, c.length, c.modifier, f)
        for c, f in zip(columns, formats, strict=True)
    ]
    return message(b"T", struct.pack("!h", len(columns)) + b"".join(fields))


def data_row(values: Iterable[bytes | None]) -> bytes:
    cells = [
        struct.pack("!i", -1) if value is None else struct.pack("!i", len(value)) + value
        for value in values
    ]
    return message(b"D", struct.pack("!h", len(cells)) + b"".join(cells))


def command_complete(tag: str) -> bytes:
    return message(b"C", cstring(tag))


def parameter_description(oids: Sequence[int]) -> bytes:
    return message(b"t", struct.pack(f"!h{len(oids)}i", len(oids), *oids))


def _fields(
    severity: str, code: str, text: str, detail: str | None, hint: str | None = None
) -> bytes:
    fields = [("S", severity), ("V", severity), ("C", code), ("M", text)]
    fields += [(kind, value) for kind, value in (("D", detail), ("H", hint)) if value]
    return b"".join(kind.encode() + cstring(value) for kind, value in fields) + b"\x00"


def error_response(
    code: str,
    text: str,
    severity: str = "ERROR",
    detail: str | None = None,
    hint: str | None = None,
) -> bytes:
    return message(b"E", _fields(severity, code, text, detail, hint))


def notice_response(code: str, text: str) -> bytes:
    return message(b"N", _fields("WARNING", code, text, None))


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
EMPTY_QUERY = message(b"I")
PORTAL_SUSPENDED = message(b"s")
