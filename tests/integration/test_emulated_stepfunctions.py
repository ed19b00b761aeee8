"""Step Functions executions in the emulator run their states, integrations, Retry and Catch."""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ecomdw.core.aws import client, s3_filesystem
from ecomdw.core.settings import Settings
from ecomdw.core.storage import ensure_bucket
from ecomdw.emulation.services.stepfunctions.executions import SECOND_SECONDS_VARIABLE

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]

ROLE = "arn:aws:iam::123456789012:role/ecomdw-states"
SCRIPTS_BUCKET = "sfn-glue-scripts"
ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@pytest.fixture(autouse=True)
def fast_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """An hour of Wait or Retry interval lasts a third of a second."""
    monkeypatch.setenv(SECOND_SECONDS_VARIABLE, "0.0001")


def create_state_machine(settings: Settings, name: str, definition: dict[str, Any]) -> str:
    created = client("stepfunctions", settings).create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


def run_execution(
    settings: Settings, machine_arn: str, given: dict[str, Any], within: float = 60
) -> dict[str, Any]:
    """Start an execution of `machine_arn` and return its description once it has ended."""
    states = client("stepfunctions", settings)
    execution_arn = states.start_execution(stateMachineArn=machine_arn, input=json.dumps(given))[
        "executionArn"
    ]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        described: dict[str, Any] = states.describe_execution(executionArn=execution_arn)
        if described["status"] in ENDED:
            return described
        time.sleep(0.1)
    raise AssertionError(f"{execution_arn} still {described['status']} after {within}s")


def history(settings: Settings, execution_arn: str) -> list[dict[str, Any]]:
    events = client("stepfunctions", settings).get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )
    return list(events["events"])


def event_types(settings: Settings, execution_arn: str) -> list[str]:
    return [event["type"] for event in history(settings, execution_arn)]


def deploy_job(settings: Settings, name: str, script: str, **job: Any) -> None:
    """Upload `script` to the scripts bucket and create a Glue job that runs it."""
    ensure_bucket(SCRIPTS_BUCKET, settings)
    client("s3", settings).put_object(
        Bucket=SCRIPTS_BUCKET, Key=f"jobs/{name}.py", Body=textwrap.dedent(script).encode()
    )
    client("glue", settings).create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/ecomdw-glue",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS_BUCKET}/jobs/{name}.py"},
        GlueVersion="5.0",
        **job,
    )


def glue_task(job_name: str, arguments: dict[str, str], **state: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": job_name, "Arguments": arguments},
        **state,
    }


ORDER_FLOW = {
    "StartAt": "Describe",
    "States": {
        "Describe": {
            "Type": "Pass",
            "Parameters": {
                "label.$": "States.Format('order {} of {}', $.order.id, 'shop')",
                "settings.$": "States.StringToJson($.settings)",
                "pair.$": "States.Array($.order.id, 'x')",
            },
            "ResultPath": "$.described",
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.described.settings.currency",
                    "StringEquals": "EUR",
                    "Next": "Convert",
                }
            ],
            "Default": "Unsupported",
        },
        "Unsupported": {"Type": "Fail", "Error": "UnsupportedCurrency", "Cause": "only EUR"},
        "Convert": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Lines",
                    "States": {
                        "Lines": {
                            "Type": "Map",
                            "ItemsPath": "$.order.lines",
                            "ItemProcessor": {
                                "StartAt": "Double",
                                "States": {
                                    "Double": {
                                        "Type": "Pass",
                                        "Parameters": {
                                            "sku.$": "$.sku",
                                            "units.$": "States.MathAdd($.qty, $.qty)",
                                        },
                                        "End": True,
                                    }
                                },
                            },
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Pause",
                    "States": {
                        "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Serialize"},
                        "Serialize": {
                            "Type": "Pass",
                            "Parameters": {"json.$": "States.JsonToString($.order)"},
                            "End": True,
                        },
                    },
                },
            ],
            "ResultSelector": {"lines.$": "$[0]", "order_json.$": "$[1].json"},
            "ResultPath": "$.converted",
            "OutputPath": "$",
            "Next": "Summarize",
        },
        "Summarize": {
            "Type": "Pass",
            "InputPath": "$.converted",
            "Parameters": {
                "label.$": "$$.Execution.Input.order.id",
                "lines.$": "$.lines",
                "order.$": "States.StringToJson($.order_json)",
                "statement.$": (
                    r"States.Format('INSERT INTO t VALUES (\'{}\') -- \{x\}',"
                    " $$.Execution.Input.order.id)"
                ),
            },
            "ResultPath": "$.summary",
            "OutputPath": "$.summary",
            "End": True,
        },
    },
}


