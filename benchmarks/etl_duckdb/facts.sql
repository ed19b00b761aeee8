-- Facts, as one would write them for DuckDB (ecomdw.etl.transforms.facts), for a first run over
-- every staged batch: exchange rates, order lines, orders and payments, amounts in USD.
-- A batch re-emits every order it touched (a version or a line staged in it), as of that batch;
-- a rate is its currency's on the day, else the latest before (ASOF); a dimension version is
-- the one valid at order_ts, else the earliest (ASOF over the contiguous versions).

CREATE OR REPLACE TEMP MACRO usd(amount, rate) AS round(amount * rate, 2)::DECIMAL(18, 2);
CREATE OR REPLACE TEMP MACRO date_key(ts) AS strftime(ts, '%Y%m%d')::INTEGER;

-- Every version of a dimension as its latest written row, and each key's earliest version.
CREATE OR REPLACE TEMP TABLE customer_state AS
SELECT customer_sk, customer_id, valid_from FROM dim_customer
QUALIFY row_number() OVER (PARTITION BY customer_sk ORDER BY batch_date DESC) = 1;
CREATE OR REPLACE TEMP TABLE customer_first AS
SELECT customer_id, arg_min(customer_sk, valid_from) AS customer_sk
FROM customer_state GROUP BY customer_id;
CREATE OR REPLACE TEMP TABLE product_state AS
SELECT product_sk, product_id, valid_from, unit_cost FROM dim_product
QUALIFY row_number() OVER (PARTITION BY product_sk ORDER BY batch_date DESC) = 1;
CREATE OR REPLACE TEMP TABLE product_first AS
SELECT product_id, arg_min(product_sk, valid_from) AS product_sk,
    arg_min(unit_cost, valid_from) AS unit_cost
FROM product_state GROUP BY product_id;

CREATE OR REPLACE TEMP TABLE fact_exchange_rate AS
SELECT currency, rate_date, usd_per_unit, batch_date, 'bench' AS run_id
FROM staged_exchange_rates;

-- (order, batch): the latest version of every order a batch touched, staged up to the batch.
CREATE OR REPLACE TEMP TABLE touched_orders AS
WITH touched AS (
    SELECT order_id, batch_date AS fact_batch FROM staged_orders
    UNION SELECT order_id, batch_date FROM staged_order_items
)
SELECT t.fact_batch, o.* EXCLUDE (batch_date, source_file, source_line)
FROM touched AS t JOIN staged_orders AS o ON o.order_id = t.order_id
    AND o.batch_date <= t.fact_batch
QUALIFY row_number() OVER (
    PARTITION BY t.order_id, t.fact_batch
    ORDER BY o.updated_at DESC, o.batch_date DESC, o.source_file DESC, o.source_line DESC
) = 1;

CREATE OR REPLACE TEMP TABLE fact_order_line AS
WITH lines AS (
    SELECT o.fact_batch, o.order_id, o.customer_id, o.order_ts, o.status, o.currency,
        i.line_number, i.product_id, i.quantity, i.unit_price, i.discount_amount
    FROM touched_orders AS o JOIN staged_order_items AS i ON i.order_id = o.order_id
        AND i.batch_date <= o.fact_batch
    QUALIFY row_number() OVER (
        PARTITION BY o.order_id, i.line_number, o.fact_batch
        ORDER BY i.batch_date DESC, i.source_file DESC, i.source_line DESC
    ) = 1
), priced AS (
    SELECT l.*, r.usd_per_unit,
        coalesce(c.customer_sk, cf.customer_sk) AS customer_sk,
        coalesce(p.product_sk, pf.product_sk) AS product_sk,
        CASE WHEN p.product_sk IS NOT NULL THEN p.unit_cost ELSE pf.unit_cost END AS unit_cost,
        -- The exact product (DECIMAL(38, 10)) rounded to cents once, as the Spark job does.
        usd((l.quantity * l.unit_price)::DECIMAL(38, 2), r.usd_per_unit) AS gross_amount_usd,
        usd(l.discount_amount, r.usd_per_unit) AS discount_amount_usd
    FROM lines AS l
    ASOF LEFT JOIN staged_exchange_rates AS r
        ON r.currency = l.currency AND l.order_ts::DATE >= r.rate_date
    ASOF LEFT JOIN customer_state AS c
        ON c.customer_id = l.customer_id AND l.order_ts >= c.valid_from
    LEFT JOIN customer_first AS cf ON cf.customer_id = l.customer_id
    ASOF LEFT JOIN product_state AS p
        ON p.product_id = l.product_id AND l.order_ts >= p.valid_from
    LEFT JOIN product_first AS pf ON pf.product_id = l.product_id
)
SELECT order_id, line_number, date_key(order_ts) AS order_date_key, customer_sk, product_sk,
    status, currency, quantity, unit_price, usd_per_unit, gross_amount_usd,
    discount_amount_usd, (gross_amount_usd - discount_amount_usd)::DECIMAL(18, 2)
        AS net_amount_usd,
    round(quantity * unit_cost, 2)::DECIMAL(18, 2) AS cost_amount_usd,
    fact_batch AS batch_date, 'bench' AS run_id
