"""Views and analytics at 1M orders: translated Redshift SQL against hand-written DuckDB SQL.

The warehouse is filled straight inside DuckDB (generate ranges, hash-based pseudo-random
values): a benchmark fixture, not the product's load path. Both sides materialise their whole
answer into a temporary table, so neither can skip columns; the ratio is what the Redshift
semantics the translator keeps (trailing-blank comparisons, exact decimal division, division
by zero raising) and the Redshift files' own shape (SUM(CASE ...) where DuckDB has FILTER)
cost over idiomatic DuckDB.

Runs alternate between the two sides, in turns (translated first, then hand-written first),
so that a busy machine and warm caches favour neither. The median wall time is the figure;
the CPU-time ratio beside it (all of DuckDB's threads) moves less when other processes share
the machine.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path, PurePosixPath

import duckdb
from rich import box
from rich.table import Table

from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse
from ecomdw.warehouse.views import VIEW_FILES, create_views

ORDERS = 1_000_000
CUSTOMERS = 100_000
PRODUCTS = 5_000
REPEATS = 7
GOAL = 1.2


def fill_sql(orders: int, customers: int, products: int) -> str:
    """The fill for a warehouse of that many orders, customers and products. Every 10th
    customer and every 5th product get a second SCD2 version from 2025-01-01."""
    return f"""
INSERT INTO dim_customer BY NAME
SELECT c + CASE WHEN v = 2 THEN 1000000 ELSE 0 END AS customer_sk, 'C' || c AS customer_id,
    'c' || c || '@example.com' AS email, 'Ada' AS first_name, 'L' || c AS last_name,
    'IT' AS country_code, 'City' || (c % 97) AS city, TIMESTAMP '2023-01-01' AS signup_ts,
    c % 3 = 0 AS marketing_opt_in,
    CASE WHEN v = 2 THEN TIMESTAMP '2025-01-01' ELSE TIMESTAMP '2023-01-01' END AS valid_from,
    CASE WHEN v = 1 AND c % 10 = 0 THEN TIMESTAMP '2025-01-01'
        ELSE TIMESTAMP '9999-12-31' END AS valid_to,
    NOT (v = 1 AND c % 10 = 0) AS is_current, repeat('0', 64) AS row_hash,
    DATE '2025-01-01' AS batch_date, 'bench' AS run_id
FROM range(1, {customers} + 1) AS t(c), (VALUES (1), (2)) AS versions(v)
WHERE v = 1 OR c % 10 = 0;

INSERT INTO dim_product BY NAME
SELECT p + CASE WHEN v = 2 THEN 100000 ELSE 0 END AS product_sk, 'P' || p AS product_id,
    'SKU' || p AS sku, 'Product ' || p AS product_name, 'cat' || (p % 20) AS category,
    NULL AS subcategory, NULL AS brand,
    CAST(5 + p % 100 + CASE WHEN v = 2 THEN 1 ELSE 0 END AS DECIMAL(18, 2)) AS unit_price,
    CAST((5 + p % 100) * 0.6 AS DECIMAL(18, 2)) AS unit_cost, true AS active,
    CASE WHEN v = 2 THEN TIMESTAMP '2025-01-01' ELSE TIMESTAMP '2023-01-01' END AS valid_from,
    CASE WHEN v = 1 AND p % 5 = 0 THEN TIMESTAMP '2025-01-01'
        ELSE TIMESTAMP '9999-12-31' END AS valid_to,
    NOT (v = 1 AND p % 5 = 0) AS is_current, repeat('0', 64) AS row_hash,
    DATE '2025-01-01' AS batch_date, 'bench' AS run_id
FROM range(1, {products} + 1) AS t(p), (VALUES (1), (2)) AS versions(v)
WHERE v = 1 OR p % 5 = 0;

