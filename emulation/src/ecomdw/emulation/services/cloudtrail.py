"""CloudTrail's CloudFormation type: trails, which moto's CloudFormation has no model for."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import api_tags, renamed, subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_trail(c: Creating, props: dict[str, Any]) -> Created:
    cloudtrail = c.client("cloudtrail")
    fields = (
        "S3BucketName",
        "S3KeyPrefix",
        "IncludeGlobalServiceEvents",
        "IsMultiRegionTrail",
        "EnableLogFileValidation",
        "CloudWatchLogsLogGroupArn",
        "CloudWatchLogsRoleArn",
    )
    trail = cloudtrail.create_trail(
        Name=props["TrailName"],
        KmsKeyId=props["KMSKeyId"],
        TagsList=api_tags(props),
        **subset(props, *fields),
    )
    if "EventSelectors" in props:
        cloudtrail.put_event_selectors(
            TrailName=props["TrailName"], EventSelectors=props["EventSelectors"]
        )
    if props.get("IsLogging"):
        cloudtrail.start_logging(Name=props["TrailName"])
    return Created(props["TrailName"], {"Arn": trail["TrailARN"]})


def read_trail(r: Reading) -> dict[str, Any]:
    cloudtrail = r.client("cloudtrail")
    trail = cloudtrail.get_trail(Name=r.physical_id)["Trail"]
    observed = renamed(
        trail,
        Name="TrailName",
        S3BucketName="S3BucketName",
        S3KeyPrefix="S3KeyPrefix",
        IncludeGlobalServiceEvents="IncludeGlobalServiceEvents",
        IsMultiRegionTrail="IsMultiRegionTrail",
        LogFileValidationEnabled="EnableLogFileValidation",
        CloudWatchLogsLogGroupArn="CloudWatchLogsLogGroupArn",
        CloudWatchLogsRoleArn="CloudWatchLogsRoleArn",
        KmsKeyId="KMSKeyId",
    )
    observed["IsLogging"] = cloudtrail.get_trail_status(Name=r.physical_id)["IsLogging"]
    observed["EventSelectors"] = cloudtrail.get_event_selectors(TrailName=r.physical_id).get(
        "EventSelectors", []
    )
    tag_lists = cloudtrail.list_tags(ResourceIdList=[trail["TrailARN"]])["ResourceTagList"]
    observed["Tags"] = tag_lists[0].get("TagsList", [])
    return observed


RESOURCE_TYPES = (ResourceType("AWS::CloudTrail::Trail", read_trail, create_trail, NO_MODEL),)
