"""The executor contract, once per engine: DuckDB directly, and Redshift via the Data API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecomdw.core.settings import Settings
from ecomdw.warehouse.executors import DuckDBExecutor, Executor, RedshiftDataApiExecutor

from .executor_contract import ExecutorContract

pytestmark = [pytest.mark.integration, pytest.mark.duckdb]


class TestDuckDBExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self, tmp_path: Path, local_settings: Settings) -> Iterator[Executor]:
        executor = DuckDBExecutor(tmp_path / "warehouse.duckdb", s3=local_settings)
        yield executor
        executor.close()


@pytest.mark.ecomdw_emulation
class TestRedshiftDataApiExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self, local_settings: Settings) -> Iterator[Executor]:
        """A cluster of its own per test: a fresh database in the emulator."""
        executor = RedshiftDataApiExecutor(
            local_settings,
            cluster_identifier=f"contract-{uuid.uuid4().hex[:12]}",
            database="dev",
            db_user="awsuser",
        )
        yield executor
        executor.close()
