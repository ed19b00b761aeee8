"""SNS's CloudFormation types: topics (moto's model drops the tags) and their policies."""

from __future__ import annotations

import json
from typing import Any

from ecomdw.emulation.services.cloudformation.properties import api_tags, as_json, subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_topic(c: Creating, props: dict[str, Any]) -> Created:
    topic = c.client("sns").create_topic(
        Name=props.get("TopicName", c.generated_name),
        Attributes=subset(props, "KmsMasterKeyId", "DisplayName"),
        Tags=api_tags(props),
    )["TopicArn"]
    return Created(topic, {"TopicArn": topic, "TopicName": topic.rsplit(":", 1)[-1]})


def read_topic(r: Reading) -> dict[str, Any]:
    sns = r.client("sns")
    attributes = sns.get_topic_attributes(TopicArn=r.physical_id)["Attributes"]
    return {
        "TopicName": r.physical_id.rsplit(":", 1)[-1],
        "KmsMasterKeyId": attributes.get("KmsMasterKeyId"),
        "Tags": sns.list_tags_for_resource(ResourceArn=r.physical_id)["Tags"],
    }


def create_topic_policy(c: Creating, props: dict[str, Any]) -> Created:
    sns = c.client("sns")
    for topic in props["Topics"]:
        sns.set_topic_attributes(
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=json.dumps(props["PolicyDocument"]),
        )
    return Created(",".join(props["Topics"]))


def read_topic_policy(r: Reading) -> dict[str, Any]:
    sns = r.client("sns")
    policies = [
        as_json(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        for topic in r.properties["Topics"]
    ]
    if any(p != policies[0] for p in policies):
        raise AssertionError("the topics hold different policies")
    return {"Topics": r.properties["Topics"], "PolicyDocument": policies[0]}


RESOURCE_TYPES = (
    ResourceType("AWS::SNS::Topic", read_topic, create_topic, "moto's model drops the tags"),
    ResourceType("AWS::SNS::TopicPolicy", read_topic_policy, create_topic_policy, NO_MODEL),
)
