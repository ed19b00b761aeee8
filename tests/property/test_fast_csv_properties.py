"""The stage job's vectorized CSV path gives exactly the reference reader's rows.

Files of every CSV entity mix valid lines with fields broken in the ways a fast parser gets
wrong (leading zeros, `-0`, exponents, impossible dates, offsets at the edge, non-ASCII
digits, overlong text, line separators other than `\\n`), lines of the wrong width and blank
lines; some files are not plain (quotes, CR, NUL, a BOM, bad bytes, a wrong header) and must
fall back whole. Every file's Arrow rows must equal `record_batches(parse_file(...))`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pyspark.sql.pandas.types import to_arrow_schema

from ecomdw.core.contract import format_value
from ecomdw.core.model import RAW_ENTITIES, Column, Entity, FileFormat, Kind
from ecomdw.core.strategies import non_null_values, raw_records
from ecomdw.etl.transforms.fast_csv import plain_lines, read_plain_csv
from ecomdw.etl.transforms.stage import file_batches, parse_file, parsed_schema, record_batches

from .budget import scaled

pytestmark = pytest.mark.property

CSV_ENTITIES = [e for e in RAW_ENTITIES if e.file_format is FileFormat.CSV]
DAY = dt.date(2024, 5, 1)
PATH = "/raw/{entity}/ingest_date=2024-05-01/part-00000.csv"
ODD_TEXTS = (
    *("", " ", "0", "-0", "00", "007", "-7", "+7", " 7", "7 ", "\t7", "1e3", "1E3", "0x1F"),
    *("1.5", ".5", "5.", "12.345", "12.300", "-0.00", "0.001", "0.00000001", "1_000"),
    *("2147483647", "2147483648", "-2147483648", "-2147483649", "9" * 17, "9" * 20),
    *("true", "True", "false", "FALSE", "1", "t", "yes"),
    *("2024-02-29", "2023-02-29", "2026-02-30", "2026-13-01", "2026-1-5", "0001-01-01"),
    *("2026-01-12T14:04:01", "2026-01-12T14:04:01Z", "2026-01-12T14:04:01+01:00"),
    *("2026-01-12T14:04:01-00:00", "2026-01-12T14:04:01+23:59", "2026-01-12T14:04:01-23:59"),
    *("2026-01-12T14:04:01+24:00", "2026-01-12T14:04:01+01:60", "2026-01-12T14:04:01+1:00"),
    *("2026-01-12T24:00:00Z", "2026-01-12T23:59:60Z", "2026-01-12T23:60:00Z"),
    *("2026-02-30T10:00:00Z", "2023-02-29T00:00:00Z", "2024-02-29T23:30:00-05:00"),
    *("2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1000-01-01T00:00:00+01:00"),
    *("2999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"),
    *("2026-01-12T14:04:01.5Z", "2026-01-12T14:04:01.123456", "2026-01-12T14:04:01.1234567"),
    *("2026-01-12 14:04:01", "2026-01-12T14:04", "2026-01-12t14:04:01z", "1715000000"),
    *("USD", "usd", "US", "U", "USDX", "EUR ", "placed", "Placed", "web", "mobile "),
    *("a@b.c", "a@b", "a b@c.d", "é@x.io", "é", "x" * 300, "é" * 100, "é" * 40, "ab\u00a0"),
    *("١٢", "٣.٥", "２０２６-01-01", "\u2028", "\x85", "\x0b", "\x0c", "\x1c", "a\u2029b"),
)
ODD_LINES = ("", "", " ", ",", ",,,,,", "\t")
PLAIN_BREAKERS = ('"', "\r", "\x00", "\ufeff", "\udcff")  # the last one: an undecodable byte


def plain_field(text: str | None) -> str:
    """A field without quoting: the characters that would need it replaced."""
    return "" if text is None else text.translate(str.maketrans(',"\r\n', "____"))


def _offsets() -> st.SearchStrategy[str]:
    signed = st.builds(
        "{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 25), st.integers(0, 61)
    )
    # Python carries minutes past 59 into the hour, up to an offset of 24 hours (excluded).
    odd = st.sampled_from(["z", ".5", ".123456Z", ".1234567", "+1:00", "+01:00:00", "+23:60"])
    usual = st.sampled_from(["", "Z", "+00:00", "-00:00", "+23:59", "-23:59", "+05:30", "-09:00"])
    return st.one_of(usual, usual, signed, odd)


TIMESTAMP_EDGES = (
    (1, 999, 1000, 1900, 2000, 2024, 2100, 2999, 3000, 9999),
    (0, 2, 12, 13),
    (0, 28, 29, 30, 31, 32),
    (0, 23, 24),
    (0, 59, 60),
    (0, 59, 60, 61),
)


@st.composite
def timestamp_texts(draw: st.DrawFn) -> str:
    """Whole-second timestamps with one or two fields at or past an edge (`2100-02-29`,
    `24:00`, `:60`, year 1 or 9999 with an offset), in every offset spelling."""
    fields = [
        draw(st.integers(1970, 2099)),
        *(draw(st.integers(1, 12)), draw(st.integers(1, 28))),
        *(draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))),
    ]
    for at in draw(st.sets(st.integers(0, 5), max_size=2)):
        fields[at] = draw(st.sampled_from(TIMESTAMP_EDGES[at]))
    return "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*fields) + draw(_offsets())


NUMBER_TEXTS = st.from_regex(r"[-+]?0*[0-9]{0,20}(\.[0-9]{0,10})?([eE]-?[0-9])?", fullmatch=True)


def sized_texts(column: Column) -> st.SearchStrategy[str]:
    """Runs of one character around the column's length, in characters and in UTF-8 bytes."""
    length = column.type.length or 16
    return st.builds(
        lambda ch, n: ch * n, st.sampled_from(["x", "é", "€", "😀"]), st.integers(0, length + 1)
    )


