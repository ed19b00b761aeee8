"""The emulator's faster S3 listing (`ecomdw.emulation.moto_speed`) answers as S3 does."""

from __future__ import annotations

import pytest

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings

pytestmark = pytest.mark.integration

KEYS = [
    "t/batch=2026-01-01/part-0.parquet",
    "t/batch=2026-01-01/part-1.parquet",
    "t/batch=2026-01-02/part-0.parquet",
    "t/batch=2026-01-02/",
    "t/_temporary/0/x",
    "t/top.json",
    "u/batch=2026-01-01/part-0.parquet",
    "tt/other",
]


def _listing(s3: object, bucket: str, **request: object) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    folders: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **request):  # type: ignore[attr-defined]
        keys += [o["Key"] for o in page.get("Contents", [])]
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return keys, folders


def test_prefix_delimiter_pages_and_deleted_keys(local_settings: Settings) -> None:
    s3 = client("s3", local_settings)
    bucket = "listing-speed"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in [*KEYS, "t/batch=2026-01-03/gone"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # A delete marker hides the key, and with it its folder, as on S3.
    s3.delete_object(Bucket=bucket, Key="t/batch=2026-01-03/gone")

    assert _listing(s3, bucket, Prefix="t/", Delimiter="/") == (
        ["t/top.json"],
        ["t/_temporary/", "t/batch=2026-01-01/", "t/batch=2026-01-02/"],
    )
    assert _listing(s3, bucket, Prefix="t/batch=2026-01-0", PaginationConfig={"PageSize": 1}) == (
        [
            "t/batch=2026-01-01/part-0.parquet",
            "t/batch=2026-01-01/part-1.parquet",
            "t/batch=2026-01-02/",
            "t/batch=2026-01-02/part-0.parquet",
        ],
        [],
    )
    assert _listing(s3, bucket, Prefix="t/batch=2026-01-03/") == ([], [])
    assert _listing(s3, bucket, Delimiter="/") == ([], ["t/", "tt/", "u/"])
    everything, _ = _listing(s3, bucket, PaginationConfig={"PageSize": 3})
    assert everything == sorted(KEYS)
    v1 = s3.list_objects(Bucket=bucket, Prefix="t/b", Delimiter="=", MaxKeys=10)
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["t/batch="]
