"""The pipeline state machine and the nightly schedules.

The state machine runs the definition the pipeline supplies (`PipelineInput`); EventBridge
Scheduler starts the Glue workflow and the state machine each night, in UTC, on the days the
environment's warehouse is up.
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

from ecomdw.infra.catalog import workflow_name
from ecomdw.infra.context import DELETE, StackContext, allow, arn, assume_role_policy, policy

CONCERN = "orchestration"
SCHEDULE_TIMEZONE = "UTC"
START_GLUE_WORKFLOW = "arn:aws:scheduler:::aws-sdk:glue:startWorkflowRun"
KMS_DATA_KEY_REUSE_SECONDS = 300


def daily_cron(hour_utc: int, days: str) -> str:
    """A Scheduler cron at `hour_utc`:00 on `days` (`*` for every day, or e.g. `MON-FRI`)."""
    if days == "*":
        return f"cron(0 {hour_utc} * * ? *)"
    return f"cron(0 {hour_utc} ? * {days} *)"


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
            Definition=context.pipeline.definition(names),
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
    workflow_arn = arn("glue", f"workflow/{workflow_name(context)}")
    scheduler_role = template.add_resource(
        Role(
            "SchedulerRole",
            Description="EventBridge Scheduler: start the nightly workflow and pipeline",
            AssumeRolePolicyDocument=assume_role_policy("scheduler"),
            Policies=[
                Policy(
                    PolicyName="start-nightly",
                    PolicyDocument=policy(
                        allow(["glue:StartWorkflowRun"], [workflow_arn]),
                        allow(["states:StartExecution"], [Ref(state_machine)]),
                    ),
                )
            ],
            Tags=context.tags(),
        )
    )
    parameters = context.parameters
    days = parameters.schedule_days
    template.add_resource(
        Schedule(
            "WorkflowSchedule",
            Name=context.name("workflow-nightly"),
            Description="Start the Glue workflow",
            ScheduleExpression=daily_cron(parameters.workflow_hour_utc, days),
            ScheduleExpressionTimezone=SCHEDULE_TIMEZONE,
            FlexibleTimeWindow=FlexibleTimeWindow(Mode="OFF"),
            Target=Target(
                Arn=START_GLUE_WORKFLOW,
                RoleArn=GetAtt(scheduler_role, "Arn"),
                Input=json.dumps({"Name": workflow_name(context)}),
            ),
        )
    )
    template.add_resource(
        Schedule(
            "PipelineSchedule",
            Name=context.name("pipeline-nightly"),
            Description="Start the pipeline state machine",
            ScheduleExpression=daily_cron(parameters.pipeline_hour_utc, days),
            ScheduleExpressionTimezone=SCHEDULE_TIMEZONE,
            FlexibleTimeWindow=FlexibleTimeWindow(Mode="OFF"),
            Target=Target(
                Arn=Ref(state_machine),
                RoleArn=GetAtt(scheduler_role, "Arn"),
                Input=json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"}),
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
