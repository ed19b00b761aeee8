"""Redshift's column types on the wire: type OIDs and modifiers, values in text and binary form,
and parameters turned back into Redshift SQL.

Redshift reports PostgreSQL's type OIDs (pg_type) and type modifiers: VARCHAR(n) and CHAR(n) as
n + 4, NUMERIC(p, s) as (p << 16 | s) + 4. Text forms are PostgreSQL's output functions (`t`/`f`,
ISO dates, 15 significant digits for DOUBLE PRECISION unless `extra_float_digits` asks for
more); binary forms are PostgreSQL's send functions, integers big-endian and timestamps as
microseconds since 2000-01-01 ("Message Data Types" and the pg_type catalog in the PostgreSQL
documentation; "Data types" in the Redshift Database Developer Guide).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from ecomdw.emulation.services.redshift.data_api import REDSHIFT_TYPE_NAMES, _timestamp_text
from ecomdw.warehouse.translate import string_literal

OIDS = {
    "bool": 16,
    "name": 19,
    "int8": 20,
    "int2": 21,
    "int4": 23,
    "text": 25,
    "oid": 26,
    "float4": 700,
    "float8": 701,
    "unknown": 705,
    "bpchar": 1042,
    "varchar": 1043,
    "date": 1082,
    "time": 1083,
    "timestamp": 1114,
    "timestamptz": 1184,
    "interval": 1186,
    "timetz": 1266,
    "numeric": 1700,
    "super": 4000,
    "varbyte": 6551,
}
TYPE_NAMES = {oid: name for name, oid in OIDS.items()}
FIXED_LENGTHS = {
    "bool": 1,
    "name": 64,
    "int8": 8,
    "int2": 2,
    "int4": 4,
    "oid": 4,
    "float4": 4,
    "float8": 8,
    "date": 4,
    "time": 8,
    "timestamp": 8,
    "timestamptz": 8,
    "interval": 16,
    "timetz": 12,
}
TEXT_TYPES = {"text", "varchar", "bpchar", "name", "unknown", "super"}
INTEGER_TYPES = {"int2": "!h", "int4": "!i", "int8": "!q", "oid": "!I"}
FLOAT_TYPES = {"float4": "!f", "float8": "!d"}
# How many significant digits PostgreSQL 8's float output gives when extra_float_digits is 0.
FLOAT_DIGITS = {"float4": 6, "float8": 15}
# Digits a NUMERIC parameter may carry (PostgreSQL's limit; Redshift's is 38) with no rounding.
NUMERIC_PRECISION = 1000
EPOCH_2000 = datetime(2000, 1, 1)
EPOCH_2000_DAYS = date(2000, 1, 1).toordinal()
VARIABLE_MODIFIER = re.compile(r"(?:VARCHAR|CHAR)\((\d+)\)")
DECIMAL_MODIFIER = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


class UnsupportedValueError(ValueError):
    """A value or format this endpoint cannot send or read (the message says which)."""


@dataclass(frozen=True)
class Column:
    """One column of a row description, as Redshift describes it."""

    name: str
    type_name: str
    modifier: int = -1

    @property
    def oid(self) -> int:
        return OIDS[self.type_name]

    @property
    def length(self) -> int:
        return FIXED_LENGTHS.get(self.type_name, -1)


def column(name: str, duckdb_type: str, declared: str | None = None) -> Column:
    """The column DuckDB answered with, as Redshift types it: names as the Data API reports them,
    CHAR and VARCHAR lengths from the Redshift type the translation declared for it."""
    base = duckdb_type.split("(", maxsplit=1)[0].strip()
    if base == "TIME WITH TIME ZONE":
        return Column(name, "timetz")
    type_name = REDSHIFT_TYPE_NAMES.get(base, "varchar")
    if type_name == "numeric" and (match := DECIMAL_MODIFIER.fullmatch(duckdb_type)):
        return Column(name, "numeric", (int(match[1]) << 16 | int(match[2])) + 4)
    if type_name == "varchar" and declared and (match := VARIABLE_MODIFIER.fullmatch(declared)):
        kind = "varchar" if declared.startswith("VARCHAR") else "bpchar"
        return Column(name, kind, int(match[1]) + 4)
    return Column(name, type_name)


def _float_text(value: float, type_name: str, extra_digits: int) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if extra_digits > 0:
        return repr(value)
    return f"{value:.{FLOAT_DIGITS.get(type_name, 15) + extra_digits}g}"


def _interval_text(value: timedelta) -> str:
    """PostgreSQL's `postgres` interval style: `1 day 02:03:04.5`."""
    seconds = value.seconds + value.microseconds / 1_000_000
    clock = f"{int(seconds) // 3600:02d}:{int(seconds) // 60 % 60:02d}:{int(seconds) % 60:02d}"
    if value.microseconds:
        clock += f".{value.microseconds:06d}".rstrip("0")
    if not value.days:
        return clock
    return f"{value.days} day{'' if abs(value.days) == 1 else 's'} {clock}"


