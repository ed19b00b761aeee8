"""Hypothesis strategies derived from the model.

`records(entity)` draws typed rows of any entity (raw or warehouse) within the model's types and
rules. `raw_records(entity)` draws a valid raw record together with the contract text a source
system may send for it (timestamps with or without offsets, decimals with more or fewer zeros,
fields quoted or not), which the strict reader must turn back into the same values.
`invalid_raw_records(entity, defect)` draws a broken record tagged with the one reason the strict
reader must give. Values stay in 1970..2099 and in the types' ranges: plausible for a shop, and
clear of engine corner cases (pre-Gregorian dates) that say nothing about the model.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import strategies as st

from ecomdw.core.contract import RECORD_RULE_ORDER, Defect, Value, format_value
from ecomdw.core.model import Column, DataType, Entity, FileFormat, Kind

FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
_INTEGER_BITS = {Kind.SMALLINT: 15, Kind.INTEGER: 31, Kind.BIGINT: 63}
_CSV_SPECIALS = ',"\r\n '
_ASCII_WORD = string.ascii_letters + string.digits
RECORD_DEFECTS = (Defect.UNPARSEABLE, *RECORD_RULE_ORDER)


# ---------------------------------------------------------------- typed values


def _fits(dtype: DataType, text: str) -> bool:
    length = dtype.length or 65535
    if dtype.fixed:
        return text.isascii() and len(text) <= length
    return "\x00" not in text and len(text.encode()) <= length


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strings(column: Column) -> st.SearchStrategy[str]:
    dtype = column.type
    if column.accepted_values:
        return st.sampled_from([str(v) for v in column.accepted_values])
    if column.pattern:
        pattern = re.compile(column.pattern)
        return (
            st.from_regex(pattern, fullmatch=True)
            .filter(_encodable)
            .filter(lambda s: pattern.fullmatch(s) is not None and _fits(dtype, s))
        )
    length = dtype.length or 65535
    if dtype.fixed:  # exactly n characters: Redshift pads shorter CHAR values
        return st.text(alphabet=_ASCII_WORD, min_size=length, max_size=length)
    alphabet = st.one_of(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        st.sampled_from(_CSV_SPECIALS),
    )
    return (
        st.text(alphabet=alphabet, min_size=1, max_size=min(length, 24))
        .map(lambda s: s.encode()[:length].decode(errors="ignore"))
        .filter(bool)
    )


def _bounds(column: Column, low: Decimal, high: Decimal, step: Decimal) -> tuple[Decimal, Decimal]:
    if column.min_value is not None:
        low = max(low, column.min_value + (step if column.min_exclusive else 0))
    if column.max_value is not None:
        high = min(high, column.max_value)
    return low, high


@cache
def non_null_values(column: Column) -> st.SearchStrategy[Any]:
    """Typed values a column accepts (never NULL)."""
    dtype = column.type
    kind = dtype.kind
    if kind is Kind.STRING:
        return _strings(column)
    if kind in _INTEGER_BITS:
        bound = Decimal(2 ** _INTEGER_BITS[kind])
        low, high = _bounds(column, -bound, bound - 1, Decimal(1))
        return st.integers(int(low), int(high))
    if kind is Kind.DECIMAL:
        scale = dtype.scale or 0
        step = Decimal(1).scaleb(-scale)
        limit = Decimal(10) ** ((dtype.precision or 18) - scale) - step
        low, high = _bounds(column, -limit, limit, step)
        return st.decimals(low, high, places=scale, allow_nan=False, allow_infinity=False).map(
            lambda d: d if d else abs(d)  # no negative zero
        )
    if kind is Kind.BOOLEAN:
        return st.booleans()
    if kind is Kind.DATE:
        return st.dates(FIRST_DAY, LAST_DAY)
    if kind is Kind.TIMESTAMP:
        return st.datetimes(
            dt.datetime.combine(FIRST_DAY, dt.time()), dt.datetime.combine(LAST_DAY, dt.time.max)
        )
    raise AssertionError(f"no strategy for {kind}")


@cache
def values(column: Column) -> st.SearchStrategy[Any]:
    """Typed values of a column, NULL included when it is nullable."""
    present = non_null_values(column)
    return st.one_of(st.none(), present) if column.nullable else present


def records(entity: Entity) -> st.SearchStrategy[dict[str, Value]]:
    """Typed rows of any entity, by column name in model order."""
    return _records(entity.columns)


@cache
def _records(columns: tuple[Column, ...]) -> st.SearchStrategy[dict[str, Value]]:
    return st.fixed_dictionaries({column.name: values(column) for column in columns})


# ---------------------------------------------------------------- contract text


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


# How a source may spell a timestamp: naive UTC, `Z` or local time with an offset (quarter
# hours from -12:00 to +14:00), with `.120000` perhaps sent as `.12`.
_TIMESTAMP_SPELLINGS = st.tuples(
    st.sampled_from(("naive", "zulu", "offset")), st.integers(-12 * 4, 14 * 4), st.booleans()
)
# `12.30` may arrive as `12.3`, `12.30` or `12.3000`: the same amount.
_DECIMAL_SPELLINGS = st.sampled_from(("canonical", "trimmed", "padded"))


def _spell_timestamp(value: dt.datetime, spelling: tuple[str, int, bool]) -> str:
    style, quarters, trim_fraction = spelling
    if style == "offset":
        minutes = quarters * 15
        text = (value + dt.timedelta(minutes=minutes)).isoformat() + _offset_text(minutes)
    else:
        text = value.isoformat() + ("Z" if style == "zulu" else "")
    if "." in text and trim_fraction:
        head, _, tail = text.partition(".")
        digits = tail[:6].rstrip("0") or "0"
        text = f"{head}.{digits}{tail[6:]}"
    return text


def _spell_decimal(canonical: str, style: str) -> str:
    if style == "trimmed" and "." in canonical:
        return canonical.rstrip("0").rstrip(".")
    if style == "padded":
        return canonical + ("00" if "." in canonical else ".00")
    return canonical


def contract_texts(column: Column, value: Value) -> st.SearchStrategy[str | None]:
    """The texts a source may send for a typed value (None for NULL)."""
    if value is None:
        return st.none()
    if column.type.kind is Kind.TIMESTAMP:
        assert isinstance(value, dt.datetime)
        return _TIMESTAMP_SPELLINGS.map(lambda spelling: _spell_timestamp(value, spelling))
    canonical = format_value(column, value)
    if column.type.kind is Kind.DECIMAL:
        return _DECIMAL_SPELLINGS.map(lambda style: _spell_decimal(canonical, style))
    return st.just(canonical)


@dataclass(frozen=True)
class RawExample:
    """A valid raw record: the values the reader must return and the text a source sends."""

    entity: Entity
    values: dict[str, Value]
    texts: dict[str, str | None]
    text: str  # the record as it sits in the file, line end included


def csv_field(text: str | None, *, always_quote: bool = False) -> str:
    """RFC 4180: quoted when it has to be (or always); NULL is the empty, unquoted field."""
    if text is None:
        return ""
    if always_quote or any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_header(entity: Entity) -> str:
    return ",".join(entity.column_names) + "\n"


def json_document(
    entity: Entity, texts: dict[str, str | None], *, omit_nulls: bool
) -> dict[str, Any]:
    """The record nested by each column's source path, as the payments API sends it."""
    document: dict[str, Any] = {}
    for column in entity.columns:
        text = texts[column.name]
        if text is None and omit_nulls:
            continue
        node = document
        *parents, leaf = column.source_path
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = text
    return document


