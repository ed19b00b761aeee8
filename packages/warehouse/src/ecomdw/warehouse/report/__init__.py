"""The BI and operations report: static pages that open from disk, with no server and no
network.

`write_report` reads everything through an `Executor` (the local DuckDB warehouse or Redshift,
the same Redshift SQL), and writes one HTML page per subject into a folder, each carrying its
data as JSON and its style and script inline, beside one copy of `plotly.min.js` from the
plotly wheel. Nothing on a page is fetched: the pages work from a file share, an e-mail
attachment folder or an S3 bucket alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..executors import Executor
from . import queries
from .html import PLOTLY_JS, page, to_json
from .pages import (
    BUILDERS,
    Page,
    basket_page,
    clv_page,
    cohorts_page,
    customers_page,
    operations_page,
    products_page,
    rfm_page,
    sales_page,
)
from .queries import DEFAULT_MIN_SUPPORT

__all__ = ["DEFAULT_MIN_SUPPORT", "ReportOptions", "write_report"]


@dataclass(frozen=True)
class ReportOptions:
    min_support: float = DEFAULT_MIN_SUPPORT
    source: str = ""
    """What the report read (a warehouse file, a cluster), shown in every page's header."""
    health: Sequence[tuple[str, str, str]] = field(default_factory=tuple)
    """(what, ok|warn|fail, detail) of the endpoint beside the warehouse, for the operations
    page."""
    now: dt.datetime | None = None  # UTC, naive as the warehouse's timestamps


def build_pages(executor: Executor, options: ReportOptions, now: dt.datetime) -> list[Page]:
    ops = queries.operations(executor)
    ops.health.extend(options.health)
    return [
        sales_page(queries.sales(executor)),
        products_page(queries.products(executor)),
        customers_page(queries.customers(executor)),
        cohorts_page(queries.cohorts(executor)),
        clv_page(queries.clv(executor)),
        rfm_page(queries.rfm(executor)),
        basket_page(queries.basket(executor, options.min_support)),
        operations_page(ops, now),
    ]


def write_report(executor: Executor, out: Path, options: ReportOptions | None = None) -> list[Path]:
    """Every page into `out` (created), with `plotly.min.js` beside them; the pages' paths."""
    options = options or ReportOptions()
    now = options.now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out.mkdir(parents=True, exist_ok=True)
    plotly_js = resources.files("plotly").joinpath("package_data", PLOTLY_JS).read_bytes()
    target = out / PLOTLY_JS
    if not target.exists() or target.read_bytes() != plotly_js:
        target.write_bytes(plotly_js)
    meta = f"made {now:%Y-%m-%d %H:%M} UTC" + (f" from {options.source}" if options.source else "")
    written = []
    for built in build_pages(executor, options, now):
        data = {
            "figures": "{"
            + ",".join(f"{json.dumps(i)}:{figure.to_json()}" for i, figure in built.figures.items())
            + "}",
            **{element: to_json(value) for element, value in built.data.items()},
        }
        text = page(
            title=f"ecomdw · {built.title}",
            current=built.file,
            pages=BUILDERS,
            meta=meta,
            body=built.body,
            data=data,
        )
        path = out / built.file
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
