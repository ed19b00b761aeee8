"""Stacks in moto's CloudFormation, created as CloudFormation creates them.

moto's CloudFormation has no model for many types (Glue, Config, CloudTrail, GuardDuty, Backup,
alarms, bucket and topic policies, schedules, budgets ...): it reports them complete and creates
nothing, and fails outright when an output reads an attribute of one. For some types it has a
model that drops properties (a bucket gets encryption and tags only; a KMS key with tags fails;
a Redshift cluster cannot manage its admin secret). Each type the registry says is created by
ecomdw is created instead by its service's `create`, from the template's own properties
(intrinsics already resolved by moto) through the emulated service's API, so botocore
validates every converted request. moto also resolves a new stack's outputs before it creates
its resources, and drops a template's literal `null`s: both are put right here.

`install()` puts these types in front of moto's own models in this process; each resource is
created through the emulator serving CloudFormation (`state.RUNNING`).
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any, ClassVar

from moto.cloudformation import parsing
from moto.cloudformation.models import Stack

from ecomdw.emulation.patching import original, replace
from ecomdw.emulation.services.cloudformation import change_sets
from ecomdw.emulation.services.cloudformation.registry import NOT_EMULATED, RESOURCE_TYPES
from ecomdw.emulation.services.cloudformation.resource_types import (
    BY_ECOMDW,
    Created,
    Creating,
    ResourceType,
)
from ecomdw.emulation.state import RUNNING


class EmulatedResource:
    """What moto's CloudFormation holds for a resource created here: its id and attributes."""

    spec: ClassVar[ResourceType]

    def __init__(
        self, created: Created, properties: dict[str, Any], origin: dict[str, str]
    ) -> None:
        self.physical_resource_id = created.physical_id
        self.attributes = dict(created.attributes)
        self.properties = properties
        self.origin = origin
        """The stack id and logical id moto created it under: what an update creates it as."""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedResource:
        state = RUNNING.serving()
        properties = cloudformation_json.get("Properties", {})
        origin: dict[str, str] = {k: kwargs[k] for k in ("StackId", "LogicalId") if k in kwargs}
        if origin:
            template = state.stack_templates.get(origin["StackId"], {})
            declared = template.get("Resources", {}).get(origin["LogicalId"], {})
            properties = _with_template_nulls(properties, declared.get("Properties", {}))
        assert cls.spec.create is not None  # only types created here have a model class
        created = cls.spec.create(
            Creating(state.endpoint, region_name, account_id, resource_name), properties
        )
        return cls(created, properties, origin)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedResource:
        """Replace the resource: delete it (where that is emulated), create it anew."""
        if cls.spec.delete is None:
            raise NotImplementedError(f"updating {cls.spec.name} is not emulated")
        creating = Creating(RUNNING.serving().endpoint, region_name, account_id, new_resource_name)
        cls.spec.delete(
            creating, original_resource.physical_resource_id, original_resource.properties
        )
        return cls.create_from_cloudformation_json(
            new_resource_name,
            cloudformation_json,
            account_id,
            region_name,
            **original_resource.origin,
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region: str
    ) -> None:
        if cls.spec.delete is not None:
            properties = cloudformation_json.get("Properties", {})
            creating = Creating(RUNNING.serving().endpoint, region, account_id, resource_name)
            cls.spec.delete(creating, resource_name, properties)


def _with_template_nulls(resolved: Any, template: Any) -> Any:
    """Put back the literal `null`s moto's intrinsic resolution drops (a state's
    `"ResultPath": null` means: discard the result)."""
    if isinstance(resolved, dict) and isinstance(template, dict):
        restored = {
            key: _with_template_nulls(value, template.get(key)) for key, value in resolved.items()
        }
        restored.update({k: None for k, v in template.items() if v is None and k not in resolved})
        return restored
    if isinstance(resolved, list) and isinstance(template, list) and len(resolved) == len(template):
        return [_with_template_nulls(r, t) for r, t in zip(resolved, template, strict=True)]
    return resolved


MODELS: dict[str, type[EmulatedResource]] = {
    name: type(f"Emulated{name.replace('::', '')}", (EmulatedResource,), {"spec": spec})
    for name, spec in RESOURCE_TYPES.items()
    if spec.origin == BY_ECOMDW
}
"""A model class for moto's CloudFormation per type created here."""


def install() -> None:
    """Make moto's CloudFormation in this process create the emulated types, resources before
    outputs, from the templates as submitted."""
    replace(parsing, "resource_class_from_type", resource_class_from_type)
    replace(Stack, "_create_output_map", create_output_map)
    replace(parsing.ResourceMap, "update", update)
    change_sets.install()
    _quiet_about_the_not_emulated()


def resource_class_from_type(resource_type: str) -> Any:
    return MODELS.get(resource_type) or original(parsing, "resource_class_from_type")(resource_type)


def _quiet_about_the_not_emulated() -> None:
    """moto logs and warns at every resource of a type it lacks; for `NOT_EMULATED` types
    the deploy's own report names them once, with the reason."""
    for resource_type in NOT_EMULATED:
        warnings.filterwarnings(
            "ignore", message=f"Tried to parse {re.escape(resource_type)} ", category=UserWarning
        )
    logging.getLogger("moto").addFilter(_not_emulated)  # the same filter is added once


def _not_emulated(record: logging.LogRecord) -> bool:
    return not (
        record.msg == "No Moto CloudFormation support for %s"
        and record.args is not None
        and tuple(record.args)[:1] in {(t,) for t in NOT_EMULATED}
    )


def create_output_map(stack: Stack) -> Any:
    """moto resolves a new stack's outputs before it creates its resources in `DependsOn`
    order, so a resource an output names is created before what it depends on; create the
    resources first, as CloudFormation does."""
    RUNNING.serving().stack_templates[stack.stack_id] = stack.template_dict
    if stack.template_dict.get("Resources"):
        stack.resource_map.create(stack.template_dict)
    return original(Stack, "_create_output_map")(stack)


def update(
    resource_map: parsing.ResourceMap,
    template: dict[str, Any],
    parameters: dict[str, Any] | None = None,
) -> None:
    """An update creates resources from the new template: keep it, as submitted, before moto
    creates anything."""
    RUNNING.serving().stack_templates[resource_map.stack_id] = template
    original(parsing.ResourceMap, "update")(resource_map, template, parameters)