def text(value: Any, type_name: str, extra_float_digits: int = 0) -> bytes:
    """`value` in PostgreSQL's text form for `type_name`."""
    if isinstance(value, bool):
        shown = "t" if value else "f"
    elif isinstance(value, float):
        shown = _float_text(value, type_name, extra_float_digits)
    elif isinstance(value, Decimal):
        shown = format(value, "f")
    elif isinstance(value, datetime):
        shown = _timestamp_text(value)
    elif isinstance(value, date | time):
        shown = value.isoformat()
    elif isinstance(value, timedelta):
        shown = _interval_text(value)
    elif isinstance(value, bytes):
        shown = value.hex()
    elif isinstance(value, list | dict):
        shown = json.dumps(value, default=str)
    else:
        shown = str(value)
    return shown.encode()


def _numeric_binary(value: Decimal) -> bytes:
    """PostgreSQL's numeric_send: base-10000 digits, a weight, a sign and the display scale."""
    if value.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    scale = max(-exponent, 0)
    text_digits = ("".join(map(str, digits)) + "0" * max(exponent, 0)).rjust(scale, "0")
    whole, fraction = (text_digits[:-scale], text_digits[-scale:]) if scale else (text_digits, "")
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    fraction += "0" * (-len(fraction) % 4)
    groups = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)]
    groups += [int(fraction[i : i + 4]) for i in range(0, len(fraction), 4)]
    weight = len(whole) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(f"!hhHh{len(groups)}H", len(groups), weight, 0x4000 * sign, scale, *groups)


