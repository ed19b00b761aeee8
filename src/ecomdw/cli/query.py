"""`ecomdw query`: Redshift SQL against the local warehouse, printed as a table, CSV or JSON.

The table falls back to one `column | value` line per column (psql's expanded mode) when its
columns do not fit the terminal, so no cell is ever cut to `…`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ecomdw.core.errors import UserError
from ecomdw.core.settings import load_settings
from ecomdw.warehouse.executors import DuckDBExecutor, QueryResult, WarehouseError
from ecomdw.warehouse.redshift_errors import READ_ONLY_SQL_TRANSACTION


class OutputFormat(StrEnum):
    TABLE = "table"
    VERTICAL = "vertical"
    CSV = "csv"
    JSON = "json"


def _text(value: Any) -> Any:
    """JSON-safe value: exact decimals and times as strings, the rest as they are."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def _cells(row: tuple[Any, ...]) -> list[str]:
    return ["NULL" if v is None else str(_text(v)) for v in row]


def table(result: QueryResult) -> Table:
    """The result as a table whose cells fold rather than end in `…` if ever squeezed."""
    grid = Table(*result.columns)
    for column in grid.columns:
        column.overflow = "fold"
    for row in result.rows:
        grid.add_row(*(Text(cell) for cell in _cells(row)))
    return grid


def vertical(result: QueryResult, width: int) -> str:
    """One `column | value` line per column, each record under a `-[ RECORD n ]-` header, as
    psql's expanded mode prints rows too wide for the screen."""
    name_width = max((len(name) for name in result.columns), default=0)
    lines: list[str] = []
    for number, row in enumerate(result.rows, start=1):
        record: list[str] = []
        for name, cell in zip(result.columns, _cells(row), strict=True):
            first, *more = cell.split("\n")
            record.append(f"{name.ljust(name_width)} | {first}")
            record.extend(f"{'':{name_width}} | {line}" for line in more)
        header = f"-[ RECORD {number} ]-"
        widest = min(max((len(line) for line in record), default=0), width)
        lines.append(header.ljust(widest, "-"))
        lines.extend(record)
    return "\n".join(lines) if lines else "(0 rows)"


def fits(grid: Table, console: Console) -> bool:
    """Whether the table's natural width (no cell folded) fits the console: measured without
    the console's own limit, which would clamp it to the width it is compared with."""
    unbounded = console.options.update_width(1_000_000)
    return Measurement.get(console, unbounded, grid).maximum <= console.width


def table_or_vertical(result: QueryResult, console: Console) -> RenderableType:
    grid = table(result)
    if fits(grid, console):
        return grid
    return Text(vertical(result, console.width))


def render(result: QueryResult, output: OutputFormat) -> str:
    if output is OutputFormat.JSON:
        rows = [dict(zip(result.columns, map(_text, row), strict=True)) for row in result.rows]
        return json.dumps(rows, indent=2)
    if output is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([["" if v is None else _text(v) for v in row] for row in result.rows])
        return buffer.getvalue().rstrip("\n")
    raise ValueError(output)


EXAMPLE = 'Example: ecomdw query "select * from customer_360 limit 2" --format vertical'


def query(
    sql: str = typer.Argument(..., help="Redshift SQL (one statement or a script)."),
    warehouse: Path | None = typer.Option(None, help="DuckDB warehouse file [default: settings]."),
    output: OutputFormat = typer.Option(
        OutputFormat.TABLE,
        "--format",
        help="table (vertical when too wide for the terminal), vertical, csv or json.",
    ),
    write: bool = typer.Option(False, "--write", help="Allow statements that change data."),
) -> None:
    """Run Redshift SQL against the local warehouse (read-only unless --write)."""
    path = warehouse or load_settings().warehouse_file
    if not write and not path.exists():
        raise UserError(f"no warehouse at {path}: run `ecomdw run` first, or pass --warehouse")
    executor = DuckDBExecutor(path, read_only=not write)
    try:
        result = executor.run(sql)
    except WarehouseError as error:
        hint = ""
        if not write and error.redshift.sqlstate == READ_ONLY_SQL_TRANSACTION:
            hint = " (the warehouse opens read-only: pass --write)"
        raise UserError(f"{error.redshift.data_api_text}{hint}") from None
    finally:
        executor.close()
    if result is None:
        return
    if output is OutputFormat.TABLE:
        console = Console()
        console.print(table_or_vertical(result, console), soft_wrap=True)
    elif output is OutputFormat.VERTICAL:
        typer.echo(vertical(result, Console().width))
    else:
        typer.echo(render(result, output))
