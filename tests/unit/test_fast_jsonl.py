"""The fast JSONL path on hand-picked cases: which file qualifies, which line is slow, which is
neither (blank), and that the rows are the reference reader's either way."""

from __future__ import annotations

import datetime as dt
import io
import json

import pyarrow as pa
import pytest
from pyspark.sql.pandas.types import to_arrow_schema

from ecomdw.core.contract import RawRecord, iter_raw_file
from ecomdw.core.generator import formatting
from ecomdw.core.model import ORDERS, PAYMENTS, Column, Entity, FileFormat, Layer, varchar
from ecomdw.etl.transforms.fast_jsonl import canonical_slots, jsonl_lines, read_jsonl
from ecomdw.etl.transforms.stage import (
    batch_date_of,
    file_batches,
    parse_file,
    parsed_schema,
    record_batches,
)

pytestmark = pytest.mark.unit

PATH = "/raw/payments/ingest_date=2026-01-12/part-00000.jsonl"
SOURCE = "payments/ingest_date=2026-01-12/part-00000.jsonl"
SCHEMA = to_arrow_schema(parsed_schema(PAYMENTS))
VALID: dict[str, str | None] = {
    "payment_id": "PAY1",
    "order_id": "O1",
    "amount": "131.39",
    "currency": "USD",
    "status": "authorized",
    "created_at": "2026-01-12T00:00:25Z",
    "method_type": "card",
    "card_brand": "mastercard",
    "card_last4": "9166",
}


def payment(**texts: str | None) -> str:
    """A payment spelled as the generator spells it (`json.dumps`, null nested members out)."""
    return formatting.json_line(formatting.json_record(PAYMENTS, {**VALID, **texts})).rstrip("\n")


def read(content: bytes) -> tuple[list[str], list[str], list[int]]:
    """The raw texts of the fast rows, the slow lines and their numbers."""
    lines = jsonl_lines(PAYMENTS, content)
    assert lines is not None
    result = read_jsonl(PAYMENTS, lines, SCHEMA, batch_date_of(SOURCE), SOURCE)
    fast = result.fast.column("raw_text").to_pylist()
    return fast, result.slow_lines, result.slow_line_numbers


def assert_reference_rows(content: bytes) -> None:
    fast = pa.Table.from_batches(list(file_batches("payments", PATH, content, SCHEMA)), SCHEMA)
    reference = pa.Table.from_batches(
        list(record_batches(parse_file("payments", PATH, content), SCHEMA)), SCHEMA
    )
    assert fast.to_pylist() == reference.to_pylist()
    assert fast.equals(reference)


@pytest.mark.parametrize(
    "content",
    [
        f"{payment()}\r\n".encode(),
        f"{payment()}\r{payment()}\n".encode(),
        (payment(payment_id="PAY\xff") + "\n").encode("latin-1"),
    ],
    ids=["crlf", "lone-cr", "not-utf8"],
)
def test_files_with_a_cr_or_bad_bytes_fall_back_whole(content: bytes) -> None:
    assert jsonl_lines(PAYMENTS, content) is None
    assert_reference_rows(content)


def test_csv_entities_do_not_take_the_jsonl_path() -> None:
    assert jsonl_lines(ORDERS, f"{payment()}\n".encode()) is None


FAST = [
    payment(),
    payment(method_type="paypal", card_brand=None, card_last4=None),
    payment(card_last4=None),
    payment(payment_id="é" * 16, created_at="2024-02-29T23:30:00-05:00"),
    payment(order_id="\u2028\x85\x7f", card_brand=""),  # not line ends; "" is NULL
]
SLOW = [
    payment(card_brand=None),  # valid, but of a shape with as many quotes as brand-only
    payment(amount=None),  # "amount": null
    payment(created_at="2026-02-30T10:00:00Z"),
    payment(created_at="2026-01-12T00:00:25.5Z"),  # valid, not the fast spelling
    payment(status="Captured"),
    payment(payment_id='P"1'),  # escaped quote
    payment(order_id="O\x01"),  # escaped control character
    payment(payment_id="x" * 33),
    payment().replace('"O1"', '"O\x01"'),  # a raw control character: not JSON
    payment().replace(", ", ",", 1),
    payment() + " ",
    "\ufeff" + payment(),
    json.dumps({**json.loads(payment()), "amount": 131.39}),
    json.dumps({"method": {"type": "card"}, **json.loads(payment())}),  # reordered
    json.dumps({**json.loads(payment()), "extra": "x"}),
    '{"payment_id": "PAY2", ' + payment()[1:],  # repeated member: the last one wins
    '["PAY1"]',
    payment()[:-1],
    "\x00",
]
BLANK = ["", " ", "\t", "\x0c", "\x1c", "\x85", "\u3000"]


