"""The fast CSV path on hand-picked corner cases: which file is plain, which line is slow, and
that the rows are the reference reader's either way."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pyspark.sql.pandas.types import to_arrow_schema

from ecomdw.core.model import ORDERS, PAYMENTS
from ecomdw.etl.transforms.fast_csv import plain_lines, read_plain_csv
from ecomdw.etl.transforms.stage import (
    batch_date_of,
    file_batches,
    parse_file,
    parsed_schema,
    record_batches,
)

pytestmark = pytest.mark.unit

PATH = "/raw/orders/ingest_date=2026-01-12/part-00000.csv"
SOURCE = "orders/ingest_date=2026-01-12/part-00000.csv"
HEADER = ",".join(ORDERS.column_names)
SCHEMA = to_arrow_schema(parsed_schema(ORDERS))
VALID = "O1,C1,2026-01-12T00:50:57+01:00,paid,web,EUR,0.00,24.61,2026-01-12T01:00:02Z"


def order(**texts: str) -> str:
    fields = dict(zip(ORDERS.column_names, VALID.split(","), strict=True))
    return ",".join({**fields, **texts}.values())


def rows(content: bytes) -> tuple[pa.Table, pa.Table]:
    fast = pa.Table.from_batches(list(file_batches("orders", PATH, content, SCHEMA)), SCHEMA)
    reference = pa.Table.from_batches(
        list(record_batches(parse_file("orders", PATH, content), SCHEMA)), SCHEMA
    )
    return fast, reference


@pytest.mark.parametrize(
    "content",
    [
        HEADER + "\n" + order(customer_id='"C,1"') + "\n",
        f"{HEADER}\r\n{VALID}\r\n",
        f"\ufeff{HEADER}\n{VALID}\n",
        f"{HEADER},extra\n{VALID}\n",
        f"{HEADER}\n{VALID}\x00\n",
        "",
    ],
    ids=["quoted", "crlf", "bom", "other-header", "nul", "empty"],
)
def test_files_that_are_not_plain_fall_back_whole(content: str) -> None:
    assert plain_lines(ORDERS, content.encode()) is None
    fast, reference = rows(content.encode())
    assert fast.equals(reference)


def test_not_utf8_and_not_csv_fall_back() -> None:
    assert plain_lines(ORDERS, f"{HEADER}\n{VALID}\xff\n".encode("latin-1")) is None
    assert plain_lines(PAYMENTS, b"{}\n") is None


SLOW = [
    order(order_ts="2026-02-30T10:00:00Z"),  # rolled over to March by Arrow's strptime
    order(order_ts="2024-12-31T23:59:60Z"),  # a leap second: rolled over too
    order(order_ts="2026-01-12T00:50:57.5Z"),  # a fraction: valid, just not the fast spelling
    order(order_ts="0001-01-01T00:30:00+01:00"),  # valid text, but before year 1 in UTC
    order(updated_at="2026-01-12T01:00:02+24:00"),
    order(shipping_amount="-1.00"),
    order(discount_amount="12.345"),
    order(status="Paid"),
    order(currency="eur"),
    order(order_id=""),
    order(customer_id="C" * 33),
    VALID + ",",
    "O9",
]
FAST = [
    VALID,
    order(order_ts="2024-02-29T23:30:00-05:00", updated_at="2026-01-12T01:00:02+23:59"),
    order(shipping_amount="-0", discount_amount="007.50"),  # per distinct: the reference's rule
    order(customer_id="é" * 16, order_id="\u2028\x85"),  # not line ends for the reference
]


def test_only_lines_not_certainly_valid_are_slow() -> None:
    lines = [FAST[0], *SLOW[:6], "", FAST[1], *SLOW[6:], " ", *FAST[2:], ""]
    content = "\n".join([HEADER, *lines, ""]).encode()
    plain = read_plain_csv(
        ORDERS, plain_lines(ORDERS, content), SCHEMA, batch_date_of(SOURCE), SOURCE
    )
    assert plain.fast.column("raw_text").to_pylist() == FAST
    assert plain.slow_lines == [*SLOW[:6], *SLOW[6:], " "]
    assert plain.slow_line_numbers == [n for n, t in enumerate(lines, 2) if t in (*SLOW, " ")]
    fast, reference = rows(content)
    assert fast.to_pylist() == reference.to_pylist()
    assert fast.equals(reference)