@st.composite
def _render(draw: st.DrawFn, entity: Entity, texts: dict[str, str | None]) -> str:
    if entity.file_format is FileFormat.JSONL:
        document = json_document(entity, texts, omit_nulls=draw(st.booleans()))
        return json.dumps(document, ensure_ascii=draw(st.booleans())) + "\n"
    always_quote = draw(st.booleans())
    fields = [csv_field(texts[name], always_quote=always_quote) for name in entity.column_names]
    return ",".join(fields) + "\n"


@st.composite
def raw_records(
    draw: st.DrawFn, entity: Entity, pinned: Mapping[str, Value] | None = None
) -> RawExample:
    """A valid raw record of a raw entity, in one of the spellings the contract allows.

    `pinned` fixes some typed values, e.g. a key a child refers to.
    """
    typed = {**draw(records(entity)), **(pinned or {})}
    texts = {c.name: draw(contract_texts(c, typed[c.name])) for c in entity.columns}
    return RawExample(entity, typed, texts, draw(_render(entity, texts)))


# ---------------------------------------------------------------- invalid records


@dataclass(frozen=True)
class InvalidExample:
    """A raw record the strict reader must quarantine, and the one reason it must give."""

    entity: Entity
    defect: Defect
    text: str  # the broken record as it sits in the file, line end included
    column: str | None = None  # the column that was broken, when one was


