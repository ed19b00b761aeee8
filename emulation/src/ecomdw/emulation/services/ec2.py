"""EC2's CloudFormation types: the network (VPC, subnets, route tables, security groups and
their rules), and the VPC endpoints and flow logs moto's own models create.

moto's models ignore a VPC's DNS attributes, drop route tables' tags, associate no subnet
with a route table, keep a security group's default allow-all egress and drop its rules'
descriptions, give a subnet no `AvailabilityZone` to `Fn::GetAtt`, and have no standalone
egress rule: those are created through EC2's API here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecomdw.emulation.services.cloudformation.properties import (
    api_tags,
    covers,
    renamed,
    subset,
)
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)


def _tag_specifications(resource_type: str, props: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": api_tags(props)}]


def create_vpc(c: Creating, props: dict[str, Any]) -> Created:
    ec2 = c.client("ec2")
    vpc = ec2.create_vpc(
        CidrBlock=props["CidrBlock"], TagSpecifications=_tag_specifications("vpc", props)
    )["Vpc"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        if attribute in props:
            ec2.modify_vpc_attribute(
                VpcId=vpc["VpcId"], **{attribute: {"Value": bool(props[attribute])}}
            )
    return Created(vpc["VpcId"], {"CidrBlock": vpc["CidrBlock"], "VpcId": vpc["VpcId"]})


def read_vpc(r: Reading) -> dict[str, Any]:
    ec2 = r.client("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[r.physical_id])["Vpcs"][0]

    def attribute(name: str, key: str) -> bool:
        answer = ec2.describe_vpc_attribute(VpcId=r.physical_id, Attribute=name)
        return bool(answer[key]["Value"])

    return {
        "CidrBlock": vpc["CidrBlock"],
        "EnableDnsHostnames": attribute("enableDnsHostnames", "EnableDnsHostnames"),
        "EnableDnsSupport": attribute("enableDnsSupport", "EnableDnsSupport"),
        "Tags": vpc.get("Tags", []),
    }


def create_subnet(c: Creating, props: dict[str, Any]) -> Created:
    ec2 = c.client("ec2")
    subnet = ec2.create_subnet(
        VpcId=props["VpcId"],
        CidrBlock=props["CidrBlock"],
        AvailabilityZone=props["AvailabilityZone"],
        TagSpecifications=_tag_specifications("subnet", props),
    )["Subnet"]
    ec2.modify_subnet_attribute(
        SubnetId=subnet["SubnetId"],
        MapPublicIpOnLaunch={"Value": bool(props.get("MapPublicIpOnLaunch", False))},
    )
    return Created(
        subnet["SubnetId"],
        {"AvailabilityZone": subnet["AvailabilityZone"], "VpcId": subnet["VpcId"]},
    )


def read_subnet(r: Reading) -> dict[str, Any]:
    subnet = r.client("ec2").describe_subnets(SubnetIds=[r.physical_id])["Subnets"][0]
    return renamed(
        subnet,
        VpcId="VpcId",
        CidrBlock="CidrBlock",
        AvailabilityZone="AvailabilityZone",
        MapPublicIpOnLaunch="MapPublicIpOnLaunch",
        Tags="Tags",
    )


def create_route_table(c: Creating, props: dict[str, Any]) -> Created:
    table = c.client("ec2").create_route_table(
        VpcId=props["VpcId"], TagSpecifications=_tag_specifications("route-table", props)
    )["RouteTable"]
    return Created(table["RouteTableId"], {"RouteTableId": table["RouteTableId"]})


def read_route_table(r: Reading) -> dict[str, Any]:
    table = r.client("ec2").describe_route_tables(RouteTableIds=[r.physical_id])["RouteTables"][0]
    return renamed(table, VpcId="VpcId", Tags="Tags")


def create_route_table_association(c: Creating, props: dict[str, Any]) -> Created:
    association = c.client("ec2").associate_route_table(
        RouteTableId=props["RouteTableId"], SubnetId=props["SubnetId"]
    )["AssociationId"]
    return Created(association, {"Id": association})


def read_route_table_association(r: Reading) -> dict[str, Any]:
    tables = r.client("ec2").describe_route_tables(
        Filters=[{"Name": "association.route-table-association-id", "Values": [r.physical_id]}]
    )["RouteTables"]
    association = next(
        a
        for table in tables
        for a in table["Associations"]
        if a["RouteTableAssociationId"] == r.physical_id
    )
    return renamed(association, RouteTableId="RouteTableId", SubnetId="SubnetId")


def _ip_permission(rule: Mapping[str, Any], peer: str) -> dict[str, Any]:
    """A template's security group rule in the EC2 API's shape."""
    permission: dict[str, Any] = subset(rule, "IpProtocol", "FromPort", "ToPort")
    description = subset(rule, "Description")
    if "CidrIp" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **description}]
    if f"{peer}PrefixListId" in rule:
        permission["PrefixListIds"] = [{"PrefixListId": rule[f"{peer}PrefixListId"], **description}]
    if f"{peer}SecurityGroupId" in rule:
        permission["UserIdGroupPairs"] = [
            {"GroupId": rule[f"{peer}SecurityGroupId"], **description}
        ]
    return permission


def _rules(permissions: list[dict[str, Any]], peer: str) -> list[dict[str, Any]]:
    """EC2 permissions as the template's rule list: one rule per CIDR, prefix list or group
    (`_ip_permission` the other way)."""
    rules = []
    for permission in permissions:
        ports = renamed(permission, IpProtocol="IpProtocol", FromPort="FromPort", ToPort="ToPort")
        for cidr in permission.get("IpRanges", []):
            rules.append({**ports, "CidrIp": cidr["CidrIp"], **_description(cidr)})
        for prefix in permission.get("PrefixListIds", []):
            rules.append(
                {**ports, f"{peer}PrefixListId": prefix["PrefixListId"], **_description(prefix)}
            )
        for pair in permission.get("UserIdGroupPairs", []):
            rules.append({**ports, f"{peer}SecurityGroupId": pair["GroupId"], **_description(pair)})
    return rules


def _description(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"Description": item["Description"]} if item.get("Description") else {}


def create_security_group(c: Creating, props: dict[str, Any]) -> Created:
    ec2 = c.client("ec2")
    group = ec2.create_security_group(
        GroupName=props.get("GroupName", c.generated_name),
        Description=props["GroupDescription"],
        VpcId=props["VpcId"],
        TagSpecifications=_tag_specifications("security-group", props),
    )["GroupId"]
    if "SecurityGroupEgress" in props:
        # A group declared with egress rules has exactly those, as in CloudFormation.
        ec2.revoke_security_group_egress(
            GroupId=group,
            IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        ec2.authorize_security_group_egress(
            GroupId=group,
            IpPermissions=[_ip_permission(r, "Destination") for r in props["SecurityGroupEgress"]],
        )
    if props.get("SecurityGroupIngress"):
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[_ip_permission(r, "Source") for r in props["SecurityGroupIngress"]],
        )
    return Created(group, {"GroupId": group, "VpcId": props["VpcId"]})


def read_security_group(r: Reading) -> dict[str, Any]:
    group = r.client("ec2").describe_security_groups(GroupIds=[r.physical_id])["SecurityGroups"][0]
    return {
        "GroupDescription": group["Description"],
        "VpcId": group["VpcId"],
        "Tags": group.get("Tags", []),
        "SecurityGroupIngress": _declared(
            _rules(group["IpPermissions"], "Source"), r.properties, "SecurityGroupIngress"
        ),
        "SecurityGroupEgress": _declared(
            _rules(group["IpPermissionsEgress"], "Destination"),
            r.properties,
            "SecurityGroupEgress",
        ),
    }


def _declared(rules: list[Any], properties: Mapping[str, Any], key: str) -> list[Any]:
    """The group's rules that its template declares inline; standalone rule resources add
    the others, and are checked on their own."""
    declared = properties.get(key, [])
    return [rule for rule in rules if any(covers(d, rule) for d in declared)]


def create_security_group_ingress(c: Creating, props: dict[str, Any]) -> Created:
    rules = c.client("ec2").authorize_security_group_ingress(
        GroupId=props["GroupId"], IpPermissions=[_ip_permission(props, "Source")]
    )["SecurityGroupRules"]
    return Created(rules[0]["SecurityGroupRuleId"])


def create_security_group_egress(c: Creating, props: dict[str, Any]) -> Created:
    rules = c.client("ec2").authorize_security_group_egress(
        GroupId=props["GroupId"], IpPermissions=[_ip_permission(props, "Destination")]
    )["SecurityGroupRules"]
    return Created(rules[0]["SecurityGroupRuleId"])


def _group_rule(r: Reading, egress: bool) -> dict[str, Any]:
    """The standalone rule as its group now holds it: the one matching the template's rule."""
    group_id = r.properties["GroupId"]
    group = r.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    peer = "Destination" if egress else "Source"
    rules = _rules(group["IpPermissionsEgress" if egress else "IpPermissions"], peer)
    wanted = {k: v for k, v in r.properties.items() if k != "GroupId"}
    rule = next(rule for rule in rules if covers(wanted, rule))
    return {"GroupId": group_id, **rule}


