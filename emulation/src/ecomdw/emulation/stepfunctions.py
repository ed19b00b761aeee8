"""Step Functions executions that run: moto's Amazon States Language interpreter, wired up.

moto 5 carries LocalStack's ASL interpreter (`moto.stepfunctions.parser`), off by default: then
`StartExecution` records an execution and runs nothing. Switched on (its setting
`stepfunctions.execute_state_machine`), an execution runs in a background thread: every state
type, the paths, intrinsic functions, Retry and Catch, with `DescribeExecution` going RUNNING
to SUCCEEDED / FAILED and `GetExecutionHistory` holding the events. What it lacks to run the
pipeline's own state machine here, this module adds:

- its service integrations call `localhost:$MOTO_PORT`; here they call this emulator, so
  `glue:startJobRun.sync` starts a job run that `glue_jobs` executes on Spark and waits for it,
  and the AWS SDK integrations (`aws-sdk:redshiftdata:executeStatement`, ...) reach every
  emulated service;
- Step Functions names SDK services without hyphens (`redshiftdata`), boto3 with them;
- an SDK error is named `Service.ErrorCodeException`, as AWS documents
  (`RedshiftData.ValidationException`);
- state machines that CloudFormation creates (with `Definition` and `DefinitionSubstitutions`,
  which moto ignores) land in the backend that executes;
- Retry intervals and Wait states last `ECOMDW_STATES_SECOND_SECONDS` per second, so a
  production retry policy costs a test milliseconds.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ecomdw.core.aws import EMULATOR_CREDENTIALS
from ecomdw.core.settings import Settings

SECOND_SECONDS_VARIABLE = "ECOMDW_STATES_SECOND_SECONDS"
"""Seconds in one second of a Retry interval or a Wait state (1); tests shorten it."""

SDK_SERVICE_ERROR_PREFIXES = {"redshiftdata": "RedshiftData", "glue": "Glue", "s3": "S3"}
"""Service part of an AWS SDK integration's error names, as AWS spells it."""

PARSER_PACKAGE = "moto.stepfunctions.parser"


_emulator_endpoints: list[str] = []
_emulator_endpoints_lock = threading.Lock()


class StepFunctionsRunner:
    """Makes this process's moto Step Functions executions run against the emulator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def install(self) -> None:
        from moto.core.config import default_user_config

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        with _emulator_endpoints_lock:
            _emulator_endpoints.append(str(self.settings.endpoint_url))
        _extend_moto_once()


def live_endpoint() -> str:
    """The newest emulator of this process that still answers.

    moto's backends are per process, so every emulator in it serves the same state; one that
    was stopped (an `ecomdw run` inside a test session) must not be called.
    """
    with _emulator_endpoints_lock:
        endpoints = list(reversed(_emulator_endpoints))
    for endpoint in endpoints:
        if _answers(endpoint):
            return endpoint
    raise RuntimeError("no emulator of this process is running")


@cache
def _extend_moto_once() -> None:
    """moto's classes are per process: extend them once, whatever the number of emulators."""
    _route_integrations_to(live_endpoint)
    _name_sdk_services_as_boto3_does()
    _name_sdk_errors_as_aws_does()
    _create_cloudformation_state_machines_in_the_executing_backend()
    _scale_retry_intervals_and_waits()


def _answers(endpoint: str) -> bool:
    parsed = urlparse(endpoint)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 80), timeout=1):
            return True
    except OSError:
        return False


def _route_integrations_to(endpoint: Callable[[], str]) -> None:
    """Make every service integration's boto3 client call `endpoint()` instead of :5000."""
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory  # noqa: F401, E501
    from moto.stepfunctions.parser.asl.utils import boto_client

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # As moto's: no retries (the state's Retry decides) and no parameter validation
        # (Step Functions passes what the state gives, the service judges it).
        config = Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            read_timeout=3600,
        )
        session: Any = boto3.session.Session
        return session(region_name=region, **EMULATOR_CREDENTIALS).client(
            service, endpoint_url=endpoint(), config=config
        )

    original = boto_client.boto_client_for
    # The modules that imported moto's function by name, and the module later imports read.
    for name, module in list(sys.modules.items()):
        if name.startswith(PARSER_PACKAGE) and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def _name_sdk_services_as_boto3_does() -> None:
    """`aws-sdk:redshiftdata:...` calls boto3's `redshift-data`: drop the hyphens to match."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
        StateTaskService,
    )

    overrides: dict[str, str] = StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES
    for service in boto3.session.Session().get_available_services():
        if "-" in service:
            overrides.setdefault(service.replace("-", ""), service)


def sdk_error_name(service_prefix: str, error: Exception) -> str:
    """`Service.ErrorCodeException`: an SDK integration's error name, as AWS documents it."""
    code = error.response["Error"]["Code"] if isinstance(error, ClientError) else None
    name = str(code or type(error).__name__)
    return f"{service_prefix}.{name if name.endswith('Exception') else name + 'Exception'}"


def _name_sdk_errors_as_aws_does() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    aws_sdk._SERVICE_ERROR_NAMES.update(SDK_SERVICE_ERROR_PREFIXES)
    aws_sdk.StateTaskServiceAwsSdk._normalise_exception_name = staticmethod(sdk_error_name)  # type: ignore[method-assign,assignment]


def definition_string(properties: dict[str, Any]) -> str | None:
    """The state machine's definition as CloudFormation gives it to Step Functions."""
    definition = properties.get("DefinitionString")
    if definition is None and "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    if definition is None:
        return None
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    return str(definition)


def _create_cloudformation_state_machines_in_the_executing_backend() -> None:
    from moto.stepfunctions import models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    # Only the models' name: moto's server finds the service's URLs through the package's.
    models.stepfunctions_backends = stepfunctions_parser_backends  # type: ignore[assignment]
    state_machine = models.StateMachine
    create = state_machine.create_from_cloudformation_json
    update = state_machine.update_from_cloudformation_json

    def with_definition_string(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        described = copy.deepcopy(cloudformation_json)
        properties = described.setdefault("Properties", {})
        if (definition := definition_string(properties)) is not None:
            properties["DefinitionString"] = definition
        return described

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Any:
        return create(resource_name, with_definition_string(cloudformation_json), *args, **kwargs)

    def update_from_cloudformation_json(
        cls: Any, original: Any, new_name: str, cloudformation_json: Any, *args: Any, **kw: Any
    ) -> Any:
        properties = with_definition_string(cloudformation_json)
        return update(original, new_name, properties, *args, **kw)

    state_machine.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment]
    state_machine.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[method-assign,assignment]


class _ScaledClock:
    """The retrier's `time`: its `sleep` lasts the scaled interval."""

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * second_seconds())


def second_seconds() -> float:
    return float(os.environ.get(SECOND_SECONDS_VARIABLE, "1"))


def _scale_retry_intervals_and_waits() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    retrier_decl.time = _ScaledClock  # type: ignore[assignment,attr-defined]

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        """Wait the scaled duration, or until the execution stops running."""
        deadline = time.monotonic() + wait_seconds * second_seconds()
        while env.is_running() and (remaining := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(remaining)

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
