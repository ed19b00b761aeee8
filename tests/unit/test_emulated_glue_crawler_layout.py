"""How the emulated crawler groups S3 keys into tables and partitions."""

from __future__ import annotations

import pytest

from ecomdw.core.storage import S3Location
from ecomdw.emulation.services.glue.crawlers import find_tables

pytestmark = pytest.mark.unit


def test_folders_above_key_value_folders_are_tables_and_the_rest_is_skipped() -> None:
    keys = [
        "lake/orders/batch_date=2026-01-01/region=eu/part-0.parquet",
        "lake/orders/batch_date=2026-01-01/region=us/part-0.parquet",
        "lake/orders/_SUCCESS",
        "lake/orders/_temporary/0/part-9.parquet",
        "lake/orders/batch_date=2026-01-02/region=eu/part-0.csv",
        "lake/orders/batch_date=2026-01-02/late/part-0.parquet",
        "lake/customers/customers.csv",
        "lake/customers/README.txt",
        "lake/scratch/tmp.parquet",
    ]

    tables, skipped = find_tables(S3Location.parse("s3://b/lake"), keys, ["scratch/**"], "raw_")

    by_name = {table.name: table for table in tables}
    assert set(by_name) == {"raw_orders", "raw_customers"}
    orders = by_name["raw_orders"]
    assert orders.location == "s3://b/lake/orders/"
    assert orders.partition_keys == ("batch_date", "region")
    assert orders.partitions == {
        ("2026-01-01", "eu"): "s3://b/lake/orders/batch_date=2026-01-01/region=eu/",
        ("2026-01-01", "us"): "s3://b/lake/orders/batch_date=2026-01-01/region=us/",
    }
    assert by_name["raw_customers"].files == ["b/lake/customers/customers.csv"]
    assert skipped == [
        "lake/orders/batch_date=2026-01-02/region=eu/part-0.csv: its format or partition keys "
        "differ from raw_orders's",
        "lake/orders/batch_date=2026-01-02/late/part-0.parquet: a plain folder below a "
        "key=value partition folder",
        "lake/customers/README.txt: neither parquet nor CSV",
    ]


def test_files_directly_under_the_target_are_one_table_named_after_it() -> None:
    keys = ["exports/Daily-Sales/p=1/a.parquet", "exports/Daily-Sales/p=2/b.parquet"]

    (table,), skipped = find_tables(S3Location.parse("s3://b/exports/Daily-Sales/"), keys, [], "")

    assert (table.name, table.location, skipped) == (
        "daily_sales",
        "s3://b/exports/Daily-Sales/",
        [],
    )
    assert sorted(table.partitions) == [("1",), ("2",)]