CREATE TEMP TABLE bench_orders AS
SELECT o, 1 + hash(o, 'c') % {customers} AS c,
    TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(o, 't') % (731 * 86400) AS BIGINT)) AS ts,
    CASE WHEN hash(o, 's') % 100 < 3 THEN 'cancelled' WHEN hash(o, 's') % 100 < 6 THEN 'returned'
        WHEN hash(o, 's') % 100 < 10 THEN 'placed' WHEN hash(o, 's') % 100 < 20 THEN 'paid'
        WHEN hash(o, 's') % 100 < 30 THEN 'shipped' ELSE 'delivered' END AS status,
    1 + [0, 1, 1, 2, 3][1 + (hash(o, 'n') % 5)::BIGINT] AS lines
FROM range({orders}) AS t(o);

INSERT INTO fact_order_line BY NAME
SELECT 'O' || o AS order_id, l AS line_number, CAST(strftime(ts, '%Y%m%d') AS INTEGER)
        AS order_date_key,
    c + CASE WHEN c % 10 = 0 AND ts >= TIMESTAMP '2025-01-01' THEN 1000000 ELSE 0 END
        AS customer_sk,
    p + CASE WHEN p % 5 = 0 AND ts >= TIMESTAMP '2025-01-01' THEN 100000 ELSE 0 END
        AS product_sk,
    status, 'USD' AS currency, q AS quantity, CAST(5 + p % 100 AS DECIMAL(18, 2)) AS unit_price,
    1 AS usd_per_unit, q * (5 + p % 100) AS gross_amount_usd, 0 AS discount_amount_usd,
    q * (5 + p % 100) AS net_amount_usd, CAST(q * (5 + p % 100) * 0.6 AS DECIMAL(18, 2))
        AS cost_amount_usd, DATE '2025-01-01' AS batch_date, 'bench' AS run_id
FROM (
    SELECT o, c, ts, status, l, 1 + hash(o, l, 'p') % {products} AS p, 1 + hash(o, l, 'q') % 3 AS q
    FROM bench_orders, range(1, lines + 1) AS t(l)
);

INSERT INTO fact_order BY NAME
SELECT 'O' || o AS order_id, CAST(strftime(ts, '%Y%m%d') AS INTEGER) AS order_date_key,
    c + CASE WHEN c % 10 = 0 AND ts >= TIMESTAMP '2025-01-01' THEN 1000000 ELSE 0 END
        AS customer_sk,
    ts AS order_ts, status, 'web' AS channel, 'USD' AS currency, lines AS line_count,
    0 AS item_quantity, 0 AS items_amount_usd, 0 AS discount_amount_usd,
    4.99 AS shipping_amount_usd, 4.99 + hash(o, 'a') % 20000 / 100 AS total_amount_usd,
    ts AS updated_at, DATE '2025-01-01' AS batch_date, 'bench' AS run_id
FROM bench_orders;

INSERT INTO fact_payment BY NAME
SELECT 'PAY' || o AS payment_id, 'O' || o AS order_id,
    c + CASE WHEN c % 10 = 0 AND ts >= TIMESTAMP '2025-01-01' THEN 1000000 ELSE 0 END
        AS customer_sk,
    CAST(strftime(ts, '%Y%m%d') AS INTEGER) AS payment_date_key, ts AS created_at,
    CASE WHEN status = 'cancelled' THEN 'failed' ELSE 'captured' END AS status,
    ['card', 'paypal', 'bank_transfer', 'gift_card'][1 + (hash(o, 'm') % 4)::BIGINT] AS method_type,
    NULL AS card_brand, 'USD' AS currency, 0 AS amount, 0 AS amount_usd,
    DATE '2025-01-01' AS batch_date, 'bench' AS run_id