FROM priced;

CREATE OR REPLACE TEMP TABLE fact_order AS
WITH totals AS (
    SELECT order_id, batch_date AS fact_batch, count(*)::INTEGER AS line_count,
        sum(quantity)::INTEGER AS item_quantity,
        sum(net_amount_usd)::DECIMAL(18, 2) AS items_amount_usd
    FROM fact_order_line GROUP BY ALL
), priced AS (
    SELECT o.*, r.usd_per_unit, coalesce(c.customer_sk, cf.customer_sk) AS customer_sk,
        coalesce(t.items_amount_usd, 0)::DECIMAL(18, 2) AS items_amount_usd,
        coalesce(t.line_count, 0) AS line_count, coalesce(t.item_quantity, 0) AS item_quantity,
        usd(o.discount_amount, r.usd_per_unit) AS discount_amount_usd,
        usd(o.shipping_amount, r.usd_per_unit) AS shipping_amount_usd
    FROM touched_orders AS o
    LEFT JOIN totals AS t USING (order_id, fact_batch)
    ASOF LEFT JOIN staged_exchange_rates AS r
        ON r.currency = o.currency AND o.order_ts::DATE >= r.rate_date
    ASOF LEFT JOIN customer_state AS c
        ON c.customer_id = o.customer_id AND o.order_ts >= c.valid_from
    LEFT JOIN customer_first AS cf ON cf.customer_id = o.customer_id
)
SELECT order_id, date_key(order_ts) AS order_date_key, customer_sk, order_ts, status, channel,
    currency, line_count, item_quantity, items_amount_usd, discount_amount_usd,
    shipping_amount_usd,
    (items_amount_usd - discount_amount_usd + shipping_amount_usd)::DECIMAL(18, 2)
        AS total_amount_usd,
    updated_at, fact_batch AS batch_date, 'bench' AS run_id, usd_per_unit
FROM priced;

-- A payment belongs to its own batch, or to its order's first batch when that is later; it
-- takes the order's latest version staged up to there.
CREATE OR REPLACE TEMP TABLE fact_payment AS
WITH first_seen AS (
    SELECT order_id, min(batch_date) AS order_batch FROM staged_orders GROUP BY order_id
), due AS (
    SELECT p.*, greatest(p.batch_date, f.order_batch) AS fact_batch
    FROM staged_payments AS p JOIN first_seen AS f USING (order_id)
), with_order AS (
    SELECT d.*, o.customer_id, o.order_ts
    FROM due AS d JOIN staged_orders AS o ON o.order_id = d.order_id
        AND o.batch_date <= d.fact_batch
    QUALIFY row_number() OVER (
        PARTITION BY d.payment_id, d.fact_batch ORDER BY o.updated_at DESC, o.batch_date DESC
    ) = 1
)
SELECT w.payment_id, w.order_id, coalesce(c.customer_sk, cf.customer_sk) AS customer_sk,
    date_key(w.created_at) AS payment_date_key, w.created_at, w.status, w.method_type,
    w.card_brand, w.currency, w.amount, usd(w.amount, r.usd_per_unit) AS amount_usd,
    w.fact_batch AS batch_date, 'bench' AS run_id, r.usd_per_unit
FROM with_order AS w
ASOF LEFT JOIN staged_exchange_rates AS r
    ON r.currency = w.currency AND w.created_at::DATE >= r.rate_date
ASOF LEFT JOIN customer_state AS c
    ON c.customer_id = w.customer_id AND w.order_ts >= c.valid_from
LEFT JOIN customer_first AS cf ON cf.customer_id = w.customer_id;

-- No amount may stay unconverted: a currency without a rate on or before its day stops the run.
SELECT CASE WHEN count(*) > 0 THEN error('no USD rate on or before the day for '
    || count(*) || ' orders and payments') END
FROM (
    SELECT usd_per_unit FROM fact_order UNION ALL SELECT usd_per_unit FROM fact_payment
) WHERE usd_per_unit IS NULL;
DROP TABLE touched_orders;
ALTER TABLE fact_order DROP COLUMN usd_per_unit;
ALTER TABLE fact_payment DROP COLUMN usd_per_unit;

COPY (FROM by_batch('fact_exchange_rate')) TO '@OUT@/warehouse/fact_exchange_rate'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('fact_order_line')) TO '@OUT@/warehouse/fact_order_line'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('fact_order')) TO '@OUT@/warehouse/fact_order'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('fact_payment')) TO '@OUT@/warehouse/fact_payment'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
