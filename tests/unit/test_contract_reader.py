"""The strict reader, on hand-made files and trees whose right answer is known."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from ecomdw.core.contract import (
    ContractLayoutError,
    ContractReport,
    Defect,
    FileResult,
    read_raw_file,
    read_raw_tree,
)
from ecomdw.core.model import CUSTOMERS, ORDER_ITEMS, ORDERS, PAYMENTS, PRODUCTS, Entity
from ecomdw.core.strategies import csv_field

pytestmark = pytest.mark.unit

DAY1, DAY2, DAY3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)

DEFAULTS: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "C1",
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "country_code": "DE",
        "city": "Berlin",
        "signup_ts": "2024-01-01T10:00:00Z",
        "marketing_opt_in": "true",
        "updated_at": "2024-03-01T00:00:00Z",
    },
    "products": {
        "product_id": "P1",
        "sku": "SKU-1",
        "product_name": "Mug",
        "category": "Home",
        "subcategory": "",
        "brand": "",
        "unit_price": "9.90",
        "unit_cost": "3.10",
        "active": "true",
        "updated_at": "2024-03-01T00:00:00Z",
    },
    "orders": {
        "order_id": "O1",
        "customer_id": "C1",
        "order_ts": "2024-03-01T09:30:00+01:00",
        "status": "placed",
        "channel": "web",
        "currency": "EUR",
        "shipping_amount": "4.90",
        "discount_amount": "0.00",
        "updated_at": "2024-03-01T09:30:00Z",
    },
    "order_items": {
        "order_id": "O1",
        "line_number": "1",
        "product_id": "P1",
        "quantity": "2",
        "unit_price": "9.90",
        "discount_amount": "0",
    },
}


def row(entity: Entity, **changes: str) -> str:
    texts = {**DEFAULTS[entity.name], **changes}
    return ",".join(csv_field(texts[name] or None) for name in entity.column_names) + "\n"


def header(entity: Entity) -> str:
    return ",".join(entity.column_names) + "\n"


def read_text(entity: Entity, text: str) -> FileResult:
    return read_raw_file(entity, io.StringIO(text, newline=""), batch_date=DAY1)


def reasons(result: FileResult) -> list[tuple[int, Defect]]:
    return [(d.line_number, d.reason) for d in result.defects]


# ---------------------------------------------------------------- CSV structure


def test_quoted_fields_may_hold_commas_quotes_and_line_breaks() -> None:
    text = (
        header(CUSTOMERS)
        + row(CUSTOMERS, customer_id="C1", city='Frankfurt, "am Main"\nHesse')
        + row(CUSTOMERS, customer_id="C2", last_name="O'Neil\r\nSmith")
        + row(CUSTOMERS, customer_id="C3")
    )
    result = read_text(CUSTOMERS, text)
    assert result.defects == []
    assert [r.line_number for r in result.records] == [2, 4, 6]
    assert result.records[0].values["city"] == 'Frankfurt, "am Main"\nHesse'
    assert result.records[1].values["last_name"] == "O'Neil\r\nSmith"
    assert result.records[0].raw_text == row(CUSTOMERS, city='Frankfurt, "am Main"\nHesse')[:-1]


def test_empty_fields_are_null_and_blank_lines_are_no_records() -> None:
    text = header(PRODUCTS) + "\r\n" + row(PRODUCTS).replace("\n", "\r\n") + "\n"
    result = read_text(PRODUCTS, text)
    assert result.defects == []
    [record] = result.records
    assert record.line_number == 3
    assert record.values["subcategory"] is None and record.values["brand"] is None


def test_a_bom_before_the_header_is_ignored() -> None:
    result = read_text(PRODUCTS, "\ufeff" + header(PRODUCTS) + row(PRODUCTS))
    assert result.defects == [] and len(result.records) == 1


def test_a_wrong_header_quarantines_every_record_of_the_file() -> None:
    wrong = header(PRODUCTS).replace("unit_cost,", "").replace("unit_price", "unit_price,cost")
    result = read_text(PRODUCTS, wrong + row(PRODUCTS) + row(PRODUCTS, product_id="P2"))
    assert reasons(result) == [(2, Defect.UNPARSEABLE), (3, Defect.UNPARSEABLE)]
    assert "header" in result.defects[0].detail
    assert result.records == []


def test_an_unclosed_quote_costs_one_line_and_reading_resumes() -> None:
    broken = 'O2,"C1,2024-03-01T10:00:00Z,placed,web,EUR,1.00,0.00,2024-03-01T10:00:00Z\n'
    text = (
        header(ORDERS)
        + broken
        + row(ORDERS, order_id="O3", customer_id='C"3')
        + row(ORDERS, order_id="O4")
    )
    result = read_text(ORDERS, text)
    assert reasons(result) == [(2, Defect.UNPARSEABLE)]
    assert result.defects[0].raw_text == broken[:-1]
    assert [(r.line_number, r.values["order_id"]) for r in result.records] == [
        (3, "O3"),
        (4, "O4"),
    ]


def test_an_unclosed_quote_at_the_end_of_the_file_costs_one_line() -> None:
    text = header(ORDERS) + row(ORDERS) + 'O2,"C1,x\n' + "more text\n"
    result = read_text(ORDERS, text)
    assert reasons(result) == [(3, Defect.UNPARSEABLE), (4, Defect.UNPARSEABLE)]
    assert [r.line_number for r in result.records] == [2]


def test_a_quote_inside_an_unquoted_field_is_unparseable() -> None:
    text = header(ORDERS) + row(ORDERS).replace("O1,", 'O"1,') + row(ORDERS, order_id="O2")
    result = read_text(ORDERS, text)
    assert reasons(result) == [(2, Defect.UNPARSEABLE)]
    assert "quote" in result.defects[0].detail
    assert [r.line_number for r in result.records] == [3]


def test_a_wrong_field_count_quarantines_the_whole_record() -> None:
    spanning = row(ORDER_ITEMS, product_id="P\n1")[:-1] + ",extra\n"
    text = header(ORDER_ITEMS) + spanning + row(ORDER_ITEMS, line_number="2")
    result = read_text(ORDER_ITEMS, text)
    assert reasons(result) == [(2, Defect.UNPARSEABLE)]
    assert result.defects[0].raw_text == spanning[:-1]
    assert [r.line_number for r in result.records] == [4]


def test_undecodable_bytes_quarantine_only_their_record(tmp_path: Path) -> None:
    folder = tmp_path / "order_items" / "ingest_date=2024-03-02"
    folder.mkdir(parents=True)
    path = folder / "part.csv"
    good = row(ORDER_ITEMS).encode()
    path.write_bytes(
        header(ORDER_ITEMS).encode() + good.replace(b"P1", b"P\xff") + good.replace(b",1,", b",2,")
    )
    result = read_raw_file(ORDER_ITEMS, path)
    assert reasons(result) == [(2, Defect.UNPARSEABLE)]
    assert result.defects[0].batch_date == DAY2
    assert result.defects[0].source_file == str(path)
    assert [r.values["line_number"] for r in result.records] == [2]


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("changes", "column", "expected"),
    [
        ({"shipping_amount": "4.9"}, "shipping_amount", Decimal("4.90")),
        ({"shipping_amount": "4.900"}, "shipping_amount", Decimal("4.90")),
        ({"shipping_amount": "-0.00"}, "shipping_amount", Decimal("0.00")),
        ({"order_ts": "2024-03-01T01:30:00+02:00"}, "order_ts", dt.datetime(2024, 2, 29, 23, 30)),
        ({"order_ts": "2024-03-01T01:30:00-09:30"}, "order_ts", dt.datetime(2024, 3, 1, 11, 0)),
        ({"order_ts": "2024-03-01T01:30:00Z"}, "order_ts", dt.datetime(2024, 3, 1, 1, 30)),
        (
            {"order_ts": "2024-03-01T01:30:00.5"},
            "order_ts",
            dt.datetime(2024, 3, 1, 1, 30, 0, 500000),
        ),
    ],
)
def test_values_are_typed_exactly(changes: dict[str, str], column: str, expected: object) -> None:
    [record] = read_text(ORDERS, header(ORDERS) + row(ORDERS, **changes)).records
    assert record.values[column] == expected
    assert type(record.values[column]) is type(expected)


@pytest.mark.parametrize(
    ("entity", "changes", "reason"),
    [
        (ORDERS, {"shipping_amount": "4.901"}, Defect.WRONG_TYPE),  # would need rounding
        (ORDERS, {"shipping_amount": "1e2"}, Defect.WRONG_TYPE),
        (ORDERS, {"shipping_amount": "10000000000000000.00"}, Defect.WRONG_TYPE),
        (ORDERS, {"shipping_amount": "-4.90"}, Defect.OUT_OF_RANGE),
        (ORDERS, {"order_ts": "2024-03-01 09:30:00"}, Defect.WRONG_TYPE),
        (ORDERS, {"order_ts": "2024-03-01"}, Defect.WRONG_TYPE),
        (ORDERS, {"order_ts": "2024-02-30T09:30:00Z"}, Defect.WRONG_TYPE),
        (ORDERS, {"order_ts": "2024-03-01T09:30:00+24:00"}, Defect.WRONG_TYPE),
        (ORDERS, {"status": "Placed"}, Defect.UNKNOWN_VALUE),
        (ORDERS, {"currency": "eur"}, Defect.INVALID_FORMAT),
        (ORDERS, {"currency": "EURO"}, Defect.WRONG_TYPE),  # longer than CHAR(3)
        (ORDERS, {"order_id": ""}, Defect.MISSING_KEY),
        (ORDERS, {"customer_id": ""}, Defect.MISSING_VALUE),
        (CUSTOMERS, {"marketing_opt_in": "True"}, Defect.WRONG_TYPE),
        (CUSTOMERS, {"first_name": "é" * 51}, Defect.WRONG_TYPE),  # 102 bytes > VARCHAR(100)
        (CUSTOMERS, {"country_code": "Ü1"}, Defect.WRONG_TYPE),  # CHAR is ASCII only
        (CUSTOMERS, {"email": "ann.example.com"}, Defect.INVALID_FORMAT),
        (ORDER_ITEMS, {"quantity": "0"}, Defect.OUT_OF_RANGE),
        (ORDER_ITEMS, {"quantity": "2147483648"}, Defect.WRONG_TYPE),
        (ORDER_ITEMS, {"line_number": "one"}, Defect.WRONG_TYPE),
        (ORDER_ITEMS, {"line_number": "0"}, Defect.OUT_OF_RANGE),
    ],
)
def test_each_rule_rejects_with_its_reason(
    entity: Entity, changes: dict[str, str], reason: Defect
) -> None:
    result = read_text(entity, header(entity) + row(entity, **changes))
    assert reasons(result) == [(2, reason)]
    assert result.records == []


def test_values_at_the_limits_are_accepted() -> None:
    text = header(CUSTOMERS) + row(CUSTOMERS, first_name="é" * 50, city="x" * 100)
    assert read_text(CUSTOMERS, text).defects == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"order_id": "", "status": "nope"}, Defect.MISSING_KEY),
        ({"status": "nope", "order_ts": "later"}, Defect.WRONG_TYPE),
        ({"currency": "eur", "customer_id": ""}, Defect.MISSING_VALUE),
        ({"currency": "eur", "shipping_amount": "-1.00", "status": "nope"}, Defect.UNKNOWN_VALUE),
        ({"currency": "eur", "shipping_amount": "-1.00"}, Defect.INVALID_FORMAT),
    ],
)
def test_one_reason_per_record_in_rule_order(changes: dict[str, str], reason: Defect) -> None:
    result = read_text(ORDERS, header(ORDERS) + row(ORDERS, **changes))
    assert reasons(result) == [(2, reason)]


# ---------------------------------------------------------------- JSON lines

PAYMENT = (
    '{"payment_id": "PAY1", "order_id": "O1", "amount": "12.30", "currency": "EUR", '
    '"status": "captured", "created_at": "2024-03-01T10:00:00Z", '
    '"method": {"type": "card", "card_brand": "visa", "last4": "4242"}}'
)


def payment(payment_id: str = "PAY1", order_id: str = "O1") -> str:
    return PAYMENT.replace('"PAY1"', f'"{payment_id}"').replace('"O1"', f'"{order_id}"') + "\n"


def test_payments_are_read_with_their_nested_method() -> None:
    paypal = PAYMENT.replace(', "card_brand": "visa", "last4": "4242"', "").replace(
        '"card"', '"paypal"'
    )
    text = PAYMENT + "\n\n" + paypal.replace("PAY1", "PAY2") + "\n"
    result = read_raw_file(PAYMENTS, io.StringIO(text, newline=""))
    assert result.defects == []
    first, second = (r.values for r in result.records)
    assert first["method_type"] == "card" and first["card_last4"] == "4242"
    assert first["amount"] == Decimal("12.30")
    assert second["method_type"] == "paypal" and second["card_brand"] is None
    assert [r.line_number for r in result.records] == [1, 3]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (PAYMENT.replace('"12.30"', "12.30"), Defect.WRONG_TYPE),
        (
            PAYMENT.replace('{"type": "card", "card_brand": "visa", "last4": "4242"}', '"card"'),
            Defect.WRONG_TYPE,
        ),
        (PAYMENT.replace('"visa"', '"diners"'), Defect.UNKNOWN_VALUE),
        (PAYMENT.replace('"4242"', '"42"'), Defect.INVALID_FORMAT),
        (PAYMENT.replace('"PAY1"', "null"), Defect.MISSING_KEY),
        (PAYMENT.replace('"type": "card", ', ""), Defect.MISSING_VALUE),
        (PAYMENT[:-1], Defect.UNPARSEABLE),
        ("[" + PAYMENT + "]", Defect.UNPARSEABLE),
        # Lone surrogates: escaped (valid JSON, not Unicode text), in a value long enough for
        # VARCHAR's byte count, in CHAR, in a member that is ignored; or as their bytes (as
        # `open_raw_text` reads them).
        (PAYMENT.replace('"PAY1"', '"PAY1234567\\ud800"'), Defect.UNPARSEABLE),
        (PAYMENT.replace('"4242"', '"\\udc80"'), Defect.UNPARSEABLE),
        (PAYMENT.replace('"status"', '"\\udfff": "x", "status"'), Defect.UNPARSEABLE),
        (PAYMENT.replace("PAY1", "PAY\udced\udca0\udc80"), Defect.UNPARSEABLE),  # ED A0 80
    ],
)
def test_broken_payments_are_rejected_with_their_reason(line: str, reason: Defect) -> None:
    result = read_raw_file(PAYMENTS, io.StringIO(PAYMENT + "\n" + line + "\n", newline=""))
    assert reasons(result) == [(2, reason)]
    assert result.defects[0].raw_text == line


@pytest.mark.parametrize(
    ("payment_id", "expected"),
    [("PAY\\ud83d\\ude00", "PAY\U0001f600"), ("PAY\\\\ud800", "PAY\\ud800")],
    ids=["surrogate-pair", "escaped-backslash"],
)
def test_escapes_that_spell_text_are_read(payment_id: str, expected: str) -> None:
    """A pair of surrogate escapes is one character; `\\\\ud800` is a backslash and `ud800`."""
    result = read_raw_file(PAYMENTS, io.StringIO(payment(payment_id=payment_id), newline=""))
    assert [r.values["payment_id"] for r in result.records] == [expected]


def test_unknown_json_members_are_ignored() -> None:
    line = PAYMENT.replace('"status"', '"gateway": {"id": 7}, "status"')
    result = read_raw_file(PAYMENTS, io.StringIO(line + "\n", newline=""))
    assert result.defects == [] and len(result.records) == 1


# ---------------------------------------------------------------- trees


def write(root: Path, entity: Entity, batch: dt.date, name: str, *rows: str) -> None:
    folder = root / entity.name / f"ingest_date={batch.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    first = "" if entity is PAYMENTS else header(entity)
    (folder / name).write_text(first + "".join(rows), encoding="utf-8", newline="")


def assert_balanced(report: ContractReport) -> None:
    for (batch, entity), counts in report.counts.items():
        assert counts.read == counts.loaded + counts.quarantined, (batch, entity)


def test_duplicates_in_a_batch_keep_the_first_by_file_name_then_line(tmp_path: Path) -> None:
    write(tmp_path, CUSTOMERS, DAY1, "b.csv", row(CUSTOMERS, city="B1"), row(CUSTOMERS))
    write(tmp_path, CUSTOMERS, DAY1, "a.csv", row(CUSTOMERS, city="A"), row(CUSTOMERS, city="A2"))
    write(tmp_path, CUSTOMERS, DAY2, "a.csv", row(CUSTOMERS, city="update"))
    report = read_raw_tree(tmp_path, keep_records=True)
    assert [(d.source_file, d.line_number, d.reason) for d in report.defects] == [
        ("customers/ingest_date=2024-03-01/a.csv", 3, Defect.DUPLICATE_KEY),
        ("customers/ingest_date=2024-03-01/b.csv", 2, Defect.DUPLICATE_KEY),
        ("customers/ingest_date=2024-03-01/b.csv", 3, Defect.DUPLICATE_KEY),
    ]
    assert [r.values["city"] for r in report.loaded["customers"]] == ["A", "update"]
    assert_balanced(report)


def test_a_quarantined_copy_does_not_claim_the_key(tmp_path: Path) -> None:
    write(tmp_path, CUSTOMERS, DAY1, "a.csv", row(CUSTOMERS, email="bad"), row(CUSTOMERS))
    report = read_raw_tree(tmp_path)
    assert [(d.line_number, d.reason) for d in report.defects] == [(2, Defect.INVALID_FORMAT)]
    assert report.counts[DAY1, "customers"].loaded == 1


def test_a_child_before_its_parent_is_a_late_arrival(tmp_path: Path) -> None:
    write(tmp_path, PRODUCTS, DAY1, "p.csv", row(PRODUCTS))
    write(tmp_path, ORDERS, DAY1, "o.csv", row(ORDERS, customer_id="C9"))
    write(tmp_path, ORDER_ITEMS, DAY1, "i.csv", row(ORDER_ITEMS))
    write(tmp_path, CUSTOMERS, DAY3, "c.csv", row(CUSTOMERS, customer_id="C9"))
    report = read_raw_tree(tmp_path)
    assert report.defects == []
    late = [(a.entity, a.batch_date, a.resolved_batch, a.key) for a in report.late_arrivals]
    assert late == [("orders", DAY1, DAY3, ("O1",)), ("order_items", DAY1, DAY3, ("O1", 1))]
    orders = report.counts[DAY1, "orders"]
    assert (orders.read, orders.loaded, orders.quarantined, orders.late_arrivals) == (1, 1, 0, 1)
    assert_balanced(report)


def test_a_child_whose_parent_never_arrives_is_an_orphan(tmp_path: Path) -> None:
    write(tmp_path, CUSTOMERS, DAY1, "c.csv", row(CUSTOMERS))
    write(tmp_path, PRODUCTS, DAY1, "p.csv", row(PRODUCTS))
    write(tmp_path, ORDERS, DAY1, "o.csv", row(ORDERS))
    write(
        tmp_path,
        ORDER_ITEMS,
        DAY2,
        "i.csv",
        row(ORDER_ITEMS),
        row(ORDER_ITEMS, line_number="2", product_id="P404"),
    )
    write(tmp_path, PRODUCTS, DAY3, "p.csv", row(PRODUCTS, product_id="P2"))
    report = read_raw_tree(tmp_path)
    [orphan] = report.defects
    assert (orphan.entity, orphan.batch_date, orphan.line_number) == ("order_items", DAY2, 3)
    assert orphan.reason is Defect.ORPHAN_REFERENCE
    assert "P404" in orphan.detail
    items = report.counts[DAY2, "order_items"]
    assert (items.read, items.loaded, items.quarantined) == (2, 1, 1)
    assert_balanced(report)


def test_children_of_a_parent_that_is_never_loaded_are_orphans(tmp_path: Path) -> None:
    write(tmp_path, PRODUCTS, DAY1, "p.csv", row(PRODUCTS))
    write(
        tmp_path,
        ORDERS,
        DAY1,
        "o.csv",
        row(ORDERS, customer_id="C404"),
        row(ORDERS, order_id="O2", status="lost"),
    )
    write(tmp_path, ORDER_ITEMS, DAY1, "i.csv", row(ORDER_ITEMS), row(ORDER_ITEMS, order_id="O2"))
    report = read_raw_tree(tmp_path)
    assert [(d.entity, d.line_number, d.reason) for d in report.defects] == [
        ("orders", 2, Defect.ORPHAN_REFERENCE),
        ("orders", 3, Defect.UNKNOWN_VALUE),
        ("order_items", 2, Defect.ORPHAN_REFERENCE),
        ("order_items", 3, Defect.ORPHAN_REFERENCE),
    ]
    assert report.defect_counts() == {
        ("orders", Defect.ORPHAN_REFERENCE): 1,
        ("orders", Defect.UNKNOWN_VALUE): 1,
        ("order_items", Defect.ORPHAN_REFERENCE): 2,
    }
    assert report.totals("order_items").quarantined == 2
    assert_balanced(report)


def test_payments_reference_orders(tmp_path: Path) -> None:
    write(tmp_path, CUSTOMERS, DAY1, "c.csv", row(CUSTOMERS))
    write(tmp_path, ORDERS, DAY1, "o.csv", row(ORDERS))
    write(tmp_path, PAYMENTS, DAY1, "p.jsonl", payment(), payment("PAY2", order_id="O2"))
    report = read_raw_tree(tmp_path)
    assert [(d.entity, d.line_number, d.reason) for d in report.defects] == [
        ("payments", 2, Defect.ORPHAN_REFERENCE)
    ]


def test_the_layout_is_enforced(tmp_path: Path) -> None:
    write(tmp_path, CUSTOMERS, DAY1, "c.csv", row(CUSTOMERS))
    (tmp_path / "customers" / "ingest_date=2024-03-01" / "_SUCCESS").touch()
    (tmp_path / "_manifest.json").write_text("{}")
    assert read_raw_tree(tmp_path).counts[DAY1, "customers"].loaded == 1
    (tmp_path / "customers" / "ingest_date=2024-03-01" / "c.json").write_text("{}")
    with pytest.raises(ContractLayoutError, match=r"c\.json"):
        read_raw_tree(tmp_path)
    (tmp_path / "customers" / "ingest_date=2024-03-01" / "c.json").unlink()
    (tmp_path / "customers" / "date=2024-03-01").mkdir()
    with pytest.raises(ContractLayoutError, match="batch folder"):
        read_raw_tree(tmp_path)
