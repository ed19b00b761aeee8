"""The error conformance list through the emulated Data API and through `ecomdw query`.

DescribeStatement's `Error` is `ERROR: ` and Redshift's message for every case, and the Data
API executor reads each back as the same Redshift error (SQLSTATE told by its words, as the
Data API reports none) that the DuckDB executor raises.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from ecomdw.cli.main import main
from ecomdw.core.settings import Settings
from ecomdw.warehouse.error_conformance import COMMON_SETUP, load_error_cases
from ecomdw.warehouse.executors import RedshiftDataApiExecutor, WarehouseError

from .test_emulated_redshift_data import DataApi

pytestmark = [pytest.mark.integration, pytest.mark.duckdb]

# The Data API has no read-only session: those cases run through `ecomdw query` only.
CASES = [case for case in load_error_cases() if not case.read_only]


@pytest.mark.ecomdw_emulation
def test_every_case_fails_with_redshifts_error_text(local_settings: Settings) -> None:
    data_api = DataApi(local_settings)
    setup = [*COMMON_SETUP.split(";"), *(s for c in CASES if c.setup for s in c.setup.split(";"))]
    assert data_api.wait(data_api.start_batch(setup))["Status"] == "FINISHED"
    answers = {case.name: data_api.run(case.sql).get("Error") for case in CASES}
    assert answers == {case.name: f"ERROR: {case.message}" for case in CASES}


@pytest.mark.ecomdw_emulation
def test_the_data_api_executor_reads_back_the_code_and_message(local_settings: Settings) -> None:
    executor = RedshiftDataApiExecutor(
        local_settings, cluster_identifier=f"errors-{uuid.uuid4().hex[:12]}", database="dev"
    )
    executor.run(COMMON_SETUP)
    for case in CASES:
        if case.setup:
            executor.run(case.setup)
    answers: dict[str, tuple[str, str]] = {}
    for case in CASES:
        with pytest.raises(WarehouseError) as caught:
            executor.run(case.sql)
        answers[case.name] = (caught.value.redshift.sqlstate, caught.value.redshift.message)
    assert answers == {case.name: (case.sqlstate, case.message) for case in CASES}


def _ecomdw(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int | str | None, str]:
    """`ecomdw ARGS` run in this process (the CLI's own entry point): exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["ecomdw", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr().err.strip()


def test_ecomdw_query_answers_in_redshifts_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    assert (
        _ecomdw(monkeypatch, capsys, "query", "--write", "--warehouse", warehouse, COMMON_SETUP)[0]
        == 0
    )
    for case in load_error_cases():
        expected = f"error: ERROR: {case.message}"
        if case.read_only:
            expected += " (the warehouse opens read-only: pass --write)"
        write = [] if case.read_only else ["--write"]
        sql = f"{case.setup}; {case.sql}" if case.setup else case.sql
        assert _ecomdw(monkeypatch, capsys, "query", *write, "--warehouse", warehouse, sql) == (
            1,
            expected,
        ), case.name
