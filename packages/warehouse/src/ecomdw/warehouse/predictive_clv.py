"""Predictive CLV fitted on the warehouse: BG/NBD and Gamma-Gamma on its kept orders.

The transaction log comes through the executor as Redshift SQL, so the same call fits on the
local warehouse and on Redshift. Customers by business key (every SCD2 version's orders),
orders neither cancelled nor returned, amounts in USD. `refresh_predicted_clv` keeps the
predictions in the warehouse (`analytics_predicted_clv`), for SQL users and the report.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from ecomdw.core.model import (
    DATE,
    INTEGER,
    MONEY,
    TIMESTAMP,
    Column,
    DistStyle,
    Entity,
    Layer,
    decimal,
    varchar,
)
from ecomdw.core.processed import staging_table
from ecomdw.core.redshift_ddl import create_table

from .clv import BgNbd, CustomerSummary, GammaGamma, customer_lifetime_value, summarise_transactions
from .executors import Executor

TRANSACTIONS_SQL = """
SELECT customer.customer_id, orders.order_ts, orders.total_amount_usd
FROM fact_order AS orders
JOIN dim_customer AS customer ON customer.customer_sk = orders.customer_sk
WHERE orders.status NOT IN ('cancelled', 'returned')
"""


@dataclass(frozen=True)
class PredictiveClv:
    purchases: BgNbd
    spend: GammaGamma
    summary: CustomerSummary
    calibration_end: pd.Timestamp
    period_days: float

    def per_customer(
        self, horizon_periods: int, discount_rate_per_period: float = 0.0
    ) -> pd.DataFrame:
        """Per customer: P(alive), expected purchases and spend, and CLV over the horizon."""
        summary = self.summary
        return pd.DataFrame(
            {
                "customer_id": summary.customer_ids,
                "probability_alive": self.purchases.probability_alive(summary),
                "expected_purchases": self.purchases.expected_purchases(summary, horizon_periods),
                "expected_spend_usd": self.spend.expected_spend(summary),
                "clv_usd": customer_lifetime_value(
                    self.purchases, self.spend, summary, horizon_periods, discount_rate_per_period
                ),
            }
        )


def fit_predictive_clv(
    executor: Executor,
    *,
    calibration_end: str | pd.Timestamp | None = None,
    period_days: float = 7.0,
) -> PredictiveClv:
    """Fit both models on the warehouse's orders up to `calibration_end` (default: the last)."""
    result = executor.run(TRANSACTIONS_SQL)
    if result is None or not result.rows:
        raise ValueError("the warehouse has no kept orders to fit on")
    log = pd.DataFrame(result.rows, columns=["customer_id", "order_ts", "amount"])
    end = pd.Timestamp(calibration_end) if calibration_end is not None else log["order_ts"].max()
    summary = summarise_transactions(
        log["customer_id"], log["order_ts"], log["amount"].astype(float), end, period_days
    )
    return PredictiveClv(BgNbd.fit(summary), GammaGamma.fit(summary), summary, end, period_days)


HORIZON_WEEKS = 52
MIN_HISTORY_DAYS = 28
"""The least span of kept orders the predictions are kept from: BG/NBD learns purchase rates
from repeat purchases, and a few days of orders hold too few of them, whatever it converges
to."""
INSERT_CHUNK_ROWS = 500
"""Rows per INSERT: a Data API statement holds at most 100 KB of SQL."""

