"""What a change-set deploy needs of the emulator: change sets as CloudFormation runs them, and
bucket policies as S3 evaluates them."""

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


def test_a_tls_only_bucket_policy_lets_the_emulators_requests_through(
    emulator_endpoint: str,
) -> None:
    """The emulator's loopback stands in for TLS: `Deny` unless secure transport denies
    nothing, an unconditional `Deny` still does."""
    s3, bucket = clients(emulator_endpoint, "s3"), f"tls-only-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    objects = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    tls_only = [
        {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": objects, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyOldTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": objects, "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
    ]  # fmt: skip
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": tls_only})
    )
    s3.put_object(Bucket=bucket, Key="script.py", Body=b"print(1)\n")
    assert s3.get_object(Bucket=bucket, Key="script.py")["Body"].read() == b"print(1)\n"
    deny_reads = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                  "Resource": f"arn:aws:s3:::{bucket}/*"}  # fmt: skip
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [*tls_only, deny_reads]}),
    )
    with pytest.raises(s3.exceptions.ClientError, match="403"):
        s3.get_object(Bucket=bucket, Key="script.py")
    s3.put_object(Bucket=bucket, Key="other.py", Body=b"print(2)\n")