def broken_texts(entity: Entity, column: Column) -> st.SearchStrategy[str]:
    """A text for the column that may well be invalid, or valid in an unusual spelling; most
    often one made for the column's kind."""
    kind = column.type.kind
    own = {Kind.TIMESTAMP: timestamp_texts(), Kind.STRING: sized_texts(column)}.get(
        kind, NUMBER_TEXTS
    )
    other = st.sampled_from(entity.columns).flatmap(
        lambda o: non_null_values(o).map(lambda v: plain_field(format_value(o, v)))
    )  # a valid value of another column: a type confusion
    return st.one_of(
        own,
        own,
        own,
        st.just(""),
        st.sampled_from(ODD_TEXTS),
        timestamp_texts(),
        other,
        st.text("0123456789-+.:TZe é", max_size=26),
    )


@st.composite
def field_texts(draw: st.DrawFn, entity: Entity, valid: dict[str, str | None]) -> list[str]:
    """One line's fields: the valid record's, one or two of them broken on most lines."""
    broken = draw(st.sets(st.sampled_from(entity.columns), min_size=1, max_size=2))
    if draw(st.integers(0, 3)) == 2:
        broken = set()
    elif draw(st.integers(0, 3)) != 2:
        broken = set(list(broken)[:1])
    fields = []
    for column in entity.columns:
        if column in broken:
            fields.append(draw(broken_texts(entity, column)))
            continue
        text = plain_field(valid[column.name])
        if column.type.kind is Kind.TIMESTAMP and draw(st.integers(0, 3)) != 2:
            text = re.sub(r"\.[0-9]+", "", text)  # whole seconds, as the sources send
        fields.append(text)
    if draw(st.integers(0, 15)) == 7:  # a field too many or too few
        fields = fields[:-1] if draw(st.booleans()) else [*fields, draw(st.sampled_from(ODD_TEXTS))]
    return fields


