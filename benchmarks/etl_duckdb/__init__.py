"""The pipeline's transforms written for DuckDB: the ETL bench's baseline, and the test tier's
oracle of what the warehouse must hold.

Each step is one SQL file of this folder, run on one connection (a step reads the temp tables
of the steps before it): `stage` reads the raw files as the landing contract describes them,
`dimensions` builds dim_date and the SCD2 change rows, `facts` the facts in USD. Each writes its
outputs as parquet per batch under `out` (`staged/<entity>/batch=...`, `warehouse/<table>/
batch=...`), the processed layout the warehouse loads.

Nothing here imports ecomdw: the SQL does its own parsing and applies its own rules, so a fault
in the pipeline's parsing or rules cannot hide in the oracle as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb

SQL = Path(__file__).parent
STEPS = ("stage", "dimensions", "facts")


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def connect(threads: int, spill: Path) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB in UTC that loads nothing by itself, spilling under `spill`."""
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    # Spills beside the outputs, not in `.tmp/` under whatever folder the process runs in.
    con.execute(f"SET temp_directory = {_literal(spill.as_posix())}")
    return con


def run_step(
    con: duckdb.DuckDBPyConnection,
    step: str,
    raw: Path,
    out: Path,
    run_ends: Sequence[dt.date] = (),
) -> None:
    """One step's SQL on the raw tree `raw`, its outputs under `out`. `run_ends`: the last
    batch of each run, when the batches were staged by several runs (none: by one)."""
    ends = f"[{', '.join(_literal(d.isoformat()) for d in sorted(run_ends))}]"
    text = (SQL / f"{step}.sql").read_text()
    for placeholder, value in (("@RAW@", raw.as_posix()), ("@OUT@", out.as_posix())):
        text = text.replace(placeholder, value)
    con.execute(text.replace("@RUN_ENDS@", ends))


def transform(
    raw: Path,
    out: Path,
    *,
    threads: int = 2,
    steps: tuple[str, ...] = STEPS,
    run_ends: Sequence[dt.date] = (),
) -> None:
    """`steps` (a prefix of `STEPS`) on the raw tree `raw`, in one fresh connection."""
    if steps != STEPS[: len(steps)]:
        raise ValueError(f"steps run in order from the first: {STEPS}, not {steps}")
    for folder in ("staged", "warehouse"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    con = connect(threads, out / "_spill")
    try:
        for step in steps:
            run_step(con, step, raw, out, run_ends)
    finally:
        con.close()
