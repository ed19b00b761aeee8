"""Deploy the synthesized stacks: directly in the emulator, through change sets on AWS.

Stacks go one at a time in deploy order, because each imports exports of those before it.
On AWS every stack first gets a change set, shown as Add/Modify/Remove per logical id with
the property values a Modify changes, and executed only on confirmation; a stack whose
template did not change gets no change set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ecomdw.infra.synth import SynthesizedStack, render

CAPABILITIES = ["CAPABILITY_NAMED_IAM"]


class Clients(Protocol):
    """A boto3 client for a service in a region, with the target account's credentials."""

    def __call__(self, service: str, region: str) -> Any: ...


@dataclass(frozen=True)
class PropertyChange:
    """One changed value of a modified resource, as the change set's details say."""

    name: str
    """The top-level property (or `Tags`)."""
    path: str | None = None
    """Where in it, e.g. `/Properties/Budget/BudgetLimit/Amount`, when CloudFormation says."""
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class ResourceChange:
    action: str
    """Add, Modify or Remove, as CloudFormation says."""
    logical_id: str
    resource_type: str
    properties: tuple[PropertyChange, ...] = ()


@dataclass(frozen=True)
class StackPlan:
    """What deploying one stack would change: nothing, or a change set to execute."""

    stack: SynthesizedStack
    change_set_id: str | None
    changes: tuple[ResourceChange, ...]

    @property
    def empty(self) -> bool:
        return self.change_set_id is None


class DeployError(RuntimeError):
    """A stack or change set did not reach the state it was driven to."""


def stack_exists(clients: Clients, stack: SynthesizedStack) -> bool:
    cfn = clients("cloudformation", stack.region)
    try:
        status = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return bool(status != "REVIEW_IN_PROGRESS")


def apply_stack(clients: Clients, stack: SynthesizedStack) -> str:
    """Create or update the stack directly (the emulator's way); 'created', 'updated' or
    'unchanged'."""
    cfn = clients("cloudformation", stack.region)
    request = {
        "StackName": stack.name,
        "TemplateBody": render(stack.template),
        "Capabilities": CAPABILITIES,
    }
    if not stack_exists(clients, stack):
        cfn.create_stack(**request)
        _wait_stack(cfn, stack.name, "CREATE_COMPLETE")
        return "created"
    try:
        cfn.update_stack(**request)
    except ClientError as exc:
        if "No updates are to be performed" in str(exc):
            return "unchanged"
        raise
    _wait_stack(cfn, stack.name, "UPDATE_COMPLETE")
    return "updated"


def stack_outputs(clients: Clients, stack: SynthesizedStack) -> dict[str, str]:
    """The deployed stack's outputs, by output key: the names and ARNs others read."""
    described = clients("cloudformation", stack.region).describe_stacks(StackName=stack.name)
    return {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}


def plan_stack(clients: Clients, stack: SynthesizedStack, change_set_name: str) -> StackPlan:
    """Create a change set for the stack and describe it; an empty one is deleted."""
    cfn = clients("cloudformation", stack.region)
    exists = stack_exists(clients, stack)
    created = cfn.create_change_set(
        StackName=stack.name,
        ChangeSetName=change_set_name,
        ChangeSetType="UPDATE" if exists else "CREATE",
        TemplateBody=render(stack.template),
        Capabilities=CAPABILITIES,
    )
    change_set_id = created["Id"]
    changes = tuple(
        _resource_change(change["ResourceChange"])
        for change in _wait_change_set(cfn, change_set_id)
    )
    if exists and not changes:
        cfn.delete_change_set(ChangeSetName=change_set_id)
        return StackPlan(stack, None, ())
    return StackPlan(stack, change_set_id, changes)