@st.composite
def csv_files(draw: st.DrawFn, entity: Entity) -> bytes:
    """A raw file: header, lines, and now and then something that makes it not plain."""
    # Lines are variations on a few valid records (drawing a record is the slow part).
    records = draw(st.lists(raw_records(entity), min_size=1, max_size=3))
    lines = []
    for _ in range(draw(st.integers(0, 30))):
        # Rare cases on middle values: hypothesis draws the ends of a range more often.
        kind = draw(st.integers(0, 29))
        valid = draw(st.sampled_from(records))
        if kind == 7:
            lines.append(valid.text.rstrip("\n"))  # as the source spells it, quotes and all
        elif kind in (8, 9):
            lines.append(draw(st.sampled_from(ODD_LINES)))
        else:
            lines.append(",".join(draw(field_texts(entity, valid.texts))))
    header = ",".join(entity.column_names)
    match draw(st.integers(0, 19)):
        case 7:
            header = ",".join(reversed(entity.column_names))
        case 8:
            header = "\ufeff" + header
        case 9:
            header += ","
    text = "\n".join([header, *lines]) + draw(st.sampled_from(["\n", "", "\n\n"]))
    if draw(st.integers(0, 9)) == 7:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(PLAIN_BREAKERS)) + text[at:]
    return text.encode("utf-8", "surrogateescape")


def table(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_batches(list(batches), schema=schema)


@pytest.mark.parametrize("entity", CSV_ENTITIES, ids=[e.name for e in CSV_ENTITIES])
@settings(max_examples=scaled(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_rows_equal_the_reference_rows(entity: Entity, data: st.DataObject) -> None:
    content = data.draw(csv_files(entity), label="content")
    path = PATH.format(entity=entity.name)
    schema = to_arrow_schema(parsed_schema(entity))
    lines = plain_lines(entity, content)
    if lines is None:
        event("falls back")
    else:
        plain = read_plain_csv(entity, lines, schema, DAY, path)
        event(f"plain, fast rows: {'some' if plain.fast.num_rows else 'none'}")
        event(f"plain, slow rows: {'some' if plain.slow_lines else 'none'}")
    reference = table(record_batches(parse_file(entity.name, path, content), schema), schema)
    fast = table(file_batches(entity.name, path, content, schema), schema)
    assert fast.to_pylist() == reference.to_pylist()
    assert fast.equals(reference)


COLUMN_CASES = [(e, c) for e in CSV_ENTITIES for c in e.columns]


@pytest.mark.parametrize(
    ("entity", "column"), COLUMN_CASES, ids=[f"{e.name}-{c.name}" for e, c in COLUMN_CASES]
)
@settings(max_examples=scaled(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_broken_column_many_lines(entity: Entity, column: Column, data: st.DataObject) -> None:
    """Many texts for one column in an otherwise valid record: each column's fast rule is
    checked on its own, where a broken neighbour cannot hide a wrong verdict."""
    valid = data.draw(raw_records(entity), label="valid")
    texts = {name: plain_field(text) for name, text in valid.texts.items()}
    for name in entity.column_names:
        if entity.column(name).type.kind is Kind.TIMESTAMP:
            texts[name] = re.sub(r"\.[0-9]+", "", texts[name])
    lines = []
    for text in data.draw(st.lists(broken_texts(entity, column), max_size=40), label="texts"):
        lines.append(",".join({**texts, column.name: text}[name] for name in entity.column_names))
    content = "\n".join([",".join(entity.column_names), *lines, ""]).encode()
    path = PATH.format(entity=entity.name)
    schema = to_arrow_schema(parsed_schema(entity))
    reference = table(record_batches(parse_file(entity.name, path, content), schema), schema)
    fast = table(file_batches(entity.name, path, content, schema), schema)
    assert fast.to_pylist() == reference.to_pylist()
    assert fast.equals(reference)
