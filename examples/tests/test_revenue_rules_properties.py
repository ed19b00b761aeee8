"""The revenue rule holds for every order the ecomdw model can describe."""

from hypothesis import given
from revenue_rules import REVENUE_STATUSES, counts_as_revenue

from ecomdw.testing import strategies


@given(strategies.records("orders"))
def test_an_order_is_revenue_exactly_when_paid_shipped_or_delivered(order) -> None:
    expected = order["status"] in {"paid", "shipped", "delivered"}
    assert counts_as_revenue(order["status"]) is expected


def test_every_revenue_status_is_one_the_model_knows() -> None:
    status = next(c for c in strategies.ENTITIES["orders"].columns if c.name == "status")
    assert set(REVENUE_STATUSES) <= set(status.accepted_values)
