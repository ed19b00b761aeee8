"""The `ecomdw` command."""

from __future__ import annotations

import os
from typing import NoReturn

import typer
from rich.console import Console

from ecomdw.cli import doctor, emulator, generate, infra, query, report, run
from ecomdw.core.errors import UserError

app = typer.Typer(
    name="ecomdw",
    help="An e-commerce data warehouse for AWS, built, run and tested offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    epilog='Example: ecomdw doctor && ecomdw run && ecomdw query "select * from sales_trends"',
)
app.add_typer(emulator.app, name="emulator")
app.add_typer(infra.app, name="infra")
app.command("doctor", epilog=doctor.EXAMPLE)(doctor.doctor)
app.command("generate", epilog=generate.EXAMPLE)(generate.generate)
app.command("query", epilog=query.EXAMPLE)(query.query)
app.command("report", epilog=report.EXAMPLE)(report.report)
app.command("run", epilog=run.EXAMPLE)(run.run)

err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit, as every ecomdw error ends."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(1)


def main() -> None:
    try:
        app()
    except UserError as exc:
        fail(str(exc))
    except Exception as exc:
        if os.environ.get("ECOMDW_DEBUG"):
            raise
        fail(f"{type(exc).__name__}: {exc} (set ECOMDW_DEBUG=1 for the traceback)")


if __name__ == "__main__":
    main()
