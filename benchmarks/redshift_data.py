"""Data API statement round trip on the emulator, against the same SQL on DuckDBExecutor."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.table import Table

from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.warehouse.executors import DuckDBExecutor, Executor, RedshiftDataApiExecutor

REPEATS = 30
SETUP = (
    "create table sales (id integer, amount decimal(12,2), day date);"
    "insert into sales values (1, 10.50, '2024-01-01'), (2, 3.25, '2024-01-02'), "
    "(3, 7.00, '2024-01-02')"
)
QUERIES = {
    "one-row query (select 1)": "select 1",
    "aggregate over a table": "select day, sum(amount), count(*) from sales group by day "
    "order by day",
    "insert (one row)": "insert into sales values (4, 1.00, '2024-01-03')",
}


def _median_seconds(action: Callable[[], object]) -> float:
    action()  # warm: the first statement of a database opens its file
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _medians(executor: Executor) -> dict[str, float]:
    executor.run(SETUP)
    return {name: _median_seconds(partial(executor.run, sql)) for name, sql in QUERIES.items()}


def run() -> Table:
    with tempfile.TemporaryDirectory(prefix="ecomdw-bench-") as home:
        duckdb = DuckDBExecutor(Path(home) / "baseline.duckdb")
        baseline = _medians(duckdb)
        duckdb.close()
        with EmbeddedEmulator(home=Path(home)) as emulator:
            data_api = RedshiftDataApiExecutor(
                Settings(endpoint_url=emulator.endpoint), cluster_identifier="bench", database="dev"
            )
            measured = _medians(data_api)
    table = Table(title=f"Redshift Data API round trip: execute, poll, fetch (median of {REPEATS})")
    for column in ("statement", "Data API (emulator)", "DuckDBExecutor", "ratio"):
        table.add_column(column, justify="left" if column == "statement" else "right")
    for name in QUERIES:
        table.add_row(
            name,
            f"{measured[name] * 1000:.1f} ms",
            f"{baseline[name] * 1000:.2f} ms",
            f"{measured[name] / baseline[name]:.0f}x",
        )
    return table
