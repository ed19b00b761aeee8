"""Predictive CLV fitted through the executor on a warehouse holding the CDNOW sample."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ecomdw.core.model import DIM_CUSTOMER, FACT_ORDER
from ecomdw.warehouse.executors import DuckDBExecutor
from ecomdw.warehouse.load import create_warehouse
from ecomdw.warehouse.predictive_clv import (
    HORIZON_WEEKS,
    create_predicted_clv_sql,
    fit_predictive_clv,
    refresh_predicted_clv,
)

from .test_clv import CALIBRATION_END, PUBLISHED_BGNBD, PUBLISHED_GAMMA_GAMMA, cdnow_sample
from .warehouse_rows import Stamp, customer, insert, order

pytestmark = [pytest.mark.unit, pytest.mark.duckdb]

AT = Stamp(dt.date(1998, 7, 1), "run-1")


@pytest.fixture(scope="module")
def cdnow_warehouse() -> DuckDBExecutor:
    """Each CDNOW customer moved once (two SCD2 versions), with a cancelled order to ignore."""
    log = cdnow_sample()
    executor = DuckDBExecutor()
    create_warehouse(executor)
    since, moved = dt.datetime(1996, 1, 1), dt.datetime(1997, 6, 1)
    customers = sorted(set(log["customer"]))
    insert(
        executor,
        DIM_CUSTOMER,
        [customer(c, f"C{c}", "Rome", since, AT, valid_to=moved) for c in customers]
        + [customer(100_000 + c, f"C{c}", "Milan", moved, AT) for c in customers],
    )
    orders = [
        order(f"O{n}", c + (100_000 if placed >= moved else 0), placed, "delivered", AT,
              lines=[(1, 1, f"{amount:.2f}")])
        for n, (c, placed, amount) in enumerate(
            zip(log["customer"], log["date"].map(lambda d: dt.datetime.strptime(d, "%Y%m%d")),
                log["amount"], strict=True)
        )
    ]  # fmt: skip
    orders.append(order("X", 1, dt.datetime(1997, 3, 3), "cancelled", AT, lines=[(1, 1, "999")]))
    insert(executor, FACT_ORDER, orders)
    return executor


def test_fit_on_the_warehouse_gives_the_published_estimates(
    cdnow_warehouse: DuckDBExecutor,
) -> None:
    fitted = fit_predictive_clv(cdnow_warehouse, calibration_end=CALIBRATION_END)
    assert len(fitted.summary.customer_ids) == 2357
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fitted.purchases, name) == pytest.approx(published, rel=0.01), name
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fitted.spend, name) == pytest.approx(published, rel=0.01), name
    values = fitted.per_customer(52)
    assert list(values.columns) == [
        "customer_id", "probability_alive", "expected_purchases", "expected_spend_usd", "clv_usd"
    ]  # fmt: skip
    assert np.all((values["probability_alive"] > 0) & (values["probability_alive"] <= 1))
    assert values["clv_usd"].sum() > 0


def test_an_empty_warehouse_has_nothing_to_fit() -> None:
    executor = DuckDBExecutor()
    create_warehouse(executor)
    with pytest.raises(ValueError, match="no kept orders"):
        fit_predictive_clv(executor)


def test_refresh_keeps_every_customers_prediction_in_the_warehouse(
    cdnow_warehouse: DuckDBExecutor,
) -> None:
    fitted = fit_predictive_clv(cdnow_warehouse)
    expected = fitted.per_customer(HORIZON_WEEKS).set_index("customer_id")
    at = dt.datetime(1998, 7, 2, 3, 4, 5)
    for run in ("run-a", "run-b"):  # a second refresh replaces the first, it adds nothing
        assert refresh_predicted_clv(cdnow_warehouse, run, fitted_at=at) == 2357
    result = cdnow_warehouse.run(
        "SELECT customer_id, repeat_purchases, probability_alive, clv_usd, horizon_weeks, "
        "calibration_end, fitted_at, run_id FROM analytics_predicted_clv ORDER BY customer_id"
    )
    assert result is not None and len(result.rows) == 2357
    staged = cdnow_warehouse.run("SELECT COUNT(*) FROM stg_analytics_predicted_clv")
    assert staged is not None and staged.rows == [(0,)]
    last_order = dt.date(1998, 6, 30)
    repeats_of = dict(zip(fitted.summary.customer_ids, fitted.summary.frequency, strict=True))
    for customer_id, repeats, alive, clv, horizon, end, fitted_at, run in result.rows:
        assert (horizon, end, fitted_at, run) == (HORIZON_WEEKS, last_order, at, "run-b")
        assert repeats == repeats_of[customer_id]
        assert float(alive) == pytest.approx(
            expected.loc[customer_id, "probability_alive"], abs=1e-6
        )
        assert float(clv) == pytest.approx(expected.loc[customer_id, "clv_usd"], abs=0.006)


def test_a_few_days_of_orders_are_too_few_to_keep_predictions_from(
    cdnow_warehouse: DuckDBExecutor,
) -> None:
    """Three weeks of the CDNOW customers' orders: the fit converges, its predictions are not
    kept."""
    short = DuckDBExecutor()
    create_warehouse(short)
    for table in ("dim_customer", "fact_order"):
        rows = cdnow_warehouse.connection.execute(
            f"SELECT * FROM {table}"
            + (" WHERE order_ts < '1997-01-22'" if table == "fact_order" else "")
        ).arrow()
        short.connection.register("copied", rows)
        short.connection.execute(f"INSERT INTO {table} SELECT * FROM copied")
        short.connection.unregister("copied")
    for statement in create_predicted_clv_sql():
        short.run(statement)
    with pytest.raises(ValueError, match="span 20 of the 28 days predictions need"):
        refresh_predicted_clv(short, "short")
    kept = short.run("SELECT COUNT(*) FROM analytics_predicted_clv")
    assert kept is not None and kept.rows == [(0,)]
