"""The pipeline state machine and the nightly schedules.

The state machine is the pipeline's own (`ecomdw.etl.pipeline`), loading the environment's
warehouse through the Data API with the state machine role's IAM identity; EventBridge Scheduler
starts it each night at the pipeline's hour, in UTC, on the days the warehouse is up. (The Glue
workflow's own scheduled trigger, in the catalog stack, starts the jobs an hour earlier.)
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Template
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.scheduler import FlexibleTimeWindow, Schedule, Target
from troposphere.stepfunctions import (
    CloudWatchLogsLogGroup,
    EncryptionConfiguration,
    LogDestination,
    LoggingConfiguration,
    StateMachine,
    TracingConfiguration,
)

from ecomdw.etl.pipeline import PENDING_BATCHES, RedshiftTarget
from ecomdw.infra.context import DELETE, StackContext, allow, assume_role_policy, policy
from ecomdw.infra.environments import ServerlessWarehouse

CONCERN = "orchestration"
SCHEDULE_TIMEZONE = "UTC"
KMS_DATA_KEY_REUSE_SECONDS = 300


def daily_cron(hour_utc: int, days: str) -> str:
    """A Scheduler cron at `hour_utc`:00 on `days` (`*` for every day, or e.g. `MON-FRI`)."""
    if days == "*":
        return f"cron(0 {hour_utc} * * ? *)"
    return f"cron(0 {hour_utc} ? * {days} *)"


def redshift_target(context: StackContext) -> RedshiftTarget:
    """The warehouse the load runs on: the cluster, or the serverless workgroup (same name)."""
    names = context.names
    if isinstance(context.parameters.warehouse, ServerlessWarehouse):
        return RedshiftTarget(names.redshift_database, workgroup_name=names.redshift_cluster)
    return RedshiftTarget(names.redshift_database, cluster_identifier=names.redshift_cluster)


def build(context: StackContext) -> Template:
    template = context.new_template("Pipeline state machine and nightly schedules")
    names = context.names
    log_group = template.add_resource(
        LogGroup(
            "StateMachineLogGroup",
            LogGroupName=f"/aws/vendedlogs/states/{names.state_machine}",
            RetentionInDays=context.parameters.log_retention_days,
            KmsKeyId=context.imported("security", "OperationsKeyArn"),
            Tags=context.tags(),
            **DELETE,
        )
    )
    state_machine = template.add_resource(
        StateMachine(
            "PipelineStateMachine",
            StateMachineName=names.state_machine,
            StateMachineType="STANDARD",
            Definition=context.pipeline.definition(names, redshift_target(context)),
            RoleArn=context.imported("security", "StatesRoleArn"),
            LoggingConfiguration=LoggingConfiguration(
                Level="ALL",
                IncludeExecutionData=False,
                Destinations=[
                    LogDestination(
                        CloudWatchLogsLogGroup=CloudWatchLogsLogGroup(
                            LogGroupArn=GetAtt(log_group, "Arn")
                        )
                    )
                ],
            ),
            TracingConfiguration=TracingConfiguration(Enabled=True),
            EncryptionConfiguration=EncryptionConfiguration(
                Type="CUSTOMER_MANAGED_KMS_KEY",
                KmsKeyId=context.imported("security", "DataKeyArn"),
                KmsDataKeyReusePeriodSeconds=KMS_DATA_KEY_REUSE_SECONDS,
            ),
            Tags=context.tags(),
        )
    )
    scheduler_role = template.add_resource(
        Role(
            "SchedulerRole",
            Description="EventBridge Scheduler: start the nightly pipeline",
            AssumeRolePolicyDocument=assume_role_policy("scheduler"),
            Policies=[
                Policy(
                    PolicyName="start-nightly",
                    PolicyDocument=policy(
                        allow(["states:StartExecution"], [Ref(state_machine)]),
                    ),
                )
            ],
            Tags=context.tags(),
        )
    )
    schedule = context.pipeline.pipeline.state_machine_schedule
    template.add_resource(
        Schedule(
            "PipelineSchedule",
            Name=context.name("pipeline-nightly"),
            Description="Start the pipeline state machine",
            ScheduleExpression=daily_cron(schedule.hour_utc, context.parameters.schedule_days),
            ScheduleExpressionTimezone=SCHEDULE_TIMEZONE,
            FlexibleTimeWindow=FlexibleTimeWindow(Mode="OFF"),
            Target=Target(
                Arn=Ref(state_machine),
                RoleArn=GetAtt(scheduler_role, "Arn"),
                # The state machine's input; the stage job resolves `pending` to the batches
                # not staged yet, and the load takes the ones it staged.
                Input=json.dumps(
                    {
                        "run_id": "<aws.scheduler.execution-id>",
                        "batch_dates": PENDING_BATCHES,
                        "resume_from": "",
                    }
                ),
            ),
        )
    )
    context.export(
        template, CONCERN, "StateMachineArn", Ref(state_machine), "Pipeline state machine"
    )
    context.export(
        template,
        CONCERN,
        "StateMachineName",
        GetAtt(state_machine, "Name"),
        "Pipeline state machine name",
    )
    return template