PREDICTED_CLV = Entity(
    name="analytics_predicted_clv",
    layer=Layer.ANALYTICS,
    description="Predicted CLV per customer (BG/NBD + Gamma-Gamma), refreshed after each run",
    key=("customer_id",),
    dist_style=DistStyle.EVEN,
    sort_key=("customer_id",),
    columns=(
        Column("customer_id", varchar(32), nullable=False),
        Column("repeat_purchases", INTEGER, nullable=False),
        Column("probability_alive", decimal(7, 6)),
        Column("expected_purchases", decimal(12, 4)),
        Column("expected_spend_usd", MONEY),
        Column("clv_usd", MONEY, description="expected spend over the horizon, undiscounted"),
        Column("horizon_weeks", INTEGER, nullable=False),
        Column("calibration_end", DATE, nullable=False, description="last order day fitted on"),
        Column("fitted_at", TIMESTAMP, nullable=False),
        Column("run_id", varchar(64), nullable=False),
    ),
)
STAGED_PREDICTED_CLV = staging_table(PREDICTED_CLV)


def create_predicted_clv_sql() -> list[str]:
    return [create_table(PREDICTED_CLV), create_table(STAGED_PREDICTED_CLV)]


def _literal(value: object, scale: int | None = None) -> str:
    """An SQL literal: text quoted, a number at `scale` digits, NaN and infinity NULL."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return "NULL"
    return f"{number:.{scale}f}" if scale is not None else str(int(number))


def predicted_rows_sql(
    fitted: PredictiveClv, run_id: str, fitted_at: dt.datetime, horizon_weeks: int
) -> list[str]:
    """INSERTs of every customer's prediction into the staging table, in chunks."""
    values = fitted.per_customer(horizon_weeks)
    values["repeat_purchases"] = fitted.summary.frequency
    end = f"'{fitted.calibration_end.date().isoformat()}'"
    at = f"'{fitted_at:%Y-%m-%d %H:%M:%S}'"
    rows = [
        f"({_literal(str(row.customer_id))}, {_literal(row.repeat_purchases)}, "
        f"{_literal(row.probability_alive, 6)}, {_literal(row.expected_purchases, 4)}, "
        f"{_literal(row.expected_spend_usd, 2)}, {_literal(row.clv_usd, 2)}, "
        f"{horizon_weeks}, {end}, {at}, {_literal(run_id)})"
        for row in values.itertuples(index=False)
    ]
    columns = ", ".join(PREDICTED_CLV.column_names)
    return [
        f"INSERT INTO {STAGED_PREDICTED_CLV.name} ({columns}) VALUES\n"
        + ",\n".join(rows[start : start + INSERT_CHUNK_ROWS])
        for start in range(0, len(rows), INSERT_CHUNK_ROWS)
    ]


def refresh_predicted_clv(
    executor: Executor,
    run_id: str,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
    fitted_at: dt.datetime | None = None,
    min_history_days: float = MIN_HISTORY_DAYS,
) -> int:
    """Fit on the warehouse's kept orders and replace `analytics_predicted_clv` with the
    predictions: staged call by call (any number of customers), swapped in one transaction,
    so a reader sees the old predictions or the new, never a part. Returns the customers.
    Raises ValueError, the table left as it was, when the orders are too few to predict from."""
    fitted = fit_predictive_clv(executor)
    history_days = float(fitted.summary.age.max()) * fitted.period_days
    if history_days < min_history_days:
        raise ValueError(
            f"the kept orders span {history_days:.0f} of the {min_history_days:.0f} days "
            "predictions need"
        )
    at = fitted_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    for statement in create_predicted_clv_sql():
        executor.run(statement)
    executor.run(f"DELETE FROM {STAGED_PREDICTED_CLV.name}")
    inserts = predicted_rows_sql(fitted, run_id, at, horizon_weeks)
    for statement in inserts:
        executor.run(statement)
    columns = ", ".join(PREDICTED_CLV.column_names)
    with executor.transaction():
        executor.run(f"DELETE FROM {PREDICTED_CLV.name}")
        executor.run(
            f"INSERT INTO {PREDICTED_CLV.name} ({columns}) "
            f"SELECT {columns} FROM {STAGED_PREDICTED_CLV.name}"
        )
        executor.run(f"DELETE FROM {STAGED_PREDICTED_CLV.name}")
    return len(fitted.summary.customer_ids)
