"""`ecomdw infra synth|deploy`: the stacks, written out and deployed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ecomdw.core.aws import client
from ecomdw.core.errors import UserError
from ecomdw.core.settings import Environment, Settings, load_settings
from ecomdw.infra.deploy import StackPlan, apply_stack, deploy_with_change_sets
from ecomdw.infra.synth import stacks, write_templates

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


@app.command()
def deploy(
    env: Environment = typer.Option(Environment.LOCAL, help="Environment to deploy."),
    yes: bool = typer.Option(False, "--yes", help="Execute change sets without asking (CI)."),
) -> None:
    """Deploy every stack of ENV: into the emulator, verified; on AWS through change sets."""
    settings = load_settings().model_copy(update={"env": env})
    if env is Environment.LOCAL:
        _deploy_local(settings)
        return
    plans = deploy_with_change_sets(
        _clients(settings), stacks(env, settings), "ecomdw-deploy", _confirmer(yes)
    )
    changed = sum(len(plan.changes) for plan in plans)
    out.print(f"{env.value}: {len(plans)} stacks, {changed} resource changes", highlight=False)


def _clients(settings: Settings) -> Any:
    def clients(service: str, region: str) -> Any:
        return client(service, settings.model_copy(update={"region": region}))

    return clients


def _confirmer(yes: bool) -> Any:
    def confirm(plan: StackPlan) -> bool:
        show_plan(plan)
        return yes or typer.confirm(f"Execute the change set of {plan.stack.name}?")

    return confirm


def show_plan(plan: StackPlan) -> None:
    table = Table(title=f"{plan.stack.name} ({plan.stack.region})")
    for column in ("action", "logical id", "type"):
        table.add_column(column)
    for change in plan.changes:
        table.add_row(change.action, change.logical_id, change.resource_type)
    out.print(table)


@contextmanager
def _emulator(settings: Settings) -> Iterator[str]:
    """The long-lived emulator if one is up, else one started for this command."""
    if endpoint := settings.resolved_endpoint():
        yield endpoint
        return
    from ecomdw.emulation.server import EmbeddedEmulator

    with EmbeddedEmulator(home=settings.home) as emulator:
        yield emulator.endpoint


def _deploy_local(settings: Settings) -> None:
    from ecomdw.emulation.cfn_resources import NOT_EMULATED
    from ecomdw.emulation.cfn_verify import NOT_EMULATED_ORIGIN, verify_stacks

    with _emulator(settings) as endpoint:
        local = settings.model_copy(update={"endpoint_url": endpoint})
        synthesized = stacks(Environment.LOCAL, local)
        for stack in synthesized:
            out.print(f"{stack.name}: {apply_stack(_clients(local), stack)}", highlight=False)
        verification = verify_stacks(
            endpoint, [(s.name, s.region, s.template) for s in synthesized]
        )
    table = Table(title="CloudFormation resources, read back through their APIs")
    for column in ("type", "origin", "resources", "verified", "properties compared"):
        table.add_column(column)
    for row in verification.table():
        table.add_row(*(str(cell) for cell in row))
    out.print(table)
    counts = verification.counts()
    out.print(", ".join(f"{origin}: {n}" for origin, n in sorted(counts.items())))
    for check in verification.checks:
        if check.origin == NOT_EMULATED_ORIGIN:
            reason = NOT_EMULATED[check.resource_type]
            out.print(f"not emulated: {check.stack} {check.logical_id}: {reason}", highlight=False)
    for check in verification.failures:
        out.print(
            f"[red]not as declared[/] {check.stack} {check.logical_id}: "
            f"{check.error or '; '.join(check.mismatches)}",
            highlight=False,
        )
    if verification.failures:
        raise UserError(f"{len(verification.failures)} resources are not as their templates say")
