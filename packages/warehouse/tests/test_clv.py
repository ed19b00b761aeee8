"""BG/NBD and Gamma-Gamma against the published CDNOW estimates (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecomdw.warehouse.clv import (
    BgNbd,
    CustomerSummary,
    GammaGamma,
    customer_lifetime_value,
    summarise_transactions,
)

pytestmark = pytest.mark.unit

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01, as in the paper


def cdnow_sample() -> pd.DataFrame:
    """The 2,357-customer CDNOW sample, read from the `lifetimes` wheel's data file."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "lifetimes is a dev dependency"
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"
    return pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "quantity", "amount"],
        dtype={"date": str},
    )


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    log = cdnow_sample()
    return summarise_transactions(
        log["customer"], pd.to_datetime(log["date"]), log["amount"], CALIBRATION_END
    )


def test_summary_has_every_customer_and_the_papers_repeaters(cdnow: CustomerSummary) -> None:
    assert len(cdnow.customer_ids) == 2357
    assert int((cdnow.frequency > 0).sum()) == 946


def test_bgnbd_matches_the_published_estimates_within_one_percent(cdnow: CustomerSummary) -> None:
    model = BgNbd.fit(cdnow)
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(model, name) == pytest.approx(published, rel=0.01), name
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_matches_the_published_estimates_within_one_percent(
    cdnow: CustomerSummary,
) -> None:
    model = GammaGamma.fit(cdnow)
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(model, name) == pytest.approx(published, rel=0.01), name


def test_conditional_expectation_matches_the_papers_worked_example() -> None:
    """x=2, t_x=30.43, T=38.86: 1.226 expected purchases in the next 39 weeks (FHL 2005)."""
    model = BgNbd(log_likelihood=0.0, **PUBLISHED_BGNBD)
    one = CustomerSummary(
        customer_ids=np.array(["c"], dtype=object),
        frequency=np.array([2.0]),
        recency=np.array([30.43]),
        age=np.array([38.86]),
        monetary=np.array([np.nan]),
    )
    assert model.expected_purchases(one, 39)[0] == pytest.approx(1.226, abs=0.001)


def test_lifetime_value_grows_with_horizon_and_shrinks_with_discounting(
    cdnow: CustomerSummary,
) -> None:
    purchases, spend = BgNbd.fit(cdnow), GammaGamma.fit(cdnow)
    year = customer_lifetime_value(purchases, spend, cdnow, 52)
    two_years = customer_lifetime_value(purchases, spend, cdnow, 104)
    discounted = customer_lifetime_value(purchases, spend, cdnow, 52, discount_rate_per_period=0.01)
    assert np.all(two_years >= year) and np.all(year >= discounted) and year.sum() > 0
