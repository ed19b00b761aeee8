"""`ecomdw infra synth|deploy|promote`: the stacks, written out, deployed and promoted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import typer
from botocore.config import Config
from rich.console import Console
from rich.table import Table

from ecomdw.core.aws import client
from ecomdw.core.errors import UserError
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings, load_settings
from ecomdw.infra.artifact import Artifact, build
from ecomdw.infra.deploy import PropertyChange, Rollout, StackPlan
from ecomdw.infra.environments import parameters_for
from ecomdw.infra.pipeline import PipelineInput
from ecomdw.infra.release import deploy as deploy_release
from ecomdw.infra.release import verified_artifact
from ecomdw.infra.runs import deploy_to_emulator
from ecomdw.infra.synth import stacks, write_templates

app = typer.Typer(
    help="CloudFormation stacks: synthesize, deploy, promote.",
    no_args_is_help=True,
    epilog="Example: ecomdw infra deploy --env local",
)
out = Console()

PROFILE_HELP = "AWS profile of {}'s account (default: the ambient credentials)."


@app.command(epilog="Example: ecomdw infra synth --env prod --out templates")
def synth(
    env: Environment = typer.Option(Environment.LOCAL, help="Environment to synthesize."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for one JSON template per stack."),
) -> None:
    """Write one CloudFormation template per stack of ENV into OUT."""
    for path in write_templates(env, out_dir, settings=load_settings()):
        out.print(str(path), highlight=False)


@app.command(epilog="Example: ecomdw infra deploy --env dev --profile dev")
def deploy(
    env: Environment = typer.Option(Environment.LOCAL, help="Environment to deploy."),
    yes: bool = typer.Option(False, "--yes", help="Execute change sets without asking (CI)."),
    profile: str | None = typer.Option(None, help=PROFILE_HELP.format("ENV")),
) -> None:
    """Deploy every stack of ENV: into the emulator, verified; on AWS through change sets,
    with this checkout's artifact, recorded in ENV once every stack is deployed."""
    settings = load_settings().model_copy(update={"env": env})
    if env is Environment.LOCAL:
        _deploy_local(settings)
        return
    artifact = build(PipelineInput().scripts)
    rollout = deploy_release(
        _clients(settings, profile), settings, artifact, _change_set_name(artifact), _confirmer(yes)
    )
    _report(env, rollout, artifact)


@app.command(
    epilog="Example: ecomdw infra promote --from staging --to prod --to-profile prod --yes"
)
def promote(
    from_env: Environment = typer.Option(..., "--from", help="Environment that passed."),
    to_env: Environment = typer.Option(..., "--to", help="Environment to deploy it to."),
    yes: bool = typer.Option(False, "--yes", help="Execute change sets without asking (CI)."),
    from_profile: str | None = typer.Option(None, help=PROFILE_HELP.format("FROM")),
    to_profile: str | None = typer.Option(None, help=PROFILE_HELP.format("TO")),
) -> None:
    """Deploy to TO, through change sets, exactly the artifact FROM last deployed in full:
    every hash checked, the same script objects copied."""
    steps: dict[Environment, Environment | None] = {
        env: parameters_for(env).promotes_to for env in Environment if env is not Environment.LOCAL
    }
    if steps.get(from_env) is not to_env:
        allowed = ", ".join(f"{low.value} -> {high.value}" for low, high in steps.items() if high)
        raise UserError(f"cannot promote {from_env.value} -> {to_env.value}: only {allowed}")
    base = load_settings()
    source = base.model_copy(update={"env": from_env})
    target = base.model_copy(update={"env": to_env})
    artifact = verified_artifact(_clients(source, from_profile), source)
    rollout = deploy_release(
        _clients(target, to_profile),
        target,
        artifact,
        _change_set_name(artifact),
        _confirmer(yes),
        promoted_from=from_env,
    )
    _report(to_env, rollout, artifact, promoted_from=from_env)


def _clients(settings: Settings, profile: str | None = None) -> Any:
    """Clients of the environment's account: the ambient credentials through the client
    factory, or those of a named AWS profile (promotion reaches two accounts at once)."""
    if profile is None:

        def ambient(service: str, region: str) -> Any:
            return client(service, settings.model_copy(update={"region": region}))

        return ambient
    session: Any = boto3.session.Session(profile_name=profile)
    endpoint = settings.resolved_endpoint()

    @cache
    def named(service: str, region: str) -> Any:
        config = Config(retries={"mode": "standard", "max_attempts": 5})
        return session.client(service, region_name=region, endpoint_url=endpoint, config=config)

    return named


def _change_set_name(artifact: Artifact) -> str:
    return f"ecomdw-{artifact.id[:12]}-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"


def _confirmer(yes: bool) -> Any:
    def confirm(plan: StackPlan) -> bool:
        show_plan(plan)
        return yes or typer.confirm(f"Execute the change set of {plan.stack.name}?")

    return confirm


def show_plan(plan: StackPlan) -> None:
    table = Table(title=f"{plan.stack.name} ({plan.stack.region})")
    for column in ("action", "logical id", "type", "changed properties"):
        table.add_column(column)
    for change in plan.changes:
        properties = "\n".join(_property(p) for p in change.properties)
        table.add_row(change.action, change.logical_id, change.resource_type, properties)
    out.print(table)


def _property(change: PropertyChange) -> str:
    """`Budget/BudgetLimit/Amount: 300 -> 400`, or the property's name where AWS says no more."""
    where = (change.path or change.name).removeprefix("/Properties/").removeprefix("/")
    if change.before is None and change.after is None:
        return where
    return f"{where}: {change.before or '(none)'} -> {change.after or '(none)'}"


def _report(
    env: Environment, rollout: Rollout, artifact: Artifact, promoted_from: Environment | None = None
) -> None:
    for plan in rollout.plans:
        if plan.empty:
            out.print(f"{plan.stack.name}: no changes", highlight=False)
    if not rollout.complete:
        assert rollout.refused is not None
        out.print(
            f"{env.value}: stopped at {rollout.refused.stack.name}, its change set declined "
            "and deleted; nothing recorded",
            highlight=False,
        )
        raise typer.Exit(1)
    what = f"promoted from {promoted_from.value}" if promoted_from else "deployed"
    out.print(
        f"{env.value}: {what}, {len(rollout.plans)} stacks, {rollout.changes} resource "
        f"changes; artifact {artifact.id[:12]} recorded",
        highlight=False,
    )


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
    from ecomdw.emulation.services.cloudformation.registry import NOT_EMULATED
    from ecomdw.emulation.services.cloudformation.resource_types import NOT_EMULATED_ORIGIN
    from ecomdw.emulation.services.cloudformation.verification import verify_stacks

    with _emulator(settings) as endpoint:
        local = settings.model_copy(update={"endpoint_url": endpoint})
        deploy_to_emulator(
            local, lambda name, outcome: out.print(f"{name}: {outcome}", highlight=False)
        )
        synthesized = stacks(Environment.LOCAL, local)
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
