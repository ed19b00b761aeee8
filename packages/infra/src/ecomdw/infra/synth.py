"""Compose the stacks of one environment, in deploy order, and render them as templates.

Rendering is deterministic (sorted keys, fixed indentation) so that a template changes only
when what it declares changes, and change sets show nothing but real changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from troposphere import Template

from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.infra import (
    backup,
    catalog,
    compliance,
    cost,
    monitoring,
    network,
    orchestration,
    replica,
    security,
    storage,
    warehouse,
)
from ecomdw.infra.artifact import Artifact, build
from ecomdw.infra.context import StackContext
from ecomdw.infra.environments import EnvironmentParameters, parameters_for
from ecomdw.infra.pipeline import PipelineInput

Builder = Callable[[StackContext], Template]

CONCERNS: tuple[tuple[str, Builder], ...] = (
    (security.CONCERN, security.build),
    (network.CONCERN, network.build),
    (replica.CONCERN, replica.build),
    (storage.CONCERN, storage.build),
    (catalog.CONCERN, catalog.build),
    (warehouse.CONCERN, warehouse.build),
    (orchestration.CONCERN, orchestration.build),
    (monitoring.CONCERN, monitoring.build),
    (compliance.CONCERN, compliance.build),
    (backup.CONCERN, backup.build),
    (cost.CONCERN, cost.build),
)
"""Deploy order: each stack only imports exports of the stacks before it."""
IN_BACKUP_REGION = frozenset({replica.CONCERN})


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    concern: str
    region: str
    template: dict[str, Any]


def stacks(
    env: Environment,
    settings: Settings,
    *,
    pipeline: PipelineInput | None = None,
    parameters: EnvironmentParameters | None = None,
    artifact: Artifact | None = None,
) -> list[SynthesizedStack]:
    """Every stack of `env`, in deploy order, with the region it deploys to; its Glue jobs
    point at `artifact`'s scripts (default: this checkout's)."""
    env_settings = settings.model_copy(update={"env": env})
    pipeline = pipeline or PipelineInput()
    context = StackContext(
        settings=env_settings,
        parameters=parameters or parameters_for(env),
        pipeline=pipeline,
        artifact=artifact or build(pipeline.scripts),
    )
    return [
        SynthesizedStack(
            name=env_settings.names.stack(concern),
            concern=concern,
            region=(
                env_settings.backup_region if concern in IN_BACKUP_REGION else env_settings.region
            ),
            template=_normalized(build(context)),
        )
        for concern, build in CONCERNS
    ]


def synthesize(
    env: Environment, settings: Settings, *, pipeline: PipelineInput | None = None
) -> dict[str, dict[str, Any]]:
    """Stack name -> CloudFormation template, in deploy order."""
    return {stack.name: stack.template for stack in stacks(env, settings, pipeline=pipeline)}


def render(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2, sort_keys=True) + "\n"


def write_templates(
    env: Environment,
    out_dir: Path,
    *,
    settings: Settings | None = None,
    pipeline: PipelineInput | None = None,
) -> list[Path]:
    """Write `<stack name>.json` per stack into `out_dir`; return the paths in deploy order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, template in synthesize(env, settings or Settings(), pipeline=pipeline).items():
        path = out_dir / f"{name}.json"
        path.write_text(render(template))
        written.append(path)
    return written


def _normalized(template: Template) -> dict[str, Any]:
    """The template as plain JSON data, keys sorted at every level."""
    rendered: dict[str, Any] = json.loads(json.dumps(template.to_dict(), sort_keys=True))
    return rendered
