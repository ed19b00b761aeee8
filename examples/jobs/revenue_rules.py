"""Which orders count as revenue: shared by the Glue job (shipped with --extra-py-files) and
the tests, so the rule is written once."""

REVENUE_STATUSES = ("paid", "shipped", "delivered")


def counts_as_revenue(status: str) -> bool:
    """Paid, shipped and delivered orders are revenue; placed, cancelled and returned are not."""
    return status in REVENUE_STATUSES
