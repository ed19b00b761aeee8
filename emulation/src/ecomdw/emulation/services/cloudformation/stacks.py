"""CloudFormation resource types that moto's CloudFormation skips, created through their APIs.

moto's CloudFormation has no model for many types (Glue, Config, CloudTrail, GuardDuty, Backup,
alarms, bucket and topic policies, schedules, budgets ...): it reports them complete and creates
nothing, and fails outright when an output reads an attribute of one. For some types it has a
model that drops properties (a bucket gets encryption and tags only; a KMS key with tags fails;
a Redshift cluster cannot manage its admin secret). Each type here is created instead from the
template's own properties (intrinsics already resolved by moto) by calling the emulated
service's API through boto3, so botocore validates every converted request.

`install(endpoint)` puts these types in front of moto's own models in this process.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import secrets
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from moto.cloudformation import parsing
from moto.s3.models import s3_backends

from ecomdw.core.aws import EMULATOR_CREDENTIALS
from ecomdw.emulation.services.cloudformation import change_sets


@dataclass(frozen=True)
class Created:
    """What CloudFormation knows of a created resource: `Ref` and `Fn::GetAtt` answers."""

    physical_id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


class Aws:
    """boto3 clients of the emulator in one region and account."""

    def __init__(self, endpoint: str, region: str, account_id: str, generated_name: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.account_id = account_id
        self.generated_name = generated_name
        """The name CloudFormation gives a resource whose template names none."""

    def client(self, service: str) -> Any:
        return _client(self.endpoint, self.region, service, self.account_id)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"


def emulator_client(
    endpoint: str, region: str, service: str, account_id: str, **config: Any
) -> Any:
    """A boto3 client of the emulator at `endpoint` (path-style S3, more botocore `config`),
    whose resources are those of the emulated account `account_id`."""
    session: Any = boto3.session.Session
    client = session(region_name=region, **EMULATOR_CREDENTIALS).client(
        service, endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}, **config)
    )
    return in_account(client, account_id)


@lru_cache(maxsize=128)
def _client(endpoint: str, region: str, service: str, account_id: str) -> Any:
    """A client whose resources land in the stack's own account; one attempt per request."""
    return emulator_client(endpoint, region, service, account_id, retries={"max_attempts": 1})


MOTO_ACCOUNT_HEADER = "x-moto-account-id"


def in_account(client: Any, account_id: str) -> Any:
    """`client`, its every request served by the emulated account `account_id`.

    moto serves the account whose IAM issued the request's access key (an assumed role's
    session, as a deploy has), else its default account; this header names the account outright.
    """

    def add_header(request: Any, **_: Any) -> None:
        request.headers[MOTO_ACCOUNT_HEADER] = account_id

    client.meta.events.register("before-sign.*.*", add_header)
    return client


Create = Callable[[Aws, dict[str, Any]], Created]
Delete = Callable[[Aws, str, dict[str, Any]], None]


def _tag_list(props: Mapping[str, Any], key: str = "Key", value: str = "Value") -> list[Any]:
    return [{key: tag["Key"], value: tag["Value"]} for tag in props.get("Tags", [])]


