"""Predictive CLV fitted on the warehouse: BG/NBD and Gamma-Gamma on its kept orders.

The transaction log comes through the executor as Redshift SQL, so the same call fits on the
local warehouse and on Redshift. Customers by business key (every SCD2 version's orders),
orders neither cancelled nor returned, amounts in USD.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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
