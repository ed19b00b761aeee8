"""`state_machine`: a Step Functions state machine created, executed to its end, described.

The definition is ASL (a dict, its JSON text, or a `.json` file), or an ecomdw `Pipeline`,
rendered as the stacks deploy it (`ecomdw.infra.pipeline.PipelineInput.definition`) for the
settings' resource names. In the emulator the execution runs its states, integrations, Retry
and Catch (`ecomdw.emulation.services.stepfunctions.executions`); on `aws` Step Functions does.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecomdw.emulation.services.stepfunctions.executions import SECOND_SECONDS_VARIABLE
from ecomdw.etl.pipeline import Pipeline, RedshiftTarget
from ecomdw.infra.pipeline import PipelineInput
from ecomdw.testing.options import STATES_ROLE_VARIABLE
from ecomdw.testing.targets import AwsAccount

ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
ENTERED = "stateEnteredEventDetails"


@dataclass(frozen=True)
class Execution:
    """An ended execution: `DescribeExecution` and its whole `GetExecutionHistory`."""

    arn: str
    status: str
    output: Any
    """The execution's output, parsed from its JSON (None unless it succeeded)."""
    error: str | None
    cause: str | None
    history: tuple[dict[str, Any], ...]

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The history's events of one type (`TaskFailed`, `ExecutionSucceeded`, ...)."""
        return [event for event in self.history if event["type"] == kind]

    @property
    def states_entered(self) -> list[str]:
        """The names of the states the execution entered, in order, repeats included."""
        return [str(event[ENTERED]["name"]) for event in self.history if ENTERED in event]


Definition = Mapping[str, Any] | str | Path | Pipeline
"""ASL as a dict, as its JSON text or in a `.json` file; or an ecomdw pipeline."""


def definition_of(definition: Definition, account: AwsAccount) -> str:
    """ASL text: as given, read from a file, or rendered from a pipeline."""
    if isinstance(definition, Pipeline):
        names = account.settings.names
        target = RedshiftTarget(names.redshift_database, cluster_identifier=names.redshift_cluster)
        return json.dumps(PipelineInput(definition).definition(names, target))
    if isinstance(definition, Path):
        return definition.read_text()
    if isinstance(definition, str):
        return definition
    return json.dumps(definition)


@contextmanager
def time_scale(seconds_per_second: float | None) -> Iterator[None]:
    """In the emulator, every Wait and Retry interval second lasting `seconds_per_second`."""
    if seconds_per_second is None:
        yield
        return
    before = os.environ.get(SECOND_SECONDS_VARIABLE)
    os.environ[SECOND_SECONDS_VARIABLE] = str(seconds_per_second)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SECOND_SECONDS_VARIABLE, None)
        else:
            os.environ[SECOND_SECONDS_VARIABLE] = before


class StateMachines:
    """The `state_machine` factory: `state_machine(definition, input) -> Execution`."""

    def __init__(self, account: AwsAccount, poll_seconds: float = 0.1) -> None:
        self.account = account
        self.poll_seconds = poll_seconds
        self._count = 0

    def __call__(
        self,
        definition: Definition,
        given: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        timeout_seconds: float = 300,
        seconds_per_second: float | None = None,
    ) -> Execution:
        """Create a state machine of `definition`, execute it with input `given`, and wait for
        its end. `seconds_per_second` shortens Wait states and Retry intervals in the emulator
        (0.001: an hour's wait takes 3.6 s); AWS ignores it."""
        self._count += 1
        states = self.account("stepfunctions")
        role = self.account.target.role(STATES_ROLE_VARIABLE, "the role ARN state machines run as")
        arn = states.create_state_machine(
            name=name or self.account.unique(f"machine{self._count}"),
            definition=definition_of(definition, self.account),
            roleArn=role,
        )["stateMachineArn"]
        scale = seconds_per_second if self.account.target.emulated else None
        with time_scale(scale):
            started = states.start_execution(stateMachineArn=arn, input=json.dumps(given or {}))
            described = self._wait(started["executionArn"], timeout_seconds)
        output = described.get("output")
        return Execution(
            arn=started["executionArn"],
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            history=tuple(self._history(started["executionArn"])),
        )

    def _wait(self, arn: str, timeout_seconds: float) -> dict[str, Any]:
        states = self.account("stepfunctions")
        deadline = time.monotonic() + timeout_seconds
        while True:
            described: dict[str, Any] = states.describe_execution(executionArn=arn)
            if described["status"] in ENDED:
                return described
            if time.monotonic() > deadline:
                states.stop_execution(executionArn=arn, cause="the test's time ran out")
                raise TimeoutError(f"{arn} still {described['status']} after {timeout_seconds}s")
            time.sleep(self.poll_seconds)

    def _history(self, arn: str) -> Iterator[dict[str, Any]]:
        states = self.account("stepfunctions")
        request: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = states.get_execution_history(**request)
            yield from page["events"]
            if not page.get("nextToken"):
                return
            request["nextToken"] = page["nextToken"]
