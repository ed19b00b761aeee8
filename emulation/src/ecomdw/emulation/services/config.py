"""AWS Config's CloudFormation types: the recorder, its delivery channel, rules (no moto model)."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_config_recorder(c: Creating, props: dict[str, Any]) -> Created:
    group = props["RecordingGroup"]
    c.client("config").put_configuration_recorder(
        ConfigurationRecorder={
            "name": props["Name"],
            "roleARN": props["RoleARN"],
            "recordingGroup": {
                "allSupported": group["AllSupported"],
                "includeGlobalResourceTypes": group["IncludeGlobalResourceTypes"],
            },
        }
    )
    return Created(props["Name"])


def read_config_recorder(r: Reading) -> dict[str, Any]:
    recorder = r.client("config").describe_configuration_recorders(
        ConfigurationRecorderNames=[r.physical_id]
    )["ConfigurationRecorders"][0]
    group = recorder["recordingGroup"]
    return {
        "Name": recorder["name"],
        "RoleARN": recorder["roleARN"],
        "RecordingGroup": {
            "AllSupported": group["allSupported"],
            "IncludeGlobalResourceTypes": group["includeGlobalResourceTypes"],
        },
    }


def create_delivery_channel(c: Creating, props: dict[str, Any]) -> Created:
    frequency = props["ConfigSnapshotDeliveryProperties"]["DeliveryFrequency"]
    c.client("config").put_delivery_channel(
        DeliveryChannel={
            "name": props["Name"],
            "s3BucketName": props["S3BucketName"],
            "s3KeyPrefix": props["S3KeyPrefix"],
            "configSnapshotDeliveryProperties": {"deliveryFrequency": frequency},
        }
    )
    return Created(props["Name"])


def read_delivery_channel(r: Reading) -> dict[str, Any]:
    channel = r.client("config").describe_delivery_channels(DeliveryChannelNames=[r.physical_id])[
        "DeliveryChannels"
    ][0]
    return {
        "Name": channel["name"],
        "S3BucketName": channel["s3BucketName"],
        "S3KeyPrefix": channel.get("s3KeyPrefix"),
        "ConfigSnapshotDeliveryProperties": {
            "DeliveryFrequency": channel["configSnapshotDeliveryProperties"]["deliveryFrequency"]
        },
    }


def create_config_rule(c: Creating, props: dict[str, Any]) -> Created:
    c.client("config").put_config_rule(
        ConfigRule={"ConfigRuleName": props["ConfigRuleName"], "Source": props["Source"]}
    )
    return Created(props["ConfigRuleName"])


def read_config_rule(r: Reading) -> dict[str, Any]:
    rule = r.client("config").describe_config_rules(ConfigRuleNames=[r.physical_id])["ConfigRules"][
        0
    ]
    return {"ConfigRuleName": rule["ConfigRuleName"], "Source": rule["Source"]}


RESOURCE_TYPES = (
    ResourceType(
        "AWS::Config::ConfigurationRecorder",
        read_config_recorder,
        create_config_recorder,
        NO_MODEL,
    ),
    ResourceType(
        "AWS::Config::DeliveryChannel", read_delivery_channel, create_delivery_channel, NO_MODEL
    ),
    ResourceType("AWS::Config::ConfigRule", read_config_rule, create_config_rule, NO_MODEL),
)
