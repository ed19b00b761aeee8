"""Batches of processed parquet COPY'd and MERGEd through the executor, as on Redshift."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.arrow_schema import arrow_schema
from ecomdw.core.model import FACT_ORDER_LINE, WAREHOUSE_TABLES
from ecomdw.core.processed import STAGING_TABLES, batch_folder, warehouse_prefix
from ecomdw.warehouse.executors import DuckDBExecutor, WarehouseError
from ecomdw.warehouse.load import create_warehouse, load_batch, load_batch_sql

from .warehouse_rows import (
    OPEN_END,
    TABLES_BY_NAME,
    Row,
    Stamp,
    customer,
    date_row,
    exchange_rate,
    order,
    order_lines,
    payment,
    product,
    quarantined,
    write_batch,
)

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

D1, D2, D3 = dt.date(2026, 1, 10), dt.date(2026, 1, 11), dt.date(2026, 1, 12)
BATCHES = (D1, D2, D3)
MOVED_AT = dt.datetime(2026, 1, 11, 8)
REPRICED_AT = dt.datetime(2026, 1, 11, 6)
SINCE = dt.datetime(2025, 1, 1)
O1_LINES = [(2, 11, "10.00"), (1, 21, "5.00")]
O2_LINES = [(1, 12, "12.00")]


def scenario(run_id: str) -> dict[dt.date, dict[str, list[Row]]]:
    """C1 moves Rome -> Milan and P1 goes 10 -> 12 in batch 2; O1 placed -> paid -> delivered."""
    at = {day: Stamp(day, run_id) for day in BATCHES}
    placed_o1 = dt.datetime(2026, 1, 10, 9)
    o1 = {
        status: order("O1", 101, placed_o1, status, at[day], lines=O1_LINES)
        for status, day in (("placed", D1), ("paid", D2), ("delivered", D3))
    }
    o2 = order("O2", 102, dt.datetime(2026, 1, 11, 10), "placed", at[D2], lines=O2_LINES)
    return {
        D1: {
            "dim_date": [date_row(d) for d in BATCHES],
            "dim_customer": [
                customer(101, "C1", "Rome", SINCE, at[D1]),
                customer(201, "C2", "Turin", SINCE, at[D1]),
            ],
            "dim_product": [
                product(11, "P1", SINCE, at[D1], price="10.00", cost="6.00"),
                product(21, "P2", SINCE, at[D1], price="5.00", cost="2.00"),
            ],
            "fact_exchange_rate": [exchange_rate("EUR", D1, "1.1", at[D1])],
            "fact_order": [o1["placed"]],
            "fact_order_line": order_lines(o1["placed"], O1_LINES, ["6.00", "2.00"]),
            "quarantine": [quarantined(7, at[D1])],
        },
        D2: {
            "dim_customer": [
                customer(101, "C1", "Rome", SINCE, at[D2], valid_to=MOVED_AT),
                customer(102, "C1", "Milan", MOVED_AT, at[D2]),
            ],
            "dim_product": [
                product(11, "P1", SINCE, at[D2], price="10.00", cost="6.00", valid_to=REPRICED_AT),
                product(12, "P1", REPRICED_AT, at[D2], price="12.00", cost="6.00"),
            ],
            "fact_order": [o1["paid"], o2],
            "fact_order_line": [
                *order_lines(o1["paid"], O1_LINES, ["6.00", "2.00"]),
                *order_lines(o2, O2_LINES, ["6.00"]),
            ],
            "fact_payment": [payment("PAY1", o1["paid"], "card", dt.datetime(2026, 1, 11))],
        },
        D3: {
            "fact_order": [o1["delivered"]],
            "fact_order_line": order_lines(o1["delivered"], O1_LINES, ["6.00", "2.00"]),
        },
    }


def write_scenario(root: Path, run_id: str) -> str:
    for day, tables in scenario(run_id).items():
        for name, rows in tables.items():
            write_batch(root, TABLES_BY_NAME[name], day, rows)
    return str(root)


def snapshot(executor: DuckDBExecutor) -> dict[str, list[tuple[Any, ...]]]:
    """Every warehouse and staging table's rows, sorted: equal snapshots, equal warehouses."""
    return {
        t.name: executor.connection.execute(f"SELECT * FROM {t.name} ORDER BY ALL").fetchall()
        for t in (*WAREHOUSE_TABLES, *STAGING_TABLES)
    }


def rows(executor: DuckDBExecutor, sql: str) -> list[tuple[Any, ...]]:
    result = executor.run(sql)
    assert result is not None
    return result.rows


@pytest.fixture
def warehouse() -> DuckDBExecutor:
    executor = DuckDBExecutor()
    create_warehouse(executor)
    return executor


def load_all(executor: DuckDBExecutor, root: str) -> None:
    for day in BATCHES:
        load_batch(executor, root, day)


