"""What the report shows, read from the warehouse's own views and tables as Redshift SQL.

Every figure comes through an `Executor`, so the same report reads the local DuckDB warehouse
or a Redshift cluster. Aggregation happens in SQL (sums, histograms, top N), so what a page
embeds stays small however large the warehouse is; Python only reshapes the rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..executors import Executor
from ..predictive_clv import PREDICTED_CLV

RUN_STEP = "pipeline"  # the `pipeline_run` row of an execution as a whole
QUALITY_STEPS = ("quality_staged", "quality_warehouse")
LOOKUP_CUSTOMERS = 5_000
TOP = 20
RUNS_SHOWN = 30
HISTOGRAM_BINS = 30
DEFAULT_MIN_SUPPORT = 0.01
"""A basket rule's least support: the share of orders holding both products (in 5,000 orders,
50). Without one, the rules with most lift are pairs seen in a handful of orders: noise to an
analyst."""

Row = tuple[Any, ...]


def rows(executor: Executor, sql: str) -> list[Row]:
    result = executor.run(sql)
    return result.rows if result is not None else []


def one(executor: Executor, sql: str) -> Row:
    found = rows(executor, sql)
    if len(found) != 1:
        raise ValueError(f"expected one row, got {len(found)}: {sql}")
    return found[0]


def records(executor: Executor, sql: str) -> list[dict[str, Any]]:
    result = executor.run(sql)
    if result is None:
        return []
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Sales:
    revenue_usd: Decimal
    orders: int
    customers: int
    ordering_customers: int
    first_day: dt.date | None
    last_day: dt.date | None
    trends: dict[str, list[dict[str, Any]]]  # grain -> periods, oldest first

    @property
    def average_order_value_usd(self) -> Decimal | None:
        return self.revenue_usd / self.orders if self.orders else None


def sales(executor: Executor) -> Sales:
    """Kept orders (neither cancelled nor returned) and their revenue, per day, week, month."""
    revenue, orders, first_day, last_day = one(
        executor,
        "SELECT COALESCE(SUM(revenue_usd), 0), COALESCE(SUM(orders), 0), MIN(period_start), "
        "MAX(period_start) FROM sales_trends WHERE grain = 'day'",
    )
    customers, ordering = one(
        executor,
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN kept_orders > 0 THEN 1 ELSE 0 END), 0) "
        "FROM customer_360",
    )
    trends: dict[str, list[dict[str, Any]]] = {"day": [], "week": [], "month": []}
    for period in records(
        executor,
        "SELECT grain, period_start, orders, revenue_usd, orders_last_year, "
        "revenue_usd_last_year, revenue_yoy_change FROM sales_trends "
        "ORDER BY grain, period_start",
    ):
        trends.setdefault(period.pop("grain"), []).append(period)
    return Sales(
        Decimal(revenue), int(orders), int(customers), int(ordering), first_day, last_day, trends
    )


@dataclass(frozen=True)
class Products:
    top: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    products: int


def products(executor: Executor) -> Products:
    top = records(
        executor,
        "SELECT product_id, product_name, category, units_sold, revenue_usd, margin_usd, "
        "margin_rate, return_rate FROM product_performance "
        f"ORDER BY revenue_usd DESC, product_id LIMIT {TOP}",
    )
    categories = records(
        executor,
        "SELECT category, COUNT(*) AS products, SUM(units_sold) AS units_sold, "
        "SUM(revenue_usd) AS revenue_usd, SUM(margin_usd) AS margin_usd "
        "FROM product_performance GROUP BY category ORDER BY revenue_usd DESC, category",
    )
    (count,) = one(executor, "SELECT COUNT(*) FROM product_performance")
    return Products(top, categories, int(count))


@dataclass(frozen=True)
class Customers:
    lookup: list[dict[str, Any]]  # the customers with most revenue, at most LOOKUP_CUSTOMERS
    total: int
    countries: list[dict[str, Any]]


def customers(executor: Executor) -> Customers:
    lookup = records(
        executor,
        "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.country_code, c.city, "
        "c.signup_ts, c.first_order_ts, c.last_order_ts, c.orders, c.kept_orders, "
        "c.revenue_usd, c.average_order_value_usd, c.returned_orders, c.cancelled_orders, "
        "c.payment_methods, c.rfm_segment, p.clv_usd AS predicted_clv_usd, "
        "p.probability_alive "
        f"FROM customer_360 AS c LEFT JOIN {PREDICTED_CLV.name} AS p "
        "ON p.customer_id = c.customer_id "
        f"ORDER BY c.revenue_usd DESC, c.customer_id LIMIT {LOOKUP_CUSTOMERS}",
    )
    (total,) = one(executor, "SELECT COUNT(*) FROM customer_360")
    countries = records(
        executor,
        "SELECT country_code, COUNT(*) AS customers, SUM(revenue_usd) AS revenue_usd "
        "FROM customer_360 GROUP BY country_code ORDER BY revenue_usd DESC, country_code",
    )
    return Customers(lookup, int(total), countries)


def cohorts(executor: Executor) -> list[dict[str, Any]]:
    return records(
        executor,
        "SELECT cohort_month, months_since_first_order, cohort_customers, customers_active, "
        "retention_rate FROM analytics_cohort_retention ORDER BY 1, 2",
    )


@dataclass(frozen=True)
class Clv:
    customers: int
    total_usd: Decimal | None
    horizon_weeks: int | None
    calibration_end: dt.date | None
    fitted_at: dt.datetime | None
    histogram: list[tuple[float, float, int]]  # (from, to, customers)
    top: list[dict[str, Any]]


def clv(executor: Executor) -> Clv:
    """The predicted CLV table's distribution (binned in SQL) and its best customers."""
    table = PREDICTED_CLV.name
    count, total, low, high, horizon, end, fitted_at = one(
        executor,
        f"SELECT COUNT(clv_usd), SUM(clv_usd), MIN(clv_usd), MAX(clv_usd), MAX(horizon_weeks), "
        f"MAX(calibration_end), MAX(fitted_at) FROM {table}",
    )
    histogram: list[tuple[float, float, int]] = []
    if count:
        low_usd, high_usd = float(low), float(high)
        width = (high_usd - low_usd) / HISTOGRAM_BINS or 1.0
        binned = rows(
            executor,
            f"SELECT LEAST({HISTOGRAM_BINS - 1}, CAST(FLOOR((CAST(clv_usd AS DOUBLE PRECISION) "
            f"- {low_usd!r}) / {width!r}) AS INTEGER)) AS bin, COUNT(*) FROM {table} "
            "WHERE clv_usd IS NOT NULL GROUP BY 1 ORDER BY 1",
        )
        histogram = [(low_usd + width * b, low_usd + width * (b + 1), int(n)) for b, n in binned]
    top = records(
        executor,
        "SELECT p.customer_id, c.first_name, c.last_name, p.clv_usd, p.probability_alive, "
        "p.expected_purchases, p.repeat_purchases, h.revenue_usd AS revenue_to_date_usd "
        f"FROM {table} AS p "
        "LEFT JOIN customer_360 AS c ON c.customer_id = p.customer_id "
        "LEFT JOIN analytics_customer_clv AS h ON h.customer_id = p.customer_id "
        f"WHERE p.clv_usd IS NOT NULL ORDER BY p.clv_usd DESC, p.customer_id LIMIT {TOP}",
    )
    return Clv(int(count), total, horizon, end, fitted_at, histogram, top)


