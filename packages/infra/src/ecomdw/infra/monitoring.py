"""Alarms, the alarm topic and the dashboard of the pipeline and the warehouse.

Alarms fire on a failed Glue job, a failed or slow pipeline run, a data-quality score below the
environment's floor, and a busy or full warehouse. Every alarm and the budget notify one
KMS-encrypted SNS topic.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from troposphere import Ref, Sub, Template
from troposphere.cloudwatch import Alarm, Dashboard, MetricDimension
from troposphere.events import Rule
from troposphere.events import Target as RuleTarget
from troposphere.sns import Topic, TopicPolicy

from ecomdw.core import metrics
from ecomdw.infra.context import StackContext, service_principal
from ecomdw.infra.environments import ServerlessWarehouse

CONCERN = "monitoring"
METRIC_NAMESPACE = metrics.NAMESPACE
DATA_QUALITY_SCORE_METRIC = metrics.DATA_QUALITY_SCORE
ENVIRONMENT_DIMENSION = metrics.ENVIRONMENT
"""The pipeline publishes its data-quality score (0..1) as this metric, per environment, and
its steps' rows (`ecomdw.core.metrics`)."""
FIVE_MINUTES = 300
MILLISECONDS_PER_MINUTE = 60_000
CPU_PERCENT_CEILING = 90
DISK_PERCENT_CEILING = 80
SERVERLESS_CAPACITY_SHARE = 0.9
GLUE_FAILED_STATES = ["ERROR", "FAILED", "TIMEOUT"]
ALARM_PUBLISHERS = ("budgets", "cloudwatch", "events")


def build(context: StackContext) -> Template:
    template = context.new_template("Alarm topic, alarms and dashboard")
    topic = template.add_resource(
        Topic(
            "AlarmTopic",
            TopicName=context.name("alarms"),
            KmsMasterKeyId=context.imported("security", "OperationsKeyArn"),
            Tags=context.tags(),
        )
    )
    template.add_resource(
        TopicPolicy(
            "AlarmTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": f"{service.capitalize()}Publishes",
                        "Effect": "Allow",
                        "Principal": service_principal(service),
                        "Action": "sns:Publish",
                        "Resource": Ref(topic),
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": Sub("${AWS::AccountId}")}
                        },
                    }
                    for service in ALARM_PUBLISHERS
                ],
            },
        )
    )
    _glue_failures(context, template, topic)
    for alarm in _pipeline_alarms(context) + _warehouse_alarms(context):
        alarm.AlarmActions = [Ref(topic)]
        alarm.OKActions = [Ref(topic)]
        template.add_resource(alarm)
    template.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=context.name("pipeline"),
            DashboardBody=Sub(json.dumps(_dashboard(context), sort_keys=True)),
        )
    )
    context.export(template, CONCERN, "AlarmTopicArn", Ref(topic), "Alarm SNS topic")
    return template


def _glue_failures(context: StackContext, template: Template, topic: Topic) -> None:
    """A Glue job that ends in failure notifies at once, whoever started it."""
    jobs = [context.names.glue_job(stage) for stage in context.pipeline.stages]
    template.add_resource(
        Rule(
            "GlueJobFailedRule",
            Name=context.name("glue-job-failed"),
            Description="A pipeline Glue job failed, timed out or errored",
            State="ENABLED",
            EventPattern={
                "source": ["aws.glue"],
                "detail-type": ["Glue Job State Change"],
                "detail": {"jobName": jobs, "state": GLUE_FAILED_STATES},
            },
            Targets=[RuleTarget(Id="alarm-topic", Arn=Ref(topic))],
        )
    )


def _state_machine_dimension(context: StackContext) -> MetricDimension:
    return MetricDimension(
        Name="StateMachineArn",
        Value=Sub(
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
            + context.names.state_machine
        ),
    )


class Metric(NamedTuple):
    """What an alarm watches: one statistic of one metric, over five-minute periods."""

    namespace: str
    name: str
    dimensions: list[MetricDimension]
    statistic: str


class Breach(NamedTuple):
    """When an alarm fires: the statistic against the threshold, `periods` periods in a row."""

    comparison: str
    threshold: float
    periods: int = 1


def _alarm(
    context: StackContext,
    title: str,
    name: str,
    description: str,
    *,
    metric: Metric,
    breach: Breach,
) -> Alarm:
    """An alarm named `name` in the environment; a period without data is no breach."""
    return Alarm(
        title,
        AlarmName=context.name(name),
        AlarmDescription=description,
        Namespace=metric.namespace,
        MetricName=metric.name,
        Dimensions=metric.dimensions,
        Statistic=metric.statistic,
        Period=FIVE_MINUTES,
        EvaluationPeriods=breach.periods,
        Threshold=breach.threshold,
        ComparisonOperator=breach.comparison,
        TreatMissingData="notBreaching",
    )


