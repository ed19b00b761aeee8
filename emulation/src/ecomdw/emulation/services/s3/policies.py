"""Bucket policies in the emulated S3, their conditions evaluated as S3 evaluates them.

moto ignores condition operators it does not know (`Bool`, `Numeric*`) and refuses any request
a conditional statement does not match, so a TLS-only policy (`Deny` unless
`aws:SecureTransport`) denies every object request. Here a statement applies only when its
action, resource and every condition match the request. The emulator's clients reach it over
loopback, which stands in for AWS's TLS: requests count as secure, on TLS 1.3. Statements
naming principals other than everyone (service principals, accounts) are for callers the
emulator does not authenticate, and are not evaluated.
"""

from __future__ import annotations

import fnmatch
import json
import operator
from collections.abc import Callable
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

from ecomdw.emulation.patching import replace
from ecomdw.emulation.services.cloudformation.properties import as_list

REQUEST = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}
"""What S3 knows of every request to the emulator, by condition key."""


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    return lambda actual, expected: compare(float(actual), float(expected))


OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "Bool": lambda actual, expected: actual.lower() == expected.lower(),
    "StringEquals": operator.eq,
    "StringLike": fnmatch.fnmatchcase,
    "NumericEquals": _numeric(operator.eq),
    "NumericLessThan": _numeric(operator.lt),
    "NumericLessThanEquals": _numeric(operator.le),
    "NumericGreaterThan": _numeric(operator.gt),
    "NumericGreaterThanEquals": _numeric(operator.ge),
}


def install() -> None:
    replace(FakeBucket, "get_permission", get_permission)


def get_permission(bucket: FakeBucket, action: str, resource: str) -> PermissionResult:
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    permitted = False
    for statement in as_list(json.loads(bucket.policy)["Statement"]):
        if not _applies(statement, action, resource):
            continue
        if statement["Effect"] == "Deny":
            return PermissionResult.DENIED
        permitted = True
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    return (
        statement.get("Principal") in ("*", {"AWS": "*"})
        and _matches(statement, "Action", action.lower(), lower=True)
        and _matches(statement, "Resource", resource)
        and all(
            _holds(operator, key, expected)
            for operator, keys in statement.get("Condition", {}).items()
            for key, expected in keys.items()
        )
    )


def _matches(statement: dict[str, Any], element: str, value: str, lower: bool = False) -> bool:
    def any_pattern(patterns: Any) -> bool:
        return any(fnmatch.fnmatchcase(value, p.lower() if lower else p) for p in as_list(patterns))

    if f"Not{element}" in statement:
        return not any_pattern(statement[f"Not{element}"])
    return any_pattern(statement.get(element, []))


def _holds(operator: str, key: str, expected: Any) -> bool:
    """A condition the request does not supply a value for, or whose operator is unknown
    here, does not hold: its statement does not apply."""
    compare = OPERATORS.get(operator)
    actual = REQUEST.get(key)
    if compare is None or actual is None:
        return False
    return any(compare(actual, str(value)) for value in as_list(expected))
