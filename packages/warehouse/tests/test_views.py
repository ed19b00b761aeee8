"""Views and analytics on tiny warehouses, against numbers worked out by hand (in comments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ecomdw.core.model import (
    DIM_CUSTOMER,
    DIM_PRODUCT,
    FACT_ORDER,
    FACT_ORDER_LINE,
    FACT_PAYMENT,
)
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse
from ecomdw.warehouse.views import create_views

from .warehouse_rows import Stamp, customer, insert, order, order_lines, payment, product

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

AT = Stamp(dt.date(2026, 2, 11), "run-1")
SINCE = dt.datetime(2024, 1, 1)
MOVED = dt.datetime(2026, 2, 1)
REPRICED = dt.datetime(2026, 2, 1)


def query(executor: DuckDBExecutor, sql: str) -> list[tuple[Any, ...]]:
    result = executor.run(sql)
    assert result is not None
    return result.rows


@pytest.fixture(scope="module")
def shop() -> DuckDBExecutor:
    """Four customers, three products, seven orders.

    C1 moved (sk 101 -> 102) and has kept orders O6 (2025-02-10, $5), O1 (2026-01-05, $25),
    O2 (2026-02-10, $12 + $3 shipping). C2: O3 returned ($20), O4 paid (2026-02-10, $30),
    O5 cancelled ($12). C3 never ordered. C4: O7 (2025-02-20, $10).
    P1 (books, cost 6) was repriced 10 -> 12 (sk 11 -> 12); P2 (books, 5, cost 2);
    P3 (games, 20, cost 15).
    """
    executor = DuckDBExecutor()
    create_warehouse(executor)
    insert(
        executor,
        DIM_CUSTOMER,
        [
            customer(101, "C1", "Rome", SINCE, AT, valid_to=MOVED),
            customer(102, "C1", "Milan", MOVED, AT),
            customer(201, "C2", "Turin", SINCE, AT),
            customer(301, "C3", None, SINCE, AT),
            customer(401, "C4", "Bari", SINCE, AT),
        ],
    )
    insert(
        executor,
        DIM_PRODUCT,
        [
            product(11, "P1", SINCE, AT, price="10.00", cost="6.00", valid_to=REPRICED),
            product(12, "P1", REPRICED, AT, price="12.00", cost="6.00"),
            product(21, "P2", SINCE, AT, price="5.00", cost="2.00"),
            product(31, "P3", SINCE, AT, price="20.00", cost="15.00", category="games"),
        ],
    )
    placed = {  # order -> (customer sk, placed at, status, lines (qty, product sk, price), costs)
        "O1": (101, dt.datetime(2026, 1, 5, 10), "delivered", [(2, 11, "10"), (1, 21, "5")]),
        "O2": (102, dt.datetime(2026, 2, 10, 12), "delivered", [(1, 12, "12")]),
        "O3": (201, dt.datetime(2026, 1, 20, 9), "returned", [(1, 31, "20")]),
        "O4": (201, dt.datetime(2026, 2, 10, 15), "paid", [(1, 31, "20"), (2, 21, "5")]),
        "O5": (201, dt.datetime(2026, 2, 11, 8), "cancelled", [(1, 12, "12")]),
        "O6": (101, dt.datetime(2025, 2, 10, 10), "delivered", [(1, 21, "5")]),
        "O7": (401, dt.datetime(2025, 2, 20, 10), "delivered", [(2, 21, "5")]),
    }
    unit_cost = {11: "6", 12: "6", 21: "2", 31: "15"}
    heads = {
        order_id: order(
            order_id, sk, at, status, AT, lines=lines, shipping="3.00" if order_id == "O2" else "0"
        )
        for order_id, (sk, at, status, lines) in placed.items()
    }
    insert(executor, FACT_ORDER, list(heads.values()))
    insert(
        executor,
        FACT_ORDER_LINE,
        [
            line
            for order_id, (_, _, _, lines) in placed.items()
            for line in order_lines(heads[order_id], lines, [unit_cost[sk] for _, sk, _ in lines])
        ],
    )
    insert(
        executor,
        FACT_PAYMENT,
        [
            payment("PAY1", heads["O1"], "card", dt.datetime(2026, 1, 5, 10)),
            payment("PAY2", heads["O2"], "paypal", dt.datetime(2026, 2, 10, 12)),
            payment(
                "PAY3", heads["O3"], "bank_transfer", dt.datetime(2026, 1, 20), status="refunded"
            ),
            payment("PAY4", heads["O4"], "card", dt.datetime(2026, 2, 10, 15)),
            payment("PAY5", heads["O5"], "gift_card", dt.datetime(2026, 2, 11), status="failed"),
        ],
    )
    create_views(executor)
    return executor


def test_customer_360(shop: DuckDBExecutor) -> None:
    rows = query(
        shop,
        "SELECT customer_id, customer_sk, city, first_order_ts, last_order_ts, orders, "
        "kept_orders, revenue_usd, average_order_value_usd, returned_orders, cancelled_orders, "
        "payment_methods, rfm_segment FROM customer_360 ORDER BY customer_id",
    )
    # RFM as of 2026-02-10 over kept orders, NTILE(5) of 3 customers gives scores 1..3:
    # recency days C4 355, C1 0, C2 0 (tie by id) -> C4 1, C1 2, C2 3;
    # frequency C2 1, C4 1, C1 3 -> C2 1, C4 2, C1 3.
    # C1 (r2, f3) at_risk; C2 (r3, f1) needs_attention; C4 (r1, f2) hibernating.
    assert rows == [
        (
            "C1", 102, "Milan", dt.datetime(2025, 2, 10, 10), dt.datetime(2026, 2, 10, 12),
            3, 3, Decimal("45"), Decimal("15"), 0, 0, "card,paypal", "at_risk",
        ),
        (
            "C2", 201, "Turin", dt.datetime(2026, 1, 20, 9), dt.datetime(2026, 2, 11, 8),
            3, 1, Decimal("30"), Decimal("30"), 1, 1, "card", "needs_attention",
        ),
        ("C3", 301, None, None, None, 0, 0, Decimal("0"), None, 0, 0, None, None),
        (
            "C4", 401, "Bari", dt.datetime(2025, 2, 20, 10), dt.datetime(2025, 2, 20, 10),
            1, 1, Decimal("10"), Decimal("10"), 0, 0, None, "hibernating",
        ),
    ]  # fmt: skip


def test_product_performance(shop: DuckDBExecutor) -> None:
    rows = query(
        shop,
        "SELECT product_id, category, current_unit_price, units_sold, units_returned, "
        "return_rate, revenue_usd, cost_usd, margin_usd, margin_rate, rank_in_category "
        "FROM product_performance ORDER BY product_id",
    )
    # P1: O1 2 x 10 (cost 12) + O2 1 x 12 (cost 6); O5 cancelled. 32 revenue, 18 cost.
    # P2: O1 1, O4 2, O6 1, O7 2 units at 5 (cost 2 each): 30 revenue, 12 cost.
    # P3: O3 returned 1, O4 1 at 20 (cost 15): 2 sold, 1 returned; 20 revenue, 15 cost.
    assert rows == [
        ("P1", "books", Decimal("12"), 3, 0, 0.0, 32, 18, 14, Decimal("0.4375"), 1),
        ("P2", "books", Decimal("5"), 6, 0, 0.0, 30, 12, 18, Decimal("0.6"), 2),
        ("P3", "games", Decimal("20"), 2, 1, 0.5, 20, 15, 5, Decimal("0.25"), 1),
    ]


def test_sales_trends_by_day_week_and_month_with_last_year(shop: DuckDBExecutor) -> None:
    rows = query(
        shop,
        "SELECT grain, period_start, orders, revenue_usd, orders_last_year, "
        "revenue_usd_last_year, revenue_yoy_change FROM sales_trends ORDER BY grain, period_start",
    )
    # Kept orders: 2025-02-10 Mon $5, 2025-02-20 Thu $10, 2026-01-05 Mon $25, 2026-02-10 Tue
    # $15 + $30. Week 2026-02-09 is 52 weeks after week 2025-02-10; (45 - 5) / 5 = 8;
    # month 2026-02 against 2025-02: (45 - 15) / 15 = 2.
    d = dt.date
    assert rows == [
        ("day", d(2025, 2, 10), 1, 5, None, None, None),
        ("day", d(2025, 2, 20), 1, 10, None, None, None),
        ("day", d(2026, 1, 5), 1, 25, None, None, None),
        ("day", d(2026, 2, 10), 2, 45, 1, 5, 8),
        ("month", d(2025, 2, 1), 2, 15, None, None, None),
        ("month", d(2026, 1, 1), 1, 25, None, None, None),
        ("month", d(2026, 2, 1), 2, 45, 2, 15, 2),
        ("week", d(2025, 2, 10), 1, 5, None, None, None),
        ("week", d(2025, 2, 17), 1, 10, None, None, None),
        ("week", d(2026, 1, 5), 1, 25, None, None, None),
        ("week", d(2026, 2, 9), 2, 45, 1, 5, 8),
    ]


def test_historical_clv(shop: DuckDBExecutor) -> None:
    rows = query(
        shop,
        "SELECT customer_id, lifespan_days, orders, revenue_usd, average_order_value_usd, "
        "margin_usd FROM analytics_customer_clv ORDER BY customer_id",
    )
    # C1 margins: O6 5 - 2, O1 (20 - 12) + (5 - 2), O2 12 - 6 = 20; 2025-02-10 -> 2026-02-10.
    # C2: O4 (20 - 15) + (10 - 4) = 11. C4: O7 10 - 4 = 6. C3 never ordered: no row.
    assert rows == [("C1", 365, 3, 45, 15, 20), ("C2", 0, 1, 30, 30, 11), ("C4", 0, 1, 10, 10, 6)]


def test_cohort_retention(shop: DuckDBExecutor) -> None:
    rows = query(
        shop,
        "SELECT cohort_month, months_since_first_order, cohort_customers, customers_active, "
        "retention_rate FROM analytics_cohort_retention ORDER BY 1, 2",
    )
    # Cohort 2025-02: C1 and C4; C1 again in 2026-01 (11 months on) and 2026-02 (12).
    # Cohort 2026-02: C2 (its January order was returned).
    assert rows == [
        (dt.date(2025, 2, 1), 0, 2, 2, 1.0),
        (dt.date(2025, 2, 1), 11, 2, 1, 0.5),
        (dt.date(2025, 2, 1), 12, 2, 1, 0.5),
        (dt.date(2026, 2, 1), 0, 1, 1, 1.0),
    ]


# (recency days, orders) chosen so each score 1..5 goes to two of ten customers, and the
# segments cover every rule. Monetary totals run against frequency: 1100 - 100 x orders.
RFM_CASES = {
    "K01": (5, 9, "champions"),  # r5 f5
    "K02": (0, 1, "new"),  # r5 f1
    "K03": (50, 10, "loyal"),  # r1 f5
    "K04": (40, 5, "at_risk"),  # r2 f3
    "K05": (30, 6, "needs_attention"),  # r3 f3
    "K06": (45, 2, "hibernating"),  # r1 f1
    "K07": (20, 7, "champions"),  # r4 f4
    "K08": (15, 3, "new"),  # r4 f2
    "K09": (25, 8, "loyal"),  # r3 f4
    "K10": (35, 4, "hibernating"),  # r2 f2
}
RFM_SCORES = {
    "K01": (5, 5), "K02": (5, 1), "K03": (1, 5), "K04": (2, 3), "K05": (3, 3),
    "K06": (1, 1), "K07": (4, 4), "K08": (4, 2), "K09": (3, 4), "K10": (2, 2),
}  # fmt: skip
AS_OF = dt.datetime(2026, 3, 31, 12)


def test_rfm_quintiles_and_segments() -> None:
    executor = DuckDBExecutor()
    create_warehouse(executor)
    customers, heads = [], []
    for n, (customer_id, (recency, count, _)) in enumerate(RFM_CASES.items(), start=1):
        customers.append(customer(n, customer_id, None, SINCE, AT))
        total = 1100 - 100 * count
        for k in range(count):  # the last order carries what the others leave of the total
            price = str(total - (count - 1)) if k == 0 else "1"
            placed = AS_OF - dt.timedelta(days=recency + k)
            heads.append(
                order(f"{customer_id}-{k}", n, placed, "delivered", AT, lines=[(1, 1, price)])
            )
    # A later cancelled order moves neither the as-of day nor anyone's frequency.
    heads.append(
        order("K05-x", 5, AS_OF + dt.timedelta(days=3), "cancelled", AT, lines=[(1, 1, "9")])
    )
    insert(executor, DIM_CUSTOMER, customers)
    insert(executor, FACT_ORDER, heads)
    create_views(executor)
    rows = query(
        executor,
        "SELECT customer_id, recency_days, frequency, monetary_usd, recency_score, "
        "frequency_score, monetary_score, segment FROM analytics_rfm_segments ORDER BY 1",
    )
    assert rows == [
        (
            customer_id, recency, count, 1100 - 100 * count,
            *RFM_SCORES[customer_id], 6 - RFM_SCORES[customer_id][1], segment,
        )
        for customer_id, (recency, count, segment) in RFM_CASES.items()
    ]  # fmt: skip


def test_views_compare_model_columns_as_redshift_does_with_trailing_blanks() -> None:
    """Nothing in the model or the load keeps trailing blanks out of ids and statuses, and
    Redshift ignores them in comparisons: a status 'returned ' is returned, lines of 'O2 '
    belong to order 'O2', a payment 'captured ' is captured."""
    executor = DuckDBExecutor()
    create_warehouse(executor)
    insert(executor, DIM_CUSTOMER, [customer(1, "C1", "Rome", SINCE, AT)])
    insert(executor, DIM_PRODUCT, [product(11, "P1", SINCE, AT, price="10.00", cost="6.00")])
    placed = dt.datetime(2026, 1, 5, 10)
    heads = [
        order("O1", 1, placed, "delivered", AT, lines=[(1, 11, "10")]),
        order("O2", 1, placed, "delivered  ", AT, lines=[(2, 11, "10")]),
        order("O3", 1, placed, "returned ", AT, lines=[(1, 11, "10")]),
    ]
    lines = [
        line
        for head in heads
        for line in order_lines(head, [(head["item_quantity"], 11, "10")], ["6"])
    ]
    for line in lines:
        line["order_id"] += " " if line["order_id"] == "O2" else ""
    insert(executor, FACT_ORDER, heads)
    insert(executor, FACT_ORDER_LINE, lines)
    insert(executor, FACT_PAYMENT, [payment("PAY1", heads[0], "card", placed, status="captured ")])
    create_views(executor)
    assert query(
        executor,
        "SELECT orders, kept_orders, revenue_usd, returned_orders, payment_methods "
        "FROM customer_360",
    ) == [(3, 2, 30, 1, "card")]
    # O1 10 - 6 and O2 (lines 'O2 ') 20 - 12: margin 12; O3 is returned.
    assert query(
        executor, "SELECT orders, revenue_usd, margin_usd FROM analytics_customer_clv"
    ) == [(2, 30, 12)]
    assert query(
        executor, "SELECT units_sold, units_returned, revenue_usd FROM product_performance"
    ) == [(4, 1, 30)]
