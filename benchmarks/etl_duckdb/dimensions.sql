-- Dimensions, as one would write them for DuckDB: dim_date, and the SCD2 change rows of
-- dim_customer and dim_product (ecomdw.etl.transforms.dimensions) for a first run over every
-- staged batch. A batch's rows: each new version (current unless a later version of the same
-- batch supersedes it), and the version it supersedes again, closed, in the successor's batch.
-- Surrogate keys are DuckDB's hash of the natural key and valid_from (the ETL uses Spark's
-- xxhash64): other values, the same role.

CREATE OR REPLACE TEMP MACRO ts_text(ts) AS
    coalesce(strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), '');
CREATE OR REPLACE TEMP MACRO surrogate_key(natural_key, valid_from) AS
    (hash(natural_key, valid_from) & 9223372036854775807)::BIGINT;

-- One candidate per key and updated_at (ties: the later batch, file and line), hashed; a
-- candidate starts a version when its hash differs from the one before it.
CREATE OR REPLACE TEMP TABLE customer_versions AS
WITH candidates AS (
    SELECT customer_id, email, first_name, last_name, country_code, city, signup_ts,
        marketing_opt_in, updated_at AS valid_from, batch_date,
        sha256(concat_ws(chr(31), email, first_name, last_name, country_code,
            coalesce(city, ''), ts_text(signup_ts), marketing_opt_in::VARCHAR)) AS row_hash
    FROM staged_customers
    QUALIFY row_number() OVER (
        PARTITION BY customer_id, updated_at
        ORDER BY batch_date DESC, source_file DESC, source_line DESC
    ) = 1
), changed AS (
    SELECT * FROM candidates
    QUALIFY row_hash IS DISTINCT FROM lag(row_hash) OVER (
        PARTITION BY customer_id ORDER BY valid_from
    )
)
SELECT *,
    lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS next_from,
    lead(batch_date) OVER (PARTITION BY customer_id ORDER BY valid_from) AS next_batch
FROM changed;

CREATE OR REPLACE TEMP TABLE product_versions AS
WITH candidates AS (
    SELECT product_id, sku, product_name, category, subcategory, brand, unit_price, unit_cost,
        active, updated_at AS valid_from, batch_date,
        sha256(concat_ws(chr(31), sku, product_name, category, coalesce(subcategory, ''),
            coalesce(brand, ''), unit_price::VARCHAR, unit_cost::VARCHAR, active::VARCHAR))
            AS row_hash
    FROM staged_products
    QUALIFY row_number() OVER (
        PARTITION BY product_id, updated_at
        ORDER BY batch_date DESC, source_file DESC, source_line DESC
    ) = 1
), changed AS (
    SELECT * FROM candidates
    QUALIFY row_hash IS DISTINCT FROM lag(row_hash) OVER (
        PARTITION BY product_id ORDER BY valid_from
    )
)
SELECT *,
    lead(valid_from) OVER (PARTITION BY product_id ORDER BY valid_from) AS next_from,
    lead(batch_date) OVER (PARTITION BY product_id ORDER BY valid_from) AS next_batch
FROM changed;

-- Change rows: every version in its own batch, and each one superseded in a later batch again
-- there, closed.
CREATE OR REPLACE TEMP MACRO scd2_changes(versions) AS TABLE
    SELECT * EXCLUDE (next_from, next_batch),
        CASE WHEN next_batch = batch_date THEN next_from ELSE TIMESTAMP '9999-12-31' END
            AS valid_to,
        next_batch IS DISTINCT FROM batch_date AS is_current
    FROM query_table(versions)
    UNION ALL BY NAME
    SELECT * EXCLUDE (next_from, next_batch, batch_date), next_from AS valid_to,
        false AS is_current, next_batch AS batch_date
    FROM query_table(versions)
    WHERE next_batch IS NOT NULL AND next_batch <> batch_date;

CREATE OR REPLACE TEMP TABLE dim_customer AS
SELECT surrogate_key(customer_id, valid_from) AS customer_sk, customer_id, email, first_name,
    last_name, country_code, city, signup_ts, marketing_opt_in, valid_from, valid_to,
    is_current, row_hash, batch_date, 'bench' AS run_id
FROM scd2_changes('customer_versions');

CREATE OR REPLACE TEMP TABLE dim_product AS
SELECT surrogate_key(product_id, valid_from) AS product_sk, product_id, sku, product_name,
    category, subcategory, brand, unit_price, unit_cost, active, valid_from, valid_to,
    is_current, row_hash, batch_date, 'bench' AS run_id
FROM scd2_changes('product_versions');

-- Every day a batch, an order, a payment or a rate mentions, in the first batch that saw it.
CREATE OR REPLACE TEMP TABLE dim_date AS
WITH seen AS (
    SELECT DISTINCT batch_date AS full_date, batch_date FROM batch_lineage
    UNION ALL SELECT order_ts::DATE, batch_date FROM staged_orders
    UNION ALL SELECT created_at::DATE, batch_date FROM staged_payments
    UNION ALL SELECT rate_date, batch_date FROM staged_exchange_rates
), days AS (
    SELECT full_date, min(batch_date) AS batch_date FROM seen GROUP BY full_date
)
SELECT (year(full_date) * 10000 + month(full_date) * 100 + day(full_date))::INTEGER
        AS date_key,
    full_date, year(full_date)::SMALLINT AS year, quarter(full_date)::SMALLINT AS quarter,
    month(full_date)::SMALLINT AS month, monthname(full_date) AS month_name,
    weekofyear(full_date)::SMALLINT AS iso_week, day(full_date)::SMALLINT AS day_of_month,
    isodow(full_date)::SMALLINT AS day_of_week, dayname(full_date) AS day_name,
    isodow(full_date) >= 6 AS is_weekend, batch_date
FROM days;

DROP TABLE customer_versions; DROP TABLE product_versions;

COPY (FROM by_batch('dim_customer')) TO '@OUT@/warehouse/dim_customer'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('dim_product')) TO '@OUT@/warehouse/dim_product'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (SELECT * EXCLUDE (batch_date), strftime(batch_date, '%Y-%m-%d') AS batch FROM dim_date)
    TO '@OUT@/warehouse/dim_date' (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