FROM bench_orders;
DROP TABLE bench_orders;
"""


# The same questions as the Redshift files, as one would write them for DuckDB directly.
KEPT = "status NOT IN ('cancelled', 'returned')"
HAND_WRITTEN = {
    "analytics_rfm_segments": f"""
        WITH kept AS (
            SELECT c.customer_id, o.order_ts, o.total_amount_usd
            FROM fact_order o JOIN dim_customer c USING (customer_sk) WHERE o.{KEPT}
        ), per_customer AS (
            SELECT customer_id,
                date_diff('day', max(order_ts)::DATE, (SELECT max(order_ts)::DATE FROM kept))
                    AS recency_days,
                count(*) AS frequency, sum(total_amount_usd) AS monetary_usd
            FROM kept GROUP BY customer_id
        ), scored AS (
            SELECT *,
                ntile(5) OVER (ORDER BY recency_days DESC, customer_id) AS recency_score,
                ntile(5) OVER (ORDER BY frequency, customer_id) AS frequency_score,
                ntile(5) OVER (ORDER BY monetary_usd, customer_id) AS monetary_score
            FROM per_customer
        )
        SELECT *, CASE
            WHEN recency_score >= 4 AND frequency_score >= 4 THEN 'champions'
            WHEN frequency_score >= 4 THEN 'loyal'
            WHEN recency_score >= 4 AND frequency_score <= 2 THEN 'new'
            WHEN recency_score <= 2 AND frequency_score >= 3 THEN 'at_risk'
            WHEN recency_score <= 2 THEN 'hibernating'
            ELSE 'needs_attention' END AS segment
        FROM scored""",
    "analytics_customer_clv": f"""
        WITH margin AS (
            SELECT order_id, sum(net_amount_usd - cost_amount_usd) AS margin_usd
            FROM fact_order_line GROUP BY order_id
        )
        SELECT c.customer_id, min(o.order_ts) AS first_order_ts, max(o.order_ts) AS last_order_ts,
            date_diff('day', min(o.order_ts), max(o.order_ts)) AS lifespan_days,
            count(*) AS orders, sum(o.total_amount_usd) AS revenue_usd,
            sum(o.total_amount_usd) / count(*) AS average_order_value_usd,
            sum(coalesce(m.margin_usd, 0)) AS margin_usd
        FROM fact_order o JOIN dim_customer c USING (customer_sk)
        LEFT JOIN margin m USING (order_id)
        WHERE o.{KEPT} GROUP BY c.customer_id""",
    "analytics_cohort_retention": f"""
        WITH months AS (
            SELECT DISTINCT c.customer_id, date_trunc('month', o.order_ts)::DATE AS order_month
            FROM fact_order o JOIN dim_customer c USING (customer_sk) WHERE o.{KEPT}
        ), cohorts AS (
            SELECT customer_id, min(order_month) AS cohort_month,
                count(*) OVER (PARTITION BY min(order_month)) AS cohort_customers
            FROM months GROUP BY customer_id
        )
        SELECT cohort_month, date_diff('month', cohort_month, order_month)
                AS months_since_first_order,
            any_value(cohort_customers) AS cohort_customers, count(*) AS customers_active,
            count(*) / any_value(cohort_customers) AS retention_rate
        FROM months JOIN cohorts USING (customer_id) GROUP BY ALL""",
    "analytics_market_basket_pairs": """
        WITH order_products AS (
            SELECT DISTINCT l.order_id, p.product_id
            FROM fact_order_line l JOIN dim_product p USING (product_sk)
        ), product_orders AS (
            SELECT product_id, count(*) AS orders FROM order_products GROUP BY product_id
        ), total AS (SELECT count(DISTINCT order_id) AS orders FROM order_products)
        SELECT a.product_id AS antecedent, b.product_id AS consequent,
            count(*) AS orders_with_both, count(*) / any_value(total.orders) AS support,
            count(*) / any_value(pa.orders) AS confidence,
            (count(*) / any_value(pa.orders)) / (any_value(pb.orders) / any_value(total.orders))
                AS lift
        FROM order_products a
        JOIN order_products b ON a.order_id = b.order_id AND a.product_id <> b.product_id
        JOIN product_orders pa ON pa.product_id = a.product_id
        JOIN product_orders pb ON pb.product_id = b.product_id
        CROSS JOIN total
        GROUP BY a.product_id, b.product_id""",
    "customer_360": f"""
        WITH versions AS (SELECT customer_sk, customer_id FROM dim_customer),
        stats AS (
            SELECT v.customer_id, min(o.order_ts) AS first_order_ts,
                max(o.order_ts) AS last_order_ts, count(*) AS orders,
                count(*) FILTER (o.{KEPT}) AS kept_orders,
                coalesce(sum(o.total_amount_usd) FILTER (o.{KEPT}), 0) AS revenue_usd,
                count(*) FILTER (o.status = 'returned') AS returned_orders,
                count(*) FILTER (o.status = 'cancelled') AS cancelled_orders
            FROM fact_order o JOIN versions v USING (customer_sk) GROUP BY v.customer_id
        ), methods AS (
            SELECT v.customer_id,
                string_agg(DISTINCT p.method_type, ',' ORDER BY p.method_type) AS payment_methods
            FROM fact_payment p JOIN versions v USING (customer_sk)
            WHERE p.status = 'captured' GROUP BY v.customer_id
        )
        SELECT c.customer_id, c.customer_sk, c.first_name, c.last_name, c.email,
            c.country_code, c.city, c.signup_ts, c.marketing_opt_in, s.first_order_ts,
            s.last_order_ts, coalesce(s.orders, 0) AS orders,
            coalesce(s.kept_orders, 0) AS kept_orders, coalesce(s.revenue_usd, 0) AS revenue_usd,
            s.revenue_usd / nullif(s.kept_orders, 0) AS average_order_value_usd,
            coalesce(s.returned_orders, 0) AS returned_orders,
            coalesce(s.cancelled_orders, 0) AS cancelled_orders, m.payment_methods,
            r.segment AS rfm_segment
        FROM dim_customer c
        LEFT JOIN stats s USING (customer_id)
        LEFT JOIN methods m USING (customer_id)
        LEFT JOIN hand_rfm r USING (customer_id)
        WHERE c.is_current""",
    "product_performance": f"""
        WITH sales AS (
            SELECT p.product_id,
                coalesce(sum(l.quantity) FILTER (l.status <> 'cancelled'), 0) AS units_sold,
                coalesce(sum(l.quantity) FILTER (l.status = 'returned'), 0) AS units_returned,
                coalesce(sum(l.net_amount_usd) FILTER (l.{KEPT}), 0) AS revenue_usd,
                coalesce(sum(l.cost_amount_usd) FILTER (l.{KEPT}), 0) AS cost_usd
            FROM fact_order_line l JOIN dim_product p USING (product_sk) GROUP BY p.product_id
        )
        SELECT p.product_id, p.product_name, p.category, p.subcategory, p.brand,
            p.unit_price AS current_unit_price, coalesce(s.units_sold, 0) AS units_sold,
            coalesce(s.units_returned, 0) AS units_returned,
            s.units_returned / nullif(s.units_sold, 0) AS return_rate,
            coalesce(s.revenue_usd, 0) AS revenue_usd, coalesce(s.cost_usd, 0) AS cost_usd,
            coalesce(s.revenue_usd - s.cost_usd, 0) AS margin_usd,
            (s.revenue_usd - s.cost_usd) / nullif(s.revenue_usd, 0) AS margin_rate,
            rank() OVER (PARTITION BY p.category ORDER BY coalesce(s.revenue_usd, 0) DESC)
                AS rank_in_category
        FROM dim_product p LEFT JOIN sales s USING (product_id)
        WHERE p.is_current""",
    "sales_trends": f"""
        WITH kept AS (
            SELECT order_ts::DATE AS day, total_amount_usd FROM fact_order WHERE {KEPT}
        ), periods AS (
            SELECT grain, period_start, count(*) AS orders, sum(total_amount_usd) AS revenue_usd
            FROM (
                SELECT 'day' AS grain, day AS period_start, total_amount_usd FROM kept
                UNION ALL
                SELECT 'week', date_trunc('week', day)::DATE, total_amount_usd FROM kept
                UNION ALL
                SELECT 'month', date_trunc('month', day)::DATE, total_amount_usd FROM kept
            ) GROUP BY ALL
        )
        SELECT cur.grain, cur.period_start, cur.orders, cur.revenue_usd,
            cur.revenue_usd / cur.orders AS average_order_value_usd,
            ly.orders AS orders_last_year, ly.revenue_usd AS revenue_usd_last_year,
            (cur.revenue_usd - ly.revenue_usd) / nullif(ly.revenue_usd, 0) AS revenue_yoy_change
        FROM periods cur LEFT JOIN periods ly
            ON ly.grain = cur.grain
            AND ly.period_start = CASE WHEN cur.grain = 'week'
                THEN (cur.period_start - INTERVAL 52 WEEK)::DATE
                ELSE (cur.period_start - INTERVAL 1 YEAR)::DATE END""",
}


def _view_name(relative: str) -> str:
    """The view a file creates: analytics views carry an `analytics_` prefix."""
    stem = PurePosixPath(relative).stem
    return f"analytics_{stem}" if relative.startswith("analytics/") else stem


def _median_seconds(
    connection: duckdb.DuckDBPyConnection, *queries: str
) -> tuple[list[float], list[float]]:
    """Median wall and CPU time of each query; runs interleaved, in turns first and last."""
    wall: list[list[float]] = [[] for _ in queries]
    cpu: list[list[float]] = [[] for _ in queries]
    for repeat in range(REPEATS):
        order = range(len(queries)) if repeat % 2 == 0 else reversed(range(len(queries)))
        for index in order:
            started, started_cpu = time.perf_counter(), time.process_time()
            connection.execute(f"CREATE OR REPLACE TEMP TABLE bench_answer AS {queries[index]}")
            wall[index].append(time.perf_counter() - started)
            cpu[index].append(time.process_time() - started_cpu)
    return [statistics.median(w) for w in wall], [statistics.median(c) for c in cpu]


def build(
    database: str | Path = ":memory:",
    orders: int = ORDERS,
    customers: int = CUSTOMERS,
    products: int = PRODUCTS,
) -> DuckDBExecutor:
    """A filled warehouse with its views (in memory, or in a DuckDB file)."""
    executor = DuckDBExecutor(database)
    create_warehouse(executor)
    for statement in fill_sql(orders, customers, products).split(";"):
        if statement.strip():
            executor.connection.execute(statement)
    create_views(executor)
    # customer_360's hand-written twin reads RFM as a plain DuckDB view, as the Redshift one does.
    executor.connection.execute(f"CREATE VIEW hand_rfm AS {HAND_WRITTEN['analytics_rfm_segments']}")
    return executor


def _rows(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(connection.execute(f"SELECT count(*) FROM ({query})").fetchone()[0])  # type: ignore[index]


def run() -> Table:
    started = time.perf_counter()
    executor = build()
    connection = executor.connection
    lines = _rows(connection, "SELECT * FROM fact_order_line")
    table = Table(
        title=(
            f"warehouse views and analytics: {ORDERS:,} orders, {lines:,} lines "
            f"(built in {time.perf_counter() - started:.1f} s); median seconds of {REPEATS} runs, "
            "translated Redshift SQL against hand-written DuckDB; ratio = translated / hand, "
            "cpu = the same ratio of CPU time"
        ),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("query", no_wrap=True)
    table.add_column("rows", justify="right")  # wraps to show a row-count mismatch in full
    for column in ("translated", "hand", "ratio", f"≤ {GOAL}", "cpu"):
        table.add_column(column, justify="right", no_wrap=True)
    for relative in VIEW_FILES:
        view = _view_name(relative)
        (translated, hand), (translated_cpu, hand_cpu) = _median_seconds(
            connection, f"SELECT * FROM {view}", HAND_WRITTEN[view]
        )
        rows, hand_rows = (
            _rows(connection, f"SELECT * FROM {view}"),
            _rows(connection, HAND_WRITTEN[view]),
        )
        ratio = translated / hand
        table.add_row(
            view,
            f"{rows:,}" if rows == hand_rows else f"{rows:,} vs {hand_rows:,}!",
            f"{translated:.3f}",
            f"{hand:.3f}",
            f"{ratio:.2f}",
            "yes" if ratio <= GOAL else "no",
            f"{translated_cpu / hand_cpu:.2f}",
        )
    executor.close()
    return table
