-- Monthly acquisition cohorts: customers by the month of their first kept order (neither
-- cancelled nor returned), and for each later month how many of them ordered again.
-- Month 0 is the cohort itself, so its retention is 1.
CREATE OR REPLACE VIEW analytics_cohort_retention AS
WITH customer_months AS (
    SELECT DISTINCT
        customer.customer_id,
        CAST(DATE_TRUNC('month', orders.order_ts) AS DATE) AS order_month
    FROM fact_order AS orders
    JOIN dim_customer AS customer ON customer.customer_sk = orders.customer_sk
    WHERE orders.status NOT IN ('cancelled', 'returned')
),
cohorts AS (
    SELECT customer_id, MIN(order_month) AS cohort_month
    FROM customer_months
    GROUP BY customer_id
),
cohort_sizes AS (
    SELECT cohort_month, COUNT(*) AS cohort_customers
    FROM cohorts
    GROUP BY cohort_month
),
activity AS (
    SELECT
        cohorts.cohort_month,
        DATEDIFF(month, cohorts.cohort_month, months.order_month) AS months_since_first_order,
        COUNT(*) AS customers_active
    FROM customer_months AS months
    JOIN cohorts ON cohorts.customer_id = months.customer_id
    GROUP BY cohorts.cohort_month, DATEDIFF(month, cohorts.cohort_month, months.order_month)
)
SELECT
    activity.cohort_month,
    activity.months_since_first_order,
    sizes.cohort_customers,
    activity.customers_active,
    CAST(activity.customers_active AS DOUBLE PRECISION) / sizes.cohort_customers
        AS retention_rate
FROM activity
JOIN cohort_sizes AS sizes ON sizes.cohort_month = activity.cohort_month;