def _tag_map(props: Mapping[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in props.get("Tags", [])}


def _subset(props: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: props[key] for key in keys if key in props}


# --- S3 ----------------------------------------------------------------------------------


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    converted: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "Transitions" in rule:
        converted["Transitions"] = [
            {"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
            for t in rule["Transitions"]
        ]
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        }
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return converted


def _replication_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The S3 API spells the rule id `ID`; the rest has the same shape."""
    return {"ID" if key == "Id" else key: value for key, value in rule.items()}


def create_bucket(aws: Aws, props: dict[str, Any]) -> Created:
    s3 = aws.client("s3")
    name = props["BucketName"]
    location = {} if aws.region == "us-east-1" else {"LocationConstraint": aws.region}
    s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": location} if location else {}))
    rules = [
        {
            "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
            "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
        }
        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    ]
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    s3.put_public_access_block(
        Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
    )
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
        },
    )
    if logging := props.get("LoggingConfiguration"):
        _enable_access_logging(
            aws, name, logging["DestinationBucketName"], logging.get("LogFilePrefix", "")
        )
    if replication := props.get("ReplicationConfiguration"):
        s3.put_bucket_replication(
            Bucket=name,
            ReplicationConfiguration={
                "Role": replication["Role"],
                "Rules": [_replication_rule(rule) for rule in replication["Rules"]],
            },
        )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(props)})
    return Created(
        name,
        {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{aws.region}.amazonaws.com",
        },
    )


S3_LOGGING_PRINCIPAL = "logging.s3.amazonaws.com"


def _enable_access_logging(aws: Aws, bucket: str, target: str, prefix: str) -> None:
    """Log `bucket`'s access into `target`, if `target`'s policy lets S3 logging write there.

    moto's own check wants the policy's `Resource` to be one string equal to the prefix's
    ARN; S3 accepts any statement whose resources cover it, as ours (a list) does.
    """
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=target)["Policy"])
    written = f"arn:aws:s3:::{target}/{prefix}log-object"
    allowed = any(
        statement.get("Effect") == "Allow"
        and S3_LOGGING_PRINCIPAL in _as_list(statement.get("Principal", {}).get("Service"))
        and "s3:PutObject" in _as_list(statement.get("Action"))
        and any(fnmatch.fnmatchcase(written, arn) for arn in _as_list(statement.get("Resource")))
        for statement in policy["Statement"]
    )
    if not allowed:
        raise PermissionError(
            f"{target}'s bucket policy does not let {S3_LOGGING_PRINCIPAL} write {prefix}"
        )
    s3_backends[aws.account_id]["aws"].get_bucket(bucket).logging = {
        "TargetBucket": target,
        "TargetPrefix": prefix,
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def create_bucket_policy(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("s3").put_bucket_policy(
        Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
    )
    return Created(props["Bucket"])


def delete_bucket_policy(aws: Aws, physical_id: str, props: dict[str, Any]) -> None:
    aws.client("s3").delete_bucket_policy(Bucket=physical_id)


# --- KMS, IAM, SNS -------------------------------------------------------------------------


def create_key(aws: Aws, props: dict[str, Any]) -> Created:
    kms = aws.client("kms")
    key = kms.create_key(
        Policy=json.dumps(props["KeyPolicy"]),
        Description=props.get("Description", ""),
        KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        Tags=_tag_list(props, "TagKey", "TagValue"),
    )["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return Created(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})


def create_oidc_provider(aws: Aws, props: dict[str, Any]) -> Created:
    provider_arn = aws.client("iam").create_open_id_connect_provider(
        Url=props["Url"],
        ClientIDList=props.get("ClientIdList", []),
        ThumbprintList=props.get("ThumbprintList", []),
        Tags=_tag_list(props),
    )["OpenIDConnectProviderArn"]
    return Created(provider_arn, {"Arn": provider_arn})


def create_topic_policy(aws: Aws, props: dict[str, Any]) -> Created:
    sns = aws.client("sns")
    for topic in props["Topics"]:
        sns.set_topic_attributes(
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=json.dumps(props["PolicyDocument"]),
        )
    return Created(",".join(props["Topics"]))


def create_role(aws: Aws, props: dict[str, Any]) -> Created:
    """moto's model keeps inline policies as Python text and attaches no managed policies."""
    iam = aws.client("iam")
    name = props.get("RoleName", aws.generated_name[:64])
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        Tags=_tag_list(props),
        **_subset(props, "Description", "Path", "MaxSessionDuration"),
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


def create_topic(aws: Aws, props: dict[str, Any]) -> Created:
    topic = aws.client("sns").create_topic(
        Name=props.get("TopicName", aws.generated_name),
        Attributes=_subset(props, "KmsMasterKeyId", "DisplayName"),
        Tags=_tag_list(props),
    )["TopicArn"]
    return Created(topic, {"TopicArn": topic, "TopicName": topic.rsplit(":", 1)[-1]})


# --- EC2 -----------------------------------------------------------------------------------


def create_vpc(aws: Aws, props: dict[str, Any]) -> Created:
    """moto's model ignores the DNS attributes."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(
        CidrBlock=props["CidrBlock"],
        TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(props)}],
    )["Vpc"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        if attribute in props:
            ec2.modify_vpc_attribute(
                VpcId=vpc["VpcId"], **{attribute: {"Value": bool(props[attribute])}}
            )
    return Created(vpc["VpcId"], {"CidrBlock": vpc["CidrBlock"], "VpcId": vpc["VpcId"]})


def create_route_table(aws: Aws, props: dict[str, Any]) -> Created:
    table = aws.client("ec2").create_route_table(
        VpcId=props["VpcId"],
        TagSpecifications=[{"ResourceType": "route-table", "Tags": _tag_list(props)}],
    )["RouteTable"]
    return Created(table["RouteTableId"], {"RouteTableId": table["RouteTableId"]})


def create_route_table_association(aws: Aws, props: dict[str, Any]) -> Created:
    association = aws.client("ec2").associate_route_table(
        RouteTableId=props["RouteTableId"], SubnetId=props["SubnetId"]
    )["AssociationId"]
    return Created(association, {"Id": association})


def _ip_permission(rule: Mapping[str, Any], peer: str) -> dict[str, Any]:
    """A template's security group rule in the EC2 API's shape."""
    permission: dict[str, Any] = _subset(rule, "IpProtocol", "FromPort", "ToPort")
    description = _subset(rule, "Description")
    if "CidrIp" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **description}]
    if f"{peer}PrefixListId" in rule:
        permission["PrefixListIds"] = [{"PrefixListId": rule[f"{peer}PrefixListId"], **description}]
    if f"{peer}SecurityGroupId" in rule:
        permission["UserIdGroupPairs"] = [
            {"GroupId": rule[f"{peer}SecurityGroupId"], **description}
        ]
    return permission


def create_security_group(aws: Aws, props: dict[str, Any]) -> Created:
    """moto's model keeps the default allow-all egress and drops rule descriptions."""
    ec2 = aws.client("ec2")
    group = ec2.create_security_group(
        GroupName=props.get("GroupName", aws.generated_name),
        Description=props["GroupDescription"],
        VpcId=props["VpcId"],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": _tag_list(props)}],
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


def create_security_group_ingress(aws: Aws, props: dict[str, Any]) -> Created:
    rules = aws.client("ec2").authorize_security_group_ingress(
        GroupId=props["GroupId"], IpPermissions=[_ip_permission(props, "Source")]
    )["SecurityGroupRules"]
    return Created(rules[0]["SecurityGroupRuleId"])


def create_subnet(aws: Aws, props: dict[str, Any]) -> Created:
    ec2 = aws.client("ec2")
    subnet = ec2.create_subnet(
        VpcId=props["VpcId"],
        CidrBlock=props["CidrBlock"],
        AvailabilityZone=props["AvailabilityZone"],
        TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list(props)}],
    )["Subnet"]
    ec2.modify_subnet_attribute(
        SubnetId=subnet["SubnetId"],
        MapPublicIpOnLaunch={"Value": bool(props.get("MapPublicIpOnLaunch", False))},
    )
    return Created(
        subnet["SubnetId"],
        {"AvailabilityZone": subnet["AvailabilityZone"], "VpcId": subnet["VpcId"]},
    )


