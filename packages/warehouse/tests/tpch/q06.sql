-- TPC-H Q6 in Redshift's dialect
SELECT
    sum(l_extendedprice * l_discount) AS revenue
FROM
    lineitem
WHERE
    l_shipdate >= '1994-01-01'::date
    AND l_shipdate < '1994-01-01'::date + interval '1 year'
    AND l_discount BETWEEN 0.05
    AND 0.07
    AND l_quantity < 24;
