"""The VPC: private subnets in two zones, no internet route, AWS APIs through endpoints.

Glue (through its network connection) and Redshift live in the private subnets. S3 is reached
through a gateway endpoint, the other APIs the jobs call through interface endpoints, so no
NAT gateway and no internet gateway exist.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, GetAZs, Join, Ref, Select, Sub, Template
from troposphere.ec2 import (
    VPC,
    FlowLog,
    RouteTable,
    SecurityGroup,
    SecurityGroupEgress,
    SecurityGroupIngress,
    Subnet,
    SubnetRouteTableAssociation,
    VPCEndpoint,
)
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from ecomdw.infra.context import DELETE, StackContext, allow, arn, assume_role_policy, policy

CONCERN = "network"
VPC_CIDR = "10.40.0.0/16"
SUBNET_CIDRS = ("10.40.0.0/20", "10.40.16.0/20")
REDSHIFT_PORT = 5439
HTTPS = 443
ANYWHERE = "0.0.0.0/0"
INTERFACE_ENDPOINT_SERVICES = ("glue", "kms", "logs", "monitoring", "sts")
"""What Glue jobs call besides S3: the catalog, their keys, logs, metrics and credentials."""


def build(context: StackContext) -> Template:
    template = context.new_template("VPC, private subnets, security groups, VPC endpoints")
    vpc = template.add_resource(
        VPC(
            "Vpc",
            CidrBlock=VPC_CIDR,
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=context.tags({"Name": context.name("vpc")}),
        )
    )
    _flow_logs(context, template, vpc)
    route_table = template.add_resource(
        RouteTable("PrivateRouteTable", VpcId=Ref(vpc), Tags=context.tags())
    )
    subnets = []
    for zone, cidr in enumerate(SUBNET_CIDRS):
        subnet = template.add_resource(
            Subnet(
                f"PrivateSubnet{zone + 1}",
                VpcId=Ref(vpc),
                CidrBlock=cidr,
                AvailabilityZone=Select(zone, GetAZs("")),
                MapPublicIpOnLaunch=False,
                Tags=context.tags({"Name": context.name(f"private-{zone + 1}")}),
            )
        )
        template.add_resource(
            SubnetRouteTableAssociation(
                f"PrivateSubnet{zone + 1}Routes",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(route_table),
            )
        )
        subnets.append(subnet)

    glue_group, warehouse_group, endpoint_group = _security_groups(context, template, vpc)
    template.add_resource(
        VPCEndpoint(
            "S3Endpoint",
            VpcId=Ref(vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            RouteTableIds=[Ref(route_table)],
        )
    )
    for service in INTERFACE_ENDPOINT_SERVICES:
        template.add_resource(
            VPCEndpoint(
                f"{service.capitalize()}Endpoint",
                VpcId=Ref(vpc),
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                VpcEndpointType="Interface",
                PrivateDnsEnabled=True,
                SubnetIds=[Ref(subnet) for subnet in subnets],
                SecurityGroupIds=[Ref(endpoint_group)],
            )
        )

    context.export(template, CONCERN, "VpcId", Ref(vpc), "The VPC")
    context.export(
        template,
        CONCERN,
        "PrivateSubnetIds",
        Join(",", [Ref(subnet) for subnet in subnets]),
        "Private subnets, comma-separated",
    )
    for zone, subnet in enumerate(subnets):
        context.export(
            template, CONCERN, f"PrivateSubnet{zone + 1}Id", Ref(subnet), "A private subnet"
        )
    context.export(
        template, CONCERN, "GlueSecurityGroupId", Ref(glue_group), "Glue jobs' security group"
    )
    context.export(
        template,
        CONCERN,
        "WarehouseSecurityGroupId",
        Ref(warehouse_group),
        "Redshift's security group",
    )
    context.export(
        template,
        CONCERN,
        "GlueAvailabilityZone",
        GetAtt(subnets[0], "AvailabilityZone"),
        "The zone of the Glue connection's subnet",
    )
    return template


def _security_groups(
    context: StackContext, template: Template, vpc: VPC
) -> tuple[SecurityGroup, SecurityGroup, SecurityGroup]:
    """Glue talks to itself, to Redshift and to HTTPS endpoints; nothing comes from outside."""
    glue = _security_group(
        context,
        template,
        vpc,
        "GlueSecurityGroup",
        name="glue",
        description="Glue jobs: Spark executors talk to each other",
        egress=[_https(ANYWHERE, "AWS APIs and S3, through the endpoints (no internet route)")],
    )
    warehouse = _security_group(
        context,
        template,
        vpc,
        "WarehouseSecurityGroup",
        name="warehouse",
        description="Redshift: reachable from Glue only",
        egress=[_https(ANYWHERE, "AWS APIs and S3 for COPY, through the endpoints")],
    )
    endpoints = _security_group(
        context,
        template,
        vpc,
        "EndpointSecurityGroup",
        name="endpoints",
        description="Interface endpoints: HTTPS from inside the VPC",
        ingress=[_https(VPC_CIDR, "HTTPS from the VPC")],
        egress=[_https(VPC_CIDR, "Replies inside the VPC only")],
    )
    all_ports, redshift = (0, 65535), (REDSHIFT_PORT, REDSHIFT_PORT)
    # TCP between two groups: (rule type, logical id, the rule's group, its peer, ports, why).
    rules = [
        (SecurityGroupIngress, "GlueFromGlue", glue, glue, all_ports, "Spark driver and executors"),
        (SecurityGroupEgress, "GlueToGlue", glue, glue, all_ports, "Spark driver and executors"),
        (SecurityGroupEgress, "GlueToWarehouse", glue, warehouse, redshift, "Redshift"),
        (SecurityGroupIngress, "WarehouseFromGlue", warehouse, glue, redshift, "Glue jobs"),
    ]
    for rule, title, group, peer, (low, high), description in rules:
        inbound = rule is SecurityGroupIngress
        peer_key = "SourceSecurityGroupId" if inbound else "DestinationSecurityGroupId"
        template.add_resource(
            rule(
                title,
                GroupId=Ref(group),
                IpProtocol="tcp",
                FromPort=low,
                ToPort=high,
                Description=description,
                **{peer_key: Ref(peer)},
            )
        )
    return glue, warehouse, endpoints


def _https(cidr: str, description: str) -> dict[str, Any]:
    """A security group rule: HTTPS to or from `cidr`."""
    return {
        "CidrIp": cidr,
        "IpProtocol": "tcp",
        "FromPort": HTTPS,
        "ToPort": HTTPS,
        "Description": description,
    }


def _security_group(
    context: StackContext,
    template: Template,
    vpc: VPC,
    title: str,
    *,
    name: str,
    description: str,
    egress: list[dict[str, Any]],
    ingress: list[dict[str, Any]] | None = None,
) -> SecurityGroup:
    """A group of `vpc`, `name`d in the environment, with its inline rules."""
    inbound = {"SecurityGroupIngress": ingress} if ingress is not None else {}
    return template.add_resource(
        SecurityGroup(
            title,
            GroupDescription=description,
            VpcId=Ref(vpc),
            **inbound,
            SecurityGroupEgress=egress,
            Tags=context.tags({"Name": context.name(name)}),
        )
    )


def _flow_logs(context: StackContext, template: Template, vpc: VPC) -> None:
    """Rejected and accepted traffic, kept as long as the environment keeps its logs."""
    log_group = template.add_resource(
        LogGroup(
            "FlowLogGroup",
            LogGroupName=f"/{context.names.prefix}/vpc-flow-logs",
            RetentionInDays=context.parameters.log_retention_days,
            KmsKeyId=context.imported("security", "OperationsKeyArn"),
            Tags=context.tags(),
            **DELETE,
        )
    )
    role = template.add_resource(
        Role(
            "FlowLogRole",
            Description="VPC flow logs: deliver to their log group",
            AssumeRolePolicyDocument=assume_role_policy("vpc-flow-logs"),
            Policies=[
                Policy(
                    PolicyName="deliver",
                    PolicyDocument=policy(
                        allow(
                            [
                                "logs:CreateLogStream",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                            ],
                            [GetAtt(log_group, "Arn")],
                        ),
                        allow(["logs:DescribeLogGroups"], [arn("logs", "log-group:*")]),
                    ),
                )
            ],
            Tags=context.tags(),
        )
    )
    template.add_resource(
        FlowLog(
            "VpcFlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(log_group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            Tags=context.tags(),
        )
    )
