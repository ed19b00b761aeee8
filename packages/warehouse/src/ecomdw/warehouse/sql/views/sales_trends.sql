-- Sales trends by day, ISO week (from Monday) and month: kept orders (neither cancelled nor
-- returned) and their revenue, beside the same period a year earlier. A year earlier is the
-- same calendar day or month, and for weeks the week 52 weeks back (same weekday alignment).
-- Periods without orders have no row; a year-earlier figure is NULL when that period had no
-- kept order (so for the first year of data).
CREATE OR REPLACE VIEW sales_trends AS
WITH kept_orders AS (
    SELECT CAST(order_ts AS DATE) AS order_date, total_amount_usd
    FROM fact_order
    WHERE status NOT IN ('cancelled', 'returned')
),
periods AS (
    SELECT 'day' AS grain, order_date AS period_start, COUNT(*) AS orders,
        SUM(total_amount_usd) AS revenue_usd
    FROM kept_orders
    GROUP BY order_date
    UNION ALL
    SELECT 'week', CAST(DATE_TRUNC('week', order_date) AS DATE), COUNT(*), SUM(total_amount_usd)
    FROM kept_orders
    GROUP BY CAST(DATE_TRUNC('week', order_date) AS DATE)
    UNION ALL
    SELECT 'month', CAST(DATE_TRUNC('month', order_date) AS DATE), COUNT(*),
        SUM(total_amount_usd)
    FROM kept_orders
    GROUP BY CAST(DATE_TRUNC('month', order_date) AS DATE)
)
SELECT
    current_period.grain,
    current_period.period_start,
    current_period.orders,
    current_period.revenue_usd,
    current_period.revenue_usd / current_period.orders AS average_order_value_usd,
    last_year.orders AS orders_last_year,
    last_year.revenue_usd AS revenue_usd_last_year,
    CASE
        WHEN last_year.revenue_usd > 0
            THEN (current_period.revenue_usd - last_year.revenue_usd) / last_year.revenue_usd
    END AS revenue_yoy_change
FROM periods AS current_period
LEFT JOIN periods AS last_year
    ON last_year.grain = current_period.grain
    AND last_year.period_start = CASE
        WHEN current_period.grain = 'week'
            THEN CAST(DATEADD(week, -52, current_period.period_start) AS DATE)
        ELSE CAST(DATEADD(year, -1, current_period.period_start) AS DATE)
    END;