@dataclass(frozen=True)
class Rfm:
    segments: list[dict[str, Any]]
    grid: list[tuple[int, int, int]]  # (recency score, frequency score, customers)


def rfm(executor: Executor) -> Rfm:
    segments = records(
        executor,
        "SELECT segment, COUNT(*) AS customers, SUM(monetary_usd) AS revenue_usd, "
        "AVG(CAST(recency_days AS DOUBLE PRECISION)) AS average_recency_days, "
        "AVG(CAST(frequency AS DOUBLE PRECISION)) AS average_orders "
        "FROM analytics_rfm_segments GROUP BY segment ORDER BY customers DESC, segment",
    )
    grid = rows(
        executor,
        "SELECT recency_score, frequency_score, COUNT(*) FROM analytics_rfm_segments "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    )
    return Rfm(segments, [(int(r), int(f), int(n)) for r, f, n in grid])


@dataclass(frozen=True)
class Basket:
    min_support: float
    orders: int
    pairs: int
    rules: list[dict[str, Any]]  # those with at least min_support, by lift
    kept: int  # how many rules have at least min_support


def basket(executor: Executor, min_support: float = DEFAULT_MIN_SUPPORT) -> Basket:
    (orders,) = one(executor, "SELECT COUNT(DISTINCT order_id) FROM fact_order_line")
    (pairs, kept) = one(
        executor,
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN support >= "
        f"{min_support!r} THEN 1 ELSE 0 END), 0) FROM analytics_market_basket_pairs",
    )
    rules = records(
        executor,
        "SELECT r.antecedent, a.product_name AS antecedent_name, r.consequent, "
        "c.product_name AS consequent_name, r.orders_with_both, r.support, r.confidence, "
        "r.lift FROM analytics_market_basket_pairs AS r "
        "LEFT JOIN dim_product AS a ON a.product_id = r.antecedent AND a.is_current "
        "LEFT JOIN dim_product AS c ON c.product_id = r.consequent AND c.is_current "
        f"WHERE r.support >= {min_support!r} "
        "ORDER BY r.lift DESC, r.confidence DESC, r.antecedent, r.consequent LIMIT 200",
    )
    return Basket(min_support, int(orders), int(pairs), rules, int(kept))


