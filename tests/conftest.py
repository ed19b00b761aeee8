"""Session fixtures: one embedded emulator and one local Spark per test session; the hypothesis
profiles."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from ecomdw.core.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("ECOMDW_TEST_BACKEND", "embedded")

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On LocalStack, what only the ecomdw emulation provides is skipped, with the reason."""
    if BACKEND != "localstack":
        return
    from ecomdw.emulation.localstack import MISSING_IN_COMMUNITY

    for item in items:
        if item.get_closest_marker("ecomdw_emulation"):
            item.add_marker(pytest.mark.skip(reason=MISSING_IN_COMMUNITY))


@pytest.fixture(scope="session")
def emulator_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's AWS: the embedded emulator, or LocalStack on the host when selected."""
    if BACKEND == "localstack":
        from ecomdw.emulation.localstack import LocalStackHost

        with LocalStackHost(ROOT / ".localstack") as localstack:
            yield localstack.endpoint
        return
    from ecomdw.emulation.server import EmbeddedEmulator

    with EmbeddedEmulator(home=tmp_path_factory.mktemp("emulator")) as emulator:
        yield emulator.endpoint


@pytest.fixture
def local_settings(emulator_endpoint: str, tmp_path: Path) -> Settings:
    """`local` settings on the session's emulator, with state in a fresh folder."""
    return Settings(endpoint_url=emulator_endpoint, home=tmp_path / "home")


@contextmanager
def process_time_zone(name: str) -> Iterator[None]:
    """This process's local time zone (`TZ`) set to `name`, and back afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(autouse=True)
def spark_driver_in_utc(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that drives the session's Spark from this process runs in UTC, as a job's driver
    does on Glue (and under the emulator, whose job scripts run with TZ=UTC).

    PySpark converts naive datetimes to and from TimestampType through the Python process's
    local time zone (`time.mktime`, `datetime.fromtimestamp`), whatever
    `spark.sql.session.timeZone` says: elsewhere a wall-clock time the zone skips comes back an
    hour off. Every other test keeps the machine's time zone.
    """
    if "spark" not in request.fixturenames:
        yield
        return
    with process_time_zone("UTC"):
        yield


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from ecomdw.etl.spark import local_spark

    session = local_spark(
        "ecomdw-tests", master="local[2]", conf={"spark.sql.shuffle.partitions": "2"}
    )
    yield session
    session.stop()
