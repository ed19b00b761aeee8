"""Step Functions executions that run: moto's Amazon States Language interpreter, wired up.

moto 5 carries LocalStack's ASL interpreter (`moto.stepfunctions.parser`), off by default: then
`StartExecution` records an execution and runs nothing. Switched on (its setting
`stepfunctions.execute_state_machine`), an execution runs in a background thread: every state
type, the paths, intrinsic functions, Retry and Catch, with `DescribeExecution` going RUNNING
to SUCCEEDED / FAILED and `GetExecutionHistory` holding the events. What it lacks to run the
pipeline's own state machine here, this module adds:

- its service integrations call `localhost:$MOTO_PORT`; here they call this emulator, so
  `glue:startJobRun.sync` starts a job run that `services.glue.jobs` executes on Spark and waits
  for it, and the AWS SDK integrations (`aws-sdk:redshiftdata:executeStatement`, ...) reach
  every emulated service;
- Step Functions names SDK services without hyphens (`redshiftdata`), boto3 with them;
- an SDK error is named `Service.ErrorCodeException`, as AWS documents
  (`RedshiftData.ValidationException`);
- Retry intervals and Wait states last `ECOMDW_STATES_SECOND_SECONDS` per second, so a
  production retry policy costs a test milliseconds;
- each execution publishes Step Functions' execution metrics (`AWS/States`: started, how it
  ended, its time), as AWS does, so the pipeline's alarms see its runs.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import sys
import time
import uuid
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from ecomdw.core.aws import EMULATOR_CREDENTIALS
from ecomdw.emulation.patching import original, replace
from ecomdw.emulation.state import RUNNING

SECOND_SECONDS_VARIABLE = "ECOMDW_STATES_SECOND_SECONDS"
"""Seconds in one second of a Retry interval or a Wait state (1); tests shorten it."""

SDK_SERVICE_ERROR_PREFIXES = {"redshiftdata": "RedshiftData", "glue": "Glue", "s3": "S3"}
"""Service part of an AWS SDK integration's error names, as AWS spells it."""

PARSER_PACKAGE = "moto.stepfunctions.parser"


def install() -> None:
    """Make this process's moto Step Functions executions run, their tasks calling the serving
    emulator."""
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory  # noqa: E501
    import moto.stepfunctions.parser.models  # noqa: F401  (the interpreter, all its modules)
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    _route_integrations_to_the_serving_emulator()
    _evaluate_json_paths_as_aws_does()
    _name_unnamed_executions()
    _keep_task_results_json()
    _wait_for_sync_tasks_without_a_callback()
    _read_escapes_in_intrinsic_strings()
    _name_sdk_services_as_boto3_does()
    _case_sdk_parameters_as_aws_does()
    _name_sdk_errors_as_aws_does()
    _scale_retry_intervals_and_waits()
    _page_execution_history_as_aws_does()
    _stamp_context_times_as_aws_does()
    _publish_execution_metrics_as_aws_does()


def _route_integrations_to_the_serving_emulator() -> None:
    """Make every service integration's boto3 client call the emulator instead of :5000."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return _integration_client(region, service, RUNNING.serving().endpoint)

    _replace_function(boto_client, "boto_client_for", boto_client_for)


@cache
def _integration_client(region: str, service: str, endpoint_url: str) -> Any:
    """One client per service, region and endpoint, shared by every task: a new boto3 session
    per task reads botocore's endpoint and service files again (most of a task's time).

    As moto's: no retries (the state's Retry decides) and no parameter validation (Step
    Functions passes what the state gives, the service judges it)."""
    config = Config(
        parameter_validation=False,
        retries={"max_attempts": 0, "total_max_attempts": 1},
        read_timeout=3600,
    )
    session: Any = boto3.session.Session
    return session(region_name=region, **EMULATOR_CREDENTIALS).client(
        service, endpoint_url=endpoint_url, config=config
    )


def _replace_function(module: Any, name: str, replacement: Any) -> None:
    """Put `replacement` wherever the interpreter's modules imported `module.name` by name."""
    moto_function = original(module, name)
    for module_name, importer in list(sys.modules.items()):
        if module_name.startswith(PARSER_PACKAGE) and original(importer, name) is moto_function:
            replace(importer, name, replacement)


INDEFINITE_JSON_PATH = re.compile(r"\[[^\]]*[*?:,][^\]]*\]|\.\*|\.\.")
"""A wildcard, filter, slice, union or descent: what makes a JSONPath select a list."""