def test_choice_parallel_map_wait_paths_and_intrinsics_run(local_settings: Settings) -> None:
    machine = create_state_machine(local_settings, "order-flow", ORDER_FLOW)
    order = {"id": 7, "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}]}

    started = time.monotonic()
    done = run_execution(
        local_settings, machine, {"order": order, "settings": '{"currency": "EUR"}'}
    )

    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert time.monotonic() - started < 10  # the hour's Wait, scaled
    assert json.loads(done["output"]) == {
        "label": 7,
        "lines": [{"sku": "a", "units": 4}, {"sku": "b", "units": 6}],
        "order": order,
        "statement": "INSERT INTO t VALUES ('7') -- {x}",
    }
    types = event_types(local_settings, done["executionArn"])
    assert types[0] == "ExecutionStarted"
    assert types[-1] == "ExecutionSucceeded"
    for expected in ("ChoiceStateExited", "MapStateSucceeded", "WaitStateExited"):
        assert expected in types
    assert types.count("ParallelStateSucceeded") == 1


def test_history_pages_and_leaves_out_execution_data_as_aws_does(
    local_settings: Settings,
) -> None:
    machine = create_state_machine(local_settings, "order-flow-history", ORDER_FLOW)
    order = {"id": 8, "lines": [{"sku": "c", "qty": 1}]}
    done = run_execution(
        local_settings, machine, {"order": order, "settings": '{"currency": "EUR"}'}
    )
    states = client("stepfunctions", local_settings)
    arn = done["executionArn"]
    full = states.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert len(full) > 10
    assert "nextToken" not in states.get_execution_history(executionArn=arn, maxResults=1000)

    pages, token = [], None
    while True:
        page = states.get_execution_history(
            executionArn=arn,
            maxResults=4,
            reverseOrder=True,
            **({"nextToken": token} if token else {}),
        )
        pages.append(page["events"])
        if "nextToken" not in page:
            break
        token = page["nextToken"]
    assert all(len(p) == 4 for p in pages[:-1])
    assert [e["id"] for p in pages for e in p] == [e["id"] for e in reversed(full)]

    bare = states.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    started = bare[0]["executionStartedEventDetails"]
    assert "input" not in started and "roleArn" in started
    assert "input" in full[0]["executionStartedEventDetails"]
    assert [e["type"] for e in bare] == [e["type"] for e in full][: len(bare)]


def test_choice_default_reaches_fail_with_its_error_and_cause(local_settings: Settings) -> None:
    machine = create_state_machine(local_settings, "order-flow-usd", ORDER_FLOW)
    order = {"id": 8, "lines": []}

    done = run_execution(
        local_settings, machine, {"order": order, "settings": '{"currency":"USD"}'}
    )

    assert done["status"] == "FAILED"
    assert (done["error"], done["cause"]) == ("UnsupportedCurrency", "only EUR")
    assert event_types(local_settings, done["executionArn"])[-1] == "ExecutionFailed"


def test_sdk_error_is_named_as_aws_names_it_and_caught(local_settings: Settings) -> None:
    ensure_bucket("sfn-sdk", local_settings)
    machine = create_state_machine(
        local_settings,
        "read-missing-object",
        {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                    "Parameters": {"Bucket": "sfn-sdk", "Key": "absent.json"},
                    "Catch": [
                        {
                            "ErrorEquals": ["S3.NoSuchKeyException"],
                            "ResultPath": "$.missing",
                            "Next": "UseDefault",
                        }
                    ],
                    "End": True,
                },
                "UseDefault": {"Type": "Pass", "End": True},
            },
        },
    )

    done = run_execution(local_settings, machine, {"batch": "2026-01-01"})

    assert done["status"] == "SUCCEEDED", done.get("cause")
    output = json.loads(done["output"])
    assert output["batch"] == "2026-01-01"
    assert output["missing"]["Error"] == "S3.NoSuchKeyException"