def test_scd2_versions_of_a_moved_customer_and_a_repriced_product(
    warehouse: DuckDBExecutor, tmp_path: Path
) -> None:
    load_all(warehouse, write_scenario(tmp_path, "run-a"))
    customers = rows(
        warehouse,
        "SELECT customer_sk, customer_id, city, valid_from, valid_to, is_current, batch_date "
        "FROM dim_customer ORDER BY customer_id, valid_from",
    )
    assert customers == [
        (101, "C1", "Rome", SINCE, MOVED_AT, False, D2),
        (102, "C1", "Milan", MOVED_AT, OPEN_END, True, D2),
        (201, "C2", "Turin", SINCE, OPEN_END, True, D1),
    ]
    products = rows(
        warehouse,
        "SELECT product_sk, product_id, unit_price, valid_from, valid_to, is_current "
        "FROM dim_product ORDER BY product_id, valid_from",
    )
    assert [(sk, pid, str(price), vf, vt, cur) for sk, pid, price, vf, vt, cur in products] == [
        (11, "P1", "10.00", SINCE, REPRICED_AT, False),
        (12, "P1", "12.00", REPRICED_AT, OPEN_END, True),
        (21, "P2", "5.00", SINCE, OPEN_END, True),
    ]


def test_an_order_follows_its_status_across_batches(
    warehouse: DuckDBExecutor, tmp_path: Path
) -> None:
    root = write_scenario(tmp_path, "run-a")
    statuses = []
    for day in BATCHES:
        load_batch(warehouse, root, day)
        statuses.append(
            rows(
                warehouse,
                "SELECT o.status, o.batch_date, COUNT(*), MIN(l.status), MAX(l.status) "
                "FROM fact_order o JOIN fact_order_line l ON l.order_id = o.order_id "
                "WHERE o.order_id = 'O1' GROUP BY o.status, o.batch_date",
            )
        )
    assert statuses == [
        [("placed", D1, 2, "placed", "placed")],
        [("paid", D2, 2, "paid", "paid")],
        [("delivered", D3, 2, "delivered", "delivered")],
    ]
    assert rows(warehouse, "SELECT order_id, status FROM fact_order ORDER BY 1") == [
        ("O1", "delivered"),
        ("O2", "placed"),
    ]


def test_tables_without_a_batch_folder_are_skipped(
    warehouse: DuckDBExecutor, tmp_path: Path
) -> None:
    root = write_scenario(tmp_path, "run-a")
    assert load_batch(warehouse, root, D1) == [
        "dim_date",
        "dim_customer",
        "dim_product",
        "fact_exchange_rate",
        "quarantine",
        "fact_order",
        "fact_order_line",
    ]
    assert load_batch(warehouse, root, D3) == ["fact_order", "fact_order_line"]
    assert load_batch(warehouse, root, dt.date(2026, 2, 1)) == []


def test_reloading_batches_in_any_order_under_new_run_ids_changes_nothing(
    warehouse: DuckDBExecutor, tmp_path: Path
) -> None:
    first = write_scenario(tmp_path / "a", "run-a")
    rerun = write_scenario(tmp_path / "b", "run-b")
    load_all(warehouse, first)
    loaded = snapshot(warehouse)
    assert sum(map(len, loaded.values())) > 0
    for day in BATCHES:  # each batch twice in a row
        load_batch(warehouse, rerun, day)
        load_batch(warehouse, first, day)
    for day in (D2, D1, D3, D1):  # older batches replayed after newer ones
        load_batch(warehouse, rerun, day)
    assert snapshot(warehouse) == loaded


def test_a_batch_that_fails_mid_load_leaves_the_warehouse_as_it_was(
    warehouse: DuckDBExecutor, tmp_path: Path
) -> None:
    root = write_scenario(tmp_path, "run-a")
    load_batch(warehouse, root, D1)
    before = snapshot(warehouse)
    # The dimensions of batch 2 load first; then its order lines carry a text quantity.
    bad_lines = pa.Table.from_pylist(
        [{**row, "quantity": "two"} for row in scenario("run-a")[D2]["fact_order_line"]],
        schema=arrow_schema(FACT_ORDER_LINE).set(
            FACT_ORDER_LINE.column_names.index("quantity"), pa.field("quantity", pa.string())
        ),
    )
    folder = tmp_path / batch_folder(warehouse_prefix(FACT_ORDER_LINE.name), D2)
    pq.write_table(bad_lines, folder / "part-00000.parquet")
    with pytest.raises(WarehouseError, match="two"):
        load_batch(warehouse, root, D2)
    assert snapshot(warehouse) == before


def test_batch_statements_follow_foreign_keys_and_end_with_empty_staging() -> None:
    statements = load_batch_sql(
        {"fact_order_line": "s3://p/l", "dim_product": "s3://p/d", "fact_order": "s3://p/o"},
        iam_role="arn:aws:iam::1:role/load",
    )
    copies = [s for s in statements if s.startswith("COPY")]
    assert copies == [
        f"COPY stg_{table} FROM 's3://p/{letter}/' "
        "IAM_ROLE 'arn:aws:iam::1:role/load' FORMAT AS PARQUET"
        for table, letter in (("dim_product", "d"), ("fact_order", "o"), ("fact_order_line", "l"))
    ]
    assert statements[-1] == "DELETE FROM stg_fact_order_line"
    with pytest.raises(ValueError, match="stg_fact_order"):
        load_batch_sql({"stg_fact_order": "s3://p/x"})
