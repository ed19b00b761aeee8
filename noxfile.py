"""Every developer and CI entry point.

All sessions share the one workspace environment (`.venv`, from `uv.lock`): `uv sync --frozen`
keeps it exactly at the lock, so a session is as fast as its work, not as its install.
The test sessions mirror the pytest tiers; `python3 dev.py test` runs every session tagged
`test`, which is what CI runs.
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "none"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "unit", "property", "integration", "e2e"]

PACKAGES = [
    "packages/core/src",
    "packages/etl/src",
    "packages/warehouse/src",
    "packages/infra/src",
    "emulation/src",
    "src",
]


def _sync(session: nox.Session) -> None:
    """The workspace at the lock, and the Glue 5.0 environment job scripts run in."""
    session.run("uv", "sync", "--frozen", "--all-packages", "--quiet", external=True)
    _run(session, "python", "-m", "ecomdw.emulation.services.glue.runtime", "build")


def _run(session: nox.Session, *args: str) -> None:
    session.run("uv", "run", "--frozen", "--no-sync", *args, external=True)


def _pytest(session: nox.Session, marker: str) -> None:
    _sync(session)
    workers = os.environ.get("ECOMDW_TEST_ARGS", "")
    _run(session, "pytest", "-m", marker, *workers.split(), *session.posargs)


@nox.session(tags=["test"])
def lint(session: nox.Session) -> None:
    """ruff and mypy, clean in every package."""
    _sync(session)
    _run(session, "ruff", "check", ".")
    _run(session, "ruff", "format", "--check", ".")
    _run(session, "mypy", *PACKAGES)


@nox.session(tags=["test"])
def unit(session: nox.Session) -> None:
    """Pure code: seconds, no emulator, no Spark."""
    _pytest(session, "unit")


@nox.session(tags=["test"])
def property(session: nox.Session) -> None:
    """hypothesis over the model's strategies."""
    _pytest(session, "property")


@nox.session(tags=["test"])
def integration(session: nox.Session) -> None:
    """Against the embedded emulator, a real DuckDB and local Spark."""
    _pytest(session, "integration")


@nox.session(tags=["test"])
def e2e(session: nox.Session) -> None:
    """The main job, end to end, as a user runs it."""
    _pytest(session, "e2e")


@nox.session
def localstack(session: nox.Session) -> None:
    """The integration tier against LocalStack on the host (Python 3.13, no Docker, no token).

    `nox -s localstack -- --docker [pytest args]`: against LocalStack in a Docker container
    instead (a Docker daemon; LOCALSTACK_AUTH_TOKEN for current images, see
    `ecomdw.emulation.localstack`), which says what is missing and fails when it cannot start.
    """
    _sync(session)
    session.env["ECOMDW_TEST_TARGET"] = "localstack"
    args = [arg for arg in session.posargs if arg != "--docker"]
    pytest = ["pytest", "-m", "integration", *args]
    if "--docker" in session.posargs:
        _run(session, "python", "-m", "ecomdw.emulation.localstack", "docker", "--", *pytest)
    else:
        _run(session, *pytest)


@nox.session
def pipeline(session: nox.Session) -> None:
    """The main job on the embedded default (the README's first command)."""
    _sync(session)
    _run(session, "ecomdw", "run", *session.posargs)


@nox.session
def infra(session: nox.Session) -> None:
    """`ecomdw infra ...` (CI's deploy and promote jobs run it this way)."""
    _sync(session)
    _run(session, "ecomdw", "infra", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks; prints tables of ratios against in-run baselines."""
    _sync(session)
    _run(session, "python", "-m", "benchmarks", *session.posargs)
