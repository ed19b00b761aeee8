"""Glue crawlers in the emulator read S3 and create or update catalog tables and partitions."""

from __future__ import annotations

import io
import time
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.services.glue.crawlers import CRAWLER_LOG_GROUP

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]

BUCKET = "crawled-lake"
ROLE = "arn:aws:iam::123456789012:role/ecomdw-glue"


def put_parquet(settings: Settings, key: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    client("s3", settings).put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())


def put_orders(settings: Settings, batch_date: str, **extra: pa.Array) -> None:
    columns = {"order_id": pa.array([1, 2], pa.int64()), "total": pa.array([10.5, 4.25])}
    put_parquet(
        settings,
        f"processed/orders/batch_date={batch_date}/part-00000.snappy.parquet",
        pa.table({**columns, **extra}),
    )


def crawl(settings: Settings, name: str, within: float = 30) -> Any:
    glue = client("glue", settings)
    glue.start_crawler(Name=name)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        time.sleep(0.1)
    raise AssertionError(f"crawler {name} still {crawler['State']} after {within}s")


def columns_of(settings: Settings, database: str, table: str) -> dict[str, str]:
    described = client("glue", settings).get_table(DatabaseName=database, Name=table)["Table"]
    return {c["Name"]: c["Type"] for c in described["StorageDescriptor"]["Columns"]}


def test_crawler_catalogs_partitioned_parquet_and_csv_and_follows_changes(
    local_settings: Settings,
) -> None:
    ensure_bucket(BUCKET, local_settings)
    s3, glue = client("s3", local_settings), client("glue", local_settings)
    for batch_date in ("2026-01-01", "2026-01-02"):
        put_orders(local_settings, batch_date)
    s3.put_object(Bucket=BUCKET, Key="processed/orders/_SUCCESS", Body=b"")
    s3.put_object(
        Bucket=BUCKET,
        Key="raw/customers/customers.csv",
        Body=b"customer_id,email,active\n7,a@example.com,true\n8,b@example.com,false\n",
    )
    glue.create_crawler(
        Name="lake",
        Role=ROLE,
        DatabaseName="crawled",
        TablePrefix="lake_",
        Targets={
            "S3Targets": [
                {"Path": f"s3://{BUCKET}/processed/"},
                {"Path": f"s3://{BUCKET}/raw/customers"},
            ]
        },
    )

    crawler = crawl(local_settings, "lake")

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="crawled")["TableList"]}
    assert set(tables) == {"lake_orders", "lake_customers"}
    orders = tables["lake_orders"]
    assert orders["Parameters"]["classification"] == "parquet"
    assert orders["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/processed/orders/"
    assert orders["PartitionKeys"] == [{"Name": "batch_date", "Type": "string"}]
    assert columns_of(local_settings, "crawled", "lake_orders") == {
        "order_id": "bigint",
        "total": "double",
    }
    partitions = glue.get_partitions(DatabaseName="crawled", TableName="lake_orders")
    assert sorted(
        (p["Values"], p["StorageDescriptor"]["Location"]) for p in partitions["Partitions"]
    ) == [
        (["2026-01-01"], f"s3://{BUCKET}/processed/orders/batch_date=2026-01-01/"),
        (["2026-01-02"], f"s3://{BUCKET}/processed/orders/batch_date=2026-01-02/"),
    ]
    assert tables["lake_customers"]["Parameters"]["classification"] == "csv"
    assert columns_of(local_settings, "crawled", "lake_customers") == {
        "customer_id": "bigint",
        "email": "string",
        "active": "boolean",
    }
    events = client("logs", local_settings).get_log_events(
        logGroupName=CRAWLER_LOG_GROUP, logStreamName="lake"
    )["events"]
    assert any("Created table lake_orders" in e["message"] for e in events)

    put_orders(local_settings, "2026-01-03", channel=pa.array(["web", "app"]))
    assert crawl(local_settings, "lake")["LastCrawl"]["Status"] == "SUCCEEDED"

    assert columns_of(local_settings, "crawled", "lake_orders") == {
        "order_id": "bigint",
        "total": "double",
        "channel": "string",
    }
    partitions = glue.get_partitions(DatabaseName="crawled", TableName="lake_orders")
    assert len(partitions["Partitions"]) == 3


def test_crawl_of_a_missing_bucket_fails_saying_why(local_settings: Settings) -> None:
    client("glue", local_settings).create_crawler(
        Name="nowhere",
        Role=ROLE,
        DatabaseName="crawled_nowhere",
        Targets={"S3Targets": [{"Path": "s3://no-such-bucket/data/"}]},
    )

    last = crawl(local_settings, "nowhere")["LastCrawl"]

    assert last["Status"] == "FAILED"
    assert "NoSuchBucket" in last["ErrorMessage"]