def _pipeline_alarms(context: StackContext) -> list[Alarm]:
    parameters = context.parameters
    machine = context.names.state_machine
    executions = [_state_machine_dimension(context)]
    environment = [MetricDimension(Name=ENVIRONMENT_DIMENSION, Value=context.settings.env.value)]
    return [
        _alarm(
            context,
            "PipelineFailedAlarm",
            "pipeline-failed",
            f"{machine}: an execution failed or timed out",
            metric=Metric("AWS/States", "ExecutionsFailed", executions, "Sum"),
            breach=Breach("GreaterThanOrEqualToThreshold", 1),
        ),
        _alarm(
            context,
            "PipelineDurationAlarm",
            "pipeline-slow",
            f"{machine}: a run took longer than {parameters.run_duration_alarm_minutes} minutes",
            metric=Metric("AWS/States", "ExecutionTime", executions, "Maximum"),
            breach=Breach(
                "GreaterThanThreshold",
                parameters.run_duration_alarm_minutes * MILLISECONDS_PER_MINUTE,
            ),
        ),
        _alarm(
            context,
            "DataQualityAlarm",
            "data-quality",
            f"data-quality score below {parameters.data_quality_score_floor:.2f}",
            metric=Metric(METRIC_NAMESPACE, DATA_QUALITY_SCORE_METRIC, environment, "Minimum"),
            breach=Breach("LessThanThreshold", parameters.data_quality_score_floor),
        ),
    ]


def _warehouse_alarms(context: StackContext) -> list[Alarm]:
    warehouse = context.parameters.warehouse
    name = context.names.redshift_cluster
    if isinstance(warehouse, ServerlessWarehouse):
        workgroup = [MetricDimension(Name="Workgroup", Value=name)]
        return [
            _alarm(
                context,
                "WarehouseCapacityAlarm",
                "warehouse-capacity",
                f"{name}: running near its maximum RPUs",
                metric=Metric("AWS/Redshift-Serverless", "ComputeCapacity", workgroup, "Average"),
                breach=Breach(
                    "GreaterThanOrEqualToThreshold",
                    warehouse.max_capacity_rpus * SERVERLESS_CAPACITY_SHARE,
                    periods=3,
                ),
            )
        ]
    cluster = [MetricDimension(Name="ClusterIdentifier", Value=name)]
    return [
        _alarm(
            context,
            "WarehouseCpuAlarm",
            "warehouse-cpu",
            f"{name}: CPU above {CPU_PERCENT_CEILING}% for 15 minutes",
            metric=Metric("AWS/Redshift", "CPUUtilization", cluster, "Average"),
            breach=Breach("GreaterThanThreshold", CPU_PERCENT_CEILING, periods=3),
        ),
        _alarm(
            context,
            "WarehouseDiskAlarm",
            "warehouse-disk",
            f"{name}: disk more than {DISK_PERCENT_CEILING}% used",
            metric=Metric("AWS/Redshift", "PercentageDiskSpaceUsed", cluster, "Maximum"),
            breach=Breach("GreaterThanThreshold", DISK_PERCENT_CEILING),
        ),
    ]


def _dashboard(context: StackContext) -> dict[str, Any]:
    """Pipeline runs, Glue jobs, data quality and the warehouse, one row each."""
    names = context.names
    state_machine_arn = (
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
        + names.state_machine
    )
    glue_metrics = [
        [
            "Glue",
            "glue.driver.aggregate.numFailedTasks",
            "JobName",
            names.glue_job(stage),
            "JobRunId",
            "ALL",
            "Type",
            "count",
        ]
        for stage in context.pipeline.stages
    ]
    if isinstance(context.parameters.warehouse, ServerlessWarehouse):
        warehouse_metrics = [
            ["AWS/Redshift-Serverless", "ComputeCapacity", "Workgroup", names.redshift_cluster]
        ]
    else:
        warehouse_metrics = [
            ["AWS/Redshift", metric, "ClusterIdentifier", names.redshift_cluster]
            for metric in ("CPUUtilization", "PercentageDiskSpaceUsed")
        ]
    environment = context.settings.env.value
    step_rows = [
        [METRIC_NAMESPACE, name, ENVIRONMENT_DIMENSION, environment, metrics.STEP, stage]
        for stage in context.pipeline.stages
        for name in metrics.STEP_COUNTS
    ]
    rows = [
        (
            "Pipeline runs",
            [
                ["AWS/States", metric, "StateMachineArn", state_machine_arn]
                for metric in ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionTime")
            ],
        ),
        ("Glue job failed tasks", glue_metrics),
        ("Rows in, out and quarantined per step", step_rows),
        (
            "Data-quality score",
            [
                [
                    METRIC_NAMESPACE,
                    DATA_QUALITY_SCORE_METRIC,
                    ENVIRONMENT_DIMENSION,
                    environment,
                ]
            ],
        ),
        ("Warehouse", warehouse_metrics),
    ]
    return {
        "widgets": [
            {
                "type": "metric",
                "x": 0,
                "y": row * 6,
                "width": 24,
                "height": 6,
                "properties": {
                    "title": title,
                    "metrics": metrics,
                    "region": "${AWS::Region}",
                    "stat": "Maximum",
                    "period": FIVE_MINUTES,
                },
            }
            for row, (title, metrics) in enumerate(rows)
        ]
    }
