"""Redshift functions the translator owns: parsed with their original arguments and rebuilt.

sqlglot maps these to DuckDB functions whose results differ from Redshift's in edge cases
(month ends, time zone abbreviations, format strings, regular expression flags), so they
are taken out of its function table and translated here from their Redshift definitions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from . import types as rt
from .build import duck, line_of, string
from .errors import UnsupportedConstruct
from .formats import datetime_to_char, number_to_char
from .literals import iso_timestamp, parse_timestamp

# Fixed UTC offsets, in minutes, of the abbreviations Redshift lists in pg_timezone_abbrevs.
# An abbreviation never follows daylight saving time: 'PST' is UTC-8 even in August.
TIMEZONE_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "CEST": 120,
    "MET": 60,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "EST": -300,
    "EDT": -240,
    "CST": -360,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "JST": 540,
    "KST": 540,
    "HKT": 480,
    "SGT": 480,
    "AEST": 600,
    "AEDT": 660,
    "ACST": 570,
    "AWST": 480,
    "NZST": 720,
    "NZDT": 780,
}
# 'NAME+h[:mm]' or 'NAME -h': POSIX offsets count hours west of Greenwich.
POSIX_OFFSET = re.compile(r"[A-Za-z_/]+ ?(?P<sign>[+-])(?P<hours>\d{1,2})(?::(?P<minutes>\d{2}))?")


def _unsupported(construct: str, node: exp.Expr, detail: str = "") -> UnsupportedConstruct:
    return UnsupportedConstruct(construct, line_of(node), detail)


def _string_literal(node: exp.Expr, construct: str, what: str) -> str:
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise _unsupported(construct, node, f"{what} must be a string literal")
    return str(node.this)


def as_timestamp(node: exp.Expr, type_sql: str = "TIMESTAMP") -> exp.Expr:
    """A Redshift date/timestamp literal as a typed DuckDB literal; other values unchanged."""
    if not (isinstance(node, exp.Literal) and node.is_string):
        return node
    parsed = parse_timestamp(str(node.this))
    if parsed is None:
        raise _unsupported("datetime literal", node, f"{node.this!r} is not a known Redshift form")
    if type_sql.upper() == "DATE":
        return duck(f"CAST('{parsed.date().isoformat()}' AS DATE)", "DATE")
    return duck(f"CAST('{iso_timestamp(parsed)}' AS {type_sql})", type_sql)


def _arguments(node: exp.Expr, low: int, high: int) -> list[exp.Expr]:
    arguments = list(node.expressions)
    if not low <= len(arguments) <= high:
        raise _unsupported(node.name.upper(), node, f"expects {low} to {high} arguments")
    return arguments


def getdate(node: exp.Expr) -> exp.Expr:
    """GETDATE(): the transaction start in UTC, without fractional seconds."""
    _arguments(node, 0, 0)
    return duck(
        "CAST(DATE_TRUNC('second', CURRENT_TIMESTAMP AT TIME ZONE 'UTC') AS TIMESTAMP)", "TIMESTAMP"
    )


def trunc(node: exp.Expr) -> exp.Expr:
    """TRUNC(timestamp) is the date; TRUNC(number [, digits]) truncates toward zero."""
    arguments = _arguments(node, 1, 2)
    value = arguments[0]
    if rt.is_temporal(rt.redshift_type(value)) and len(arguments) == 1:
        return duck("CAST(_x AS DATE)", "DATE", x=value)
    if rt.as_decimal(rt.redshift_type(value)) is not None or rt.is_float(rt.redshift_type(value)):
        digits = arguments[1] if len(arguments) == 2 else exp.Literal.number(0)
        return duck("TRUNC(_x, _n)", rt.redshift_type(value), x=value, n=digits)
    raise _unsupported("TRUNC", node, "argument must be a typed timestamp, date or number")


def add_months(node: exp.Expr) -> exp.Expr:
    """From the last day of a month ADD_MONTHS lands on the last day of the target month."""
    value, months = _arguments(node, 2, 2)
    timestamp = duck("CAST(_x AS TIMESTAMP)", x=as_timestamp(value))
    return duck(
        "CASE WHEN CAST(_t AS DATE) = LAST_DAY(CAST(_t AS DATE)) "
        "THEN CAST(LAST_DAY(_t + TO_MONTHS(CAST(_n AS INTEGER))) AS TIMESTAMP) "
        "+ (_t - DATE_TRUNC('day', _t)) "
        "ELSE _t + TO_MONTHS(CAST(_n AS INTEGER)) END",
        "TIMESTAMP",
        t=timestamp,
        n=months,
    )


def _fixed_offset_minutes(zone: str) -> int | None:
    if zone.upper() in TIMEZONE_ABBREVIATIONS:
        return TIMEZONE_ABBREVIATIONS[zone.upper()]
    match = POSIX_OFFSET.fullmatch(zone)
    if match:
        minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
        return -minutes if match["sign"] == "+" else minutes
    return None


def _to_utc(value: exp.Expr, zone: str) -> exp.Expr:
    offset = _fixed_offset_minutes(zone)
    if offset is not None:
        return duck(f"_t - INTERVAL '{offset} minutes'", t=value)
    return duck(f"TIMEZONE('UTC', TIMEZONE({exp.Literal.string(zone).sql()}, _t))", t=value)


def _from_utc(value: exp.Expr, zone: str) -> exp.Expr:
    offset = _fixed_offset_minutes(zone)
    if offset is not None:
        return duck(f"_t + INTERVAL '{offset} minutes'", t=value)
    return duck(f"TIMEZONE({exp.Literal.string(zone).sql()}, TIMEZONE('UTC', _t))", t=value)


def convert_timezone(node: exp.Expr) -> exp.Expr:
    """Abbreviations are fixed offsets, names follow daylight saving, the source defaults to UTC."""
    arguments = _arguments(node, 2, 3)
    zones = [_string_literal(a, "CONVERT_TIMEZONE", "a time zone") for a in arguments[:-1]]
    source, target = (["UTC", *zones] if len(zones) == 1 else zones)[-2:]
    value = duck("CAST(_x AS TIMESTAMP)", x=as_timestamp(arguments[-1]))
    converted = _from_utc(_to_utc(value, source), target)
    return duck("CAST(_x AS TIMESTAMP)", "TIMESTAMP", x=converted)


def to_char(node: exp.Expr) -> exp.Expr:
    value, fmt_node = _arguments(node, 2, 2)
    fmt = _string_literal(fmt_node, "TO_CHAR", "the format")
    value = as_timestamp(value)
    if rt.is_temporal(rt.redshift_type(value)):
        return datetime_to_char(value, fmt, line_of(node))
    if rt.as_decimal(rt.redshift_type(value)) is not None or rt.is_float(rt.redshift_type(value)):
        return number_to_char(value, fmt, line_of(node))
    raise _unsupported("TO_CHAR", node, "argument must be a typed timestamp or number")


def _json_key(key: str) -> str:
    return '."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def json_extract_path_text(node: exp.Expr) -> exp.Expr:
    """Each path element is one object key; a missing key gives NULL, bad JSON an error."""
    arguments = list(node.expressions)
    null_if_invalid = False
    if arguments and isinstance(arguments[-1], exp.Boolean):
        null_if_invalid = bool(arguments.pop().this)
    if len(arguments) < 2:
        raise _unsupported("JSON_EXTRACT_PATH_TEXT", node, "needs a JSON string and a path element")
    document, *keys = arguments
    path = "$" + "".join(
        _json_key(_string_literal(k, "JSON_EXTRACT_PATH_TEXT", "a path element")) for k in keys
    )
    extract = f"JSON_EXTRACT_STRING(_j, {exp.Literal.string(path).sql()})"
    template = f"CASE WHEN JSON_VALID(_j) THEN {extract} END" if null_if_invalid else extract
    return duck(template, "VARCHAR", j=document)


def strtol(node: exp.Expr) -> exp.Expr:
    """STRTOL(text, base): optional blanks, sign and (base 16) 0x; other characters raise."""
    text, base_node = _arguments(node, 2, 2)
    if not (
        isinstance(base_node, exp.Literal) and base_node.is_int and 2 <= int(base_node.this) <= 36
    ):
        raise _unsupported("STRTOL", node, "the base must be an integer literal from 2 to 36")
    base = int(base_node.this)
    body = "REGEXP_REPLACE(LTRIM(_s), '^[+-]', '')"
    if base == 16:
        body = f"REGEXP_REPLACE({body}, '^0[xX]', '')"
    alphabet = "'0123456789abcdefghijklmnopqrstuvwxyz'"
    digits = f"LIST_TRANSFORM(STRING_SPLIT(LOWER({body}), ''), c -> STRPOS({alphabet}, c) - 1)"
    value = f"LIST_REDUCE(LIST_PREPEND(CAST(0 AS BIGINT), {digits}), (acc, d) -> acc * {base} + d)"
    return duck(
        f"CASE WHEN _s IS NULL THEN NULL "
        f"WHEN LIST_BOOL_OR(LIST_TRANSFORM({digits}, d -> d < 0 OR d >= {base})) "
        f"THEN CAST(error('STRTOL: invalid digit for base {base}') AS BIGINT) "
        f"WHEN STARTS_WITH(LTRIM(_s), '-') THEN -{value} ELSE {value} END",
        "BIGINT",
        s=text,
    )


def _regexp_flags(node: exp.Expr, parameters: str, allowed: str) -> tuple[str, bool]:
    unknown = set(parameters) - set(allowed)
    if unknown:
        raise _unsupported(node.name.upper(), node, f"parameters {''.join(sorted(unknown))!r}")
    case_insensitive = "i" in parameters and parameters.rfind("i") > parameters.rfind("c")
    return ("i" if case_insensitive else ""), "p" in parameters


def _checked_pattern(node: exp.Expr, pattern_node: exp.Expr, perl: bool) -> str:
    pattern = _string_literal(pattern_node, node.name.upper(), "the pattern")
    if "|" in pattern and not perl:
        raise _unsupported(
            node.name.upper(), node, "POSIX alternation picks the longest match; RE2 the first"
        )
    return pattern


def regexp_substr(node: exp.Expr) -> exp.Expr:
    arguments = _arguments(node, 2, 5)
    source = arguments[0]
    position = arguments[2] if len(arguments) > 2 else exp.Literal.number(1)
    occurrence = arguments[3] if len(arguments) > 3 else exp.Literal.number(1)
    parameters = (
        _string_literal(arguments[4], "REGEXP_SUBSTR", "parameters") if len(arguments) > 4 else ""
    )
    options, perl = _regexp_flags(node, parameters, "cipe")
    pattern = _checked_pattern(node, arguments[1], perl)
    group = 1 if "e" in parameters and re.search(r"\((?!\?)", pattern) else 0
    extract = (
        "LIST_EXTRACT(REGEXP_EXTRACT_ALL(SUBSTRING(_s, GREATEST(_p, 1)), "
        f"{exp.Literal.string(pattern).sql()}, {group}, '{options}'), _o)"
    )
    return duck(
        f"CASE WHEN _s IS NULL THEN NULL ELSE COALESCE({extract}, '') END",
        "VARCHAR",
        s=source,
        p=position,
        o=occurrence,
    )


def regexp_replace(node: exp.Expr) -> exp.Expr:
    """Redshift replaces every match; DuckDB only the first unless asked with 'g'."""
    arguments = _arguments(node, 2, 5)
    replacement = arguments[2] if len(arguments) > 2 else string("")
    if len(arguments) > 3 and not (
        isinstance(arguments[3], exp.Literal) and arguments[3].this == "1"
    ):
        raise _unsupported("REGEXP_REPLACE", node, "only position 1 is supported")
    parameters = (
        _string_literal(arguments[4], "REGEXP_REPLACE", "parameters") if len(arguments) > 4 else ""
    )
    options, perl = _regexp_flags(node, parameters, "cip")
    pattern = _checked_pattern(node, arguments[1], perl)
    return duck(
        f"REGEXP_REPLACE(_s, {exp.Literal.string(pattern).sql()}, _r, 'g{options}')",
        "VARCHAR",
        s=arguments[0],
        r=replacement,
    )


OWNED_FUNCTIONS: dict[str, Callable[[exp.Expr], exp.Expr]] = {
    "getdate": getdate,
    "trunc": trunc,
    "add_months": add_months,
    "convert_timezone": convert_timezone,
    "to_char": to_char,
    "json_extract_path_text": json_extract_path_text,
    "strtol": strtol,
    "regexp_substr": regexp_substr,
    "regexp_replace": regexp_replace,
}
