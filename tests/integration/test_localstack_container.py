"""LocalStack in a Docker container (testcontainers) serves the client factory's S3.

Runs only where a Docker daemon answers and the image is among the local Docker images already
(the test run pulls nothing); otherwise it skips saying what is missing. The whole integration
tier runs against such a container with `nox -s localstack -- --docker`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.localstack import LocalStackDocker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def container_endpoint() -> Iterator[str]:
    localstack = LocalStackDocker()
    if missing := localstack.missing():
        pytest.skip("LocalStack in Docker: " + "; ".join(missing))
    if not localstack.image_present():
        pytest.skip(
            f"LocalStack in Docker: {localstack.image} is not among the local Docker images; "
            f"`docker pull {localstack.image}` (the test run pulls nothing)"
        )
    with localstack:
        yield localstack.endpoint


def test_container_serves_s3_to_boto3_and_pyarrow(container_endpoint: str, tmp_path: Path) -> None:
    settings = Settings(endpoint_url=container_endpoint, home=tmp_path / "home")
    ensure_bucket("ecomdw-container", settings)
    client("s3", settings).put_object(Bucket="ecomdw-container", Key="raw/a.txt", Body=b"x")
    pq.write_table(
        pa.table({"order_id": [1, 2]}),
        "ecomdw-container/processed/orders.parquet",
        filesystem=s3_filesystem(settings),
    )

    listed = client("s3", settings).list_objects_v2(Bucket="ecomdw-container")["Contents"]
    assert sorted(item["Key"] for item in listed) == [
        "processed/orders.parquet",
        "raw/a.txt",
    ]
    table = pq.read_table(
        "ecomdw-container/processed/orders.parquet", filesystem=s3_filesystem(settings)
    )
    assert table.column("order_id").to_pylist() == [1, 2]
