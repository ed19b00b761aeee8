-- Product performance: one row per product (business key, described by its current version),
-- over the lines of every version. Units sold exclude cancelled lines; revenue, cost and
-- margin are over kept lines (neither cancelled nor returned); the return rate is returned
-- units over units sold. Ranked by revenue within the category.
CREATE OR REPLACE VIEW product_performance AS
WITH versions AS (
    SELECT product_sk, product_id FROM dim_product
),
sales AS (
    SELECT
        versions.product_id,
        SUM(CASE WHEN line.status <> 'cancelled' THEN line.quantity ELSE 0 END) AS units_sold,
        SUM(CASE WHEN line.status = 'returned' THEN line.quantity ELSE 0 END) AS units_returned,
        SUM(
            CASE
                WHEN line.status NOT IN ('cancelled', 'returned') THEN line.net_amount_usd
                ELSE 0
            END
        ) AS revenue_usd,
        SUM(
            CASE
                WHEN line.status NOT IN ('cancelled', 'returned') THEN line.cost_amount_usd
                ELSE 0
            END
        ) AS cost_usd
    FROM fact_order_line AS line
    JOIN versions ON versions.product_sk = line.product_sk
    GROUP BY versions.product_id
),
measured AS (
    SELECT
        product.product_id,
        product.product_name,
        product.category,
        product.subcategory,
        product.brand,
        product.unit_price AS current_unit_price,
        COALESCE(sales.units_sold, 0) AS units_sold,
        COALESCE(sales.units_returned, 0) AS units_returned,
        COALESCE(sales.revenue_usd, 0) AS revenue_usd,
        COALESCE(sales.cost_usd, 0) AS cost_usd
    FROM dim_product AS product
    LEFT JOIN sales ON sales.product_id = product.product_id
    WHERE product.is_current
)
SELECT
    product_id,
    product_name,
    category,
    subcategory,
    brand,
    current_unit_price,
    units_sold,
    units_returned,
    CASE WHEN units_sold > 0 THEN CAST(units_returned AS DOUBLE PRECISION) / units_sold END
        AS return_rate,
    revenue_usd,
    cost_usd,
    revenue_usd - cost_usd AS margin_usd,
    CASE WHEN revenue_usd > 0 THEN (revenue_usd - cost_usd) / revenue_usd END AS margin_rate,
    RANK() OVER (PARTITION BY category ORDER BY revenue_usd DESC) AS rank_in_category
FROM measured;
