"""GuardDuty's CloudFormation type: detectors, which moto's CloudFormation has no model for."""

from __future__ import annotations

from typing import Any

from ecomdw.emulation.services.cloudformation.properties import tag_map, tags_of_map
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_detector(c: Creating, props: dict[str, Any]) -> Created:
    detector = c.client("guardduty").create_detector(
        Enable=props["Enable"],
        FindingPublishingFrequency=props["FindingPublishingFrequency"],
        Features=props.get("Features", []),
        Tags=tag_map(props),
    )["DetectorId"]
    return Created(detector, {"Id": detector})


def read_detector(r: Reading) -> dict[str, Any]:
    detector = r.client("guardduty").get_detector(DetectorId=r.physical_id)
    return {
        "Enable": detector["Status"] == "ENABLED",
        "FindingPublishingFrequency": detector["FindingPublishingFrequency"],
        "Features": [
            {"Name": f["Name"], "Status": f["Status"]} for f in detector.get("Features", [])
        ],
        "Tags": tags_of_map(detector.get("Tags", {})),
    }


RESOURCE_TYPES = (
    ResourceType("AWS::GuardDuty::Detector", read_detector, create_detector, NO_MODEL),
)
