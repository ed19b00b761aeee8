-- Historical customer lifetime value: what each customer has brought so far, over kept orders
-- (neither cancelled nor returned). Revenue from the orders (with shipping and order
-- discounts), gross margin from their lines (net of line discounts, less cost at order time).
CREATE OR REPLACE VIEW analytics_customer_clv AS
WITH versions AS (
    SELECT customer_sk, customer_id FROM dim_customer
),
kept_orders AS (
    SELECT versions.customer_id, orders.order_id, orders.order_ts, orders.total_amount_usd
    FROM fact_order AS orders
    JOIN versions ON versions.customer_sk = orders.customer_sk
    WHERE orders.status NOT IN ('cancelled', 'returned')
),
order_margin AS (
    SELECT line.order_id, SUM(line.net_amount_usd - line.cost_amount_usd) AS margin_usd
    FROM fact_order_line AS line
    GROUP BY line.order_id
)
SELECT
    kept.customer_id,
    MIN(kept.order_ts) AS first_order_ts,
    MAX(kept.order_ts) AS last_order_ts,
    DATEDIFF(day, MIN(kept.order_ts), MAX(kept.order_ts)) AS lifespan_days,
    COUNT(*) AS orders,
    SUM(kept.total_amount_usd) AS revenue_usd,
    SUM(kept.total_amount_usd) / COUNT(*) AS average_order_value_usd,
    SUM(COALESCE(margin.margin_usd, 0)) AS margin_usd
FROM kept_orders AS kept
LEFT JOIN order_margin AS margin ON margin.order_id = kept.order_id
GROUP BY kept.customer_id;
