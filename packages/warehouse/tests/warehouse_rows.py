"""Hand-made warehouse rows and processed batch folders, typed by the model's arrow schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ecomdw.core.arrow_schema import arrow_schema
from ecomdw.core.model import (
    DIM_CUSTOMER,
    DIM_DATE,
    DIM_PRODUCT,
    FACT_EXCHANGE_RATE,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_PAYMENT,
    QUARANTINE,
    Entity,
)
from ecomdw.core.processed import batch_folder, warehouse_prefix
from ecomdw.warehouse.executors import DuckDBExecutor

Row = dict[str, Any]
OPEN_END = dt.datetime(9999, 12, 31)


@dataclass(frozen=True)
class Stamp:
    """The lineage columns: which batch last changed a row, under which run."""

    batch_date: dt.date
    run_id: str

    def columns(self) -> Row:
        return {"batch_date": self.batch_date, "run_id": self.run_id}


def write_batch(root: Path, table: Entity, batch_date: dt.date, rows: list[Row]) -> Path:
    """One part file under `<root>/warehouse/<table>/batch=<date>/`, as the ETL writes it."""
    folder = root / batch_folder(warehouse_prefix(table.name), batch_date)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-00000.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(table)), path)
    return path


def insert(executor: DuckDBExecutor, table: Entity, rows: list[Row]) -> None:
    """Fixture rows straight into a table, for tests of what reads it (loading is tested apart)."""
    executor.connection.register("fixture_rows", pa.Table.from_pylist(rows, arrow_schema(table)))
    executor.connection.execute(f"INSERT INTO {table.name} SELECT * FROM fixture_rows")
    executor.connection.unregister("fixture_rows")


def date_row(day: dt.date) -> Row:
    return {
        "date_key": int(day.strftime("%Y%m%d")),
        "full_date": day,
        "year": day.year,
        "quarter": (day.month - 1) // 3 + 1,
        "month": day.month,
        "month_name": day.strftime("%B"),
        "iso_week": day.isocalendar().week,
        "day_of_month": day.day,
        "day_of_week": day.isoweekday(),
        "day_name": day.strftime("%A"),
        "is_weekend": day.isoweekday() >= 6,
    }


def customer(
    sk: int,
    customer_id: str,
    city: str | None,
    valid_from: dt.datetime,
    stamp: Stamp,
    *,
    valid_to: dt.datetime = OPEN_END,
    country_code: str = "IT",
) -> Row:
    return {
        "customer_sk": sk,
        "customer_id": customer_id,
        "email": f"{customer_id.lower()}@example.com",
        "first_name": "Ada",
        "last_name": customer_id,
        "country_code": country_code,
        "city": city,
        "signup_ts": dt.datetime(2025, 1, 1),
        "marketing_opt_in": True,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "is_current": valid_to == OPEN_END,
        "row_hash": f"{sk:064d}",
        **stamp.columns(),
    }


def product(
    sk: int,
    product_id: str,
    valid_from: dt.datetime,
    stamp: Stamp,
    *,
    price: str,
    cost: str,
    valid_to: dt.datetime = OPEN_END,
    category: str = "books",
) -> Row:
    return {
        "product_sk": sk,
        "product_id": product_id,
        "sku": f"SKU-{product_id}",
        "product_name": f"Product {product_id}",
        "category": category,
        "subcategory": None,
        "brand": None,
        "unit_price": Decimal(price),
        "unit_cost": Decimal(cost),
        "active": True,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "is_current": valid_to == OPEN_END,
        "row_hash": f"{sk:064d}",
        **stamp.columns(),
    }


def exchange_rate(currency: str, day: dt.date, rate: str, stamp: Stamp) -> Row:
    return {
        "currency": currency,
        "rate_date": day,
        "usd_per_unit": Decimal(rate),
        **stamp.columns(),
    }


def order(
    order_id: str,
    customer_sk: int,
    placed: dt.datetime,
    status: str,
    stamp: Stamp,
    *,
    lines: list[tuple[int, int, str]],
    shipping: str = "0.00",
    discount: str = "0.00",
    channel: str = "web",
) -> Row:
    """An order in USD; `lines` are (quantity, product_sk, unit price)."""
    items = sum((q * Decimal(p) for q, _, p in lines), Decimal("0.00"))
    return {
        "order_id": order_id,
        "order_date_key": int(placed.strftime("%Y%m%d")),
        "customer_sk": customer_sk,
        "order_ts": placed,
        "status": status,
        "channel": channel,
        "currency": "USD",
        "line_count": len(lines),
        "item_quantity": sum(q for q, _, _ in lines),
        "items_amount_usd": items,
        "discount_amount_usd": Decimal(discount),
        "shipping_amount_usd": Decimal(shipping),
        "total_amount_usd": items - Decimal(discount) + Decimal(shipping),
        "updated_at": placed,
        **stamp.columns(),
    }


def order_lines(head: Row, lines: list[tuple[int, int, str]], costs: list[str]) -> list[Row]:
    """The lines of `head` (same status, customer, date); `costs` are unit costs per line."""
    return [
        {
            "order_id": head["order_id"],
            "line_number": number,
            "order_date_key": head["order_date_key"],
            "customer_sk": head["customer_sk"],
            "product_sk": product_sk,
            "status": head["status"],
            "currency": "USD",
            "quantity": quantity,
            "unit_price": Decimal(price),
            "usd_per_unit": Decimal("1"),
            "gross_amount_usd": quantity * Decimal(price),
            "discount_amount_usd": Decimal("0.00"),
            "net_amount_usd": quantity * Decimal(price),
            "cost_amount_usd": quantity * Decimal(cost),
            "batch_date": head["batch_date"],
            "run_id": head["run_id"],
        }
        for number, ((quantity, product_sk, price), cost) in enumerate(
            zip(lines, costs, strict=True), start=1
        )
    ]


def payment(
    payment_id: str, head: Row, method: str, created: dt.datetime, *, status: str = "captured"
) -> Row:
    return {
        "payment_id": payment_id,
        "order_id": head["order_id"],
        "customer_sk": head["customer_sk"],
        "payment_date_key": int(created.strftime("%Y%m%d")),
        "created_at": created,
        "status": status,
        "method_type": method,
        "card_brand": "visa" if method == "card" else None,
        "currency": "USD",
        "amount": head["total_amount_usd"],
        "amount_usd": head["total_amount_usd"],
        "batch_date": head["batch_date"],
        "run_id": head["run_id"],
    }


def quarantined(line_number: int, stamp: Stamp) -> Row:
    batch_date = stamp.batch_date
    return {
        "batch_date": batch_date,
        "entity": "orders",
        "source_file": f"s3://raw/orders/ingest_date={batch_date}/orders.csv",
        "line_number": line_number,
        "reason": "bad_value",
        "detail": "status 'lost' is not accepted",
        "raw_text": "O9,C1,...,lost",
        "run_id": stamp.run_id,
    }


TABLES_BY_NAME = {
    t.name: t
    for t in (
        DIM_DATE,
        DIM_CUSTOMER,
        DIM_PRODUCT,
        FACT_EXCHANGE_RATE,
        FACT_ORDER,
        FACT_ORDER_LINE,
        FACT_PAYMENT,
        QUARANTINE,
    )
}
