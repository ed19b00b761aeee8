"""Glue crawlers in the emulator read S3 and create or update catalog tables and partitions."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.emulation.services.glue.crawlers import CRAWLER_LOG_GROUP

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]

BUCKET = "crawled-lake"
ROLE = "arn:aws:iam::123456789012:role/ecomdw-glue"


def put_parquet(settings: Settings, key: str, table: pa.Table, bucket: str = BUCKET) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    client("s3", settings).put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


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


def test_an_emulator_stopping_mid_crawl_cancels_the_crawl_and_waits_for_it(
    local_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StartCrawler is asynchronous: an emulator that stops with a crawl running must not leave
    it to fail against a server that is gone (its thread raising at the crawl's log)."""
    failed: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", failed.append)
    tables = 60
    with EmbeddedEmulator(home=tmp_path) as second:
        settings = Settings(endpoint_url=second.endpoint, home=tmp_path / "home")
        ensure_bucket("crawled-wide", settings)
        for n in range(tables):
            put_parquet(
                settings, f"wide/t{n:02d}/part.parquet", pa.table({"n": [n]}), "crawled-wide"
            )
        glue = client("glue", settings)
        glue.create_database(DatabaseInput={"Name": "crawled_wide"})
        glue.create_crawler(
            Name="wide",
            Role=ROLE,
            DatabaseName="crawled_wide",
            Targets={"S3Targets": [{"Path": "s3://crawled-wide/wide/"}]},
        )
        glue.start_crawler(Name="wide")
        deadline = time.monotonic() + 30
        while not glue.get_tables(DatabaseName="crawled_wide")["TableList"]:
            assert time.monotonic() < deadline, "the crawl wrote no table"
            time.sleep(0.05)
        assert glue.get_crawler(Name="wide")["Crawler"]["State"] == "RUNNING"

    for thread in [t for t in threading.enumerate() if t.name == "crawl-wide"]:
        thread.join(timeout=60)
    assert failed == []
    # moto's backends are the process's: the session's emulator sees how the crawl ended.
    glue = client("glue", local_settings)
    crawler = glue.get_crawler(Name="wide")["Crawler"]
    assert (crawler["State"], crawler["LastCrawl"]["Status"]) == ("READY", "CANCELLED")
    assert len(glue.get_tables(DatabaseName="crawled_wide")["TableList"]) < tables
