"""Change sets in the emulator behave as CloudFormation's: exports, emulated types, details."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from ecomdw.core.aws import EMULATOR_CREDENTIALS

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]


def clients(endpoint: str, service: str) -> Any:
    session: Any = boto3.session.Session
    return session(region_name="us-east-1", **EMULATOR_CREDENTIALS).client(
        service, endpoint_url=endpoint
    )


def execute(cfn: Any, stack: str, template: dict[str, Any], kind: str) -> dict[str, Any]:
    """Create a change set of `kind`, execute it, return its description."""
    created = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=f"cs-{uuid.uuid4().hex[:8]}",
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
    )
    described: dict[str, Any] = cfn.describe_change_set(ChangeSetName=created["Id"])
    cfn.execute_change_set(ChangeSetName=created["Id"])
    return described


def log_group(name: str, retention: int, export: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": name, "RetentionInDays": retention},
            }
        },
        "Outputs": {"Name": {"Value": {"Ref": "Logs"}, "Export": {"Name": export}}},
    }


def test_a_created_change_set_exports_what_the_next_stack_imports(emulator_endpoint: str) -> None:
    cfn, suffix = clients(emulator_endpoint, "cloudformation"), uuid.uuid4().hex[:8]
    export = f"logs-{suffix}"
    execute(cfn, f"first-{suffix}", log_group(f"/first/{suffix}", 7, export), "CREATE")
    assert {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}[export] == (
        f"/first/{suffix}"
    )
    database = f"imported_{suffix}"
    importer = {
        "Resources": {
            "Database": {
                "Type": "AWS::Glue::Database",
                "Properties": {
                    "CatalogId": {"Ref": "AWS::AccountId"},
                    "DatabaseInput": {
                        "Name": database,
                        "Description": {"Fn::ImportValue": export},
                    },
                },
            }
        }
    }
    execute(cfn, f"second-{suffix}", importer, "CREATE")
    # AWS::Glue::Database has no moto model: the ecomdw emulation created it on execution.
    glue = clients(emulator_endpoint, "glue")
    assert glue.get_database(Name=database)["Database"]["Description"] == f"/first/{suffix}"
    assert cfn.describe_stacks(StackName=f"second-{suffix}")["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )


def test_an_update_names_the_changed_property_and_refreshes_the_export(
    emulator_endpoint: str,
) -> None:
    cfn, suffix = clients(emulator_endpoint, "cloudformation"), uuid.uuid4().hex[:8]
    stack, name, export = f"logs-{suffix}", f"/logs/{suffix}", f"logs-export-{suffix}"
    execute(cfn, stack, log_group(name, 7, export), "CREATE")
    described = execute(cfn, stack, log_group(f"{name}-renamed", 14, export), "UPDATE")
    [change] = [c["ResourceChange"] for c in described["Changes"]]
    assert (change["Action"], change["LogicalResourceId"], change["Scope"]) == (
        "Modify",
        "Logs",
        ["Properties"],
    )
    targets = [(d["Target"]["Path"], d["Target"]["BeforeValue"], d["Target"]["AfterValue"])
               for d in change["Details"]]  # fmt: skip
    assert targets == [
        ("/Properties/LogGroupName", name, f"{name}-renamed"),
        ("/Properties/RetentionInDays", "7", "14"),
    ]
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[export] == f"{name}-renamed"
    logs = clients(emulator_endpoint, "logs")
    [group] = logs.describe_log_groups(logGroupNamePrefix=f"{name}-renamed")["logGroups"]
    assert group["retentionInDays"] == 14
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == [group]
