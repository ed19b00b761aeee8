"""Session fixtures: one embedded emulator (the ecomdw plugin's `aws_emulator`) and one local
Spark per test session; the hypothesis profiles.

The plugin (`ecomdw.testing.plugin`, loaded by its entry point) also runs tests that drive Spark
in UTC, and on LocalStack (`--ecomdw-target=localstack`, or ECOMDW_TEST_TARGET) skips those
marked `ecomdw_emulation`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from ecomdw.core.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ecomdw.testing.targets import AwsTarget

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# `ci`, the default: the same examples on every run and machine (derandomized, no example
# database, nothing timed), so a failure in CI is the same failure on a laptop. `dev`
# (HYPOTHESIS_PROFILE=dev, or --hypothesis-profile=dev) explores: random examples, ten times as
# many (`scaled` in tests/property/budget.py scales each test's count), failures kept in
# .hypothesis/ and tried first on the next run.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def emulator_endpoint(aws_emulator: AwsTarget) -> str:
    """The session's AWS: the embedded emulator, or LocalStack on the host when selected."""
    assert aws_emulator.endpoint is not None, "the project's tests run on an emulator"
    return aws_emulator.endpoint


@pytest.fixture
def local_settings(emulator_endpoint: str, tmp_path: Path) -> Settings:
    """`local` settings on the session's emulator, with state in a fresh folder."""
    return Settings(endpoint_url=emulator_endpoint, home=tmp_path / "home")


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from ecomdw.etl.spark import local_spark

    session = local_spark(
        "ecomdw-tests", master="local[2]", conf={"spark.sql.shuffle.partitions": "2"}
    )
    yield session
    session.stop()
