"""`ecomdw report`: the BI and operations pages, static HTML that opens from disk.

Reads the warehouse file (read-only), or, while the long-lived emulator holds it, the same
warehouse through its Redshift Data API: the report's SQL is Redshift SQL either way.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ecomdw.core.errors import UserError
from ecomdw.core.settings import load_settings
from ecomdw.emulation.server import running_state
from ecomdw.infra.runs import endpoint_health
from ecomdw.warehouse.executors import DuckDBExecutor, Executor, RedshiftDataApiExecutor
from ecomdw.warehouse.report import DEFAULT_MIN_SUPPORT, ReportOptions, write_report

out = Console()


EXAMPLE = "Example: ecomdw run && ecomdw report --out report && xdg-open report/index.html"


def report(
    warehouse: Path | None = typer.Option(
        None,
        help="DuckDB warehouse file (default: the settings' one; while `ecomdw emulator up` "
        "runs, its warehouse through the Data API).",
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Folder for the pages (default: <home>/report)."
    ),
    min_support: float = typer.Option(
        DEFAULT_MIN_SUPPORT,
        min=0.0,
        max=1.0,
        help="Least share of orders holding both products of a basket rule.",
    ),
) -> None:
    """Write the report's pages (sales, products, customers, cohorts, lifetime value, RFM,
    basket rules, operations) into a folder; open its index.html in a browser."""
    base = load_settings()
    target = out_dir or base.home / "report"
    state = running_state(base) if warehouse is None else None
    executor: Executor
    if state is not None:
        settings = base.model_copy(update={"endpoint_url": state.endpoint})
        executor = RedshiftDataApiExecutor(settings)
        source = f"{settings.names.redshift_cluster} through the Data API at {state.endpoint}"
        health = endpoint_health(settings)
    else:
        path = warehouse or base.warehouse_file
        if not path.exists():
            raise UserError(f"no warehouse at {path}: run `ecomdw run` first, or pass --warehouse")
        executor = DuckDBExecutor(path, read_only=True)
        source = str(path.resolve())
        health = [("AWS endpoint", "info", "none: the report read the warehouse file")]
    try:
        pages = write_report(
            executor, target, ReportOptions(min_support, source=source, health=health)
        )
    finally:
        executor.close()
    out.print(f"{len(pages)} pages in {target.resolve()}:", highlight=False)
    for page in pages:
        out.print(f"  {page.name}", highlight=False)
    out.print(f"open: {(target / 'index.html').resolve().as_uri()}", highlight=False)
