"""Predictive customer lifetime value: BG/NBD for purchase counts, Gamma-Gamma for spend.

Fader, Hardie & Lee (2005), "Counting your customers the easy way" and "RFM and CLV". Fitted
by maximum likelihood with numpy/scipy on a per-customer summary of the warehouse's orders;
purchases on the same day count as one transaction, and time is measured in `period_days`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CustomerSummary:
    """Per customer: repeat purchases x, recency t_x, age T (in periods), mean repeat spend."""

    customer_ids: NDArray[np.object_]
    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    monetary: FloatArray  # mean value of repeat transactions; NaN where frequency == 0


def summarise_transactions(
    customer_ids: Sequence[object] | pd.Series,
    timestamps: Sequence[object] | pd.Series,
    amounts: Sequence[float] | pd.Series,
    calibration_end: str | pd.Timestamp,
    period_days: float = 7.0,
) -> CustomerSummary:
    """Collapse a transaction log to the BG/NBD and Gamma-Gamma inputs, up to `calibration_end`."""
    log = pd.DataFrame(
        {
            "customer": list(customer_ids),
            "day": pd.to_datetime(pd.Series(list(timestamps))).dt.normalize(),
            "amount": np.asarray(amounts, dtype=float),
        }
    )
    end = pd.Timestamp(calibration_end).normalize()
    days = (
        log[log["day"] <= end]
        .groupby(["customer", "day"], as_index=False)
        .agg(amount=("amount", "sum"))
    )
    days = days.sort_values(["customer", "day"], kind="stable")
    days["nth"] = days.groupby("customer").cumcount()
    per_customer = days.groupby("customer")
    first, last = per_customer["day"].min(), per_customer["day"].max()
    repeat_mean = days[days["nth"] > 0].groupby("customer")["amount"].mean()
    return CustomerSummary(
        customer_ids=first.index.to_numpy(dtype=object),
        frequency=np.asarray(per_customer.size() - 1, dtype=np.float64),
        recency=np.asarray((last - first).dt.days / period_days, dtype=np.float64),
        age=np.asarray((end - first).dt.days / period_days, dtype=np.float64),
        monetary=np.asarray(repeat_mean.reindex(first.index), dtype=np.float64),
    )


def _fit(negative_log_likelihood: object, start: FloatArray) -> FloatArray:
    """Minimise over log-parameters (all parameters are positive); polish with a second pass."""
    fun = negative_log_likelihood
    coarse = minimize(fun, start, method="Nelder-Mead", options={"maxiter": 20_000})
    fine = minimize(
        fun,
        coarse.x,
        method="Nelder-Mead",
        options={"maxiter": 20_000, "xatol": 1e-10, "fatol": 1e-10},
    )
    if not fine.success:
        raise RuntimeError(f"maximum likelihood did not converge: {fine.message}")
    return np.exp(np.asarray(fine.x, dtype=np.float64))


@dataclass(frozen=True)
class BgNbd:
    """Purchase rate ~ Gamma(r, alpha); dropout probability after each purchase ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    @classmethod
    def fit(cls, summary: CustomerSummary) -> BgNbd:
        x, t_x, age = summary.frequency, summary.recency, summary.age

        def log_likelihoods(r: float, alpha: float, a: float, b: float) -> FloatArray:
            a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
            a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
            a3 = -(r + x) * np.log(alpha + age)
            with np.errstate(divide="ignore", invalid="ignore"):
                a4 = np.where(
                    x > 0,
                    np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x),
                    -np.inf,
                )
            result: FloatArray = a1 + a2 + np.logaddexp(a3, a4)
            return result

        def nll(log_params: FloatArray) -> float:
            return -float(log_likelihoods(*np.exp(log_params)).sum())

        r, alpha, a, b = _fit(nll, np.zeros(4))
        return cls(r, alpha, a, b, float(log_likelihoods(r, alpha, a, b).sum()))

    def probability_alive(self, summary: CustomerSummary) -> FloatArray:
        x, t_x, age = summary.frequency, summary.recency, summary.age
        odds_dead = np.where(
            x > 0,
            self.a
            / np.maximum(self.b + x - 1, 1e-12)
            * ((self.alpha + age) / (self.alpha + t_x)) ** (self.r + x),
            0.0,
        )
        result: FloatArray = 1.0 / (1.0 + odds_dead)
        return result

    def expected_purchases(self, summary: CustomerSummary, periods: float) -> FloatArray:
        """E[purchases in the next `periods` | history] (FHL 2005, eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, age = summary.frequency, summary.age
        t = float(periods)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
        numerator = (
            (a + b + x - 1) / (a - 1) * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp)
        )
        result: FloatArray = numerator * self.probability_alive(summary)
        return result


@dataclass(frozen=True)
class GammaGamma:
    """Spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, v), independent of purchase counts."""

    p: float
    q: float
    v: float
    log_likelihood: float

    @classmethod
    def fit(cls, summary: CustomerSummary) -> GammaGamma:
        repeaters = summary.frequency > 0
        x, m = summary.frequency[repeaters], summary.monetary[repeaters]

        def log_likelihoods(p: float, q: float, v: float) -> FloatArray:
            result: FloatArray = (
                gammaln(p * x + q)
                - gammaln(p * x)
                - gammaln(q)
                + q * np.log(v)
                + (p * x - 1) * np.log(m)
                + p * x * np.log(x)
                - (p * x + q) * np.log(v + m * x)
            )
            return result

        def nll(log_params: FloatArray) -> float:
            return -float(log_likelihoods(*np.exp(log_params)).sum())

        p, q, v = _fit(nll, np.zeros(3))
        return cls(p, q, v, float(log_likelihoods(p, q, v).sum()))

    def expected_spend(self, summary: CustomerSummary) -> FloatArray:
        """E[spend per transaction | history]: the population mean shrunk toward the customer's."""
        x = summary.frequency
        m = np.nan_to_num(summary.monetary, nan=0.0)
        population_mean = self.p * self.v / (self.q - 1)
        weight = self.p * x / (self.p * x + self.q - 1)
        result: FloatArray = (1 - weight) * population_mean + weight * m
        return result


def customer_lifetime_value(
    purchases: BgNbd,
    spend: GammaGamma,
    summary: CustomerSummary,
    horizon_periods: int,
    discount_rate_per_period: float = 0.0,
) -> FloatArray:
    """Discounted expected spend over the horizon: sum of per-period purchases x expected spend."""
    value = spend.expected_spend(summary)
    total = np.zeros_like(value)
    previous = np.zeros_like(value)
    for period in range(1, horizon_periods + 1):
        cumulative = purchases.expected_purchases(summary, period)
        total += (cumulative - previous) * value / (1 + discount_rate_per_period) ** period
        previous = cumulative
    return total
