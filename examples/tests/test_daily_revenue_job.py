"""The daily revenue Glue job, run as Glue 5.0 runs it, on orders in S3."""

from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOB = ROOT / "jobs" / "daily_revenue.py"
RULES = ROOT / "jobs" / "revenue_rules.py"
ORDERS = ROOT / "data" / "orders" / "orders-0001.csv"


def land_orders(aws) -> str:
    """The example orders in a bucket of this test's own; their folder's s3:// URI."""
    bucket = aws.unique("orders")
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(ORDERS), bucket, f"raw/{ORDERS.name}")
    return f"s3://{bucket}/raw/"


def test_the_job_writes_revenue_per_day(aws, glue_job, spark) -> None:
    source = land_orders(aws)
    target = source.replace("/raw/", "/daily_revenue/")

    run = glue_job(JOB, {"--source": source, "--target": target}, extra_py_files=[RULES])

    assert run.state == "SUCCEEDED", (run.error, run.error_logs)
    assert f"{run.job_name}: 2 day(s) of revenue written to {target}" in run.logs
    written = spark.read.parquet(target).orderBy("order_date").collect()
    assert [tuple(row) for row in written] == [
        (date(2026, 3, 1), 2, Decimal("14.75")),
        (date(2026, 3, 2), 2, Decimal("25.00")),
    ]


def test_a_run_without_its_source_fails_as_on_glue(glue_job) -> None:
    run = glue_job(JOB, {"--target": "s3://nowhere/out/"}, extra_py_files=[RULES])

    assert run.state == "FAILED"
    assert "--source" in run.error
