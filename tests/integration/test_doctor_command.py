"""`ecomdw doctor` on this machine: a table of checks, exit 1 when something required is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomdw.cli.main import app
from ecomdw.emulation.services.glue.runtime import RUNTIMES_VARIABLE

pytestmark = pytest.mark.integration


def test_a_missing_glue_runtime_fails_the_doctor(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["doctor"], env={RUNTIMES_VARIABLE: str(tmp_path), "COLUMNS": "200"}
    )
    assert result.exit_code == 1, result.output
    glue = next(line for line in result.output.splitlines() if "Glue 5.0 runtime" in line)
    assert "missing" in glue and str(tmp_path) in glue
    for name in ("Java 17", "PySpark", "DuckDB extensions", "emulator", "LocalStack"):
        assert name in result.output