def create_security_group_egress(aws: Aws, props: dict[str, Any]) -> Created:
    rules = aws.client("ec2").authorize_security_group_egress(
        GroupId=props["GroupId"], IpPermissions=[_ip_permission(props, "Destination")]
    )["SecurityGroupRules"]
    return Created(rules[0]["SecurityGroupRuleId"])


# --- Glue ----------------------------------------------------------------------------------


def create_glue_database(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("glue").create_database(
        CatalogId=props["CatalogId"], DatabaseInput=props["DatabaseInput"]
    )
    return Created(props["DatabaseInput"]["Name"])


def create_glue_connection(aws: Aws, props: dict[str, Any]) -> Created:
    connection = {"ConnectionProperties": {}, **props["ConnectionInput"]}
    aws.client("glue").create_connection(CatalogId=props["CatalogId"], ConnectionInput=connection)
    return Created(props["ConnectionInput"]["Name"])


def create_glue_security_configuration(aws: Aws, props: dict[str, Any]) -> Created:
    encryption = dict(props["EncryptionConfiguration"])
    encryption["S3Encryption"] = encryption.pop("S3Encryptions")
    aws.client("glue").create_security_configuration(
        Name=props["Name"], EncryptionConfiguration=encryption
    )
    return Created(props["Name"])


GLUE_JOB_FIELDS = (
    "Description",
    "Role",
    "GlueVersion",
    "Command",
    "WorkerType",
    "NumberOfWorkers",
    "Timeout",
    "MaxRetries",
    "ExecutionProperty",
    "SecurityConfiguration",
    "Connections",
    "DefaultArguments",
)


def create_glue_job(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("glue").create_job(
        Name=props["Name"], Tags=props.get("Tags", {}), **_subset(props, *GLUE_JOB_FIELDS)
    )
    return Created(props["Name"])


def delete_glue_job(aws: Aws, physical_id: str, props: dict[str, Any]) -> None:
    aws.client("glue").delete_job(JobName=physical_id)


def create_glue_crawler(aws: Aws, props: dict[str, Any]) -> Created:
    fields = (
        "Description",
        "Role",
        "DatabaseName",
        "Targets",
        "SchemaChangePolicy",
        "CrawlerSecurityConfiguration",
    )
    aws.client("glue").create_crawler(
        Name=props["Name"], Tags=props.get("Tags", {}), **_subset(props, *fields)
    )
    return Created(props["Name"])


def create_glue_workflow(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("glue").create_workflow(
        Name=props["Name"],
        Tags=props.get("Tags", {}),
        **_subset(props, "Description", "MaxConcurrentRuns"),
    )
    return Created(props["Name"])


def create_glue_trigger(aws: Aws, props: dict[str, Any]) -> Created:
    fields = ("Type", "WorkflowName", "Actions", "StartOnCreation", "Schedule")
    trigger = _subset(props, *fields)
    if "Predicate" in props:
        # Glue's default for a predicate that does not say how to combine its conditions.
        trigger["Predicate"] = {"Logical": "AND", **props["Predicate"]}
    aws.client("glue").create_trigger(Name=props["Name"], **trigger)
    return Created(props["Name"])


# --- Redshift ------------------------------------------------------------------------------


def create_cluster_subnet_group(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("redshift").create_cluster_subnet_group(
        ClusterSubnetGroupName=aws.generated_name,
        Description=props["Description"],
        SubnetIds=props["SubnetIds"],
        Tags=_tag_list(props),
    )
    return Created(aws.generated_name)


def create_cluster_parameter_group(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("redshift").create_cluster_parameter_group(
        ParameterGroupName=aws.generated_name,
        ParameterGroupFamily=props["ParameterGroupFamily"],
        Description=props["Description"],
        Tags=_tag_list(props),
    )
    return Created(aws.generated_name)


def create_redshift_cluster(aws: Aws, props: dict[str, Any]) -> Created:
    """The cluster, plus the admin secret Redshift itself would create and encrypt."""
    redshift = aws.client("redshift")
    identifier = props["ClusterIdentifier"]
    password = f"A1{secrets.token_urlsafe(24)}"
    fields = (
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
    cluster = redshift.create_cluster(
        ClusterIdentifier=identifier,
        MasterUserPassword=password,
        Tags=_tag_list(props),
        **_subset(props, *fields),
    )["Cluster"]
    if logging := props.get("LoggingProperties"):
        redshift.enable_logging(ClusterIdentifier=identifier, **logging)
    attributes = {
        "Endpoint.Address": cluster["Endpoint"]["Address"],
        "Endpoint.Port": str(cluster["Endpoint"]["Port"]),
    }
    if props.get("ManageMasterPassword"):
        secret = aws.client("secretsmanager").create_secret(
            Name=f"redshift!{identifier}-{props['MasterUsername']}",
            KmsKeyId=props["MasterPasswordSecretKmsKeyId"],
            SecretString=json.dumps({"username": props["MasterUsername"], "password": password}),
        )
        attributes["MasterPasswordSecretArn"] = secret["ARN"]
    return Created(identifier, attributes)


# --- Monitoring, audit, backup, cost -------------------------------------------------------


def create_log_group(aws: Aws, props: dict[str, Any]) -> Created:
    """moto's model drops the KMS key."""
    logs = aws.client("logs")
    name = props.get("LogGroupName", aws.generated_name)
    key = {"kmsKeyId": props["KmsKeyId"]} if "KmsKeyId" in props else {}
    logs.create_log_group(logGroupName=name, tags=_tag_map(props), **key)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=props["RetentionInDays"])
    return Created(name, {"Arn": aws.arn("logs", f"log-group:{name}:*")})


def delete_log_group(aws: Aws, physical_id: str, props: dict[str, Any]) -> None:
    aws.client("logs").delete_log_group(logGroupName=physical_id)


def create_state_machine(aws: Aws, props: dict[str, Any]) -> Created:
    """moto's model drops `null` from the definition (`"ResultPath": null` discards a result)
    and the logging and tracing settings."""
    name = props.get("StateMachineName", aws.generated_name)
    definition = props.get("DefinitionString") or json.dumps(props["Definition"])
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace(f"${{{key}}}", str(value))
    configuration = {
        "loggingConfiguration": _lower_keys(props.get("LoggingConfiguration")),
        "tracingConfiguration": _lower_keys(props.get("TracingConfiguration")),
        "encryptionConfiguration": _lower_keys(props.get("EncryptionConfiguration")),
    }
    machine = aws.client("stepfunctions").create_state_machine(
        name=name,
        definition=definition,
        roleArn=props["RoleArn"],
        type=props.get("StateMachineType", "STANDARD"),
        tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
        **{k: v for k, v in configuration.items() if v},
    )["stateMachineArn"]
    return Created(machine, {"Arn": machine, "Name": name})


def _lower_keys(value: Any) -> Any:
    """CloudFormation spells Step Functions settings in PascalCase, the API in camelCase."""
    if isinstance(value, list):
        return [_lower_keys(item) for item in value]
    if isinstance(value, dict):
        return {key[0].lower() + key[1:]: _lower_keys(item) for key, item in value.items()}
    return value


ALARM_FIELDS = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "AlarmActions",
    "OKActions",
)
"""An alarm's properties besides its name, spelled alike in the template and the API."""


def create_alarm(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=props["AlarmName"], **_subset(props, *ALARM_FIELDS)
    )
    return Created(
        props["AlarmName"], {"Arn": aws.arn("cloudwatch", f"alarm:{props['AlarmName']}")}
    )


def create_trail(aws: Aws, props: dict[str, Any]) -> Created:
    cloudtrail = aws.client("cloudtrail")
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
        TagsList=_tag_list(props),
        **_subset(props, *fields),
    )
    if "EventSelectors" in props:
        cloudtrail.put_event_selectors(
            TrailName=props["TrailName"], EventSelectors=props["EventSelectors"]
        )
    if props.get("IsLogging"):
        cloudtrail.start_logging(Name=props["TrailName"])
    return Created(props["TrailName"], {"Arn": trail["TrailARN"]})


def create_config_recorder(aws: Aws, props: dict[str, Any]) -> Created:
    group = props["RecordingGroup"]
    aws.client("config").put_configuration_recorder(
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


def create_delivery_channel(aws: Aws, props: dict[str, Any]) -> Created:
    frequency = props["ConfigSnapshotDeliveryProperties"]["DeliveryFrequency"]
    aws.client("config").put_delivery_channel(
        DeliveryChannel={
            "name": props["Name"],
            "s3BucketName": props["S3BucketName"],
            "s3KeyPrefix": props["S3KeyPrefix"],
            "configSnapshotDeliveryProperties": {"deliveryFrequency": frequency},
        }
    )
    return Created(props["Name"])


def create_config_rule(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("config").put_config_rule(
        ConfigRule={"ConfigRuleName": props["ConfigRuleName"], "Source": props["Source"]}
    )
    return Created(props["ConfigRuleName"])


def create_detector(aws: Aws, props: dict[str, Any]) -> Created:
    detector = aws.client("guardduty").create_detector(
        Enable=props["Enable"],
        FindingPublishingFrequency=props["FindingPublishingFrequency"],
        Features=props.get("Features", []),
        Tags=_tag_map(props),
    )["DetectorId"]
    return Created(detector, {"Id": detector})


def create_security_hub(aws: Aws, props: dict[str, Any]) -> Created:
    aws.client("securityhub").enable_security_hub(
        EnableDefaultStandards=props["EnableDefaultStandards"],
        ControlFindingGenerator=props["ControlFindingGenerator"],
        Tags=props.get("Tags", {}),
    )
    hub = aws.arn("securityhub", "hub/default")
    return Created(hub, {"ARN": hub})


SCHEDULE_FIELDS = (
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
)
"""A schedule's properties besides its name, spelled alike in the template and the API."""


def create_schedule(aws: Aws, props: dict[str, Any]) -> Created:
    schedule = aws.client("scheduler").create_schedule(
        Name=props["Name"], **_subset(props, *SCHEDULE_FIELDS)
    )["ScheduleArn"]
    return Created(schedule, {"Arn": schedule})


def create_backup_vault(aws: Aws, props: dict[str, Any]) -> Created:
    vault = aws.client("backup").create_backup_vault(
        BackupVaultName=props["BackupVaultName"],
        EncryptionKeyArn=props["EncryptionKeyArn"],
        BackupVaultTags=props.get("BackupVaultTags", {}),
    )
    return Created(
        props["BackupVaultName"],
        {"BackupVaultArn": vault["BackupVaultArn"], "BackupVaultName": props["BackupVaultName"]},
    )


def create_backup_plan(aws: Aws, props: dict[str, Any]) -> Created:
    plan = props["BackupPlan"]
    rules = []
    for rule in plan["BackupPlanRule"]:
        converted = dict(rule)
        converted["TargetBackupVaultName"] = converted.pop("TargetBackupVault")
        rules.append(converted)
    created = aws.client("backup").create_backup_plan(
        BackupPlan={"BackupPlanName": plan["BackupPlanName"], "Rules": rules},
        BackupPlanTags=props.get("BackupPlanTags", {}),
    )
    return Created(
        created["BackupPlanId"],
        {
            "BackupPlanId": created["BackupPlanId"],
            "BackupPlanArn": created["BackupPlanArn"],
            "VersionId": created["VersionId"],
        },
    )


def create_budget(aws: Aws, props: dict[str, Any]) -> Created:
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
    aws.client("budgets").create_budget(
        AccountId=aws.account_id, Budget=budget, NotificationsWithSubscribers=notifications
    )
    return Created(budget["BudgetName"])


def delete_budget(aws: Aws, physical_id: str, props: dict[str, Any]) -> None:
    aws.client("budgets").delete_budget(AccountId=aws.account_id, BudgetName=physical_id)


@dataclass(frozen=True)
class EmulatedType:
    create: Create
    why: str
    """What moto's own CloudFormation does with the type, which is why ecomdw creates it."""
    delete: Delete | None = None


NO_MODEL = "moto's CloudFormation has no model: reported complete, nothing created"

EMULATED_TYPES: dict[str, EmulatedType] = {
    "AWS::S3::Bucket": EmulatedType(create_bucket, "moto's model applies encryption and tags only"),
    "AWS::S3::BucketPolicy": EmulatedType(create_bucket_policy, NO_MODEL, delete_bucket_policy),
    "AWS::KMS::Key": EmulatedType(create_key, "moto's model fails on CloudFormation tags"),
    "AWS::IAM::OIDCProvider": EmulatedType(create_oidc_provider, NO_MODEL),
    "AWS::SNS::TopicPolicy": EmulatedType(create_topic_policy, NO_MODEL),
    "AWS::SNS::Topic": EmulatedType(create_topic, "moto's model drops the tags"),
    "AWS::IAM::Role": EmulatedType(
        create_role, "moto's model stores inline policies as Python text, attaches no managed ones"
    ),
    "AWS::EC2::VPC": EmulatedType(create_vpc, "moto's model ignores the DNS attributes"),
    "AWS::EC2::RouteTable": EmulatedType(create_route_table, "moto's model drops the tags"),
    "AWS::EC2::SubnetRouteTableAssociation": EmulatedType(
        create_route_table_association, "moto's model associates nothing"
    ),
    "AWS::EC2::SecurityGroup": EmulatedType(
        create_security_group, "moto's model keeps allow-all egress, drops rule descriptions"
    ),
    "AWS::EC2::SecurityGroupIngress": EmulatedType(
        create_security_group_ingress, "moto's model drops the rule's description"
    ),
    "AWS::Logs::LogGroup": EmulatedType(
        create_log_group, "moto's model drops the KMS key", delete_log_group
    ),
    "AWS::StepFunctions::StateMachine": EmulatedType(
        create_state_machine, "moto's model drops nulls from the definition and the logging"
    ),
    "AWS::EC2::Subnet": EmulatedType(
        create_subnet, "moto's model has no AvailabilityZone attribute for Fn::GetAtt"
    ),
    "AWS::EC2::SecurityGroupEgress": EmulatedType(create_security_group_egress, NO_MODEL),
    "AWS::Glue::Database": EmulatedType(create_glue_database, NO_MODEL),
    "AWS::Glue::Connection": EmulatedType(create_glue_connection, NO_MODEL),
    "AWS::Glue::SecurityConfiguration": EmulatedType(create_glue_security_configuration, NO_MODEL),
    "AWS::Glue::Job": EmulatedType(create_glue_job, NO_MODEL, delete_glue_job),
    "AWS::Glue::Crawler": EmulatedType(create_glue_crawler, NO_MODEL),
    "AWS::Glue::Workflow": EmulatedType(create_glue_workflow, NO_MODEL),
    "AWS::Glue::Trigger": EmulatedType(create_glue_trigger, NO_MODEL),
    "AWS::Redshift::ClusterSubnetGroup": EmulatedType(
        create_cluster_subnet_group, "moto's model answers `Ref` with no name"
    ),
    "AWS::Redshift::ClusterParameterGroup": EmulatedType(
        create_cluster_parameter_group, "moto's model answers `Ref` with no name"
    ),
    "AWS::Redshift::Cluster": EmulatedType(
        create_redshift_cluster,
        "moto's model has no managed admin secret, audit logging or most settings",
    ),
    "AWS::CloudWatch::Alarm": EmulatedType(create_alarm, NO_MODEL),
    "AWS::CloudTrail::Trail": EmulatedType(create_trail, NO_MODEL),
    "AWS::Config::ConfigurationRecorder": EmulatedType(create_config_recorder, NO_MODEL),
    "AWS::Config::DeliveryChannel": EmulatedType(create_delivery_channel, NO_MODEL),
    "AWS::Config::ConfigRule": EmulatedType(create_config_rule, NO_MODEL),
    "AWS::GuardDuty::Detector": EmulatedType(create_detector, NO_MODEL),
    "AWS::SecurityHub::Hub": EmulatedType(create_security_hub, NO_MODEL),
    "AWS::Scheduler::Schedule": EmulatedType(create_schedule, NO_MODEL),
    "AWS::Backup::BackupVault": EmulatedType(create_backup_vault, NO_MODEL),
    "AWS::Backup::BackupPlan": EmulatedType(create_backup_plan, NO_MODEL),
    "AWS::Budgets::Budget": EmulatedType(create_budget, NO_MODEL, delete_budget),
}

NOT_EMULATED: dict[str, str] = {
    "AWS::Backup::BackupSelection": "moto's Backup has no backup selections (no API to hold one)",
    "AWS::Redshift::ScheduledAction": "moto's Redshift has no scheduled actions API",
    "AWS::SecurityHub::Standard": "moto's Security Hub has no BatchEnableStandards",
}
"""Types neither moto nor ecomdw can create, each with the reason: the verification names them."""

NOT_EMULATED_PROPERTIES: dict[str, dict[str, str]] = {
    "AWS::Redshift::ClusterParameterGroup": {
        "Parameters": "moto's Redshift has no ModifyClusterParameterGroup: the group keeps the "
        "family defaults",
    },
    "AWS::Redshift::Cluster": {
        "ManualSnapshotRetentionPeriod": "moto's DescribeClusters does not return it",
        "Port": "the emulated endpoint listens on a free loopback port when the declared one "
        "is taken, and Endpoint.Port advertises where it listens",
    },
    "AWS::KMS::Key": {
        "PendingWindowInDays": "applies only when the key is scheduled for deletion; no API "
        "reads it back",
    },
    "AWS::S3::Bucket": {
        "ReplicationConfiguration.Rules.DeleteMarkerReplication": "moto's S3 keeps no "
        "delete-marker replication setting",
        "ReplicationConfiguration.Rules.SourceSelectionCriteria": "moto's S3 keeps no source "
        "selection criteria",
    },
    "AWS::Glue::Connection": {
        "ConnectionInput.ConnectionType": "moto's GetConnection does not return the type",
    },
    "AWS::Budgets::Budget": {
        "NotificationsWithSubscribers.Subscribers": "moto's Budgets has no "
        "DescribeSubscribersForNotification",
    },
    "AWS::SecurityHub::Hub": {
        "EnableDefaultStandards": "moto's Security Hub has no GetEnabledStandards",
        "Tags": "moto's Security Hub has no ListTagsForResource",
    },
}
"""Properties (dotted paths into a property) that the emulator cannot hold or return, each
with the reason: the verification leaves them out of the comparison and names them."""


class EmulatedResource:
    """What moto's CloudFormation holds for a resource created here: its id and attributes."""

    resource_type: ClassVar[str]
    spec: ClassVar[EmulatedType]
    endpoint: ClassVar[str]

    def __init__(
        self, created: Created, properties: dict[str, Any], origin: dict[str, str]
    ) -> None:
        self.physical_resource_id = created.physical_id
        self.attributes = dict(created.attributes)
        self.properties = properties
        self.origin = origin
        """The stack id and logical id moto created it under: what an update creates it as."""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedResource:
        properties = cloudformation_json.get("Properties", {})
        origin: dict[str, str] = {k: kwargs[k] for k in ("StackId", "LogicalId") if k in kwargs}
        if origin:
            properties = _with_template_nulls(
                properties, _template_properties(origin["StackId"], origin["LogicalId"])
            )
        aws = Aws(cls.endpoint, region_name, account_id, resource_name)
        created = cls.spec.create(aws, properties)
        return cls(created, properties, origin)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedResource:
        """Replace the resource: delete it (where that is emulated), create it anew."""
        if cls.spec.delete is None:
            raise NotImplementedError(f"updating {cls.resource_type} is not emulated")
        aws = Aws(cls.endpoint, region_name, account_id, new_resource_name)
        cls.spec.delete(aws, original_resource.physical_resource_id, original_resource.properties)
        return cls.create_from_cloudformation_json(
            new_resource_name,
            cloudformation_json,
            account_id,
            region_name,
            **original_resource.origin,
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region: str
    ) -> None:
        if cls.spec.delete is not None:
            properties = cloudformation_json.get("Properties", {})
            aws = Aws(cls.endpoint, region, account_id, resource_name)
            cls.spec.delete(aws, resource_name, properties)


def _template_properties(stack_id: str, logical_id: str) -> dict[str, Any]:
    """The resource's properties as the template spells them, before moto resolves them."""
    resource = _TEMPLATES.get(stack_id, {}).get("Resources", {}).get(logical_id, {})
    properties: dict[str, Any] = resource.get("Properties", {})
    return properties


_TEMPLATES: dict[str, dict[str, Any]] = {}
"""Stack id -> template of the stacks being created or updated in this process."""


def _with_template_nulls(resolved: Any, template: Any) -> Any:
    """Put back the literal `null`s moto's intrinsic resolution drops (a state's
    `"ResultPath": null` means: discard the result)."""
    if isinstance(resolved, dict) and isinstance(template, dict):
        restored = {
            key: _with_template_nulls(value, template.get(key)) for key, value in resolved.items()
        }
        restored.update({k: None for k, v in template.items() if v is None and k not in resolved})
        return restored
    if isinstance(resolved, list) and isinstance(template, list) and len(resolved) == len(template):
        return [_with_template_nulls(r, t) for r, t in zip(resolved, template, strict=True)]
    return resolved


def model_classes(endpoint: str) -> dict[str, type[EmulatedResource]]:
    """One model class per emulated type, creating through the emulator at `endpoint`."""
    return {
        resource_type: type(
            f"Emulated{resource_type.replace('::', '')}",
            (EmulatedResource,),
            {"resource_type": resource_type, "spec": spec, "endpoint": endpoint},
        )
        for resource_type, spec in EMULATED_TYPES.items()
    }


def install(endpoint: str) -> None:
    """Make moto's CloudFormation in this process create the emulated types through `endpoint`."""
    models = model_classes(endpoint)
    moto_lookup = getattr(parsing, "_moto_resource_class_from_type", None)
    if moto_lookup is None:
        moto_lookup = parsing.resource_class_from_type
        parsing._moto_resource_class_from_type = moto_lookup  # type: ignore[attr-defined]

    def resource_class_from_type(resource_type: str) -> Any:
        return models.get(resource_type) or moto_lookup(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
    _create_resources_before_outputs()
    _templates_of_updates()
    change_sets.install()
    _quiet_about_the_not_emulated()


def _quiet_about_the_not_emulated() -> None:
    """moto logs and warns at every resource of a type it lacks; for `NOT_EMULATED` types
    the deploy's own report names them once, with the reason."""
    for resource_type in NOT_EMULATED:
        warnings.filterwarnings(
            "ignore", message=f"Tried to parse {re.escape(resource_type)} ", category=UserWarning
        )
    moto_logger = logging.getLogger("moto")
    if not any(isinstance(f, _NotEmulatedFilter) for f in moto_logger.filters):
        moto_logger.addFilter(_NotEmulatedFilter())


class _NotEmulatedFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.msg == "No Moto CloudFormation support for %s"
            and record.args is not None
            and tuple(record.args)[:1] in {(t,) for t in NOT_EMULATED}
        )


def _create_resources_before_outputs() -> None:
    """moto resolves a new stack's outputs before it creates its resources in `DependsOn`
    order, so a resource an output names is created before what it depends on; create the
    resources first, as CloudFormation does."""
    from moto.cloudformation.models import Stack

    moto_outputs = getattr(Stack, "_moto_create_output_map", None)
    if moto_outputs is None:
        moto_outputs = Stack._create_output_map
        Stack._moto_create_output_map = moto_outputs  # type: ignore[attr-defined]

    def create_output_map(stack: Stack) -> Any:
        _TEMPLATES[stack.stack_id] = stack.template_dict
        if stack.template_dict.get("Resources"):
            stack.resource_map.create(stack.template_dict)
        return moto_outputs(stack)

    Stack._create_output_map = create_output_map  # type: ignore[method-assign,assignment]


def _templates_of_updates() -> None:
    """An update creates resources from the new template: keep it where `_template_properties`
    looks, before moto creates anything."""
    moto_update = getattr(parsing.ResourceMap, "_moto_update", None)
    if moto_update is None:
        moto_update = parsing.ResourceMap.update
        parsing.ResourceMap._moto_update = moto_update  # type: ignore[attr-defined]

    def update(
        resource_map: parsing.ResourceMap,
        template: dict[str, Any],
        parameters: dict[str, Any] | None = None,
    ) -> None:
        _TEMPLATES[resource_map.stack_id] = template
        moto_update(resource_map, template, parameters)

    parsing.ResourceMap.update = update  # type: ignore[method-assign,assignment]