def _micros(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def binary(value: Any, type_name: str) -> bytes:
    """`value` in PostgreSQL's binary form for `type_name`."""
    if type_name in TEXT_TYPES:
        return text(value, type_name)
    if type_name == "bool":
        return b"\x01" if value else b"\x00"
    if type_name in INTEGER_TYPES:
        return struct.pack(INTEGER_TYPES[type_name], int(value))
    if type_name in FLOAT_TYPES:
        return struct.pack(FLOAT_TYPES[type_name], float(value))
    if type_name == "numeric":
        return _numeric_binary(Decimal(value))
    if type_name == "date":
        return struct.pack("!i", value.toordinal() - EPOCH_2000_DAYS)
    if type_name == "time":
        return struct.pack("!q", _micros(datetime.combine(date.min, value) - datetime.min))
    if type_name in ("timestamp", "timestamptz"):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return struct.pack("!q", _micros(naive - EPOCH_2000))
    if type_name == "interval":
        return struct.pack("!qii", _micros(value) - value.days * 86_400_000_000, value.days, 0)
    raise UnsupportedValueError(f"binary format for type {type_name} is not supported")


def encoder(column: Column, binary_format: bool, extra_float_digits: int) -> Callable[[Any], bytes]:
    """How one column's values go on the wire, in the format the client asked for."""
    if binary_format:
        if column.type_name not in TEXT_TYPES | set(INTEGER_TYPES) | set(FLOAT_TYPES) | {
            "bool",
            "numeric",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "interval",
        }:
            raise UnsupportedValueError(
                f"binary format for type {column.type_name} is not supported"
            )
        return lambda value: binary(value, column.type_name)
    return lambda value: text(value, column.type_name, extra_float_digits)


# --- parameters: a Bind message's values as Redshift SQL -----------------------------------

CAST_TYPES = {
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "float4": "REAL",
    "float8": "DOUBLE PRECISION",
    "interval": "INTERVAL",
}
NULL_TYPES = {
    "bool": "BOOLEAN",
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "numeric": "NUMERIC",
    **CAST_TYPES,
}


def _from_binary(data: bytes, type_name: str) -> Any:
    if type_name in TEXT_TYPES:
        return data.decode()
    if type_name == "bool":
        return data != b"\x00"
    if type_name in INTEGER_TYPES:
        return struct.unpack(INTEGER_TYPES[type_name], data)[0]
    if type_name in FLOAT_TYPES:
        return struct.unpack(FLOAT_TYPES[type_name], data)[0]
    if type_name == "numeric":
        count, weight, sign, scale = struct.unpack("!hhHh", data[:8])
        if sign == 0xC000:
            return Decimal("NaN")
        groups = struct.unpack(f"!{count}H", data[8 : 8 + 2 * count])
        digits = "".join(f"{group:04d}" for group in groups) or "0"
        exact = Context(prec=NUMERIC_PRECISION)
        unscaled = Decimal(f"{'-' if sign == 0x4000 else ''}{digits}")
        value = unscaled.scaleb(4 * (weight - count + 1), context=exact)
        return value.quantize(Decimal(1).scaleb(-scale), context=exact)
    if type_name == "date":
        return date.fromordinal(struct.unpack("!i", data)[0] + EPOCH_2000_DAYS)
    if type_name in ("timestamp", "timestamptz"):
        stamp = EPOCH_2000 + timedelta(microseconds=struct.unpack("!q", data)[0])
        return stamp.replace(tzinfo=UTC) if type_name == "timestamptz" else stamp
    if type_name == "time":
        return (datetime.min + timedelta(microseconds=struct.unpack("!q", data)[0])).time()
    raise UnsupportedValueError(f"binary parameters of type {type_name} are not supported")


def _number_literal(value: Any, type_name: str) -> str:
    """A number as SQL that keeps its type and cannot run into the text around it."""
    if type_name in FLOAT_TYPES:
        return f"CAST('{float(value)!r}' AS {CAST_TYPES[type_name]})"
    number = int(value) if type_name in INTEGER_TYPES else Decimal(value)
    if isinstance(number, Decimal) and not number.is_finite():
        return f"CAST('{number}' AS NUMERIC)"
    shown = format(number, "f") if isinstance(number, Decimal) else str(number)
    return f"({shown})" if shown.startswith("-") else shown


def parameter_sql(data: bytes | None, oid: int, binary_format: bool) -> str:
    """One parameter as the Redshift SQL that stands for it: a literal of its type, NULL, or a
    string literal that Redshift casts as the context needs (an untyped parameter)."""
    type_name = TYPE_NAMES.get(oid, "unknown")
    if data is None:
        cast = NULL_TYPES.get(type_name)
        return f"CAST(NULL AS {cast})" if cast else "NULL"
    value: Any = _from_binary(data, type_name) if binary_format else data.decode()
    try:
        if type_name in INTEGER_TYPES or type_name in FLOAT_TYPES or type_name == "numeric":
            return _number_literal(value, type_name)
    except (ValueError, InvalidOperation):
        raise UnsupportedValueError(
            f"invalid input syntax for type {type_name}: {value!r}"
        ) from None
    if type_name == "bool":
        truth = value if isinstance(value, bool) else str(value).lower() in ("t", "true", "1")
        return "TRUE" if truth else "FALSE"
    if type_name in CAST_TYPES:
        shown = text(value, type_name).decode() if binary_format else str(value)
        return f"CAST({string_literal(shown)} AS {CAST_TYPES[type_name]})"
    return string_literal(str(value))


def placeholder_sql(oid: int) -> str:
    """What stands for a parameter whose value is not known yet (describing a statement)."""
    return parameter_sql(None, oid, binary_format=False)
