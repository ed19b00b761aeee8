"""AWS Budgets' CloudFormation type: budgets with their notifications (no moto model)."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_budget(c: Creating, props: dict[str, Any]) -> Created:
    budget = dict(props["Budget"])
    limit = budget["BudgetLimit"]
    budget["BudgetLimit"] = {"Amount": str(limit["Amount"]), "Unit": limit["Unit"]}
    notifications = [
        {
            "Notification": {
                **n["Notification"],
                "Threshold": float(n["Notification"]["Threshold"]),
            },
            "Subscribers": n["Subscribers"],
        }
        for n in props.get("NotificationsWithSubscribers", [])
    ]
    c.client("budgets").create_budget(
        AccountId=c.account_id, Budget=budget, NotificationsWithSubscribers=notifications
    )
    return Created(budget["BudgetName"])


def delete_budget(c: Creating, physical_id: str, props: dict[str, Any]) -> None:
    c.client("budgets").delete_budget(AccountId=c.account_id, BudgetName=physical_id)


def read_budget(r: Reading) -> dict[str, Any]:
    budgets = r.client("budgets")
    budget = budgets.describe_budget(AccountId=r.account_id, BudgetName=r.physical_id)["Budget"]
    limit = budget["BudgetLimit"]
    observed = subset(budget, "BudgetName", "BudgetType", "TimeUnit", "CostFilters")
    observed["BudgetLimit"] = {"Amount": float(limit["Amount"]), "Unit": limit["Unit"]}
    notifications = budgets.describe_notifications_for_budget(
        AccountId=r.account_id, BudgetName=r.physical_id
    )["Notifications"]
    return {
        "Budget": observed,
        "NotificationsWithSubscribers": [{"Notification": n} for n in notifications],
    }


RESOURCE_TYPES = (
    ResourceType(
        "AWS::Budgets::Budget",
        read_budget,
        create_budget,
        NO_MODEL,
        delete=delete_budget,
        unreadable={
            "NotificationsWithSubscribers.Subscribers": "moto's Budgets has no "
            "DescribeSubscribersForNotification",
        },
    ),
)
