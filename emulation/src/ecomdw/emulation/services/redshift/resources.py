"""Redshift's CloudFormation types: the cluster, its subnet and parameter groups; scheduled
actions, not emulated.

moto's models answer `Ref` on the groups with no name, and its cluster model has no managed
admin secret, no audit logging and drops most settings: all three are created through the API.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ecomdw.emulation.services.cloudformation.properties import api_tags, renamed, subset
from ecomdw.emulation.services.cloudformation.resource_types import (
    Created,
    Creating,
    Reading,
    ResourceType,
)

CLUSTER_FIELDS = (
    "ClusterType",
    "NodeType",
    "NumberOfNodes",
    "DBName",
    "MasterUsername",
    "Encrypted",
    "KmsKeyId",
    "PubliclyAccessible",
    "EnhancedVpcRouting",
    "Port",
    "ClusterSubnetGroupName",
    "ClusterParameterGroupName",
    "VpcSecurityGroupIds",
    "IamRoles",
    "AutomatedSnapshotRetentionPeriod",
    "ManualSnapshotRetentionPeriod",
    "AllowVersionUpgrade",
    "PreferredMaintenanceWindow",
)
"""A cluster's properties that CreateCluster takes as they are."""


def create_cluster_subnet_group(c: Creating, props: dict[str, Any]) -> Created:
    c.client("redshift").create_cluster_subnet_group(
        ClusterSubnetGroupName=c.generated_name,
        Description=props["Description"],
        SubnetIds=props["SubnetIds"],
        Tags=api_tags(props),
    )
    return Created(c.generated_name)


def read_cluster_subnet_group(r: Reading) -> dict[str, Any]:
    group = r.client("redshift").describe_cluster_subnet_groups(
        ClusterSubnetGroupName=r.physical_id
    )["ClusterSubnetGroups"][0]
    return {
        "Description": group["Description"],
        "SubnetIds": [s["SubnetIdentifier"] for s in group["Subnets"]],
        "Tags": group.get("Tags", []),
    }


def create_cluster_parameter_group(c: Creating, props: dict[str, Any]) -> Created:
    c.client("redshift").create_cluster_parameter_group(
        ParameterGroupName=c.generated_name,
        ParameterGroupFamily=props["ParameterGroupFamily"],
        Description=props["Description"],
        Tags=api_tags(props),
    )
    return Created(c.generated_name)


def read_cluster_parameter_group(r: Reading) -> dict[str, Any]:
    group = r.client("redshift").describe_cluster_parameter_groups(
        ParameterGroupName=r.physical_id
    )["ParameterGroups"][0]
    return subset(group, "Description", "ParameterGroupFamily", "Tags")


def create_cluster(c: Creating, props: dict[str, Any]) -> Created:
    """The cluster, plus the admin secret Redshift itself would create and encrypt."""
    redshift = c.client("redshift")
    identifier = props["ClusterIdentifier"]
    password = f"A1{secrets.token_urlsafe(24)}"
    cluster = redshift.create_cluster(
        ClusterIdentifier=identifier,
        MasterUserPassword=password,
        Tags=api_tags(props),
        **subset(props, *CLUSTER_FIELDS),
    )["Cluster"]
    if logging := props.get("LoggingProperties"):
        redshift.enable_logging(ClusterIdentifier=identifier, **logging)
    attributes = {
        "Endpoint.Address": cluster["Endpoint"]["Address"],
        "Endpoint.Port": str(cluster["Endpoint"]["Port"]),
    }
    if props.get("ManageMasterPassword"):
        secret = c.client("secretsmanager").create_secret(
            Name=_admin_secret_name(identifier, props["MasterUsername"]),
            KmsKeyId=props["MasterPasswordSecretKmsKeyId"],
            SecretString=json.dumps({"username": props["MasterUsername"], "password": password}),
        )
        attributes["MasterPasswordSecretArn"] = secret["ARN"]
    return Created(identifier, attributes)


def _admin_secret_name(identifier: str, master_username: str) -> str:
    """The secret Redshift keeps a cluster's managed admin password in."""
    return f"redshift!{identifier}-{master_username}"


def read_cluster(r: Reading) -> dict[str, Any]:
    redshift = r.client("redshift")
    cluster = redshift.describe_clusters(ClusterIdentifier=r.physical_id)["Clusters"][0]
    observed = subset(
        cluster,
        "ClusterIdentifier",
        "NodeType",
        "DBName",
        "MasterUsername",
        "Encrypted",
        "KmsKeyId",
        "PubliclyAccessible",
        "EnhancedVpcRouting",
        "ClusterSubnetGroupName",
        "AutomatedSnapshotRetentionPeriod",
        "ManualSnapshotRetentionPeriod",
        "AllowVersionUpgrade",
        "PreferredMaintenanceWindow",
        "Tags",
    )
    observed["ClusterType"] = "multi-node" if cluster["NumberOfNodes"] > 1 else "single-node"
    observed["ClusterParameterGroupName"] = cluster["ClusterParameterGroups"][0][
        "ParameterGroupName"
    ]
    observed["VpcSecurityGroupIds"] = [
        g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]
    ]
    observed["IamRoles"] = [role["IamRoleArn"] for role in cluster["IamRoles"]]
    logging = redshift.describe_logging_status(ClusterIdentifier=r.physical_id)
    observed["LoggingProperties"] = renamed(
        logging, BucketName="BucketName", S3KeyPrefix="S3KeyPrefix"
    )
    secret = r.client("secretsmanager").describe_secret(
        SecretId=_admin_secret_name(r.physical_id, cluster["MasterUsername"])
    )
    observed["ManageMasterPassword"] = True
    observed["MasterPasswordSecretKmsKeyId"] = secret["KmsKeyId"]
    return observed


RESOURCE_TYPES = (
    ResourceType(
        "AWS::Redshift::ClusterSubnetGroup",
        read_cluster_subnet_group,
        create_cluster_subnet_group,
        "moto's model answers `Ref` with no name",
    ),
    ResourceType(
        "AWS::Redshift::ClusterParameterGroup",
        read_cluster_parameter_group,
        create_cluster_parameter_group,
        "moto's model answers `Ref` with no name",
        unreadable={
            "Parameters": "moto's Redshift has no ModifyClusterParameterGroup: the group keeps "
            "the family defaults",
        },
    ),
    ResourceType(
        "AWS::Redshift::Cluster",
        read_cluster,
        create_cluster,
        "moto's model has no managed admin secret, audit logging or most settings",
        unreadable={
            "ManualSnapshotRetentionPeriod": "moto's DescribeClusters does not return it",
            "Port": "the emulated endpoint listens on a free loopback port when the declared one "
            "is taken, and Endpoint.Port advertises where it listens",
        },
    ),
    ResourceType(
        "AWS::Redshift::ScheduledAction", why="moto's Redshift has no scheduled actions API"
    ),
)
