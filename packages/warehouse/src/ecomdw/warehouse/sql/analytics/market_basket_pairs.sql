-- Market-basket pair rules: support, confidence and lift for every ordered pair of products
-- bought in the same order. Products by business key, so SCD2 versions of one product count
-- once. Counts are cast before dividing: Redshift divides BIGINT by BIGINT as integers.
CREATE OR REPLACE VIEW analytics_market_basket_pairs AS
WITH order_products AS (
    SELECT DISTINCT line.order_id, product.product_id
    FROM fact_order_line AS line
    JOIN dim_product AS product ON product.product_sk = line.product_sk
),
basket_count AS (
    SELECT COUNT(DISTINCT order_id) AS orders FROM order_products
),
product_orders AS (
    SELECT product_id, COUNT(*) AS orders
    FROM order_products
    GROUP BY product_id
),
pair_orders AS (
    SELECT a.product_id AS antecedent, b.product_id AS consequent, COUNT(*) AS orders
    FROM order_products AS a
    JOIN order_products AS b ON a.order_id = b.order_id AND a.product_id <> b.product_id
    GROUP BY a.product_id, b.product_id
)
SELECT
    pair.antecedent,
    pair.consequent,
    pair.orders AS orders_with_both,
    CAST(pair.orders AS DOUBLE PRECISION) / total.orders AS support,
    CAST(pair.orders AS DOUBLE PRECISION) / antecedent.orders AS confidence,
    (CAST(pair.orders AS DOUBLE PRECISION) / antecedent.orders)
        / (CAST(consequent.orders AS DOUBLE PRECISION) / total.orders) AS lift
FROM pair_orders AS pair
CROSS JOIN basket_count AS total
JOIN product_orders AS antecedent ON antecedent.product_id = pair.antecedent
JOIN product_orders AS consequent ON consequent.product_id = pair.consequent;
