"""What keeps the bill down: a paused warehouse outside working hours, and a budget alarm.

(Glue job sizes and timeouts per environment live with the jobs, in `catalog`.)
"""

from __future__ import annotations

from troposphere import GetAtt, Template
from troposphere.budgets import (
    Budget,
    BudgetData,
    Notification,
    NotificationWithSubscribers,
    Spend,
    Subscriber,
)
from troposphere.iam import Policy, Role
from troposphere.redshift import PauseClusterMessage, ResumeClusterMessage, ScheduledAction
from troposphere.redshift import ScheduledActionType as RedshiftAction

from ecomdw.infra.context import StackContext, allow, arn, assume_role_policy, policy
from ecomdw.infra.environments import PauseResume, ProvisionedWarehouse
from ecomdw.infra.orchestration import daily_cron

CONCERN = "cost"
BUDGET_ALERTS = (("ACTUAL", 80), ("FORECASTED", 100))
"""Warn when actual spend passes 80% of the budget, or the forecast passes all of it."""


def build(context: StackContext) -> Template:
    template = context.new_template("Warehouse pause/resume schedule and budget")
    parameters = context.parameters
    if isinstance(parameters.warehouse, ProvisionedWarehouse) and parameters.pause_resume:
        _pause_resume(context, template, parameters.pause_resume)
    topic = context.imported("monitoring", "AlarmTopicArn")
    template.add_resource(
        Budget(
            "MonthlyBudget",
            Budget=BudgetData(
                BudgetName=context.name("monthly"),
                BudgetType="COST",
                TimeUnit="MONTHLY",
                BudgetLimit=Spend(Amount=parameters.monthly_budget_usd, Unit="USD"),
            ),
            NotificationsWithSubscribers=[
                NotificationWithSubscribers(
                    Notification=Notification(
                        NotificationType=kind,
                        ComparisonOperator="GREATER_THAN",
                        Threshold=percent,
                        ThresholdType="PERCENTAGE",
                    ),
                    Subscribers=[Subscriber(SubscriptionType="SNS", Address=topic)],
                )
                for kind, percent in BUDGET_ALERTS
            ],
        )
    )
    return template


def _pause_resume(context: StackContext, template: Template, hours: PauseResume) -> None:
    """Resume before the nightly pipeline, pause after the working day; paused on other days."""
    cluster = context.names.redshift_cluster
    role = template.add_resource(
        Role(
            "WarehouseSchedulerRole",
            Description="Redshift scheduler: pause and resume the warehouse",
            AssumeRolePolicyDocument=assume_role_policy("scheduler.redshift"),
            Policies=[
                Policy(
                    PolicyName="pause-resume",
                    PolicyDocument=policy(
                        allow(
                            ["redshift:PauseCluster", "redshift:ResumeCluster"],
                            [arn("redshift", f"cluster:{cluster}")],
                        )
                    ),
                )
            ],
            Tags=context.tags(),
        )
    )
    template.add_resource(
        ScheduledAction(
            "ResumeWarehouse",
            ScheduledActionName=context.name("resume-warehouse"),
            ScheduledActionDescription="Resume before the nightly pipeline",
            Schedule=daily_cron(hours.resume_hour_utc, hours.days),
            IamRole=GetAtt(role, "Arn"),
            TargetAction=RedshiftAction(
                ResumeCluster=ResumeClusterMessage(ClusterIdentifier=cluster)
            ),
            Enable=True,
        )
    )
    template.add_resource(
        ScheduledAction(
            "PauseWarehouse",
            ScheduledActionName=context.name("pause-warehouse"),
            ScheduledActionDescription="Pause after working hours",
            Schedule=daily_cron(hours.pause_hour_utc, hours.days),
            IamRole=GetAtt(role, "Arn"),
            TargetAction=RedshiftAction(
                PauseCluster=PauseClusterMessage(ClusterIdentifier=cluster)
            ),
            Enable=True,
        )
    )