def read_security_group_ingress(r: Reading) -> dict[str, Any]:
    return _group_rule(r, egress=False)


def read_security_group_egress(r: Reading) -> dict[str, Any]:
    return _group_rule(r, egress=True)


def read_vpc_endpoint(r: Reading) -> dict[str, Any]:
    endpoint = r.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[r.physical_id])[
        "VpcEndpoints"
    ][0]
    observed = renamed(
        endpoint,
        ServiceName="ServiceName",
        VpcEndpointType="VpcEndpointType",
        VpcId="VpcId",
        RouteTableIds="RouteTableIds",
        SubnetIds="SubnetIds",
        PrivateDnsEnabled="PrivateDnsEnabled",
    )
    observed["SecurityGroupIds"] = [g["GroupId"] for g in endpoint.get("Groups", [])]
    return observed


FLOW_LOG_RESOURCE_TYPES = {"vpc-": "VPC", "subnet-": "Subnet", "eni-": "NetworkInterface"}
"""A flow log's `ResourceType`, by the prefix of the id of what it logs."""


def read_flow_log(r: Reading) -> dict[str, Any]:
    flow_log = r.client("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"][0]
    observed = renamed(
        flow_log,
        ResourceId="ResourceId",
        TrafficType="TrafficType",
        LogGroupName="LogGroupName",
        DeliverLogsPermissionArn="DeliverLogsPermissionArn",
        LogDestinationType="LogDestinationType",
        Tags="Tags",
    )
    observed["ResourceType"] = next(
        kind
        for prefix, kind in FLOW_LOG_RESOURCE_TYPES.items()
        if flow_log["ResourceId"].startswith(prefix)
    )
    return observed


