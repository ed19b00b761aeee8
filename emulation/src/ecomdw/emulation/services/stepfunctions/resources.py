"""Step Functions' CloudFormation type: state machines, created through the API.

moto's model drops `null` from the definition (`"ResultPath": null` discards a result) and the
logging and tracing settings.
"""

from __future__ import annotations

import json
from typing import Any

from ecomdw.emulation.services.cloudformation.properties import (
    api_tags,
    as_json,
    camel_keys,
    pascal_keys,
    renamed,
    template_tags,
)
from ecomdw.emulation.services.cloudformation.resource_types import (
    Created,
    Creating,
    Reading,
    ResourceType,
)

CONFIGURATIONS = {
    "LoggingConfiguration": "loggingConfiguration",
    "TracingConfiguration": "tracingConfiguration",
    "EncryptionConfiguration": "encryptionConfiguration",
}
"""The settings beside the definition: template property -> API field."""


def create_state_machine(c: Creating, props: dict[str, Any]) -> Created:
    name = props.get("StateMachineName", c.generated_name)
    definition = props.get("DefinitionString") or json.dumps(props["Definition"])
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace(f"${{{key}}}", str(value))
    configuration = {api: camel_keys(props.get(prop)) for prop, api in CONFIGURATIONS.items()}
    machine = c.client("stepfunctions").create_state_machine(
        name=name,
        definition=definition,
        roleArn=props["RoleArn"],
        type=props.get("StateMachineType", "STANDARD"),
        tags=api_tags(props, "key", "value"),
        **{k: v for k, v in configuration.items() if v},
    )["stateMachineArn"]
    return Created(machine, {"Arn": machine, "Name": name})


def read_state_machine(r: Reading) -> dict[str, Any]:
    sfn = r.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=r.physical_id)
    observed = renamed(machine, name="StateMachineName", roleArn="RoleArn", type="StateMachineType")
    observed["Definition"] = as_json(machine["definition"])
    for prop, api in CONFIGURATIONS.items():
        if api in machine:
            observed[prop] = pascal_keys(machine[api])
    tags = sfn.list_tags_for_resource(resourceArn=r.physical_id)["tags"]
    observed["Tags"] = template_tags(tags, "key", "value")
    return observed


RESOURCE_TYPES = (
    ResourceType(
        "AWS::StepFunctions::StateMachine",
        read_state_machine,
        create_state_machine,
        "moto's model drops nulls from the definition and the logging",
    ),
)
