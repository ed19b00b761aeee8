"""`ecomdw doctor`'s checks: what each finds, and the advice when something is missing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from ecomdw.cli.doctor import (
    Check,
    credentials_check,
    duckdb_extensions_check,
    emulator_check,
    glue_runtime_check,
    java_check,
    localstack_check,
    pyspark_check,
    report,
)
from ecomdw.core.duckdb_session import WHEEL_EXTENSIONS, extension_path
from ecomdw.emulation.services.glue.runtime import RUNTIMES_VARIABLE, GlueRuntime
from ecomdw.etl.spark import JavaMissingError

pytestmark = pytest.mark.unit


def test_java_found_or_the_install_advice() -> None:
    assert java_check(lambda: Path("/opt/jdk17")) == Check("Java 17", "/opt/jdk17")

    def none() -> Path:
        raise JavaMissingError("Spark needs Java 17 and none was found: install OpenJDK 17")

    missing = java_check(none)
    assert not missing.ok and missing.required and "OpenJDK 17" in missing.fix


def test_pyspark_importable_or_setup() -> None:
    import pyspark

    assert pyspark_check(lambda: pyspark).found == f"pyspark {pyspark.__version__}"

    def absent() -> object:
        raise ImportError("No module named 'pyspark'")

    missing = pyspark_check(absent)
    assert not missing.ok and "dev.py" in missing.fix


def test_glue_runtime_built_or_how_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNTIMES_VARIABLE, str(tmp_path))
    runtime = GlueRuntime("5.0")
    missing = glue_runtime_check(runtime.version, runtime.ready(), runtime.root)
    assert not missing.ok and "runtime build" in missing.fix and str(tmp_path) in missing.fix
    built = glue_runtime_check("5.0", True, runtime.root)
    assert built.ok and built.found == str(runtime.root)


def test_duckdb_extensions_from_the_installed_wheels() -> None:
    assert duckdb_extensions_check(WHEEL_EXTENSIONS, extension_path).ok
    missing = duckdb_extensions_check(("httpfs", "nosuch"), extension_path)
    assert not missing.ok and "duckdb-extension-nosuch" in missing.fix
    assert "httpfs" not in missing.fix


def test_the_long_lived_emulator_is_used_else_an_embedded_one_starts() -> None:
    started: list[str] = []

    def start() -> str:
        started.append("embedded")
        return "http://127.0.0.1:1234"

    up = emulator_check("http://127.0.0.1:5000", start)
    assert up.ok and "long-lived" in (up.found or "") and not started
    embedded = emulator_check(None, start)
    assert embedded.ok and started == ["embedded"] and "127.0.0.1:1234" in (embedded.found or "")

    def broken() -> str:
        raise OSError("address in use")

    missing = emulator_check(None, broken)
    assert not missing.ok and missing.required and "address in use" in missing.fix


def test_localstack_is_optional_and_says_which_ways_exist() -> None:
    none = localstack_check(None, False, None, "no Docker daemon")
    assert not none.ok and not none.required and "Python 3.13" in none.fix
    host = localstack_check(None, False, "/usr/bin/python3.13", "no Docker daemon")
    assert host.found == "on the host with /usr/bin/python3.13"
    everything = localstack_check("http://127.0.0.1:4566", True, None, None)
    assert everything.found == "listening at http://127.0.0.1:4566; in Docker"
    dead = localstack_check("http://127.0.0.1:4566", False, None, "no Docker daemon")
    assert not dead.ok and "nothing answers at http://127.0.0.1:4566" in dead.fix


def test_credentials_say_where_they_come_from_never_the_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADOCTORTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "doctor-secret")
    session = boto3.Session(region_name="eu-west-1")
    credentials = session.get_credentials()
    assert credentials is not None
    check = credentials_check(credentials.method, session.region_name)
    assert check == Check("AWS credentials", "from env, region eu-west-1", required=False)
    missing = credentials_check(None, None)
    assert not missing.ok and not missing.required and "aws configure" in missing.fix


def test_the_report_folds_long_advice_rather_than_cutting_it() -> None:
    checks = [
        Check("Java 17", "/usr/lib/jvm/java-17"),
        glue_runtime_check("5.0", False, Path("/a/very/long/path/to/the/runtimes/glue-5.0")),
    ]
    console = Console(file=io.StringIO(), width=60)
    console.print(report(checks))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in text and "missing" in text and "ok" in text
    assert "runtime build" in "".join(line.strip("│ ") for line in text.splitlines())
