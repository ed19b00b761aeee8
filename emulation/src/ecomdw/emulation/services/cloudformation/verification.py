"""Read every deployed resource back through its own service API and compare it with its template.

A stack reaching CREATE_COMPLETE proves little in an emulator: both moto and LocalStack report
some types complete without creating them. So each resource is looked up by its physical id
through boto3 alone (nothing of moto's internals), and each property the API returns is
compared with the template's value, intrinsics resolved as CloudFormation would. Values an
intrinsic yields that only the deploy knows (`Fn::GetAtt`) are checked for presence only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ecomdw.core.names import EMULATOR_ACCOUNT_ID
from ecomdw.emulation.clients import emulator_client
from ecomdw.emulation.services.cloudformation.properties import covers
from ecomdw.emulation.services.cloudformation.registry import RESOURCE_TYPES
from ecomdw.emulation.services.cloudformation.resource_types import (
    BY_EMULATOR,
    NOT_EMULATED_ORIGIN,
    Reading,
)


class UnresolvedError(Exception):
    """An intrinsic whose value only the deploy knows (an attribute): compared by presence."""


@dataclass(frozen=True)
class StackFacts:
    """What resolving a template's intrinsics needs: ids, exports and pseudo parameters."""

    name: str
    region: str
    account_id: str
    physical_ids: Mapping[str, str]
    exports: Mapping[str, str]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
            return {key: self.resolve(item) for key, item in value.items()}
        function, argument = next(iter(value.items()))
        if function == "Ref":
            return self._ref(argument)
        if function == "Fn::ImportValue":
            return self.exports[self.resolve(argument)]
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(m.group(1)), argument)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(self.resolve(items))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(index)]
        raise UnresolvedError(function)

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise UnresolvedError(name)


@dataclass(frozen=True)
class ResourceCheck:
    stack: str
    logical_id: str
    resource_type: str
    origin: str
    compared: tuple[str, ...] = ()
    presence_only: tuple[str, ...] = ()
    not_readable: tuple[str, ...] = ()
    mismatches: tuple[str, ...] = ()
    error: str | None = None

    @property
    def verified(self) -> bool:
        return self.origin != NOT_EMULATED_ORIGIN and not self.error and not self.mismatches


@dataclass
class Verification:
    checks: list[ResourceCheck] = field(default_factory=list)

    @property
    def failures(self) -> list[ResourceCheck]:
        return [c for c in self.checks if c.origin != NOT_EMULATED_ORIGIN and not c.verified]

    @property
    def not_emulated_types(self) -> set[str]:
        return {c.resource_type for c in self.checks if c.origin == NOT_EMULATED_ORIGIN}

    def table(self) -> list[tuple[str, str, int, int, int]]:
        """(type, origin, resources, verified, properties compared) per type, sorted."""
        rows: dict[str, list[ResourceCheck]] = {}
        for check in self.checks:
            rows.setdefault(check.resource_type, []).append(check)
        return [
            (
                resource_type,
                checks[0].origin,
                len(checks),
                sum(c.verified for c in checks),
                sum(len(c.compared) for c in checks),
            )
            for resource_type, checks in sorted(rows.items(), key=lambda r: (r[1][0].origin, r[0]))
        ]

    def counts(self) -> Counter[str]:
        return Counter(check.origin for check in self.checks)


def verify_stacks(
    endpoint: str,
    stacks: Iterable[tuple[str, str, dict[str, Any]]],
    account_id: str = EMULATOR_ACCOUNT_ID,
) -> Verification:
    """Check every resource of every (stack name, region, template) deployed at `endpoint` in
    the emulated account `account_id`."""
    verification = Verification()
    for name, region, template in stacks:
        verification.checks.extend(verify_stack(endpoint, name, region, template, account_id))
    return verification


def verify_stack(
    endpoint: str,
    name: str,
    region: str,
    template: Mapping[str, Any],
    account_id: str = EMULATOR_ACCOUNT_ID,
) -> list[ResourceCheck]:
    @cache
    def clients(service: str) -> Any:
        return emulator_client(endpoint, region, service, account_id)

    cfn = clients("cloudformation")
    deployed = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
        for r in page["StackResourceSummaries"]
    }
    exports = {
        e["Name"]: e["Value"]
        for page in cfn.get_paginator("list_exports").paginate()
        for e in page["Exports"]
    }
    facts = StackFacts(name, region, account_id, deployed, exports)
    return [
        _check(clients, facts, name, logical_id, resource)
        for logical_id, resource in template["Resources"].items()
    ]


def _check(
    clients: Callable[[str], Any],
    facts: StackFacts,
    stack: str,
    logical_id: str,
    resource: Mapping[str, Any],
) -> ResourceCheck:
    resource_type = resource["Type"]
    known = RESOURCE_TYPES.get(resource_type)
    base = ResourceCheck(
        stack, logical_id, resource_type, known.origin if known is not None else BY_EMULATOR
    )
    if known is not None and known.origin == NOT_EMULATED_ORIGIN:
        return base
    if known is None or known.read is None:
        return _replace(base, error="no reader for this type")
    if logical_id not in facts.physical_ids:
        return _replace(base, error="not in the deployed stack")
    resolved: dict[str, Any] = {}
    presence_only = []
    for key, value in resource.get("Properties", {}).items():
        try:
            resolved[key] = facts.resolve(value)
        except UnresolvedError:
            presence_only.append(key)
    reading = Reading(
        clients, facts.region, facts.account_id, facts.physical_ids[logical_id], resolved
    )
    try:
        observed = known.read(reading)
    except Exception as exc:  # any failure to read it back means it is not there as declared
        return _replace(base, error=f"{type(exc).__name__}: {exc}")
    unreadable = known.unreadable
    for path in unreadable:
        if "." in path:
            head, rest = path.split(".", 1)
            if head in resolved:
                resolved[head] = _without(resolved[head], rest)
    if isinstance(observed.get("Tags"), list):
        # CloudFormation's own aws:cloudformation:* tags are not the template's.
        observed["Tags"] = [t for t in observed["Tags"] if not t["Key"].startswith("aws:")]
    compared, mismatches, not_readable = [], [], []
    for key in resource.get("Properties", {}):
        if key in unreadable or key not in observed:
            not_readable.append(key)
        elif key in presence_only:
            if observed[key] in (None, "", []):
                mismatches.append(f"{key}: missing")
        else:
            compared.append(key)
            if not covers(resolved[key], observed[key]):
                mismatches.append(f"{key}: template {resolved[key]!r}, API {observed[key]!r}")
    return _replace(
        base,
        compared=tuple(compared),
        presence_only=tuple(k for k in presence_only if k in observed),
        not_readable=tuple(not_readable),
        mismatches=tuple(mismatches),
    )


def _without(value: Any, path: str) -> Any:
    """`value` less what `path` names (`a.b`; a list applies the rest to each item)."""
    if isinstance(value, list):
        return [_without(item, path) for item in value]
    if not isinstance(value, dict):
        return value
    head, _, rest = path.partition(".")
    if not rest:
        return {k: v for k, v in value.items() if k != head}
    return {k: _without(v, rest) if k == head else v for k, v in value.items()}


def _replace(check: ResourceCheck, **changes: Any) -> ResourceCheck:
    return replace(check, **changes)