def extract_json(path: str, data: Any) -> Any:
    """A JSONPath's value as Step Functions gives it.

    A definite path (names and indexes) is its one value; an indefinite one is the list of what
    it matched. moto also wraps a definite path through an index (`$[1].json`) in a list.
    """
    from jsonpath_ng.ext.parser import parse
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    values = [match.value for match in parse(path).find(data)]
    if INDEFINITE_JSON_PATH.search(path):
        return values
    if not values:
        raise NoSuchJsonPathError(json_path=path, data=data)
    return values[0]


def _evaluate_json_paths_as_aws_does() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    _replace_function(json_path, "extract_json", extract_json)


def _keep_task_results_json() -> None:
    """A task's result enters the state data as JSON, as on AWS: boto3's datetimes as ISO text.

    moto keeps the service's Python values, and `DescribeExecution` then cannot encode an output
    that holds a Glue run's `StartedOn`.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
        StateTaskService,
    )
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    record_success = original(StateTaskService, "_after_eval_execution")

    def after_eval_execution(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        env.stack[-1] = json.loads(to_json_str(_bodies_read(env.stack[-1])))
        record_success(self, env, *args, **kwargs)

    replace(StateTaskService, "_after_eval_execution", after_eval_execution)


def _bodies_read(result: Any) -> Any:
    """An SDK result's streamed bodies as their text, as AWS returns `s3:getObject`'s Body."""
    if isinstance(result, dict):
        return {
            key: value.read().decode("utf-8") if isinstance(value, StreamingBody) else value
            for key, value in result.items()
        }
    return result


def _wait_for_sync_tasks_without_a_callback() -> None:
    """`.sync` for Glue, the one integration with no `.waitForTaskToken`.

    moto's integration-pattern step ends by interrupting the task's callback endpoint, which only
    a `.waitForTaskToken` service has: every `glue:startJobRun.sync` fails with States.Runtime.
    Here such a service polls its sync resolver (GetJobRun until the run ends) and nothing more.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )

    with_callback = original(StateTaskServiceCallback, "_eval_integration_pattern")

    def eval_integration_pattern(
        self: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: Any,
        state_credentials: Any,
    ) -> None:
        if ResourceCondition.WaitForTaskToken in self._supported_integration_patterns:
            with_callback(
                self, env, resource_runtime_part, normalised_parameters, state_credentials
            )
            return
        build = (
            self._build_sync_resolver
            if self.resource.condition == ResourceCondition.Sync
            else self._build_sync2_resolver
        )
        sync_resolver = build(env, resource_runtime_part, normalised_parameters, state_credentials)
        outcome = self._eval_sync(
            env=env,
            sync_resolver=sync_resolver,
            timeout_seconds=None,
            callback_endpoint=None,
            heartbeat_endpoint=None,
        )
        env.stack.append(outcome)

    replace(StateTaskServiceCallback, "_eval_integration_pattern", eval_integration_pattern)


ESCAPED_IN_INTRINSICS = {"'": "\ue000", "{": "\ue001", "}": "\ue002", "\\": "\ue003"}
"""The characters an intrinsic function's string literal escapes with a backslash, and the
private-use stand-ins they travel as from the escaping to the function's evaluation."""
_ESCAPE = re.compile(r"\\([\\'{}])")
_STAND_IN = re.compile("[" + "".join(ESCAPED_IN_INTRINSICS.values()) + "]")
_UNESCAPED = {stand_in: char for char, stand_in in ESCAPED_IN_INTRINSICS.items()}


def unescape_intrinsic(text: str) -> str:
    return _STAND_IN.sub(lambda found: _UNESCAPED[found.group()], text)


def format_intrinsic(template: str, values: list[str]) -> str:
    """`States.Format`: each `{}` of `template` takes the next value; `\\{` is a brace."""
    pieces = template.split("{}")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"States.Format has {len(pieces) - 1} {{}} and {len(values)} values")
    formatted = pieces[0] + "".join(
        value + piece for value, piece in zip(values, pieces[1:], strict=True)
    )
    return unescape_intrinsic(formatted)


