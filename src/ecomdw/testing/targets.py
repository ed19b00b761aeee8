"""What the plugin's fixtures run against: the embedded emulator, LocalStack, or AWS.

`emulator` (the default) starts ecomdw's embedded emulator once per session, and each test that
asks for `aws` finds it empty. `localstack` starts LocalStack on the host (or uses the one at
`ECOMDW_LOCALSTACK_ENDPOINT`); what only ecomdw's emulation runs is skipped there. `aws` starts
nothing: boto3's own configuration says where AWS is and who you are (`AWS_ENDPOINT_URL` when
something stands in for AWS, `AWS_REGION`, credentials from the default chain), and the
`ECOMDW_TEST_*` variables below name what a test may use there. Nothing on AWS is reset: tests
keep apart by the names `AwsAccount.unique` gives them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ecomdw.core.aws import client
from ecomdw.core.errors import UserError
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings, load_settings
from ecomdw.core.storage import S3Location, ensure_bucket
from ecomdw.testing.options import BUCKET_VARIABLE, EMULATED_ROLE, SCRATCH_PREFIX, Target


@dataclass
class AwsTarget:
    """The session's AWS: what runs it, the settings every client is made from, and how it is
    emptied between tests (None where it cannot be)."""

    target: Target
    settings: Settings
    resetter: Callable[[], None] | None = None
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def endpoint(self) -> str | None:
        """The endpoint every client uses; None on AWS itself."""
        return self.settings.endpoint_url

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def emulated(self) -> bool:
        """ecomdw's own emulator: Glue runs, the Data API on DuckDB, Step Functions executions."""
        return self.target is Target.EMULATOR

    def client(self, service: str) -> Any:
        """A boto3 client of `service` on this target."""
        return client(service, self.settings)

    def reset(self) -> bool:
        """Empty the target, if it can be emptied; whether it was."""
        if self.resetter is None:
            return False
        self.resetter()
        return True

    def variable(self, name: str, what: str) -> str:
        """An `ECOMDW_TEST_*` setting the `aws` target needs, or one line saying which."""
        value = self.environment.get(name)
        if not value:
            raise UserError(f"--ecomdw-target=aws needs {name}: {what}")
        return value

    def role(self, variable: str, what: str) -> str:
        """The role ARN resources run as: the emulators' stand-in, or the one named on AWS."""
        if self.target is not Target.AWS:
            return EMULATED_ROLE
        return self.variable(variable, what)


def aws_settings(environment: Mapping[str, str]) -> Settings:
    """Settings for AWS as boto3 is configured for it: `AWS_ENDPOINT_URL` if something stands
    in for AWS, the region of `AWS_REGION` or `AWS_DEFAULT_REGION`; `ECOMDW_ENV` (default
    `dev`) for the names of ecomdw's own resources."""
    region = environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION")
    overrides: dict[str, object] = {
        "env": Environment(environment.get("ECOMDW_ENV") or Environment.DEV.value),
        "endpoint_url": environment.get("AWS_ENDPOINT_URL") or None,
    }
    if region:
        overrides["region"] = region
    settings = load_settings(**overrides)
    if settings.emulated:
        raise UserError("--ecomdw-target=aws runs on an AWS environment: ECOMDW_ENV=local is not")
    return settings


class AwsAccount:
    """One test's AWS: boto3 clients (`aws("s3")`), names no other test uses, and a scratch
    place in S3 for what the fixtures upload."""

    def __init__(self, target: AwsTarget) -> None:
        self.target = target
        self.test_id = uuid.uuid4().hex[:8]

    def __call__(self, service: str) -> Any:
        return self.target.client(service)

    def client(self, service: str) -> Any:
        return self.target.client(service)

    @property
    def settings(self) -> Settings:
        return self.target.settings

    @property
    def region(self) -> str:
        return self.target.region

    def unique(self, name: str) -> str:
        """`name` with this test's id: a bucket, job or table name no other test has."""
        return f"{name}-{self.test_id}"

    @cached_property
    def scratch(self) -> S3Location:
        """Where this test's uploads go: a bucket made for it in an emulator, on AWS a prefix
        of `ECOMDW_TEST_BUCKET`."""
        if self.target.target is Target.AWS:
            bucket = self.target.variable(BUCKET_VARIABLE, "a bucket the tests may write to")
        else:
            bucket = self.unique(SCRATCH_PREFIX)
            ensure_bucket(bucket, self.settings)
        return S3Location(bucket, f"{SCRATCH_PREFIX}/{self.test_id}")
