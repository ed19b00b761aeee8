"""Every CloudFormation resource type the emulation knows, by name, from its service.

The one table both sides iterate: `stacks` creates through it what moto's CloudFormation
cannot, and `verification` reads every deployed resource back through it. A type no service
declares is one moto's own model creates, and that no reader checks yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ecomdw.emulation.services import (
    backup,
    budgets,
    cloudtrail,
    cloudwatch,
    config,
    ec2,
    events,
    guardduty,
    iam,
    kms,
    scheduler,
    securityhub,
    sns,
)
from ecomdw.emulation.services.cloudformation.resource_types import (
    NOT_EMULATED_ORIGIN,
    ResourceType,
)
from ecomdw.emulation.services.glue import resources as glue
from ecomdw.emulation.services.logs import resources as logs
from ecomdw.emulation.services.redshift import resources as redshift
from ecomdw.emulation.services.s3 import resources as s3
from ecomdw.emulation.services.stepfunctions import resources as stepfunctions

SERVICES = (
    backup,
    budgets,
    cloudtrail,
    cloudwatch,
    config,
    ec2,
    events,
    glue,
    guardduty,
    iam,
    kms,
    logs,
    redshift,
    s3,
    scheduler,
    securityhub,
    sns,
    stepfunctions,
)


def _by_name(types: Iterable[ResourceType]) -> dict[str, ResourceType]:
    found: dict[str, ResourceType] = {}
    for resource_type in types:
        if resource_type.name in found:
            raise ValueError(f"{resource_type.name} is declared twice")
        found[resource_type.name] = resource_type
    return found


RESOURCE_TYPES: Mapping[str, ResourceType] = _by_name(
    resource_type for service in SERVICES for resource_type in service.RESOURCE_TYPES
)

NOT_EMULATED: Mapping[str, str] = {
    name: known.why for name, known in RESOURCE_TYPES.items() if known.origin == NOT_EMULATED_ORIGIN
}
"""Types neither moto nor ecomdw can create, each with the reason: the verification names them."""