def test_glue_retry_runs_the_job_again_until_it_succeeds(local_settings: Settings) -> None:
    ensure_bucket("sfn-retry", local_settings)
    deploy_job(
        local_settings,
        "fails-once",
        """
        import sys
        import boto3
        from awsglue.utils import getResolvedOptions

        args = getResolvedOptions(sys.argv, ["bucket"])
        s3 = boto3.client("s3")
        if s3.list_objects_v2(Bucket=args["bucket"], Prefix="attempted").get("KeyCount", 0) == 0:
            s3.put_object(Bucket=args["bucket"], Key="attempted", Body=b"")
            raise RuntimeError("the first attempt fails")
        print("the second attempt succeeds")
        """,
    )
    retry = {
        "ErrorEquals": ["States.TaskFailed"],
        "IntervalSeconds": 600,
        "MaxAttempts": 2,
        "BackoffRate": 2.0,
    }
    machine = create_state_machine(
        local_settings,
        "retried-job",
        {
            "StartAt": "Load",
            "States": {
                "Load": glue_task("fails-once", {"--bucket.$": "$.bucket"}, Retry=[retry], End=True)
            },
        },
    )

    done = run_execution(local_settings, machine, {"bucket": "sfn-retry"})

    assert done["status"] == "SUCCEEDED", done.get("cause")
    output = json.loads(done["output"])
    assert (output["JobName"], output["JobRunState"]) == ("fails-once", "SUCCEEDED")
    runs = client("glue", local_settings).get_job_runs(JobName="fails-once")["JobRuns"]
    assert sorted(run["JobRunState"] for run in runs) == ["FAILED", "SUCCEEDED"]
    assert output["Id"] in {run["Id"] for run in runs if run["JobRunState"] == "SUCCEEDED"}
    types = event_types(local_settings, done["executionArn"])
    assert types.count("TaskScheduled") == 2
    assert types.index("TaskFailed") < types.index("TaskSucceeded")


def test_glue_failure_is_caught_with_the_python_error_in_its_cause(
    local_settings: Settings,
) -> None:
    deploy_job(
        local_settings,
        "no-orders",
        """
        import sys
        from awsglue.utils import getResolvedOptions

        args = getResolvedOptions(sys.argv, ["batch_date"])
        raise ValueError(f"no orders for {args['batch_date']}")
        """,
    )
    machine = create_state_machine(
        local_settings,
        "caught-job",
        {
            "StartAt": "Stage",
            "States": {
                "Stage": glue_task(
                    "no-orders",
                    {"--batch_date.$": "$.batch_date"},
                    Catch=[
                        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Why"}
                    ],
                    End=True,
                ),
                "Why": {
                    "Type": "Pass",
                    "Parameters": {"run.$": "States.StringToJson($.failure.Cause)"},
                    "ResultPath": "$.failure",
                    "Next": "Failed",
                },
                "Failed": {
                    "Type": "Fail",
                    "Error": "StageFailed",
                    "CausePath": "$.failure.run.ErrorMessage",
                },
            },
        },
    )

    done = run_execution(local_settings, machine, {"batch_date": "2026-01-01"})

    assert done["status"] == "FAILED"
    assert (done["error"], done["cause"]) == ("StageFailed", "ValueError: no orders for 2026-01-01")
    failed = next(
        event
        for event in history(local_settings, done["executionArn"])
        if event["type"] == "TaskFailed"
    )["taskFailedEventDetails"]
    assert failed["error"] == "States.TaskFailed"
    assert json.loads(failed["cause"])["JobRunState"] == "FAILED"


