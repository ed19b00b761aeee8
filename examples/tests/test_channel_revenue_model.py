"""The channel revenue model: Redshift SQL on orders COPYed from a folder."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE_ORDERS = """
CREATE TABLE stg_orders (
    order_id VARCHAR(32) NOT NULL,
    order_date DATE NOT NULL,
    channel VARCHAR(16) NOT NULL,
    status VARCHAR(16) NOT NULL,
    amount DECIMAL(18, 2) NOT NULL
)
"""


def test_the_model_sums_revenue_per_channel(redshift) -> None:
    redshift.execute("DROP TABLE IF EXISTS stg_orders")
    redshift.execute(STAGE_ORDERS)
    redshift.load("stg_orders", ROOT / "data" / "orders", format="csv")

    redshift.run_file(ROOT / "sql" / "channel_revenue.sql")

    assert redshift.query("SELECT * FROM channel_revenue ORDER BY channel") == [
        # web: 2 of its 3 orders are revenue, and 100 * 2 / 3 is 66 in integer arithmetic.
        ("mobile", 2, Decimal("9.25"), 100),
        ("web", 2, Decimal("30.50"), 66),
    ]


def test_the_warehouse_answers_as_redshift(redshift) -> None:
    answer = redshift.query(
        "SELECT 7 / 2, NVL(NULL, 'none'), DATEADD(day, 1, '2024-02-28'::DATE), "
        "DECODE(2, 1, 'one', 2, 'two')"
    )
    # Integer division, and DATEADD's timestamp: as Redshift answers, not as DuckDB would.
    assert answer == [(3, "none", datetime(2024, 2, 29, 0, 0), "two")]
