"""Glue 5.0 job: orders (CSV with a header) -> revenue per day (Parquet).

Arguments: --source (an s3:// folder of order CSVs), --target (an s3:// folder to write).
"""

import sys

from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession
from pyspark.sql import functions as fn
from pyspark.sql.types import BooleanType
from revenue_rules import counts_as_revenue

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
spark = SparkSession.builder.appName(args["JOB_NAME"]).getOrCreate()

orders = spark.read.option("header", True).csv(args["source"])
is_revenue = fn.udf(counts_as_revenue, BooleanType())
daily = (
    orders.where(is_revenue("status"))
    .groupBy(fn.col("order_date").cast("date").alias("order_date"))
    .agg(
        fn.count("*").alias("orders"),
        fn.sum(fn.col("amount").cast("decimal(18,2)")).cast("decimal(18,2)").alias("revenue"),
    )
)
daily.write.mode("overwrite").parquet(args["target"])
print(f"{args['JOB_NAME']}: {daily.count()} day(s) of revenue written to {args['target']}")
