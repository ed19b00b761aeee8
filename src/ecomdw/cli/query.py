"""`ecomdw query`: Redshift SQL against the local warehouse, printed as a table, CSV or JSON."""

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
from rich.console import Console
from rich.table import Table

from ecomdw.core.errors import UserError
from ecomdw.core.settings import load_settings
from ecomdw.warehouse.executors import DuckDBExecutor, QueryResult, WarehouseError
from ecomdw.warehouse.redshift_errors import READ_ONLY_SQL_TRANSACTION


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def _text(value: Any) -> Any:
    """JSON-safe value: exact decimals and times as strings, the rest as they are."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


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


def query(
    sql: str = typer.Argument(..., help="Redshift SQL (one statement or a script)."),
    warehouse: Path | None = typer.Option(None, help="DuckDB warehouse file [default: settings]."),
    output: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="Output format."),
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
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("NULL" if v is None else str(_text(v)) for v in row))
        Console().print(table)
    else:
        typer.echo(render(result, output))