def test_glue_start_without_sync_does_not_wait_for_the_run(
    local_settings: Settings, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    deploy_job(
        local_settings,
        "waits-for-release",
        """
        import os, sys, time
        while not os.path.exists(sys.argv[sys.argv.index("--release") + 1]):
            time.sleep(0.05)
        """,
        DefaultArguments={"--release": str(release)},
    )
    machine = create_state_machine(
        local_settings,
        "starts-job",
        {
            "StartAt": "Start",
            "States": {
                "Start": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::glue:startJobRun",
                    "Parameters": {"JobName": "waits-for-release"},
                    "End": True,
                }
            },
        },
    )

    done = run_execution(local_settings, machine, {})

    assert done["status"] == "SUCCEEDED", done.get("cause")
    started = json.loads(done["output"])
    glue = client("glue", local_settings)
    run = glue.get_job_run(JobName="waits-for-release", RunId=started["JobRunId"])["JobRun"]
    assert (started["JobName"], run["JobRunState"]) == ("waits-for-release", "RUNNING")
    release.touch()


def test_cloudformation_state_machine_with_definition_and_substitutions_runs(
    local_settings: Settings,
) -> None:
    template = {
        "Resources": {
            "Greeter": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "cfn-greeter",
                    "RoleArn": ROLE,
                    "Definition": {
                        "StartAt": "Greet",
                        "States": {
                            "Greet": {
                                "Type": "Pass",
                                "Result": {"greeting": "${Greeting}"},
                                "End": True,
                            }
                        },
                    },
                    "DefinitionSubstitutions": {"Greeting": "hello from the stack"},
                },
            }
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Greeter"}}},
    }
    cloudformation = client("cloudformation", local_settings)
    cloudformation.create_stack(StackName="sfn-greeter", TemplateBody=json.dumps(template))
    (stack,) = cloudformation.describe_stacks(StackName="sfn-greeter")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    (machine,) = (output["OutputValue"] for output in stack["Outputs"])

    done = run_execution(local_settings, machine, {})

    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert json.loads(done["output"]) == {"greeting": "hello from the stack"}


CLUSTER = {"ClusterIdentifier": "sfn-warehouse", "Database": "dev", "DbUser": "awsuser"}

RUN_SQL = {
    "StartAt": "Execute",
    "States": {
        "Execute": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
            "Parameters": {**CLUSTER, "Sql.$": "$.sql"},
            "ResultPath": "$.statement",
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Describe"},
        "Describe": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:redshiftdata:describeStatement",
            "Parameters": {"Id.$": "$.statement.Id"},
            "ResultPath": "$.described",
            "Next": "Ended?",
        },
        "Ended?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.described.Status", "StringEquals": "FINISHED", "Next": "Done"},
                {"Variable": "$.described.Status", "StringEquals": "FAILED", "Next": "Failed"},
            ],
            "Default": "Pause",
        },
        "Done": {"Type": "Pass", "OutputPath": "$.described", "End": True},
        "Failed": {"Type": "Fail", "Error": "StatementFailed", "CausePath": "$.described.Error"},
    },
}


def redshift_cluster(settings: Settings) -> None:
    """This module's cluster (the session's emulator may hold others: the deployed stacks')."""
    redshift = client("redshift", settings)
    with suppress(redshift.exceptions.ClusterAlreadyExistsFault):
        redshift.create_cluster(
            ClusterIdentifier=CLUSTER["ClusterIdentifier"],
            NodeType="ra3.xlplus",
            MasterUsername=CLUSTER["DbUser"],
            MasterUserPassword="Emulated1",
            DBName=CLUSTER["Database"],
        )