@dataclass(frozen=True)
class Operations:
    runs: list[dict[str, Any]]  # the last RUNS_SHOWN executions, oldest first
    steps: list[dict[str, Any]]  # their steps' rows
    last_run: dict[str, Any] | None
    last_run_dq_score: Decimal | None  # the worst quality gate of the last run, 0-100
    last_run_quarantined: int
    quarantined: int
    tables_written: dict[str, int]  # warehouse table -> rows the last run's jobs wrote
    lineage: list[dict[str, Any]]  # the last run's raw entities: read, loaded, quarantined
    quality: list[dict[str, Any]]  # per run and table: rules checked and passed
    failing_rules: list[dict[str, Any]]
    quarantine_reasons: list[dict[str, Any]]
    quarantine_by_batch: list[dict[str, Any]]
    last_success: dt.datetime | None
    last_batch: dt.date | None
    health: list[tuple[str, str, str]] = field(default_factory=list)  # (what, ok|warn|fail, how)


def operations(executor: Executor) -> Operations:
    """The pipeline's own records: `pipeline_run`, `dq_result`, `quarantine`, the lineage."""
    runs = records(
        executor,
        "SELECT run_id, status, started_at, finished_at, detail FROM pipeline_run "
        f"WHERE step = '{RUN_STEP}' ORDER BY started_at DESC, run_id LIMIT {RUNS_SHOWN}",
    )[::-1]
    steps = (
        records(
            executor,
            "SELECT run_id, step, status, started_at, finished_at, rows_in, rows_out, "
            "quarantined, dq_score, detail FROM pipeline_run "
            f"WHERE step <> '{RUN_STEP}' AND run_id IN "
            f"({', '.join(quoted(r['run_id']) for r in runs)}) ORDER BY started_at, step",
        )
        if runs
        else []
    )
    last = runs[-1] if runs else None
    last_id = quoted(last["run_id"]) if last else "NULL"
    (score,) = one(
        executor,
        "SELECT MIN(dq_score) FROM pipeline_run WHERE step IN "
        f"({', '.join(map(quoted, QUALITY_STEPS))}) AND status = 'SUCCEEDED' "
        f"AND run_id = {last_id}",
    )
    (last_quarantined,) = one(executor, f"SELECT COUNT(*) FROM quarantine WHERE run_id = {last_id}")
    (quarantined,) = one(executor, "SELECT COUNT(*) FROM quarantine")
    written: dict[str, int] = {}
    for step in steps:
        if last and step["run_id"] == last["run_id"] and step["detail"]:
            detail = json.loads(step["detail"])
            if isinstance(detail, dict) and isinstance(detail.get("rows_out"), dict):
                written |= {str(t): int(n) for t, n in detail["rows_out"].items()}
    lineage = records(
        executor,
        "SELECT entity, SUM(records_read) AS records_read, SUM(records_loaded) AS "
        "records_loaded, SUM(records_quarantined) AS records_quarantined FROM batch_lineage "
        f"WHERE run_id = {last_id} GROUP BY entity ORDER BY entity",
    )
    quality = records(
        executor,
        "SELECT run_id, table_name, MIN(checked_at) AS checked_at, COUNT(*) AS rules, "
        "SUM(CASE WHEN passed THEN 1 ELSE 0 END) AS passed FROM dq_result "
        "GROUP BY run_id, table_name ORDER BY checked_at, table_name",
    )
    failing = records(
        executor,
        "SELECT run_id, table_name, rule, severity, failed_count, checked_count, detail, "
        "checked_at FROM dq_result WHERE NOT passed ORDER BY checked_at DESC, table_name, "
        "rule LIMIT 100",
    )
    reasons = records(
        executor,
        "SELECT entity, reason, COUNT(*) AS records FROM quarantine GROUP BY entity, reason "
        "ORDER BY entity, reason",
    )
    by_batch = records(
        executor,
        "SELECT batch_date, reason, COUNT(*) AS records FROM quarantine "
        "GROUP BY batch_date, reason ORDER BY batch_date, reason",
    )
    (last_success,) = one(
        executor,
        f"SELECT MAX(finished_at) FROM pipeline_run WHERE step = '{RUN_STEP}' "
        "AND status = 'SUCCEEDED'",
    )
    (last_batch,) = one(executor, "SELECT MAX(batch_date) FROM batch_lineage")
    return Operations(
        runs=runs,
        steps=steps,
        last_run=last,
        last_run_dq_score=score,
        last_run_quarantined=int(last_quarantined),
        quarantined=int(quarantined),
        tables_written=written,
        lineage=lineage,
        quality=quality,
        failing_rules=failing,
        quarantine_reasons=reasons,
        quarantine_by_batch=by_batch,
        last_success=last_success,
        last_batch=last_batch,
    )
