"""`ecomdw run`: the main job on the embedded default.

Starts the embedded emulator and creates the buckets, takes a raw folder (generated, or a
user's own exports with `--input`), lands it in the raw bucket, checks every record against the
landing contract (records read = accepted + quarantined, per entity and batch), and loads the
quarantine and batch lineage into the warehouse with Redshift COPY from the processed bucket,
replacing what an earlier run loaded for the same batches.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table

from ecomdw.core.arrow_schema import arrow_schema
from ecomdw.core.aws import s3_filesystem
from ecomdw.core.contract import ContractReport, read_raw_tree
from ecomdw.core.errors import UserError
from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.core.model import (
    BATCH_LINEAGE,
    ENTITIES,
    QUARANTINE,
    RAW_ENTITIES,
    WAREHOUSE_TABLES,
    Entity,
)
from ecomdw.core.redshift_ddl import create_tables
from ecomdw.core.settings import Settings, load_settings
from ecomdw.core.storage import S3Location, ensure_bucket, upload_tree
from ecomdw.emulation.server import EmbeddedEmulator
from ecomdw.warehouse.executors import DuckDBExecutor

out = Console()
BUCKET_PURPOSES = ("raw", "processed", "scripts", "logs")


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        with out.status(f"{name}..."):
            yield
        self.steps[name] = time.perf_counter() - started


def new_run_id() -> str:
    return f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def audit_rows(
    report: ContractReport, raw: S3Location, run_id: str, now: dt.datetime
) -> dict[str, list[dict[str, Any]]]:
    """Quarantine and lineage rows, naming the landed S3 objects the records came from."""
    quarantine = [
        {
            "batch_date": defect.batch_date,
            "entity": defect.entity,
            "source_file": f"s3://{raw.bucket}/{raw.key(defect.source_file)}",
            "line_number": defect.line_number,
            "reason": str(defect.reason),
            "detail": defect.detail[:1024],
            "raw_text": defect.raw_text,
            "run_id": run_id,
        }
        for defect in report.defects
    ]
    lineage = [
        {
            "batch_date": batch_date,
            "entity": entity,
            "source_file": f"s3://{raw.bucket}/{raw.key(f'{entity}/ingest_date={batch_date}')}/",
            "records_read": counts.read,
            "records_loaded": counts.loaded,
            "records_quarantined": counts.quarantined,
            "run_id": run_id,
            "loaded_at": now.replace(tzinfo=None),
        }
        for (batch_date, entity), counts in sorted(report.counts.items())
    ]
    return {QUARANTINE.name: quarantine, BATCH_LINEAGE.name: lineage}


def stage_parquet(
    rows: list[dict[str, Any]], entity: Entity, target: S3Location, settings: Settings
) -> str:
    """Write rows as one parquet file under `target`; returns the prefix COPY reads."""
    table = pa.Table.from_pylist(rows, schema=arrow_schema(entity))
    prefix = target.key(entity.name)
    pq.write_table(
        table, f"{target.bucket}/{prefix}/part-00000.parquet", filesystem=s3_filesystem(settings)
    )
    return f"s3://{target.bucket}/{prefix}/"


def load_audit(
    warehouse: DuckDBExecutor,
    staged: dict[str, str],
    batches: list[dt.date],
) -> None:
    """Replace the audit rows of these batches atomically: a rerun leaves the same warehouse."""
    first, last = min(batches), max(batches)
    with warehouse.transaction():
        for table, prefix in staged.items():
            warehouse.run(
                f"DELETE FROM {table} "
                f"WHERE batch_date BETWEEN '{first.isoformat()}' AND '{last.isoformat()}'"
            )
            warehouse.run(f"COPY {table} FROM '{prefix}' IAM_ROLE default FORMAT AS PARQUET")


def check_balance(report: ContractReport) -> None:
    """records read = accepted + quarantined for every entity and batch, or the run stops."""
    for (batch_date, entity), counts in report.counts.items():
        if counts.read != counts.loaded + counts.quarantined:
            raise UserError(
                f"{entity} batch {batch_date}: read {counts.read} != accepted {counts.loaded} "
                f"+ quarantined {counts.quarantined}"
            )


def summary_tables(report: ContractReport, timings: Timings) -> list[Table]:
    records = Table(title="records per entity (all batches)")
    for name in ("entity", "batches", "read", "accepted", "quarantined", "late arrivals"):
        records.add_column(name, justify="left" if name == "entity" else "right")
    for entity in RAW_ENTITIES:
        totals = report.totals(entity.name)
        batches = sum(1 for (_, name) in report.counts if name == entity.name)
        records.add_row(
            entity.name,
            str(batches),
            f"{totals.read:,}",
            f"{totals.loaded:,}",
            f"{totals.quarantined:,}",
            f"{totals.late_arrivals:,}",
        )
    reasons = Table(title="quarantined per reason")
    reasons.add_column("entity")
    reasons.add_column("reason")
    reasons.add_column("records", justify="right")
    for (entity_name, reason), count in sorted(report.defect_counts().items()):
        reasons.add_row(entity_name, str(reason), f"{count:,}")
    steps = Table(title="timings")
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for name, seconds in timings.steps.items():
        steps.add_row(name, f"{seconds:.1f}")
    return [records, reasons, steps]


def run(
    *,
    input_dir: Path | None = typer.Option(
        None, "--input", help="Raw exports in the contract's shape [default: generate a sample]."
    ),
    warehouse: Path | None = typer.Option(None, help="DuckDB warehouse file [default: settings]."),
    seed: int = typer.Option(7, help="Seed of the generated sample."),
    customers: int = typer.Option(1_000, min=1),
    products: int = typer.Option(500, min=1),
    orders: int = typer.Option(5_000, min=0),
    days: int = typer.Option(90, min=1),
    defect_rate: float = typer.Option(0.01, min=0.0, max=0.5, help="Bad records planted."),
) -> None:
    """Run the main job on the embedded emulator and report what it did."""
    if input_dir is not None and not input_dir.is_dir():
        raise UserError(f"--input {input_dir} is not a folder")
    base = load_settings()
    warehouse_file = warehouse or base.warehouse_file
    run_id = new_run_id()
    timings = Timings()
    with EmbeddedEmulator() as emulator:
        settings = base.model_copy(update={"endpoint_url": emulator.endpoint})
        names = settings.names
        with timings.step("create buckets"):
            for purpose in BUCKET_PURPOSES:
                ensure_bucket(names.bucket(purpose), settings)
        if input_dir is None:
            input_dir = settings.home / "sample"
            config = GeneratorConfig(
                seed=seed,
                customers=customers,
                products=products,
                orders=orders,
                days=days,
                defect_rate=defect_rate,
            )
            with timings.step("generate sample"):
                generate(config, input_dir, overwrite=True)
        raw = S3Location(names.raw_bucket, "")
        with timings.step("land in raw bucket"):
            upload_tree(input_dir, raw, settings)
        with timings.step("check landing contract"):
            report = read_raw_tree(input_dir)
            check_balance(report)
        if not report.counts:
            raise UserError(f"no batches under {input_dir}: expected <entity>/ingest_date=.../")
        with timings.step("load warehouse audit"):
            staging = S3Location(names.processed_bucket, f"audit/{run_id}")
            now = dt.datetime.now(dt.UTC)
            staged = {
                table: stage_parquet(rows, ENTITIES[table], staging, settings)
                for table, rows in audit_rows(report, raw, run_id, now).items()
            }
            executor = DuckDBExecutor(warehouse_file, s3=settings)
            try:
                for statement in create_tables(WAREHOUSE_TABLES):
                    executor.run(statement)
                load_audit(executor, staged, sorted({d for d, _ in report.counts}))
            finally:
                executor.close()
    for table in summary_tables(report, timings):
        out.print(table)
    read = sum(c.read for c in report.counts.values())
    accepted = sum(c.loaded for c in report.counts.values())
    quarantined = sum(c.quarantined for c in report.counts.values())
    out.print(
        f"run {run_id}: records read {read:,} = accepted {accepted:,} + quarantined "
        f"{quarantined:,}\nwarehouse: {warehouse_file}  (try: ecomdw query --warehouse "
        f'{warehouse_file} "select reason, count(*) from quarantine group by 1")',
        highlight=False,
    )
