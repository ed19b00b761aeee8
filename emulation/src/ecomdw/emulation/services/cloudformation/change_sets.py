"""Change sets in moto's CloudFormation, executed and described as CloudFormation does.

moto executes a change set by updating the stack's resource map alone. A CREATE therefore
publishes no exports (the next stack's `Fn::ImportValue` fails), resolves nothing another stack
exports, ignores `DependsOn` and skips the resources-before-outputs order ecomdw relies on; no
execution refreshes the stack's outputs. Here a CREATE builds the stack as `CreateStack` does,
under the id the change set reviewed, and an UPDATE runs as `UpdateStack` does; both then
publish the stack's exports. moto's changes also lack `Scope` and `Details`: the changes are
computed here from the deployed and the submitted template, one detail per changed value.
moto lists every change set of the region whatever stack is asked for: here, the stack's own.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Change, ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from ecomdw.emulation.patching import original, replace

DIRECT = {"Evaluation": "Static", "ChangeSource": "DirectModification"}
"""How every detail arises here: the template's own text changed."""
SCOPES = ("Properties", "Metadata", "CreationPolicy", "UpdatePolicy", "DeletionPolicy",
          "UpdateReplacePolicy")  # fmt: skip


def install() -> None:
    """Put the change-set execution and description below in front of moto's."""
    replace(CloudFormationBackend, "execute_change_set", execute_change_set)
    replace(ChangeSet, "diff", diff)
    replace(CloudFormationResponse, "list_change_sets", list_change_sets)
    replace(CloudFormationResponse, "update_stack", update_stack)


def update_stack(response: CloudFormationResponse) -> ActionResult:
    """An update that changes nothing is refused, as CloudFormation does; moto refuses it only
    when the request passes parameters."""
    body = response._get_param("TemplateBody")
    if body and not response._get_param("Parameters"):
        stack = response.cloudformation_backend.get_stack(response._get_param("StackName"))
        if body == stack.template:
            raise ValidationError(stack.name, message="No updates are to be performed.")
    result: ActionResult = original(CloudFormationResponse, "update_stack")(response)
    return result


def list_change_sets(response: CloudFormationResponse) -> ActionResult:
    stack = response._get_param("StackName")
    return ActionResult(
        {
            "Summaries": [
                change_set
                for change_set in response.cloudformation_backend.list_change_sets()
                if stack in (change_set.stack_name, change_set.stack_id)
            ]
        }
    )


def execute_change_set(
    backend: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set = backend.describe_change_set(change_set_name)
    assert change_set is not None  # moto raises for an unknown change set
    reviewed = backend.stacks[change_set.stack_id]
    if change_set.change_set_type == "CREATE":
        stack = _create(backend, reviewed, change_set)
    else:
        stack = reviewed
        stack.update(
            change_set.template,
            change_set.role_arn,
            parameters=change_set.parameters,
            tags=change_set.tags or None,
        )
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    for export in stack.exports:
        backend.exports[export.name] = export
    change_set.stack = stack
    change_set.execution_status = "EXECUTE_COMPLETE"


def _create(backend: CloudFormationBackend, reviewed: Stack, change_set: ChangeSet) -> Stack:
    """The stack as `CreateStack` makes it (resources, then outputs resolved against the
    region's exports), in place of the empty one the change set was reviewed against."""
    stack = Stack(  # type: ignore[abstract]
        stack_id=reviewed.stack_id,
        name=reviewed.name,
        template=change_set.template,
        parameters=change_set.parameters,
        account_id=backend.account_id,
        region_name=backend.region_name,
        notification_arns=change_set.notification_arns,
        tags=change_set.tags,
        role_arn=change_set.role_arn,
        cross_stack_resources=backend.exports,
    )
    stack.events = [*reviewed.events, *stack.events]
    backend._validate_export_uniqueness(stack)
    backend.stacks[stack.stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.create_resources()
    return stack


def diff(change_set: ChangeSet) -> list[Change]:
    """Add, Modify and Remove per logical id, each Modify with its `Scope` and `Details`."""
    deployed = _resources(change_set.stack.template)
    submitted: dict[str, Any] = change_set.template_dict.get("Resources", {})
    changes = []
    for logical_id, new in submitted.items():
        old = deployed.get(logical_id)
        if old is None:
            changes.append(Change("Add", logical_id, new["Type"]))
        elif old != new:
            change = Change("Modify", logical_id, new["Type"])
            change.scope = [s for s in SCOPES if old.get(s) != new.get(s)]  # type: ignore[attr-defined]
            change.details = details(old.get("Properties", {}), new.get("Properties", {}))  # type: ignore[attr-defined]
            changes.append(change)
    changes.extend(
        Change("Remove", logical_id, old["Type"])
        for logical_id, old in deployed.items()
        if logical_id not in submitted
    )
    return changes


def _resources(template: str | dict[str, Any]) -> dict[str, Any]:
    """The resources of a deployed template: moto keeps the body as submitted (text), or `{}`
    for a stack still under review."""
    parsed = Stack.parse_template(template) if isinstance(template, str) else template
    resources: dict[str, Any] = parsed.get("Resources", {})
    return resources


def details(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """One detail per changed value: the top-level property as `Name`, where in it as `Path`,
    and the values before and after as JSON text."""
    found = []
    for name in sorted(old.keys() | new.keys()):
        for path, before, after in _differences(old.get(name), new.get(name), f"/{name}"):
            target = {
                "Attribute": "Tags" if name == "Tags" else "Properties",
                "Name": name,
                "Path": f"/Properties{path}",
                "AttributeChangeType": (
                    "Add" if before is None else "Remove" if after is None else "Modify"
                ),
            }
            if before is not None:
                target["BeforeValue"] = _text(before)
            if after is not None:
                target["AfterValue"] = _text(after)
            found.append({"Target": target, **DIRECT})
    return found


def _differences(old: Any, new: Any, path: str) -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            difference
            for key in sorted(old.keys() | new.keys())
            for difference in _differences(old.get(key), new.get(key), f"{path}/{key}")
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            difference
            for index, (o, n) in enumerate(zip(old, new, strict=True))
            for difference in _differences(o, n, f"{path}/{index}")
        ]
    return [] if old == new else [(path, old, new)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
