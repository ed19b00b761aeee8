"""The reporting views and analytics, Redshift SQL files created in an order that resolves.

Each file is one `CREATE OR REPLACE VIEW`, so creating them again replaces them in place.
"""

from __future__ import annotations

from importlib import resources

from .executors import Executor

# customer_360 reads the RFM segments, so the analytics come first.
VIEW_FILES = (
    "analytics/rfm_segments.sql",
    "analytics/customer_clv.sql",
    "analytics/cohort_retention.sql",
    "analytics/market_basket_pairs.sql",
    "views/customer_360.sql",
    "views/product_performance.sql",
    "views/sales_trends.sql",
)


def view_sql(relative: str) -> str:
    return resources.files("ecomdw.warehouse").joinpath("sql", relative).read_text()


def create_views(executor: Executor) -> None:
    for relative in VIEW_FILES:
        executor.run(view_sql(relative))
