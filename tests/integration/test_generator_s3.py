"""`generate` to an s3:// URI on the emulator writes what it writes to a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdw.core.aws import client
from ecomdw.core.generator import GeneratorConfig, OutputNotEmptyError, generate
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(seed=4, customers=40, products=20, orders=80, days=3, defect_rate=0.05)


def s3_tree(settings: Settings, bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = client("s3", settings)
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            objects[item["Key"].removeprefix(prefix)] = body
    return objects


def test_s3_target_gets_the_same_bytes_as_a_folder(
    local_settings: Settings, tmp_path: Path
) -> None:
    ensure_bucket("generated", local_settings)
    generate(CONFIG, "s3://generated/raw", settings=local_settings)
    generate(CONFIG, tmp_path)
    local = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*.*")}
    assert s3_tree(local_settings, "generated", "raw/") == local

    with pytest.raises(OutputNotEmptyError):
        generate(CONFIG, "s3://generated/raw", settings=local_settings)
    shorter = GeneratorConfig(**{**CONFIG.__dict__, "days": 1})
    generate(shorter, "s3://generated/raw", overwrite=True, settings=local_settings)
    assert {k.split("/")[1] for k in s3_tree(local_settings, "generated", "raw/") if "/" in k} == {
        "ingest_date=2026-01-01"
    }