def test_only_lines_not_canonical_or_not_certainly_valid_are_slow() -> None:
    lines = [FAST[0], *SLOW[:8], *BLANK[:4], *FAST[1:3], *SLOW[8:], *BLANK[4:], *FAST[3:]]
    content = ("\n".join(lines) + "\n").encode()
    fast, slow, numbers = read(content)
    assert fast == FAST
    assert slow == SLOW
    assert numbers == [n for n, line in enumerate(lines, 1) if line in SLOW]
    assert_reference_rows(content)


def test_blank_and_whitespace_only_lines_carry_no_record() -> None:
    content = "\n".join(BLANK).encode()
    assert read(content) == ([], [], [])
    assert_reference_rows(content)
    assert_reference_rows(b"")


def test_the_generators_files_are_read_fast_whole() -> None:
    columns = {name: pa.array([VALID[name]] * 3) for name in PAYMENTS.column_names}
    columns["payment_id"] = pa.array(["PAY1", "PAY2", "PAY3"])
    columns["method_type"] = pa.array(["card", "paypal", "card"])
    columns["card_brand"] = pa.array(["visa", None, "amex"])
    columns["card_last4"] = pa.array(["0001", None, None])
    content = formatting.lines_bytes(formatting.jsonl_lines(PAYMENTS, columns))
    fast, slow, _ = read(content)
    assert (len(fast), slow) == (3, [])
    assert_reference_rows(content)


EVENTS = Entity(
    name="events",
    layer=Layer.RAW,
    file_format=FileFormat.JSONL,
    key=("event_id",),
    columns=(
        Column("event_id", varchar(8), nullable=False),
        Column("note", varchar(8)),  # may be left out; `null` is never canonical
        Column("a_x", varchar(8), source="a.x"),  # opens its object: never left out
        Column("a_y", varchar(8), source="a.y"),
        Column("a_b_c", varchar(8), source="a.b.c"),
    ),
)


def test_any_nesting_is_spelled_as_json_dumps_and_read_as_the_reference() -> None:
    slots, end = canonical_slots(EVENTS)
    assert [slot.before for slot in slots] + [end] == [
        '{"event_id": "',
        '", "note": "',
        '", "a": {"x": "',
        '", "y": "',
        '", "b": {"c": "',
        '"}}}',
    ]
    assert [slot.optional for slot in slots] == [False, True, False, True, False]
    documents = [
        {"event_id": "E1", "note": "n", "a": {"x": "1", "y": "2", "b": {"c": "3"}}},
        {"event_id": "E2", "note": "", "a": {"x": "1", "b": {"c": ""}}},
        {"event_id": "E3", "a": {"x": "1", "b": {"c": "3"}}},
        {"event_id": "E4", "a": {"x": "1", "y": "2", "b": {"c": "3"}}},  # as many quotes as E2
        {"event_id": "E5", "note": None, "a": {"x": "1", "b": {"c": "3"}}},
        {"event_id": "E6", "note": "n", "a": {"y": "2", "b": {"c": "3"}}},
        {"event_id": "E7", "note": "n", "a": {"x": "1", "y": "2", "b": {}}},
    ]
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)
    lines = jsonl_lines(EVENTS, text.encode())
    assert lines is not None
    schema = to_arrow_schema(parsed_schema(EVENTS))
    result = read_jsonl(EVENTS, lines, schema, dt.date(2026, 1, 12), "events/x.jsonl")
    assert result.slow_line_numbers == [4, 5, 6, 7]
    reference = list(
        iter_raw_file(
            EVENTS, io.StringIO(text, newline=""), source_file="events/x.jsonl", batch_date=None
        )
    )
    assert all(isinstance(record, RawRecord) for record in reference)
    names = list(EVENTS.column_names)
    fast = [{name: row[name] for name in names} for row in result.fast.to_pylist()]
    assert fast == [record.values for record in reference[:3] if isinstance(record, RawRecord)]