def _read_escapes_in_intrinsic_strings() -> None:
    """`States.Format('it\\'s {} \\{x\\}', ...)`: moto's lexer ends the literal at `\\'`.

    moto neither decodes the definition's JSON escapes in an intrinsic function nor reads the
    function's own. Here escaped characters become stand-ins before the lexer sees them and
    return when a literal is used, and `States.Format` splits on `{}` alone, so SQL with its
    quotes can be formatted.
    """
    from moto.stepfunctions.parser.asl.component.intrinsic.argument.argument import (
        ArgumentLiteral,
    )
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic.string_format import (  # noqa: E501
        StringFormat,
    )
    from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser

    parse = original(IntrinsicParser, "parse")

    def parse_with_escapes(src: str) -> Any:
        # moto hands over the definition's JSON text as written: `\\'` is `\'` once decoded.
        text = json.loads(f'"{src}"')
        return parse(_ESCAPE.sub(lambda found: ESCAPED_IN_INTRINSICS[found.group(1)], text))

    def literal_value(self: Any, env: Any) -> Any:
        value = self.definition_value
        return unescape_intrinsic(value) if isinstance(value, str) else value

    def string_format(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        template, *values = env.stack.pop()
        first = self.argument_list.arguments[0]
        if isinstance(first, ArgumentLiteral):
            template = first.definition_value  # escaped braces still stand-ins
        env.stack.append(format_intrinsic(template, [self._to_str_repr(v) for v in values]))

    replace(IntrinsicParser, "parse", staticmethod(parse_with_escapes))
    replace(ArgumentLiteral, "_eval_argument", literal_value)
    replace(StringFormat, "_eval_body", string_format)


def _name_unnamed_executions() -> None:
    """An execution started without a name is named by a UUID, as on AWS (moto says `None`)."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    start = original(StepFunctionsParserBackend, "start_execution")

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        return start(
            self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
        )

    replace(StepFunctionsParserBackend, "start_execution", start_execution)


def _name_sdk_services_as_boto3_does() -> None:
    """`aws-sdk:redshiftdata:...` calls boto3's `redshift-data`: drop the hyphens to match."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
        StateTaskService,
    )

    overrides: dict[str, str] = StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES
    for service in boto3.session.Session().get_available_services():
        if "-" in service:
            overrides.setdefault(service.replace("-", ""), service)


def _case_sdk_parameters_as_aws_does() -> None:
    """AWS SDK integrations take every parameter name in PascalCase, nested ones too, and Step
    Functions hands the service its own casing ("Learning to use AWS service SDK integrations":
    the Data API's `SqlParameter` is `{"Name": ..., "Value": ...}` in a state machine and
    `{"name": ..., "value": ...}` on the wire). moto passes them as written, so boto3 refuses
    the nested ones: here they are cased by the operation's input shape first."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (  # noqa: E501
        StateTaskServiceAwsSdk,
    )

    def normalise(
        self: Any,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        service = self._get_boto_service_name(boto_service_name)
        action = self._get_boto_service_action(service_action_name)
        self._to_boto_request(parameters, _input_shape(service, action))

    replace(StateTaskServiceAwsSdk, "_normalise_parameters", normalise)


@cache
def _input_shape(service: str, action: str) -> Any:
    model = _botocore_session().get_service_model(service)
    operation = next(n for n in model.operation_names if xform_name(n) == action)
    return model.operation_model(operation).input_shape


@cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


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
    replace(
        aws_sdk.StateTaskServiceAwsSdk, "_normalise_exception_name", staticmethod(sdk_error_name)
    )


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

    replace(retrier_decl, "time", _ScaledClock)

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        """Wait the scaled duration, or until the execution stops running."""
        deadline = time.monotonic() + wait_seconds * second_seconds()
        while env.is_running() and (remaining := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(remaining)

    replace(WaitFunction, "_wait_interval", wait_interval)


HISTORY_PAGE_DEFAULT = 100  # GetExecutionHistory's maxResults when none is given, as on AWS
HISTORY_PAGE_MAX = 1000
EXECUTION_DATA = ("input", "output", "parameters", "inputDetails", "outputDetails")
"""What `includeExecutionData=false` leaves out of each event's details."""


def history_page(
    events: list[dict[str, Any]],
    *,
    max_results: int = 0,
    reverse: bool = False,
    next_token: str | None = None,
    include_data: bool = True,
) -> dict[str, Any]:
    """One page of GetExecutionHistory as AWS gives it: `maxResults` events (default 100, at
    most 1000), oldest first unless `reverseOrder`, and without inputs, outputs and task
    parameters when `includeExecutionData` is false.

    moto returns every event, with all its data, in one page: a run's poll of a long execution
    (a Map over 90 batches carries each batch's SQL) then costs more than the run."""
    ordered = events[::-1] if reverse else events
    size = min(max_results or HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX)
    start = int(next_token or 0)
    page = copy.deepcopy(ordered[start : start + size])
    if not include_data:
        page = [_without_execution_data(event) for event in page]
    result: dict[str, Any] = {"events": page}
    if start + size < len(ordered):
        result["nextToken"] = str(start + size)
    return result


