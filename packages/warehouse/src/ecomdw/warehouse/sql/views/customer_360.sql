-- Customer 360: one row per current customer version, with what all of that customer's
-- versions did. Revenue and AOV over kept orders (neither cancelled nor returned); returns and
-- cancellations counted apart; payment methods are the distinct captured ones.
CREATE OR REPLACE VIEW customer_360 AS
WITH versions AS (
    SELECT customer_sk, customer_id FROM dim_customer
),
order_stats AS (
    SELECT
        versions.customer_id,
        MIN(orders.order_ts) AS first_order_ts,
        MAX(orders.order_ts) AS last_order_ts,
        COUNT(*) AS orders,
        SUM(CASE WHEN orders.status NOT IN ('cancelled', 'returned') THEN 1 ELSE 0 END)
            AS kept_orders,
        SUM(
            CASE
                WHEN orders.status NOT IN ('cancelled', 'returned')
                    THEN orders.total_amount_usd
                ELSE 0
            END
        ) AS revenue_usd,
        SUM(CASE WHEN orders.status = 'returned' THEN 1 ELSE 0 END) AS returned_orders,
        SUM(CASE WHEN orders.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled_orders
    FROM fact_order AS orders
    JOIN versions ON versions.customer_sk = orders.customer_sk
    GROUP BY versions.customer_id
),
methods AS (
    SELECT
        customer_id,
        LISTAGG(method_type, ',') WITHIN GROUP (ORDER BY method_type) AS payment_methods
    FROM (
        SELECT DISTINCT versions.customer_id, payment.method_type
        FROM fact_payment AS payment
        JOIN versions ON versions.customer_sk = payment.customer_sk
        WHERE payment.status = 'captured'
    ) AS used
    GROUP BY customer_id
)
SELECT
    customer.customer_id,
    customer.customer_sk,
    customer.first_name,
    customer.last_name,
    customer.email,
    customer.country_code,
    customer.city,
    customer.signup_ts,
    customer.marketing_opt_in,
    stats.first_order_ts,
    stats.last_order_ts,
    COALESCE(stats.orders, 0) AS orders,
    COALESCE(stats.kept_orders, 0) AS kept_orders,
    COALESCE(stats.revenue_usd, 0) AS revenue_usd,
    CASE WHEN stats.kept_orders > 0 THEN stats.revenue_usd / stats.kept_orders END
        AS average_order_value_usd,
    COALESCE(stats.returned_orders, 0) AS returned_orders,
    COALESCE(stats.cancelled_orders, 0) AS cancelled_orders,
    methods.payment_methods,
    rfm.segment AS rfm_segment
FROM dim_customer AS customer
LEFT JOIN order_stats AS stats ON stats.customer_id = customer.customer_id
LEFT JOIN methods ON methods.customer_id = customer.customer_id
LEFT JOIN analytics_rfm_segments AS rfm ON rfm.customer_id = customer.customer_id
WHERE customer.is_current;
