"""Deploy an artifact to an environment through change sets, record it, read it back verified.

A deploy uploads the artifact's scripts before the first stack that points at them and, once
every change set is executed, records the artifact in the environment's own scripts bucket
(`RECORD_KEY`). The bucket is the record's home because it holds the very objects the record
describes, lives as long as the environment, and is what the CI deploy role can already read
and write; its versioning keeps every earlier record. A deploy stopped by a refusal records
nothing, so the record always names what the environment fully runs.

Promotion deploys to the higher environment the artifact `verified_artifact` reads from the
lower one: its record, this checkout's templates' source checked against the recorded one, and
every script read back and checked against its hash.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ecomdw.core.errors import UserError
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.infra import catalog
from ecomdw.infra.artifact import RECORD_KEY, Artifact, sha256, template_sources
from ecomdw.infra.deploy import Clients, Rollout, StackPlan, deploy_with_change_sets
from ecomdw.infra.synth import SynthesizedStack, render, stacks

MISSING = ("NoSuchKey", "NoSuchBucket", "404")


@dataclass(frozen=True)
class Record:
    """What an environment last deployed in full."""

    env: Environment
    artifact: Artifact
    deployed_at: str
    promoted_from: Environment | None
    templates: dict[str, str]
    """Stack name -> sha256 of the template deployed."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "environment": self.env.value,
                "artifact": {"id": self.artifact.id, **self.artifact.manifest},
                "deployed_at": self.deployed_at,
                "promoted_from": self.promoted_from and self.promoted_from.value,
                "templates": self.templates,
            },
            indent=2,
            sort_keys=True,
        )


def deploy(
    clients: Clients,
    settings: Settings,
    artifact: Artifact,
    change_set_name: str,
    confirm: Callable[[StackPlan], bool],
    *,
    promoted_from: Environment | None = None,
) -> Rollout:
    """Every stack of `settings.env` pointing at `artifact`, through change sets; recorded
    when all of them are deployed."""
    synthesized = stacks(settings.env, settings, artifact=artifact)

    def before(stack: SynthesizedStack) -> None:
        if stack.concern == catalog.CONCERN:
            upload_scripts(clients, settings, artifact)

    rollout = deploy_with_change_sets(clients, synthesized, change_set_name, confirm, before)
    if rollout.complete:
        record = Record(
            env=settings.env,
            artifact=artifact,
            deployed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            promoted_from=promoted_from,
            templates={s.name: sha256(render(s.template).encode()) for s in synthesized},
        )
        _s3(clients, settings).put_object(
            Bucket=settings.names.scripts_bucket,
            Key=RECORD_KEY,
            Body=record.to_json().encode(),
            ContentType="application/json",
        )
    return rollout


def upload_scripts(clients: Clients, settings: Settings, artifact: Artifact) -> None:
    """Put each script under its content-hashed key, unless that key is already there."""
    s3, bucket = _s3(clients, settings), settings.names.scripts_bucket
    for script, data in sorted(artifact.contents.items()):
        key = artifact.key(script)
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _code(exc) not in MISSING:
                raise
            s3.put_object(Bucket=bucket, Key=key, Body=data)


def read_record(clients: Clients, settings: Settings) -> Record | None:
    """The artifact `settings.env` last deployed in full, or None if it never did."""
    try:
        body = (
            _s3(clients, settings)
            .get_object(Bucket=settings.names.scripts_bucket, Key=RECORD_KEY)["Body"]
            .read()
        )
    except ClientError as exc:
        if _code(exc) in MISSING:
            return None
        raise
    raw = json.loads(body)
    manifest = raw["artifact"]
    promoted_from = raw.get("promoted_from")
    return Record(
        env=Environment(raw["environment"]),
        artifact=Artifact.from_manifest(manifest, manifest["id"]),
        deployed_at=raw["deployed_at"],
        promoted_from=Environment(promoted_from) if promoted_from else None,
        templates=dict(raw["templates"]),
    )


def verified_artifact(clients: Clients, settings: Settings) -> Artifact:
    """The artifact `settings.env` last deployed in full, its scripts read back and checked
    against their hashes and its templates' source against this checkout's."""
    env = settings.env.value
    record = read_record(clients, settings)
    if record is None:
        raise UserError(
            f"{env} has no recorded successful deploy: deploy it first "
            f"(`ecomdw infra deploy --env {env}`)"
        )
    artifact = record.artifact
    local = template_sources()
    differing = sorted(
        path
        for path in artifact.templates.keys() | local.keys()
        if artifact.templates.get(path) != local.get(path)
    )
    if differing:
        raise UserError(
            f"the templates' source here is not what {env} deployed (artifact "
            f"{artifact.id[:12]}): {', '.join(differing)} differ; check out the commit {env} "
            "was deployed from"
        )
    s3 = _s3(clients, settings)
    contents = {}
    for script in artifact.scripts:
        try:
            got = s3.get_object(Bucket=settings.names.scripts_bucket, Key=artifact.key(script))
        except ClientError as exc:
            if _code(exc) in MISSING:
                raise UserError(f"{env} lacks {artifact.key(script)} of its artifact") from exc
            raise
        contents[script] = got["Body"].read()
    try:
        return artifact.with_contents(contents)
    except UserError as exc:
        raise UserError(f"{env}: {exc}; refusing to promote") from exc


def _s3(clients: Clients, settings: Settings) -> Any:
    return clients("s3", settings.region)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