def _events(backend: Any, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's events as they stand, not copied: moto deep-copies the whole history
    (every state's input and output) on each call; `history_page` copies the page it returns."""
    execution = backend.describe_execution(execution_arn=execution_arn)
    worker = getattr(execution, "exec_worker", None)
    env = getattr(worker, "env", None)
    if env is None:  # not started yet
        return list(execution.to_history_output()["events"])
    manager = env.event_manager
    with manager._mutex:
        return list(manager._history_event_list)


def _without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (
            {k: v for k, v in value.items() if k not in EXECUTION_DATA}
            if key.endswith("EventDetails") and isinstance(value, dict)
            else value
        )
        for key, value in event.items()
    }


def _page_execution_history_as_aws_does() -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def get_execution_history(self: Any) -> Any:
        include = self._get_param("includeExecutionData")
        page = history_page(
            _events(self.stepfunction_backend, self._get_param("executionArn")),
            max_results=int(self._get_param("maxResults") or 0),
            reverse=bool(self._get_param("reverseOrder")),
            next_token=self._get_param("nextToken"),
            include_data=include is not False,
        )
        return ActionResult(page)

    replace(StepFunctionResponse, "get_execution_history", get_execution_history)


def aws_instant(moment: dt.datetime | str) -> str:
    """A time as the context object gives it on AWS: `2019-03-26T20:14:13.192Z` (ISO 8601, UTC,
    milliseconds; "Accessing execution data from the Context object")."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _stamp_context_times_as_aws_does() -> None:
    """`$$.Execution.StartTime` and `$$.State.EnteredTime` as the text AWS gives: moto hands the
    first over as a datetime (a state passing it on sends it JSON-quoted) and the second as
    Python's `isoformat` (`+00:00`, microseconds)."""
    from moto.stepfunctions.parser.asl.component.state import state
    from moto.stepfunctions.parser.backend.execution import Execution

    def state_data(**fields: Any) -> dict[str, Any]:
        return {**fields, "EnteredTime": aws_instant(fields["EnteredTime"])}

    replace(state, "StateData", state_data)  # the name the module calls
    details = original(Execution, "get_start_execution_details")

    def start_details(self: Any) -> Any:
        started = details(self)
        started.start_time = aws_instant(started.start_time)
        return started

    replace(Execution, "get_start_execution_details", start_details)


STATES_NAMESPACE = "AWS/States"
ENDED_METRICS = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}
"""An ended execution's status -> the metric that counts it ("Monitoring Step Functions
metrics using Amazon CloudWatch": execution metrics, dimension StateMachineArn)."""


def execution_metrics(
    state_machine_arn: str, status: str | None, started: dt.datetime, stopped: dt.datetime | None
) -> list[dict[str, Any]]:
    """The execution metrics of one execution: started when `status` is None, else how it
    ended and, once it has, how long it took."""
    dimensions = [{"Name": "StateMachineArn", "Value": state_machine_arn}]
    if status is None:
        return [
            {
                "MetricName": "ExecutionsStarted",
                "Dimensions": dimensions,
                "Value": 1.0,
                "Unit": "Count",
            }
        ]
    metrics = []
    if status in ENDED_METRICS:
        metrics.append(
            {
                "MetricName": ENDED_METRICS[status],
                "Dimensions": dimensions,
                "Value": 1.0,
                "Unit": "Count",
                "Timestamp": stopped,
            }
        )
    if stopped is not None:
        milliseconds = (stopped - started).total_seconds() * 1000
        metrics.append(
            {
                "MetricName": "ExecutionTime",
                "Dimensions": dimensions,
                "Value": milliseconds,
                "Unit": "Milliseconds",
                "Timestamp": stopped,
            }
        )
    return metrics


def _publish_execution_metrics_as_aws_does() -> None:
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )

    from ecomdw.emulation.services.cloudwatch import publish

    def publish_of(execution: Any, metrics: list[dict[str, Any]]) -> None:
        publish(
            RUNNING.serving().endpoint,
            execution.region_name,
            execution.account_id,
            STATES_NAMESPACE,
            metrics,
        )

    start = original(Execution, "start")

    def start_and_count(self: Any) -> None:
        start(self)
        publish_of(self, execution_metrics(self.state_machine.arn, None, self.start_date, None))

    reflect = original(BaseExecutionWorkerCommunication, "_reflect_execution_status")

    def reflect_and_count(self: Any) -> None:
        reflect(self)
        execution = self.execution
        publish_of(
            execution,
            execution_metrics(
                execution.state_machine.arn,
                execution.exec_status.name,
                execution.start_date,
                execution.stop_date,
            ),
        )

    replace(Execution, "start", start_and_count)
    replace(BaseExecutionWorkerCommunication, "_reflect_execution_status", reflect_and_count)
