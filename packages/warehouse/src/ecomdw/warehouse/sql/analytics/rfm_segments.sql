-- RFM segments: recency, frequency and monetary quintile scores (5 = best) per customer, over
-- kept orders (neither cancelled nor returned), as of the warehouse's last order day so that
-- the answer does not move with the clock. Customers by business key: every SCD2 version's
-- orders count. Ties are ordered by customer_id, so NTILE gives the same buckets every run.
CREATE OR REPLACE VIEW analytics_rfm_segments AS
WITH kept_orders AS (
    SELECT customer.customer_id, orders.order_ts, orders.total_amount_usd
    FROM fact_order AS orders
    JOIN dim_customer AS customer ON customer.customer_sk = orders.customer_sk
    WHERE orders.status NOT IN ('cancelled', 'returned')
),
as_of AS (
    SELECT CAST(MAX(order_ts) AS DATE) AS as_of_date FROM kept_orders
),
per_customer AS (
    SELECT
        kept.customer_id,
        DATEDIFF(day, CAST(MAX(kept.order_ts) AS DATE), MAX(as_of.as_of_date)) AS recency_days,
        COUNT(*) AS frequency,
        SUM(kept.total_amount_usd) AS monetary_usd
    FROM kept_orders AS kept
    CROSS JOIN as_of
    GROUP BY kept.customer_id
),
scored AS (
    SELECT
        customer_id,
        recency_days,
        frequency,
        monetary_usd,
        NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS recency_score,
        NTILE(5) OVER (ORDER BY frequency, customer_id) AS frequency_score,
        NTILE(5) OVER (ORDER BY monetary_usd, customer_id) AS monetary_score
    FROM per_customer
)
SELECT
    customer_id,
    recency_days,
    frequency,
    monetary_usd,
    recency_score,
    frequency_score,
    monetary_score,
    CASE
        WHEN recency_score >= 4 AND frequency_score >= 4 THEN 'champions'
        WHEN frequency_score >= 4 THEN 'loyal'
        WHEN recency_score >= 4 AND frequency_score <= 2 THEN 'new'
        WHEN recency_score <= 2 AND frequency_score >= 3 THEN 'at_risk'
        WHEN recency_score <= 2 THEN 'hibernating'
        ELSE 'needs_attention'
    END AS segment
FROM scored;