RESOURCE_TYPES = (
    ResourceType("AWS::EC2::VPC", read_vpc, create_vpc, "moto's model ignores the DNS attributes"),
    ResourceType(
        "AWS::EC2::Subnet",
        read_subnet,
        create_subnet,
        "moto's model has no AvailabilityZone attribute for Fn::GetAtt",
    ),
    ResourceType(
        "AWS::EC2::RouteTable", read_route_table, create_route_table, "moto's model drops the tags"
    ),
    ResourceType(
        "AWS::EC2::SubnetRouteTableAssociation",
        read_route_table_association,
        create_route_table_association,
        "moto's model associates nothing",
    ),
    ResourceType(
        "AWS::EC2::SecurityGroup",
        read_security_group,
        create_security_group,
        "moto's model keeps allow-all egress, drops rule descriptions",
    ),
    ResourceType(
        "AWS::EC2::SecurityGroupIngress",
        read_security_group_ingress,
        create_security_group_ingress,
        "moto's model drops the rule's description",
    ),
    ResourceType(
        "AWS::EC2::SecurityGroupEgress",
        read_security_group_egress,
        create_security_group_egress,
        NO_MODEL,
    ),
    ResourceType("AWS::EC2::VPCEndpoint", read_vpc_endpoint),
    ResourceType("AWS::EC2::FlowLog", read_flow_log),
)
