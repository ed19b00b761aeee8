"""What every stack builder shares: the environment, its names, ARNs and cross-stack exports.

Stacks reference each other through CloudFormation exports named `<stack name>-<output>`;
`export` and `imported` are the only two places that spell that convention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import AWSObject, Export, ImportValue, Output, Sub, Tags, Template

from ecomdw.core.names import PROJECT, ResourceNames
from ecomdw.core.settings import Settings
from ecomdw.infra.artifact import Artifact
from ecomdw.infra.environments import EnvironmentParameters
from ecomdw.infra.pipeline import PipelineInput

BACKUP_TAG_KEY = f"{PROJECT}:backup"
BACKUP_TAG_VALUE = "daily"

CHECKOV_SKIP = "checkov"

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
"""For what holds data or decrypts it: keys, buckets, vaults outlive their stack."""
DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
"""For log groups: their retention already bounds them, and a retained one blocks re-creation."""


@dataclass(frozen=True)
class StackContext:
    settings: Settings
    parameters: EnvironmentParameters
    pipeline: PipelineInput
    artifact: Artifact
    """Where the job scripts the stacks point at live: their content-hashed keys."""

    @property
    def names(self) -> ResourceNames:
        return self.settings.names

    @property
    def backup_names(self) -> ResourceNames:
        """Names in the backup region, where the replica bucket and the copy vault live."""
        return ResourceNames(self.settings.env, self.settings.backup_region)

    def name(self, purpose: str) -> str:
        """A name for what `ResourceNames` has no property for, under the same prefix."""
        return f"{self.names.prefix}-{purpose}"

    @property
    def replica_key_alias(self) -> str:
        """The replica key's alias: a name the primary region can use across regions."""
        return f"alias/{self.name('replica')}"

    @property
    def replica_bucket(self) -> str:
        return self.backup_names.bucket("raw-replica")

    def tag_map(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Tags as a plain map, for the resource types (Glue) that take them that way."""
        return {"project": PROJECT, "environment": self.settings.env.value, **(extra or {})}

    def tags(self, extra: Mapping[str, str] | None = None) -> Tags:
        return Tags(self.tag_map(extra))

    def new_template(self, description: str) -> Template:
        template = Template(Description=f"{PROJECT} {self.settings.env.value}: {description}")
        template.set_version("2010-09-09")
        return template

    def export(
        self, template: Template, concern: str, name: str, value: object, description: str
    ) -> None:
        template.add_output(
            Output(
                name,
                Description=description,
                Value=value,
                Export=Export(export_name(self.names, concern, name)),
            )
        )

    def imported(self, concern: str, name: str) -> ImportValue:
        return ImportValue(export_name(self.names, concern, name))


def export_name(names: ResourceNames, concern: str, output: str) -> str:
    return f"{names.stack(concern)}-{output}"


def arn(service: str, resource: str, *, region: str = "${AWS::Region}") -> Sub:
    """An ARN in this account and partition (`region=""` for global services)."""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}")


def bucket_arn(bucket: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}")


def bucket_objects_arn(bucket: str, prefix: str = "") -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/{prefix}*")


def service_principal(service: str) -> dict[str, str]:
    return {"Service": f"{service}.amazonaws.com"}


def assume_role_policy(service: str) -> dict[str, Any]:
    return policy(
        {"Effect": "Allow", "Principal": service_principal(service), "Action": "sts:AssumeRole"}
    )


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def allow(actions: list[str], resources: list[Any], **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def account_administers_key() -> dict[str, Any]:
    """The key policy statement that lets the account's IAM policies grant use of the key."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
        "Action": "kms:*",
        "Resource": "*",
    }


def skip_checkov(resource: AWSObject, *reasons: tuple[str, str]) -> AWSObject:
    """Suppress checkov checks on one resource, each with the written reason it does not apply."""
    metadata = dict(getattr(resource, "Metadata", {}) or {})
    metadata[CHECKOV_SKIP] = {"skip": [{"id": check, "comment": why} for check, why in reasons]}
    resource.Metadata = metadata
    return resource
