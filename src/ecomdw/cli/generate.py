"""`ecomdw generate`: write a synthetic raw landing tree to a folder or an s3:// URI."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ecomdw.core.errors import UserError
from ecomdw.core.generator import MANIFEST_NAME, GeneratorConfig
from ecomdw.core.generator import generate as generate_tree
from ecomdw.core.generator.config import DEFAULT_START

out = Console()


EXAMPLE = "Example: ecomdw generate --out raw --days 7 --defect-rate 0.01"


def generate(
    *,
    output: str = typer.Option(..., "--out", help="Raw root: a folder or s3://bucket/prefix."),
    seed: int = typer.Option(7, help="Same seed and sizes, same bytes."),
    customers: int = typer.Option(1_000, min=1),
    products: int = typer.Option(500, min=1),
    orders: int = typer.Option(5_000, min=0),
    days: int = typer.Option(90, min=1, help="Daily batches to write."),
    start_date: str = typer.Option(DEFAULT_START.isoformat(), help="First batch, YYYY-MM-DD."),
    defect_rate: float = typer.Option(
        0.0, min=0.0, max=0.5, help="Share of bad records planted per entity and batch."
    ),
    rows_per_file: int = typer.Option(1_000_000, min=1, help="Split larger batches into files."),
    overwrite: bool = typer.Option(False, help="Replace generated data already at --out."),
) -> None:
    """Generate the raw landing contract, its planted defects and a manifest of both."""
    try:
        start = dt.date.fromisoformat(start_date)
    except ValueError:
        raise UserError(f"--start-date {start_date!r} is not a date YYYY-MM-DD") from None
    config = GeneratorConfig(
        seed=seed,
        customers=customers,
        products=products,
        orders=orders,
        days=days,
        start_date=start,
        defect_rate=defect_rate,
        rows_per_file=rows_per_file,
    )
    with Progress(
        TextColumn("generating batches"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task("batches", total=days)
        manifest = generate_tree(
            config,
            output,
            overwrite=overwrite,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    totals = manifest["totals"]
    good = ", ".join(f"{t['good']:,} {name}" for name, t in totals.items())
    defective = sum(t["defective"] for t in totals.values())
    out.print(f"wrote {days} batches to {output}: {good}; {defective:,} planted defects")
    out.print(f"manifest: {output.rstrip('/')}/{MANIFEST_NAME}", highlight=False)
