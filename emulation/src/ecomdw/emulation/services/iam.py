"""IAM's CloudFormation types: roles with their policies, OIDC providers.

moto's role model keeps inline policies as Python text and attaches no managed policies; it
has no model for an OIDC provider.
"""

from __future__ import annotations

import json
from typing import Any

from ecomdw.emulation.services.cloudformation.properties import (
    api_tags,
    as_json,
    subset,
    template_tags,
)
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def create_role(c: Creating, props: dict[str, Any]) -> Created:
    iam = c.client("iam")
    name = props.get("RoleName", c.generated_name[:64])
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        Tags=api_tags(props),
        **subset(props, "Description", "Path", "MaxSessionDuration"),
    )["Role"]
    for policy_arn in props.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    for policy in props.get("Policies", []):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
    return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})


def read_role(r: Reading) -> dict[str, Any]:
    iam = r.client("iam")
    role = iam.get_role(RoleName=r.physical_id)["Role"]
    attached = iam.list_attached_role_policies(RoleName=r.physical_id)["AttachedPolicies"]
    inline = [
        {
            "PolicyName": policy_name,
            "PolicyDocument": as_json(
                iam.get_role_policy(RoleName=r.physical_id, PolicyName=policy_name)[
                    "PolicyDocument"
                ]
            ),
        }
        for policy_name in iam.list_role_policies(RoleName=r.physical_id)["PolicyNames"]
    ]
    return {
        "AssumeRolePolicyDocument": as_json(role["AssumeRolePolicyDocument"]),
        "Description": role.get("Description"),
        "ManagedPolicyArns": [p["PolicyArn"] for p in attached],
        "Policies": inline,
        "Tags": template_tags(iam.list_role_tags(RoleName=r.physical_id)["Tags"]),
    }


def create_oidc_provider(c: Creating, props: dict[str, Any]) -> Created:
    provider_arn = c.client("iam").create_open_id_connect_provider(
        Url=props["Url"],
        ClientIDList=props.get("ClientIdList", []),
        ThumbprintList=props.get("ThumbprintList", []),
        Tags=api_tags(props),
    )["OpenIDConnectProviderArn"]
    return Created(provider_arn, {"Arn": provider_arn})


def read_oidc_provider(r: Reading) -> dict[str, Any]:
    provider = r.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=r.physical_id)
    url = provider["Url"]
    return {
        "Url": url if url.startswith("https://") else f"https://{url}",
        "ClientIdList": provider["ClientIDList"],
        "ThumbprintList": provider["ThumbprintList"],
        "Tags": template_tags(provider.get("Tags", [])),
    }


RESOURCE_TYPES = (
    ResourceType(
        "AWS::IAM::Role",
        read_role,
        create_role,
        "moto's model stores inline policies as Python text, attaches no managed ones",
    ),
    ResourceType("AWS::IAM::OIDCProvider", read_oidc_provider, create_oidc_provider, NO_MODEL),
)