def _columns_for(entity: Entity, defect: Defect) -> list[Column]:
    key = set(entity.key)
    eligible: dict[Defect, Callable[[Column], bool]] = {
        Defect.MISSING_KEY: lambda c: c.name in key,
        Defect.MISSING_VALUE: lambda c: c.name not in key and not c.nullable,
        Defect.WRONG_TYPE: lambda c: True,
        Defect.UNKNOWN_VALUE: lambda c: bool(c.accepted_values),
        Defect.INVALID_FORMAT: lambda c: bool(c.pattern) and not c.accepted_values,
        Defect.OUT_OF_RANGE: lambda c: c.min_value is not None or c.max_value is not None,
    }
    return [column for column in entity.columns if eligible[defect](column)]


def applicable_defects(entity: Entity) -> tuple[Defect, ...]:
    """Every defect class a record of this raw entity can have."""
    record_level = tuple(
        d for d in RECORD_DEFECTS if d is Defect.UNPARSEABLE or _columns_for(entity, d)
    )
    batch_level = (Defect.DUPLICATE_KEY,) + (
        (Defect.ORPHAN_REFERENCE,) if entity.foreign_keys else ()
    )
    return record_level + batch_level


def _wrong_type_texts(column: Column) -> st.SearchStrategy[str]:
    dtype = column.type
    kind = dtype.kind
    if kind is Kind.STRING:
        length = dtype.length or 65535
        return st.sampled_from(
            ["x" * (length + 1)] + (["é" * length] if dtype.fixed else ["é" * (length // 2 + 1)])
        )
    if kind in _INTEGER_BITS:
        too_big = str(2 ** _INTEGER_BITS[kind])
        return st.sampled_from(["abc", "1.5", "1e3", " 7", "+7", too_big, "-" + too_big + "1"])
    if kind is Kind.DECIMAL:
        scale, precision = dtype.scale or 0, dtype.precision or 18
        return st.sampled_from(
            [
                *("abc", "1e3", "1,5", ".5", "5."),
                "1" + "0" * (precision - scale),  # too many digits
                "0." + "0" * scale + "1",  # too many decimals
            ]
        )
    if kind is Kind.BOOLEAN:
        return st.sampled_from(["yes", "True", "1", "FALSE", "t"])
    if kind is Kind.DATE:
        return st.sampled_from(["2024-13-01", "2023-02-29", "01/02/2024", "2024-1-5", "today"])
    if kind is Kind.TIMESTAMP:
        return st.sampled_from(
            [
                "2024-01-01",
                "2024-01-01 10:00:00",
                "2024-01-01T24:00:00",
                "2024-01-01T10:00",
                "2024-01-01T10:00:00+2",
                "2024-01-01T10:00:00.1234567",
                "1715000000",
            ]
        )
    raise AssertionError(f"no wrong-type text for {kind}")


def _unknown_texts(column: Column) -> st.SearchStrategy[str]:
    length = min(column.type.length or 16, 16)
    return st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=length).filter(
        lambda s: s not in column.accepted_values
    )


def _malformed_texts(column: Column) -> st.SearchStrategy[str]:
    assert column.pattern
    pattern = re.compile(column.pattern)
    length = min(column.type.length or 12, 12)
    return st.text(alphabet=_ASCII_WORD + "-. ", min_size=1, max_size=length).filter(
        lambda s: not pattern.fullmatch(s)
    )


def _out_of_range_texts(column: Column) -> st.SearchStrategy[str]:
    dtype = column.type
    step = Decimal(1).scaleb(-(dtype.scale or 0)) if dtype.kind is Kind.DECIMAL else Decimal(1)
    candidates = []
    if column.min_value is not None:
        edge = column.min_value if column.min_exclusive else column.min_value - step
        candidates += [edge, edge - step * 7]
    if column.max_value is not None:
        candidates += [column.max_value + step]
    return st.sampled_from([format_value(column, c) for c in candidates])


def _broken_text(column: Column, defect: Defect) -> st.SearchStrategy[str | None]:
    if defect in (Defect.MISSING_KEY, Defect.MISSING_VALUE):
        return st.none()
    return {
        Defect.WRONG_TYPE: _wrong_type_texts,
        Defect.UNKNOWN_VALUE: _unknown_texts,
        Defect.INVALID_FORMAT: _malformed_texts,
        Defect.OUT_OF_RANGE: _out_of_range_texts,
    }[defect](column)


@st.composite
def _unparseable(draw: st.DrawFn, valid: RawExample) -> str:
    entity = valid.entity
    if entity.file_format is FileFormat.JSONL:
        line = valid.text.rstrip("\n")
        style = draw(st.sampled_from(("truncated", "not_an_object", "not_json")))
        if style == "truncated":
            return line[: draw(st.integers(1, len(line) - 1))] + "\n"
        if style == "not_an_object":
            return json.dumps(list(valid.texts.values())) + "\n"
        return "payment " + line.replace("{", "(") + "\n"
    style = draw(st.sampled_from(("extra_field", "missing_field", "broken_quote")))
    fields = [csv_field(valid.texts[name]) for name in entity.column_names]
    if style == "extra_field":
        return ",".join([*fields, csv_field(draw(st.text(_ASCII_WORD, max_size=5)))]) + "\n"
    if style == "missing_field":
        return ",".join(fields[:-1]) + "\n"
    # One physical line with a single quote that cannot be valid RFC 4180: unclosed when it
    # opens a field, stray when it sits inside an unquoted one.
    plain = [
        re.sub(r"[\r\n]", " ", (valid.texts[name] or "").replace('"', "'"))
        for name in entity.column_names
    ]
    where = draw(st.integers(0, len(plain) - 1))
    at = draw(st.integers(0, len(plain[where])))
    plain[where] = plain[where][:at] + '"' + plain[where][at:]
    return ",".join(plain) + "\n"


@st.composite
def invalid_raw_records(draw: st.DrawFn, entity: Entity, defect: Defect) -> InvalidExample:
    """A record that breaks exactly one record-level rule; the rest of it is valid."""
    valid = draw(raw_records(entity))
    if defect is Defect.UNPARSEABLE:
        return InvalidExample(entity, defect, draw(_unparseable(valid)))
    column = draw(st.sampled_from(_columns_for(entity, defect)))
    texts = {**valid.texts, column.name: draw(_broken_text(column, defect))}
    if (
        entity.file_format is FileFormat.JSONL
        and defect is Defect.WRONG_TYPE
        and draw(st.booleans())
    ):  # a JSON number or boolean where the contract sends a string
        document = json_document(entity, texts, omit_nulls=True)
        node = document
        *parents, leaf = column.source_path
        for name in parents:
            node = node[name]
        node[leaf] = draw(st.sampled_from([12.3, 7, True, [], {}]))
        return InvalidExample(entity, defect, json.dumps(document) + "\n", column.name)
    return InvalidExample(entity, defect, draw(_render(entity, texts)), column.name)


@st.composite
def duplicate_records(draw: st.DrawFn, entity: Entity) -> tuple[RawExample, InvalidExample]:
    """A valid record and a later, otherwise valid record with the same key in one batch."""
    first = draw(raw_records(entity))
    copy = draw(raw_records(entity, pinned={name: first.values[name] for name in entity.key}))
    return first, InvalidExample(entity, Defect.DUPLICATE_KEY, copy.text)
