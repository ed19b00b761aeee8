-- Stage, as one would write it for DuckDB: raw files -> typed records, quarantine, batch lineage.
-- @RAW@ and @OUT@ are replaced by the raw root and the output folder before running, @RUN_ENDS@
-- by the last batch of each run that staged the batches (a list of dates, empty: one run).
--
-- The landing contract (ecomdw.core.contract): files are read whole and cut into physical lines
-- (a CRLF's CR dropped); a CSV's first line is its header; blank lines carry no record. Reasons
-- are coded in the contract's rule order: 1 missing_key, 2 wrong_type, 3 missing_value,
-- 4 unknown_value, 5 invalid_format, 6 out_of_range; a record's reason is the least code of its
-- columns. Then duplicates within a batch (first by file, then line), then parents: a child is
-- loaded in the batch by which every parent is loaded, or is an orphan.

-- ---------------------------------------------------------------- reading

CREATE OR REPLACE TEMP MACRO raw_lines(path) AS TABLE
    SELECT
        regexp_extract(filename, 'ingest_date=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1)::DATE
            AS batch_date,
        regexp_extract(filename, '[^/]+/[^/]+/[^/]+$') AS source_file,
        generate_subscripts(lines, 1)::INTEGER AS source_line,
        unnest(lines) AS line
    FROM (SELECT filename, string_split(content, chr(10)) AS lines FROM read_text(path));

CREATE OR REPLACE TEMP MACRO unquoted(field) AS
    CASE WHEN starts_with(field, '"')
        THEN replace(substr(field, 2, length(field) - 2), '""', '"') ELSE field END;

CREATE OR REPLACE TEMP MACRO csv_fields(line) AS
    CASE
        WHEN NOT contains(line, '"') THEN string_split(line, ',')
        WHEN regexp_full_match(
            line, '(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*'
        ) THEN list_transform(
            regexp_extract_all(',' || line, ',("(?:[^"]|"")*"|[^,"]*)', 1),
            lambda field: unquoted(field)
        )
    END;

-- Every record of the CSV files under `path`: its fields, or why it cannot be read.
CREATE OR REPLACE TEMP MACRO csv_records(path, header) AS TABLE
    WITH lines AS (
        SELECT batch_date, source_file, source_line,
            CASE WHEN suffix(line, chr(13)) THEN substr(line, 1, length(line) - 1)
                ELSE line END AS raw_text
        FROM raw_lines(path)
    ), fields AS (
        SELECT *, csv_fields(
            CASE WHEN source_line = 1 THEN ltrim(raw_text, chr(65279)) ELSE raw_text END
        ) AS f
        FROM lines
        WHERE raw_text <> ''
    ), headers AS (
        SELECT source_file, coalesce(f = header, false) AS header_ok
        FROM fields WHERE source_line = 1
    )
    SELECT batch_date, source_file, source_line, raw_text, f,
        CASE
            WHEN NOT header_ok THEN 'the header is not the contract''s'
            WHEN f IS NULL THEN 'a quote inside an unquoted field'
            WHEN len(f) <> len(header)
                THEN len(f) || ' fields where the contract has ' || len(header)
        END AS parse_error
    FROM fields JOIN headers USING (source_file)
    WHERE source_line > 1;

-- Every record of the JSONL files under `path`, parsed, or why it cannot be.
CREATE OR REPLACE TEMP MACRO jsonl_records(path) AS TABLE
    SELECT batch_date, source_file, source_line, raw_text,
        CASE WHEN json_valid(raw_text) THEN raw_text::JSON END AS j,
        CASE
            WHEN NOT json_valid(raw_text) THEN 'invalid JSON'
            WHEN json_type(raw_text::JSON) <> 'OBJECT' THEN 'not a JSON object'
        END AS parse_error
    FROM (
        SELECT batch_date, source_file, source_line,
            CASE WHEN suffix(line, chr(13)) THEN substr(line, 1, length(line) - 1)
                ELSE line END AS raw_text
        FROM raw_lines(path)
    )
    WHERE trim(raw_text) <> '';

-- A JSON member as contract text: a string's value; NULL when absent or null. `json_text_ok`
-- is false for a member that is there but is no string (or sits under a non-object).
CREATE OR REPLACE TEMP MACRO json_text(j, path) AS
    CASE WHEN json_type(j, path) = 'VARCHAR' THEN j ->> path END;
CREATE OR REPLACE TEMP MACRO json_text_ok(j, parent, path) AS
    coalesce(json_type(j, parent) IN ('OBJECT', 'NULL'), true)
    AND coalesce(json_type(j, path) IN ('VARCHAR', 'NULL'), true);

-- ---------------------------------------------------------------- column rules (reason codes)

CREATE OR REPLACE TEMP MACRO c_text(v, n, missing) AS
    CASE WHEN v IS NULL THEN missing WHEN strlen(v) > n THEN 2 END;
CREATE OR REPLACE TEMP MACRO c_text_in(v, n, missing, accepted) AS
    CASE WHEN v IS NULL THEN missing WHEN strlen(v) > n THEN 2
        WHEN NOT list_contains(accepted, v) THEN 4 END;
CREATE OR REPLACE TEMP MACRO c_text_like(v, n, missing, pattern) AS
    CASE WHEN v IS NULL THEN missing WHEN strlen(v) > n THEN 2
        WHEN NOT regexp_full_match(v, pattern) THEN 5 END;
CREATE OR REPLACE TEMP MACRO c_char_like(v, n, missing, pattern) AS
    CASE WHEN v IS NULL THEN missing WHEN length(v) > n OR strlen(v) <> length(v) THEN 2
        WHEN NOT regexp_full_match(v, pattern) THEN 5 END;
CREATE OR REPLACE TEMP MACRO c_int(v, missing, low, exclusive) AS
    CASE WHEN v IS NULL THEN missing
        WHEN NOT regexp_full_match(v, '-?[0-9]+') OR try_cast(v AS INTEGER) IS NULL THEN 2
        WHEN try_cast(v AS INTEGER) < low OR (exclusive AND try_cast(v AS INTEGER) = low) THEN 6
    END;
CREATE OR REPLACE TEMP MACRO c_money(v, missing) AS
    CASE WHEN v IS NULL THEN missing
        WHEN NOT regexp_full_match(v, '-?[0-9]+(\.[0-9]{1,2}0*)?')
            OR try_cast(v AS DECIMAL(18, 2)) IS NULL THEN 2
        WHEN try_cast(v AS DECIMAL(18, 2)) < 0 THEN 6
    END;
CREATE OR REPLACE TEMP MACRO c_rate(v, missing) AS
    CASE WHEN v IS NULL THEN missing
        WHEN NOT regexp_full_match(v, '-?[0-9]+(\.[0-9]{1,8}0*)?')
            OR try_cast(v AS DECIMAL(18, 8)) IS NULL THEN 2
        WHEN try_cast(v AS DECIMAL(18, 8)) <= 0 THEN 6
    END;
CREATE OR REPLACE TEMP MACRO c_bool(v, missing) AS
    CASE WHEN v IS NULL THEN missing WHEN v NOT IN ('true', 'false') THEN 2 END;
CREATE OR REPLACE TEMP MACRO c_date(v, missing) AS
    CASE WHEN v IS NULL THEN missing
        WHEN NOT regexp_full_match(v, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            OR try_cast(v AS DATE) IS NULL THEN 2
    END;
CREATE OR REPLACE TEMP MACRO c_ts(v, missing) AS
    CASE WHEN v IS NULL THEN missing
        WHEN NOT regexp_full_match(
            v,
            '[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]'
            || '(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?'
        ) OR try_cast(v AS TIMESTAMPTZ) IS NULL THEN 2
    END;
CREATE OR REPLACE TEMP MACRO utc(v) AS CAST(v AS TIMESTAMPTZ)::TIMESTAMP;

CREATE OR REPLACE TEMP MACRO reason_of(codes) AS
    ['missing_key', 'wrong_type', 'missing_value', 'unknown_value', 'invalid_format',
        'out_of_range'][list_min(codes)];
CREATE OR REPLACE TEMP MACRO detail_of(codes, names) AS
    reason_of(codes) || ': '
    || array_to_string(list_filter(names, lambda name, i: codes[i] = list_min(codes)), ', ');

-- Records with their reason (NULL: valid) and detail; `codes` per column in model order.
CREATE OR REPLACE TEMP MACRO judged(parse_error, codes, names) AS
    struct_pack(
        reason := CASE WHEN parse_error IS NOT NULL THEN 'unparseable' ELSE reason_of(codes) END,
        detail := coalesce(parse_error, detail_of(codes, names))
    );

-- ---------------------------------------------------------------- typed records per entity

CREATE OR REPLACE TEMP TABLE customers_read AS
WITH r AS (
    SELECT batch_date, source_file, source_line, raw_text, parse_error,
        nullif(f[1], '') AS customer_id, nullif(f[2], '') AS email,
        nullif(f[3], '') AS first_name, nullif(f[4], '') AS last_name,
        nullif(f[5], '') AS country_code, nullif(f[6], '') AS city,
        nullif(f[7], '') AS signup_ts, nullif(f[8], '') AS marketing_opt_in,
        nullif(f[9], '') AS updated_at
    FROM csv_records(
        '@RAW@/customers/ingest_date=*/*.csv',
        ['customer_id', 'email', 'first_name', 'last_name', 'country_code', 'city', 'signup_ts',
            'marketing_opt_in', 'updated_at']
    )
), j AS (
    SELECT *, [
        c_text(customer_id, 32, 1),
        c_text_like(email, 256, 3, '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
        c_text(first_name, 100, 3),
        c_text(last_name, 100, 3),
        c_char_like(country_code, 2, 3, '^[A-Z]{2}$'),
        c_text(city, 100, NULL),
        c_ts(signup_ts, 3),
        c_bool(marketing_opt_in, 3),
        c_ts(updated_at, 3)
    ] AS codes
    FROM r
), v AS (
    SELECT *, judged(parse_error, codes,
        ['customer_id', 'email', 'first_name', 'last_name', 'country_code', 'city',
            'signup_ts', 'marketing_opt_in', 'updated_at']) AS verdict
    FROM j
)
SELECT batch_date, source_file, source_line, raw_text, verdict.reason, verdict.detail,
    customer_id, email, first_name, last_name, country_code, city,
    CASE WHEN verdict.reason IS NULL THEN utc(signup_ts) END AS signup_ts,
    CASE WHEN verdict.reason IS NULL THEN marketing_opt_in = 'true' END AS marketing_opt_in,
    CASE WHEN verdict.reason IS NULL THEN utc(updated_at) END AS updated_at
FROM v;

CREATE OR REPLACE TEMP TABLE products_read AS
WITH r AS (
    SELECT batch_date, source_file, source_line, raw_text, parse_error,
        nullif(f[1], '') AS product_id, nullif(f[2], '') AS sku,
        nullif(f[3], '') AS product_name, nullif(f[4], '') AS category,
        nullif(f[5], '') AS subcategory, nullif(f[6], '') AS brand,
        nullif(f[7], '') AS unit_price, nullif(f[8], '') AS unit_cost,
        nullif(f[9], '') AS active, nullif(f[10], '') AS updated_at
    FROM csv_records(
        '@RAW@/products/ingest_date=*/*.csv',
        ['product_id', 'sku', 'product_name', 'category', 'subcategory', 'brand', 'unit_price',
            'unit_cost', 'active', 'updated_at']
    )
), j AS (
    SELECT *, [
        c_text(product_id, 32, 1),
        c_text(sku, 64, 3),
        c_text(product_name, 256, 3),
        c_text(category, 64, 3),
        c_text(subcategory, 64, NULL),
        c_text(brand, 64, NULL),
        c_money(unit_price, 3),
        c_money(unit_cost, 3),
        c_bool(active, 3),
        c_ts(updated_at, 3)
    ] AS codes
    FROM r
), v AS (
    SELECT *, judged(parse_error, codes,
        ['product_id', 'sku', 'product_name', 'category', 'subcategory', 'brand', 'unit_price',
            'unit_cost', 'active', 'updated_at']) AS verdict
    FROM j
)
SELECT batch_date, source_file, source_line, raw_text, verdict.reason, verdict.detail,
    product_id, sku, product_name, category, subcategory, brand,
    CASE WHEN verdict.reason IS NULL THEN unit_price::DECIMAL(18, 2) END AS unit_price,
    CASE WHEN verdict.reason IS NULL THEN unit_cost::DECIMAL(18, 2) END AS unit_cost,
    CASE WHEN verdict.reason IS NULL THEN active = 'true' END AS active,
    CASE WHEN verdict.reason IS NULL THEN utc(updated_at) END AS updated_at
FROM v;

CREATE OR REPLACE TEMP TABLE exchange_rates_read AS
WITH r AS (
    SELECT batch_date, source_file, source_line, raw_text, parse_error,
        nullif(f[1], '') AS currency, nullif(f[2], '') AS rate_date,
        nullif(f[3], '') AS usd_per_unit
    FROM csv_records(
        '@RAW@/exchange_rates/ingest_date=*/*.csv', ['currency', 'rate_date', 'usd_per_unit']
    )
), j AS (
    SELECT *, [
        c_char_like(currency, 3, 1, '^[A-Z]{3}$'),
        c_date(rate_date, 1),
        c_rate(usd_per_unit, 3)
    ] AS codes
    FROM r
), v AS (
    SELECT *, judged(parse_error, codes,
        ['currency', 'rate_date', 'usd_per_unit']) AS verdict
    FROM j
)
SELECT batch_date, source_file, source_line, raw_text, verdict.reason, verdict.detail,
    currency,
    CASE WHEN verdict.reason IS NULL THEN rate_date::DATE END AS rate_date,
    CASE WHEN verdict.reason IS NULL THEN usd_per_unit::DECIMAL(18, 8) END AS usd_per_unit
FROM v;

CREATE OR REPLACE TEMP TABLE orders_read AS
WITH r AS (
    SELECT batch_date, source_file, source_line, raw_text, parse_error,
        nullif(f[1], '') AS order_id, nullif(f[2], '') AS customer_id,
        nullif(f[3], '') AS order_ts, nullif(f[4], '') AS status,
        nullif(f[5], '') AS channel, nullif(f[6], '') AS currency,
        nullif(f[7], '') AS shipping_amount, nullif(f[8], '') AS discount_amount,
        nullif(f[9], '') AS updated_at
    FROM csv_records(
        '@RAW@/orders/ingest_date=*/*.csv',
        ['order_id', 'customer_id', 'order_ts', 'status', 'channel', 'currency',
            'shipping_amount', 'discount_amount', 'updated_at']
    )
), j AS (
    SELECT *, [
        c_text(order_id, 32, 1),
        c_text(customer_id, 32, 3),
        c_ts(order_ts, 3),
        c_text_in(status, 16, 3,
            ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned']),
        c_text_in(channel, 16, 3, ['web', 'mobile', 'marketplace']),
        c_char_like(currency, 3, 3, '^[A-Z]{3}$'),
        c_money(shipping_amount, 3),
        c_money(discount_amount, 3),
        c_ts(updated_at, 3)
    ] AS codes
    FROM r
), v AS (
    SELECT *, judged(parse_error, codes,
        ['order_id', 'customer_id', 'order_ts', 'status', 'channel', 'currency',
            'shipping_amount', 'discount_amount', 'updated_at']) AS verdict
    FROM j
)
SELECT batch_date, source_file, source_line, raw_text, verdict.reason, verdict.detail,
    order_id, customer_id,
    CASE WHEN verdict.reason IS NULL THEN utc(order_ts) END AS order_ts,
    status, channel, currency,
    CASE WHEN verdict.reason IS NULL THEN shipping_amount::DECIMAL(18, 2) END
        AS shipping_amount,
    CASE WHEN verdict.reason IS NULL THEN discount_amount::DECIMAL(18, 2) END
        AS discount_amount,
    CASE WHEN verdict.reason IS NULL THEN utc(updated_at) END AS updated_at
FROM v;

CREATE OR REPLACE TEMP TABLE order_items_read AS
WITH r AS (
    SELECT batch_date, source_file, source_line, raw_text, parse_error,
        nullif(f[1], '') AS order_id, nullif(f[2], '') AS line_number,
        nullif(f[3], '') AS product_id, nullif(f[4], '') AS quantity,
        nullif(f[5], '') AS unit_price, nullif(f[6], '') AS discount_amount
    FROM csv_records(
        '@RAW@/order_items/ingest_date=*/*.csv',
        ['order_id', 'line_number', 'product_id', 'quantity', 'unit_price', 'discount_amount']
    )
), j AS (
    SELECT *, [
        c_text(order_id, 32, 1),
        c_int(line_number, 1, 1, false),
        c_text(product_id, 32, 3),
        c_int(quantity, 3, 0, true),
        c_money(unit_price, 3),
        c_money(discount_amount, 3)
    ] AS codes
    FROM r
), v AS (
    SELECT *, judged(parse_error, codes,
        ['order_id', 'line_number', 'product_id', 'quantity', 'unit_price', 'discount_amount'])
        AS verdict
    FROM j
)
SELECT batch_date, source_file, source_line, raw_text, verdict.reason, verdict.detail,
    order_id,
    CASE WHEN verdict.reason IS NULL THEN line_number::INTEGER END AS line_number,
    product_id,
    CASE WHEN verdict.reason IS NULL THEN quantity::INTEGER END AS quantity,
    CASE WHEN verdict.reason IS NULL THEN unit_price::DECIMAL(18, 2) END AS unit_price,
    CASE WHEN verdict.reason IS NULL THEN discount_amount::DECIMAL(18, 2) END
        AS discount_amount
FROM v;

CREATE OR REPLACE TEMP TABLE payments_read AS
WITH r AS (
    SELECT batch_date, source_file, source_line, raw_text, parse_error,
        [json_text_ok(j, '$', '$.payment_id'),
            json_text_ok(j, '$', '$.order_id'),
            json_text_ok(j, '$', '$.amount'),
            json_text_ok(j, '$', '$.currency'),
            json_text_ok(j, '$', '$.status'),
            json_text_ok(j, '$', '$.created_at'),
            json_text_ok(j, '$.method', '$.method.type'),
            json_text_ok(j, '$.method', '$.method.card_brand'),
            json_text_ok(j, '$.method', '$.method.last4')] AS texts,
        json_text(j, '$.payment_id') AS payment_id, json_text(j, '$.order_id') AS order_id,
        json_text(j, '$.amount') AS amount, json_text(j, '$.currency') AS currency,
        json_text(j, '$.status') AS status, json_text(j, '$.created_at') AS created_at,
        json_text(j, '$.method.type') AS method_type,
        json_text(j, '$.method.card_brand') AS card_brand,
        json_text(j, '$.method.last4') AS card_last4
    FROM jsonl_records('@RAW@/payments/ingest_date=*/*.jsonl')
), j AS (
    SELECT *, list_transform([
        c_text(payment_id, 32, 1),
        c_text(order_id, 32, 3),
        c_money(amount, 3),
        c_char_like(currency, 3, 3, '^[A-Z]{3}$'),
        c_text_in(status, 16, 3, ['authorized', 'captured', 'refunded', 'failed']),
        c_ts(created_at, 3),
        c_text_in(method_type, 16, 3, ['card', 'paypal', 'bank_transfer', 'gift_card']),
        c_text_in(card_brand, 16, NULL, ['visa', 'mastercard', 'amex', 'discover']),
        c_char_like(card_last4, 4, NULL, '^[0-9]{4}$')
    ], lambda code, i: CASE WHEN texts[i] THEN code ELSE 2 END) AS codes
    FROM r
), v AS (
    SELECT *, judged(parse_error, codes,
        ['payment_id', 'order_id', 'amount', 'currency', 'status', 'created_at', 'method_type',
            'card_brand', 'card_last4']) AS verdict
    FROM j
)
SELECT batch_date, source_file, source_line, raw_text, verdict.reason, verdict.detail,
    payment_id, order_id,
    CASE WHEN verdict.reason IS NULL THEN amount::DECIMAL(18, 2) END AS amount,
    currency, status,
    CASE WHEN verdict.reason IS NULL THEN utc(created_at) END AS created_at,
    method_type, card_brand, card_last4
FROM v;

-- ---------------------------------------------------------------- duplicates and parents

-- Runs: the batches are staged by runs in date order, the last batches of the runs being
-- @RUN_ENDS@ (none: one run stages them all). A child is loaded only when its parents are loaded
-- by the end of the run that stages it; a parent arriving in a later run does not bring it back.
CREATE OR REPLACE TEMP MACRO loaded_in_run(batch, loaded) AS
    CASE WHEN loaded <= coalesce(
        list_min(list_filter(@RUN_ENDS@::DATE[], lambda last: last >= batch)), DATE '9999-12-31'
    ) THEN loaded END;

-- Valid records; `duplicate` when an earlier copy of the key was read in the same batch.
CREATE OR REPLACE TEMP MACRO first_in_batch(records, k1, k2) AS TABLE
    SELECT *, row_number() OVER (
        PARTITION BY batch_date, k1, k2 ORDER BY source_file, source_line
    ) > 1 AS duplicate
    FROM query_table(records) WHERE reason IS NULL;

CREATE OR REPLACE TEMP TABLE customers_resolved AS
SELECT *, batch_date AS loaded_batch, NULL::VARCHAR AS unknown_parents
FROM first_in_batch('customers_read', customer_id, 0);
CREATE OR REPLACE TEMP TABLE products_resolved AS
SELECT *, batch_date AS loaded_batch, NULL::VARCHAR AS unknown_parents
FROM first_in_batch('products_read', product_id, 0);
CREATE OR REPLACE TEMP TABLE exchange_rates_resolved AS
SELECT *, batch_date AS loaded_batch, NULL::VARCHAR AS unknown_parents
FROM first_in_batch('exchange_rates_read', currency, rate_date);

-- The batch by which each parent key is loaded.
CREATE OR REPLACE TEMP TABLE customers_loaded AS
SELECT customer_id, min(loaded_batch) AS loaded_batch
FROM customers_resolved WHERE NOT duplicate GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE products_loaded AS
SELECT product_id, min(loaded_batch) AS loaded_batch
FROM products_resolved WHERE NOT duplicate GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE orders_resolved AS
SELECT o.*, loaded_in_run(o.batch_date, CASE WHEN c.loaded_batch IS NOT NULL
    THEN greatest(o.batch_date, c.loaded_batch) END) AS loaded_batch,
    'customers customer_id=' || o.customer_id AS unknown_parents
FROM first_in_batch('orders_read', order_id, 0) AS o
LEFT JOIN customers_loaded AS c USING (customer_id);

CREATE OR REPLACE TEMP TABLE orders_loaded AS
SELECT order_id, min(loaded_batch) AS loaded_batch
FROM orders_resolved WHERE NOT duplicate AND loaded_batch IS NOT NULL GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE order_items_resolved AS
SELECT i.*, loaded_in_run(i.batch_date,
        CASE WHEN o.loaded_batch IS NOT NULL AND p.loaded_batch IS NOT NULL
        THEN greatest(i.batch_date, o.loaded_batch, p.loaded_batch) END) AS loaded_batch,
    concat_ws('; ',
        CASE WHEN o.loaded_batch IS NULL THEN 'orders order_id=' || i.order_id END,
        CASE WHEN p.loaded_batch IS NULL THEN 'products product_id=' || i.product_id END
    ) AS unknown_parents
FROM first_in_batch('order_items_read', order_id, line_number) AS i
LEFT JOIN orders_loaded AS o USING (order_id)
LEFT JOIN products_loaded AS p USING (product_id);

CREATE OR REPLACE TEMP TABLE payments_resolved AS
SELECT p.*, loaded_in_run(p.batch_date, CASE WHEN o.loaded_batch IS NOT NULL
    THEN greatest(p.batch_date, o.loaded_batch) END) AS loaded_batch,
    'orders order_id=' || p.order_id AS unknown_parents
FROM first_in_batch('payments_read', payment_id, 0) AS p
LEFT JOIN orders_loaded AS o USING (order_id);

-- ---------------------------------------------------------------- outputs

CREATE OR REPLACE TEMP TABLE staged_customers AS
SELECT customer_id, email, first_name, last_name, country_code, city, signup_ts,
    marketing_opt_in, updated_at, batch_date, source_file, source_line
FROM customers_resolved WHERE NOT duplicate;
CREATE OR REPLACE TEMP TABLE staged_products AS
SELECT product_id, sku, product_name, category, subcategory, brand, unit_price, unit_cost,
    active, updated_at, batch_date, source_file, source_line
FROM products_resolved WHERE NOT duplicate;
CREATE OR REPLACE TEMP TABLE staged_exchange_rates AS
SELECT currency, rate_date, usd_per_unit, batch_date, source_file, source_line
FROM exchange_rates_resolved WHERE NOT duplicate;
CREATE OR REPLACE TEMP TABLE staged_orders AS
SELECT order_id, customer_id, order_ts, status, channel, currency, shipping_amount,
    discount_amount, updated_at, batch_date, source_file, source_line
FROM orders_resolved WHERE NOT duplicate AND loaded_batch IS NOT NULL;
CREATE OR REPLACE TEMP TABLE staged_order_items AS
SELECT order_id, line_number, product_id, quantity, unit_price, discount_amount, batch_date,
    source_file, source_line
FROM order_items_resolved WHERE NOT duplicate AND loaded_batch IS NOT NULL;
CREATE OR REPLACE TEMP TABLE staged_payments AS
SELECT payment_id, order_id, amount, currency, status, created_at, method_type, card_brand,
    card_last4, batch_date, source_file, source_line
FROM payments_resolved WHERE NOT duplicate AND loaded_batch IS NOT NULL;

CREATE OR REPLACE TEMP MACRO quarantined(entity, records, resolved) AS TABLE
    SELECT batch_date, entity AS entity, source_file, source_line AS line_number, reason, detail,
        raw_text
    FROM query_table(records) WHERE reason IS NOT NULL
    UNION ALL
    SELECT batch_date, entity, source_file, source_line, 'duplicate_key',
        'key already read in this batch', raw_text
    FROM query_table(resolved) WHERE duplicate
    UNION ALL
    SELECT batch_date, entity, source_file, source_line, 'orphan_reference',
        'not loaded by the last batch: ' || unknown_parents, raw_text
    FROM query_table(resolved) WHERE NOT duplicate AND loaded_batch IS NULL;

CREATE OR REPLACE TEMP TABLE quarantine AS
SELECT *, 'bench' AS run_id FROM (
    SELECT * FROM quarantined('customers', 'customers_read', 'customers_resolved')
    UNION ALL SELECT * FROM quarantined('products', 'products_read', 'products_resolved')
    UNION ALL
    SELECT * FROM quarantined('exchange_rates', 'exchange_rates_read', 'exchange_rates_resolved')
    UNION ALL SELECT * FROM quarantined('orders', 'orders_read', 'orders_resolved')
    UNION ALL SELECT * FROM quarantined('order_items', 'order_items_read', 'order_items_resolved')
    UNION ALL SELECT * FROM quarantined('payments', 'payments_read', 'payments_resolved')
);

-- Records read, loaded and quarantined per file; every file's read = loaded + quarantined.
CREATE OR REPLACE TEMP TABLE batch_lineage AS
WITH records AS (
    SELECT batch_date, 'customers' AS entity, source_file, 'read' AS fate FROM customers_read
    UNION ALL SELECT batch_date, 'products', source_file, 'read' FROM products_read
    UNION ALL SELECT batch_date, 'exchange_rates', source_file, 'read' FROM exchange_rates_read
    UNION ALL SELECT batch_date, 'orders', source_file, 'read' FROM orders_read
    UNION ALL SELECT batch_date, 'order_items', source_file, 'read' FROM order_items_read
    UNION ALL SELECT batch_date, 'payments', source_file, 'read' FROM payments_read
    UNION ALL SELECT batch_date, 'customers', source_file, 'loaded' FROM staged_customers
    UNION ALL SELECT batch_date, 'products', source_file, 'loaded' FROM staged_products
    UNION ALL
    SELECT batch_date, 'exchange_rates', source_file, 'loaded' FROM staged_exchange_rates
    UNION ALL SELECT batch_date, 'orders', source_file, 'loaded' FROM staged_orders
    UNION ALL SELECT batch_date, 'order_items', source_file, 'loaded' FROM staged_order_items
    UNION ALL SELECT batch_date, 'payments', source_file, 'loaded' FROM staged_payments
    UNION ALL SELECT batch_date, entity, source_file, 'quarantined' FROM quarantine
)
SELECT batch_date, entity, source_file,
    count(*) FILTER (fate = 'read') AS records_read,
    count(*) FILTER (fate = 'loaded') AS records_loaded,
    count(*) FILTER (fate = 'quarantined') AS records_quarantined,
    'bench' AS run_id, now()::TIMESTAMP AS loaded_at
FROM records GROUP BY batch_date, entity, source_file;

-- What only this step needs is let go: the records as read, with their text, and as resolved.
DROP TABLE customers_read; DROP TABLE products_read; DROP TABLE exchange_rates_read;
DROP TABLE orders_read; DROP TABLE order_items_read; DROP TABLE payments_read;
DROP TABLE customers_resolved; DROP TABLE products_resolved; DROP TABLE exchange_rates_resolved;
DROP TABLE orders_resolved; DROP TABLE order_items_resolved; DROP TABLE payments_resolved;
DROP TABLE customers_loaded; DROP TABLE products_loaded; DROP TABLE orders_loaded;

SELECT CASE WHEN count(*) > 0 THEN error('records lost or counted twice in ' || count(*)
    || ' files') END
FROM batch_lineage WHERE records_read <> records_loaded + records_quarantined;

CREATE OR REPLACE TEMP MACRO by_batch(t) AS TABLE
    SELECT *, strftime(batch_date, '%Y-%m-%d') AS batch FROM query_table(t);

COPY (FROM by_batch('staged_customers')) TO '@OUT@/staged/customers'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('staged_products')) TO '@OUT@/staged/products'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('staged_exchange_rates')) TO '@OUT@/staged/exchange_rates'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('staged_orders')) TO '@OUT@/staged/orders'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('staged_order_items')) TO '@OUT@/staged/order_items'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('staged_payments')) TO '@OUT@/staged/payments'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('quarantine')) TO '@OUT@/warehouse/quarantine'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
COPY (FROM by_batch('batch_lineage')) TO '@OUT@/warehouse/batch_lineage'
    (FORMAT parquet, PARTITION_BY (batch), OVERWRITE);