def test_redshift_data_statements_run_until_finished_or_failed(local_settings: Settings) -> None:
    redshift_cluster(local_settings)
    machine = create_state_machine(local_settings, "run-sql", RUN_SQL)
    table = f"sfn_orders_{uuid.uuid4().hex[:8]}"  # the cluster's database outlives the session

    for sql in (
        f"CREATE TABLE {table} (order_id INTEGER, total DECIMAL(10, 2))",
        f"INSERT INTO {table} VALUES (1, 10.50), (2, 4.25)",
    ):
        done = run_execution(local_settings, machine, {"sql": sql})
        assert done["status"] == "SUCCEEDED", done.get("cause")
        assert json.loads(done["output"])["Status"] == "FINISHED"
    failed = run_execution(local_settings, machine, {"sql": "SELECT * FROM sfn_no_such_table"})

    assert failed["status"] == "FAILED"
    assert failed["error"] == "StatementFailed"
    assert "sfn_no_such_table" in failed["cause"]
    data = client("redshift-data", local_settings)
    statement = data.execute_statement(**CLUSTER, Sql=f"SELECT SUM(total) FROM {table}")["Id"]
    deadline = time.monotonic() + 30
    while data.describe_statement(Id=statement)["Status"] != "FINISHED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (record,) = data.get_statement_result(Id=statement)["Records"]
    assert record == [{"stringValue": "14.75"}]


@pytest.mark.spark
@pytest.mark.slow
def test_sync_glue_job_reads_csv_and_writes_parquet_with_spark(local_settings: Settings) -> None:
    ensure_bucket("sfn-data", local_settings)
    client("s3", local_settings).put_object(
        Bucket="sfn-data", Key="raw/orders.csv", Body=b"order_id,total\n1,10.5\n2,4.25\n"
    )
    deploy_job(
        local_settings,
        "sfn-csv-to-parquet",
        """
        import sys
        from awsglue.utils import getResolvedOptions
        from pyspark.sql import SparkSession

        args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
        spark = SparkSession.builder.appName(args["JOB_NAME"]).getOrCreate()
        orders = spark.read.option("header", True).csv(args["source"])
        typed = orders.selectExpr("cast(order_id as int) order_id", "cast(total as double) total")
        typed.write.mode("overwrite").parquet(args["target"])
        """,
    )
    machine = create_state_machine(
        local_settings,
        "stage-orders",
        {
            "StartAt": "Stage",
            "States": {
                "Stage": glue_task(
                    "sfn-csv-to-parquet",
                    {
                        "--source.$": "States.Format('s3://{}/raw/', $.bucket)",
                        "--target.$": "States.Format('s3://{}/processed/orders/', $.bucket)",
                    },
                    ResultSelector={"run.$": "$.Id", "state.$": "$.JobRunState"},
                    ResultPath="$.stage",
                    End=True,
                )
            },
        },
    )

    done = run_execution(local_settings, machine, {"bucket": "sfn-data"}, within=120)

    assert done["status"] == "SUCCEEDED", done.get("cause")
    stage = json.loads(done["output"])["stage"]
    assert stage["state"] == "SUCCEEDED"
    run = client("glue", local_settings).get_job_run(
        JobName="sfn-csv-to-parquet", RunId=stage["run"]
    )["JobRun"]
    assert run["Arguments"]["--target"] == "s3://sfn-data/processed/orders/"
    table = pq.read_table("sfn-data/processed/orders", filesystem=s3_filesystem(local_settings))
    assert sorted(table.to_pylist(), key=lambda row: row["order_id"]) == [
        {"order_id": 1, "total": 10.5},
        {"order_id": 2, "total": 4.25},
    ]
