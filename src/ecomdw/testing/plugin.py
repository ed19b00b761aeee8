"""The pytest plugin (entry point `pytest11`: `ecomdw`): fixtures for testing Glue jobs, Redshift
SQL, state machines and Spark against the embedded emulator, LocalStack or AWS.

    def test_my_job(aws, glue_job):
        aws("s3").create_bucket(Bucket=aws.unique("data"))
        run = glue_job("jobs/clean_orders.py", {"--source": "s3://..."})
        assert run.state == "SUCCEEDED", run.error

Fixtures: `aws_emulator` (session), `aws`, `glue_job`, `redshift`, `state_machine`, `spark`
(session). `--ecomdw-target` (or `ECOMDW_TEST_TARGET`) picks what they run against; see
`ecomdw.testing.targets` and docs/pytest-plugin.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from ecomdw.testing.options import TARGET_VARIABLE, Target

# What the fixtures run on is imported when a test asks for them: loading the plugin (in every
# pytest session of an environment holding ecomdw) imports nothing but these.
if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ecomdw.testing.glue import GlueJobs
    from ecomdw.testing.states import StateMachines
    from ecomdw.testing.targets import AwsAccount, AwsTarget
    from ecomdw.testing.warehouse import Warehouse

EMULATION_MARKER = "ecomdw_emulation"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ecomdw", "ecomdw: Glue, Redshift and Step Functions offline")
    group.addoption(
        "--ecomdw-target",
        choices=[target.value for target in Target],
        default=os.environ.get(TARGET_VARIABLE, Target.EMULATOR.value),
        help="what the ecomdw fixtures run against: the embedded emulator (default), "
        "LocalStack, or AWS as boto3 is configured for it (AWS_ENDPOINT_URL, AWS_REGION, "
        f"credentials; the ECOMDW_TEST_* variables). Default from {TARGET_VARIABLE}.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EMULATION_MARKER}: needs what only ecomdw's emulation runs (Glue job runs, the "
        "Redshift Data API, crawlers, Step Functions integrations); skipped on LocalStack",
    )


def target_of(config: pytest.Config) -> Target:
    return Target(config.getoption("--ecomdw-target"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"ecomdw target: {target_of(config).value}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On LocalStack, what only ecomdw's emulation provides is skipped, with the reason."""
    if target_of(config) is not Target.LOCALSTACK:
        return
    from ecomdw.emulation.localstack import MISSING_IN_COMMUNITY

    for item in items:
        if item.get_closest_marker(EMULATION_MARKER):
            item.add_marker(pytest.mark.skip(reason=MISSING_IN_COMMUNITY))


@pytest.fixture(scope="session")
def aws_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AwsTarget]:
    """The session's AWS: the embedded emulator (started once), LocalStack, or AWS itself.

    `.endpoint` is its URL (None on AWS), `.client("s3")` a boto3 client of it, `.settings`
    the ecomdw settings every client, Spark and DuckDB connection is made from.
    """
    from ecomdw.core.errors import UserError
    from ecomdw.core.names import Environment
    from ecomdw.core.settings import load_settings
    from ecomdw.testing.targets import AwsTarget, aws_settings

    target = target_of(request.config)
    if target is Target.AWS:
        try:
            settings = aws_settings(os.environ)
        except UserError as error:
            raise pytest.UsageError(str(error)) from None
        yield AwsTarget(target, settings)
        return
    if target is Target.LOCALSTACK:
        from ecomdw.emulation.localstack import LocalStackHost

        with LocalStackHost(request.config.rootpath / ".localstack") as localstack:
            home = tmp_path_factory.mktemp("localstack-home")
            settings = load_settings(
                env=Environment.LOCAL, endpoint_url=localstack.endpoint, home=home
            )
            yield AwsTarget(target, settings)
        return
    from ecomdw.emulation.server import EmbeddedEmulator

    home = tmp_path_factory.mktemp("emulator")
    with EmbeddedEmulator(home=home) as emulator:
        settings = load_settings(env=Environment.LOCAL, endpoint_url=emulator.endpoint, home=home)
        yield AwsTarget(target, settings, resetter=emulator.reset)


@pytest.fixture
def aws(aws_emulator: AwsTarget) -> AwsAccount:
    """boto3 clients for this test (`aws("s3")`), on an emulator emptied for it.

    The emulator forgets every resource before each test that asks for `aws` (moto's reset,
    cheaper than a new emulator and, unlike a fresh account id, clearing S3's global bucket
    names and what the emulation's Glue, Data API and Step Functions keep). LocalStack and AWS
    are not emptied: `aws.unique("name")` names what a test makes so that tests keep apart.
    """
    from ecomdw.testing.targets import AwsAccount

    aws_emulator.reset()
    return AwsAccount(aws_emulator)


def _needs_emulation(account: AwsAccount, what: str) -> None:
    if account.target.target is Target.LOCALSTACK:
        from ecomdw.emulation.localstack import MISSING_IN_COMMUNITY

        pytest.skip(f"{what}: {MISSING_IN_COMMUNITY}")


@pytest.fixture
def glue_job(aws: AwsAccount) -> GlueJobs:
    """Run a script as a Glue 5.0 job: `glue_job(path_or_text, {"--key": "value"})` returns
    the finished run (`.state`, `.error`, `.logs`, `.error_logs`, `.duration`)."""
    from ecomdw.testing.glue import GlueJobs

    _needs_emulation(aws, "Glue job runs")
    return GlueJobs(aws)


@pytest.fixture
def redshift(aws: AwsAccount, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """Redshift SQL with Redshift's semantics on a warehouse of this test's own:
    `.execute(sql)`, `.query(sql)`, `.run_file(path)`, `.load(table, folder)`.

    In an emulator (or on LocalStack) a fresh DuckDB file behind ecomdw's Redshift translator;
    on AWS the database the `ECOMDW_TEST_REDSHIFT_*` variables name, through the Data API.
    """
    from ecomdw.core.errors import UserError
    from ecomdw.testing.warehouse import open_warehouse

    try:
        warehouse = open_warehouse(aws, tmp_path_factory.mktemp("warehouse"))
    except UserError as error:
        raise pytest.UsageError(str(error)) from None
    yield warehouse
    warehouse.close()


@pytest.fixture
def state_machine(aws: AwsAccount) -> StateMachines:
    """Execute a state machine to its end: `state_machine(asl_or_pipeline, input)` returns the
    execution (`.status`, `.output`, `.error`, `.cause`, `.history`, `.states_entered`)."""
    from ecomdw.testing.states import StateMachines

    return StateMachines(aws)


@pytest.fixture(scope="session")
def spark(aws_emulator: AwsTarget) -> Iterator[SparkSession]:
    """A local SparkSession (Spark 3.5, Java 17, UTC: as Glue 5.0) whose `s3://` paths are the
    session's S3. Tests that use it run in UTC (`spark_driver_in_utc`)."""
    from ecomdw.core.aws import spark_s3_conf
    from ecomdw.etl.spark import local_spark

    conf = {**spark_s3_conf(aws_emulator.settings), "spark.sql.shuffle.partitions": "2"}
    session = local_spark("ecomdw-tests", master="local[2]", conf=conf)
    yield session
    session.stop()


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
    """A test that drives a session's Spark from this process runs in UTC, as a job's driver
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
