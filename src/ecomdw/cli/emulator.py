"""`ecomdw emulator up|status|down|endpoint`: the long-lived embedded emulator."""

from __future__ import annotations

import typer
from rich.console import Console

from ecomdw.core.errors import UserError
from ecomdw.core.settings import load_settings
from ecomdw.emulation.server import running_state, start_detached, stop_detached

app = typer.Typer(help="The embedded AWS emulator, for other processes to reach by endpoint.")
out = Console()


@app.command()
def up(port: int = typer.Option(0, help="Port on 127.0.0.1; 0 picks a free one.")) -> None:
    """Start the emulator in the background (or report the one already up)."""
    state = start_detached(load_settings(), port=port)
    out.print(f"emulator up at {state.endpoint} (pid {state.pid})", highlight=False)


@app.command()
def status() -> None:
    """Say whether the emulator is up; exit 1 if not."""
    state = running_state(load_settings())
    if state is None:
        out.print("emulator down")
        raise typer.Exit(1)
    out.print(f"emulator up at {state.endpoint} (pid {state.pid})", highlight=False)


@app.command()
def down() -> None:
    """Stop the emulator."""
    stopped = stop_detached(load_settings())
    out.print("emulator stopped" if stopped else "emulator was not running")


@app.command()
def endpoint() -> None:
    """Print the endpoint URL alone, for `aws --endpoint-url "$(ecomdw emulator endpoint)"`."""
    state = running_state(load_settings())
    if state is None:
        raise UserError("no emulator is up: start one with `ecomdw emulator up`")
    typer.echo(state.endpoint)
