-- Revenue per sales channel, from the staged orders (a Redshift SQL model).
DROP TABLE IF EXISTS channel_revenue;

CREATE TABLE channel_revenue
DISTSTYLE ALL
SORTKEY (channel)
AS
SELECT
    channel,
    COUNT(*) AS orders,
    SUM(amount)::DECIMAL(18, 2) AS revenue,
    -- Redshift's integer division: whole percent of the orders that were revenue.
    (100 * COUNT(*) / NULLIF(MAX(all_orders), 0))::INTEGER AS revenue_share_pct
FROM (
    SELECT
        channel,
        status,
        amount,
        COUNT(*) OVER (PARTITION BY channel) AS all_orders
    FROM stg_orders
) AS staged
WHERE status IN ('paid', 'shipped', 'delivered')
GROUP BY channel;
