"""Session fixtures: one embedded emulator and one local Spark per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ecomdw.core.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def emulator_endpoint() -> Iterator[str]:
    from ecomdw.emulation.server import EmbeddedEmulator

    with EmbeddedEmulator() as emulator:
        yield emulator.endpoint


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
