"""Redshift: a provisioned ra3 cluster, or Serverless when the environment says so.

Either way it is encrypted with the data key, reachable only from inside the VPC, audited,
and its admin password is a Secrets Manager secret that Redshift creates, encrypts with the
data key and rotates itself: no rotation Lambda to run, and the same for both kinds.
(CloudFormation returns that secret's ARN for a cluster only; the pipeline signs in through
IAM either way.)
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Template
from troposphere.redshift import (
    AmazonRedshiftParameter,
    Cluster,
    ClusterParameterGroup,
    ClusterSubnetGroup,
    LoggingProperties,
)
from troposphere.redshiftserverless import ConfigParameter, Namespace, Workgroup

from ecomdw.infra.context import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, StackContext
from ecomdw.infra.environments import ProvisionedWarehouse, ServerlessWarehouse
from ecomdw.infra.network import REDSHIFT_PORT
from ecomdw.infra.storage import REDSHIFT_AUDIT_PREFIX

CONCERN = "warehouse"
ADMIN_USER = "ecomdw_admin"
MAINTENANCE_WINDOW = "sun:05:00-sun:05:30"
SERVERLESS_LOG_EXPORTS = ["connectionlog", "useractivitylog", "userlog"]


def build(context: StackContext) -> Template:
    warehouse = context.parameters.warehouse
    if isinstance(warehouse, ServerlessWarehouse):
        template = context.new_template("Redshift Serverless namespace and workgroup")
        _serverless(context, template, warehouse)
    else:
        template = context.new_template("Redshift provisioned cluster")
        _provisioned(context, template, warehouse)
    return template


def _subnets(context: StackContext) -> list[Any]:
    return [context.imported("network", f"PrivateSubnet{zone}Id") for zone in (1, 2)]


def _provisioned(context: StackContext, template: Template, sizing: ProvisionedWarehouse) -> None:
    names = context.names
    data_key = context.imported("security", "DataKeyArn")
    subnet_group = template.add_resource(
        ClusterSubnetGroup(
            "WarehouseSubnetGroup",
            Description=f"{names.redshift_cluster}: private subnets",
            SubnetIds=_subnets(context),
            Tags=context.tags(),
        )
    )
    parameter_group = template.add_resource(
        ClusterParameterGroup(
            "WarehouseParameterGroup",
            Description=f"{names.redshift_cluster}: TLS only, user activity logged",
            ParameterGroupFamily="redshift-1.0",
            Parameters=[
                AmazonRedshiftParameter(ParameterName="require_ssl", ParameterValue="true"),
                AmazonRedshiftParameter(
                    ParameterName="enable_user_activity_logging", ParameterValue="true"
                ),
            ],
            Tags=context.tags(),
        )
    )
    cluster = Cluster(
        "Warehouse",
        ClusterIdentifier=names.redshift_cluster,
        ClusterType="multi-node" if sizing.nodes > 1 else "single-node",
        NodeType=sizing.node_type,
        DBName=names.redshift_database,
        MasterUsername=ADMIN_USER,
        ManageMasterPassword=True,
        MasterPasswordSecretKmsKeyId=data_key,
        Encrypted=True,
        KmsKeyId=data_key,
        PubliclyAccessible=False,
        EnhancedVpcRouting=True,
        Port=REDSHIFT_PORT,
        ClusterSubnetGroupName=Ref(subnet_group),
        ClusterParameterGroupName=Ref(parameter_group),
        VpcSecurityGroupIds=[context.imported("network", "WarehouseSecurityGroupId")],
        IamRoles=[context.imported("security", "RedshiftRoleArn")],
        AutomatedSnapshotRetentionPeriod=context.parameters.snapshot_retention_days,
        ManualSnapshotRetentionPeriod=context.parameters.backup_retention_days,
        LoggingProperties=LoggingProperties(
            BucketName=names.logs_bucket, S3KeyPrefix=f"{REDSHIFT_AUDIT_PREFIX}/"
        ),
        AllowVersionUpgrade=True,
        PreferredMaintenanceWindow=MAINTENANCE_WINDOW,
        Tags=context.tags({BACKUP_TAG_KEY: BACKUP_TAG_VALUE}),
        DeletionPolicy="Snapshot",
        UpdateReplacePolicy="Snapshot",
    )
    if sizing.nodes > 1:
        cluster.NumberOfNodes = sizing.nodes
    template.add_resource(cluster)
    context.export(
        template, CONCERN, "ClusterIdentifier", Ref(cluster), "Redshift cluster identifier"
    )
    context.export(
        template, CONCERN, "Endpoint", GetAtt(cluster, "Endpoint.Address"), "Redshift host"
    )
    context.export(template, CONCERN, "Port", GetAtt(cluster, "Endpoint.Port"), "Redshift port")
    context.export(
        template,
        CONCERN,
        "AdminSecretArn",
        GetAtt(cluster, "MasterPasswordSecretArn"),
        "Secrets Manager secret of the admin user, rotated by Redshift",
    )


def _serverless(context: StackContext, template: Template, sizing: ServerlessWarehouse) -> None:
    names = context.names
    data_key = context.imported("security", "DataKeyArn")
    redshift_role = context.imported("security", "RedshiftRoleArn")
    namespace = template.add_resource(
        Namespace(
            "WarehouseNamespace",
            NamespaceName=names.redshift_cluster,
            DbName=names.redshift_database,
            AdminUsername=ADMIN_USER,
            ManageAdminPassword=True,
            AdminPasswordSecretKmsKeyId=data_key,
            KmsKeyId=data_key,
            IamRoles=[redshift_role],
            DefaultIamRoleArn=redshift_role,
            LogExports=SERVERLESS_LOG_EXPORTS,
            Tags=context.tags({BACKUP_TAG_KEY: BACKUP_TAG_VALUE}),
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )
    workgroup = template.add_resource(
        Workgroup(
            "Warehouse",
            WorkgroupName=names.redshift_cluster,
            NamespaceName=Ref(namespace),
            BaseCapacity=sizing.base_capacity_rpus,
            MaxCapacity=sizing.max_capacity_rpus,
            PubliclyAccessible=False,
            EnhancedVpcRouting=True,
            Port=REDSHIFT_PORT,
            SubnetIds=_subnets(context),
            SecurityGroupIds=[context.imported("network", "WarehouseSecurityGroupId")],
            ConfigParameters=[ConfigParameter(ParameterKey="require_ssl", ParameterValue="true")],
            Tags=context.tags(),
        )
    )
    context.export(template, CONCERN, "WorkgroupName", Ref(workgroup), "Serverless workgroup")
    context.export(
        template,
        CONCERN,
        "Endpoint",
        GetAtt(workgroup, "Workgroup.Endpoint.Address"),
        "Redshift host",
    )