def _resource_change(change: dict[str, Any]) -> ResourceChange:
    return ResourceChange(
        action=change["Action"],
        logical_id=change["LogicalResourceId"],
        resource_type=change["ResourceType"],
        properties=tuple(
            PropertyChange(
                name=target.get("Name") or target["Attribute"],
                path=target.get("Path"),
                before=target.get("BeforeValue"),
                after=target.get("AfterValue"),
            )
            for detail in change.get("Details", [])
            for target in [detail["Target"]]
        ),
    )


def execute_plan(clients: Clients, plan: StackPlan) -> None:
    if plan.change_set_id is None:
        return
    cfn = clients("cloudformation", plan.stack.region)
    cfn.execute_change_set(ChangeSetName=plan.change_set_id)
    _wait_stack(cfn, plan.stack.name, "CREATE_COMPLETE", "UPDATE_COMPLETE")


@dataclass(frozen=True)
class Rollout:
    """What a deploy through change sets did: the plans, in order, up to any refused one."""

    plans: list[StackPlan]
    refused: StackPlan | None = None
    """The change set the user declined (deleted); the stacks after it were not planned."""

    @property
    def complete(self) -> bool:
        return self.refused is None

    @property
    def changes(self) -> int:
        return sum(len(plan.changes) for plan in self.plans if plan is not self.refused)


def deploy_with_change_sets(
    clients: Clients,
    stacks: Iterable[SynthesizedStack],
    change_set_name: str,
    confirm: Callable[[StackPlan], bool],
    before: Callable[[SynthesizedStack], None] = lambda _: None,
) -> Rollout:
    """For each stack in order: `before` it, plan, ask `confirm`, execute. Stops at the first
    refusal."""
    plans = []
    for stack in stacks:
        before(stack)
        plan = plan_stack(clients, stack, change_set_name)
        plans.append(plan)
        if plan.empty:
            continue
        if not confirm(plan):
            clients("cloudformation", stack.region).delete_change_set(
                ChangeSetName=plan.change_set_id
            )
            return Rollout(plans, refused=plan)
        execute_plan(clients, plan)
    return Rollout(plans)


def plan_all(
    clients: Clients, stacks: Iterable[SynthesizedStack], change_set_name: str
) -> list[StackPlan]:
    """Change sets for stacks that all exist already, none executed: a preview."""
    return [plan_stack(clients, stack, change_set_name) for stack in stacks]


def discard(clients: Clients, plans: Iterable[StackPlan]) -> None:
    for plan in plans:
        if plan.change_set_id is not None:
            cfn = clients("cloudformation", plan.stack.region)
            cfn.delete_change_set(ChangeSetName=plan.change_set_id)


def _wait_change_set(cfn: Any, change_set_id: str, timeout: float = 300) -> list[dict[str, Any]]:
    """The change set's changes, every page, once it is created (none if it has none)."""
    deadline = time.monotonic() + timeout
    while True:
        described = _describe(cfn, change_set_id)
        status = described["Status"]
        if status == "CREATE_COMPLETE":
            changes: list[dict[str, Any]] = described.get("Changes", [])
            while token := described.get("NextToken"):
                described = _describe(cfn, change_set_id, NextToken=token)
                changes.extend(described.get("Changes", []))
            return changes
        if status == "FAILED":
            reason = described.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                return []
            raise DeployError(f"change set {change_set_id} failed: {reason}")
        if time.monotonic() > deadline:
            raise DeployError(f"change set {change_set_id} still {status} after {timeout:.0f}s")
        time.sleep(2)


def _describe(cfn: Any, change_set_id: str, **page: str) -> dict[str, Any]:
    described: dict[str, Any] = cfn.describe_change_set(
        ChangeSetName=change_set_id, IncludePropertyValues=True, **page
    )
    return described


def _wait_stack(cfn: Any, name: str, *done: str, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in done:
            return
        if not status.endswith("_IN_PROGRESS"):
            raise DeployError(f"{name}: {status} {stack.get('StackStatusReason', '')}".strip())
        if time.monotonic() > deadline:
            raise DeployError(f"{name} still {status} after {timeout:.0f}s")
        time.sleep(5)
