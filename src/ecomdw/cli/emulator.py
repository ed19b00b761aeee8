"""`ecomdw emulator up|status|down|endpoint`: the long-lived embedded emulator."""

from __future__ import annotations

import typer
from rich.console import Console

from ecomdw.core.aws import client
from ecomdw.core.errors import UserError
from ecomdw.core.settings import load_settings
from ecomdw.emulation.server import (
    DetachedEmulator,
    running_state,
    start_detached,
    stop_detached,
)

app = typer.Typer(
    help="The embedded AWS emulator, for other processes to reach by endpoint.",
    epilog="Example: ecomdw emulator up && ecomdw emulator status",
)
out = Console()


def redshift_connections(state: DetachedEmulator) -> list[str]:
    """Where each emulated cluster answers PostgreSQL clients (psql, JDBC/ODBC, BI tools), as
    a connection string, and where its master password is when Redshift manages it."""
    settings = load_settings().model_copy(update={"endpoint_url": state.endpoint})
    lines = []
    for cluster in client("redshift", settings).describe_clusters()["Clusters"]:
        endpoint, user = cluster["Endpoint"], cluster["MasterUsername"]
        lines.append(
            f"redshift {cluster['ClusterIdentifier']}: postgresql://{user}@{endpoint['Address']}"
            f":{endpoint['Port']}/{cluster['DBName']}?sslmode=disable"
        )
        secret = f"redshift!{cluster['ClusterIdentifier']}-{user}"
        secrets = client("secretsmanager", settings)
        if secrets.list_secrets(Filters=[{"Key": "name", "Values": [secret]}])["SecretList"]:
            lines.append(f"  password: the secret {secret} (aws secretsmanager get-secret-value)")
    if not lines:
        lines.append(
            "redshift: no cluster yet; `ecomdw infra deploy --env local` creates "
            f"{settings.names.redshift_cluster}, whose endpoint then answers PostgreSQL clients "
            "(`ecomdw emulator status` prints it)"
        )
    return lines


def _report(state: DetachedEmulator) -> None:
    out.print(f"emulator up at {state.endpoint} (pid {state.pid})", highlight=False)
    for line in redshift_connections(state):
        out.print(line, highlight=False, soft_wrap=True)


@app.command(epilog="Example: ecomdw emulator up --port 4566")
def up(port: int = typer.Option(0, help="Port on 127.0.0.1; 0 picks a free one.")) -> None:
    """Start the emulator in the background (or report the one already up), and print where
    its Redshift clusters answer PostgreSQL clients."""
    _report(start_detached(load_settings(), port=port))


@app.command(epilog="Example: ecomdw emulator status || ecomdw emulator up")
def status() -> None:
    """Say whether the emulator is up, and where its clusters answer; exit 1 if not up."""
    state = running_state(load_settings())
    if state is None:
        out.print("emulator down")
        raise typer.Exit(1)
    _report(state)


@app.command(epilog="Example: ecomdw emulator down")
def down() -> None:
    """Stop the emulator."""
    stopped = stop_detached(load_settings())
    out.print("emulator stopped" if stopped else "emulator was not running")


@app.command(epilog='Example: aws --endpoint-url "$(ecomdw emulator endpoint)" s3 ls')
def endpoint() -> None:
    """Print the endpoint URL alone, for `aws --endpoint-url "$(ecomdw emulator endpoint)"`."""
    state = running_state(load_settings())
    if state is None:
        raise UserError("no emulator is up: start one with `ecomdw emulator up`")
    typer.echo(state.endpoint)
