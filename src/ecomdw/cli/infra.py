"""`ecomdw infra synth|deploy|promote`: the stacks, written out, deployed and promoted."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ecomdw.core.settings import Environment, load_settings
from ecomdw.infra.synth import write_templates

app = typer.Typer(help="CloudFormation stacks: synthesize, deploy, promote.", no_args_is_help=True)
out = Console()


@app.command()
def synth(
    env: Environment = typer.Option(Environment.LOCAL, help="Environment to synthesize."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for one JSON template per stack."),
) -> None:
    """Write one CloudFormation template per stack of ENV into OUT."""
    for path in write_templates(env, out_dir, settings=load_settings()):
        out.print(str(path), highlight=False)
