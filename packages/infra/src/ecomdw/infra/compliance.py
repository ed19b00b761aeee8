"""Account-level audit and detection: CloudTrail, AWS Config, GuardDuty, Security Hub.

One of each per account and region, which holds because every environment is its own account.
Trail and Config deliver into the logs bucket under prefixes its bucket policy opens to them.
"""

from __future__ import annotations

from troposphere import GetAtt, Sub, Template
from troposphere.cloudtrail import DataResource, EventSelector, Trail
from troposphere.config import (
    ConfigRule,
    ConfigSnapshotDeliveryProperties,
    ConfigurationRecorder,
    DeliveryChannel,
    RecordingGroup,
    Source,
)
from troposphere.guardduty import CFNFeatureConfiguration, Detector, TagItem
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.securityhub import Hub, Standard

from ecomdw.infra.context import DELETE, StackContext, allow, assume_role_policy, policy
from ecomdw.infra.storage import CLOUDTRAIL_PREFIX, CONFIG_PREFIX

CONCERN = "compliance"
MANAGED_CONFIG_RULES = (
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
    "REDSHIFT_CLUSTER_PUBLIC_ACCESS_CHECK",
    "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "S3_BUCKET_SSL_REQUESTS_ONLY",
)
SECURITY_HUB_STANDARDS = {
    "FoundationalBestPractices": "aws-foundational-security-best-practices/v/1.0.0",
    "CisBenchmark": "cis-aws-foundations-benchmark/v/1.4.0",
}
GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS")


def build(context: StackContext) -> Template:
    template = context.new_template("CloudTrail, AWS Config, GuardDuty, Security Hub")
    _trail(context, template)
    _config(context, template)
    template.add_resource(
        Detector(
            "GuardDutyDetector",
            Enable=True,
            FindingPublishingFrequency="FIFTEEN_MINUTES",
            Features=[
                CFNFeatureConfiguration(Name=feature, Status="ENABLED")
                for feature in GUARDDUTY_FEATURES
            ],
            Tags=[TagItem(Key=key, Value=value) for key, value in context.tag_map().items()],
        )
    )
    hub = template.add_resource(
        Hub(
            "SecurityHub",
            EnableDefaultStandards=False,
            ControlFindingGenerator="SECURITY_CONTROL",
            AutoEnableControls=True,
            Tags=context.tag_map(),
        )
    )
    for title, standard in SECURITY_HUB_STANDARDS.items():
        template.add_resource(
            Standard(
                f"{title}Standard",
                StandardsArn=Sub(
                    f"arn:${{AWS::Partition}}:securityhub:${{AWS::Region}}::standards/{standard}"
                ),
                DependsOn=[hub.title],
            )
        )
    return template


def _trail(context: StackContext, template: Template) -> None:
    """Every API call in every region, plus object-level access to the data buckets."""
    names = context.names
    log_group = template.add_resource(
        LogGroup(
            "TrailLogGroup",
            LogGroupName=f"/{names.prefix}/cloudtrail",
            RetentionInDays=context.parameters.log_retention_days,
            KmsKeyId=context.imported("security", "OperationsKeyArn"),
            Tags=context.tags(),
            **DELETE,
        )
    )
    role = template.add_resource(
        Role(
            "TrailLogRole",
            Description="CloudTrail: deliver events to its log group",
            AssumeRolePolicyDocument=assume_role_policy("cloudtrail"),
            Policies=[
                Policy(
                    PolicyName="deliver",
                    PolicyDocument=policy(
                        allow(
                            ["logs:CreateLogStream", "logs:PutLogEvents"],
                            [GetAtt(log_group, "Arn")],
                        )
                    ),
                )
            ],
            Tags=context.tags(),
        )
    )
    template.add_resource(
        Trail(
            "Trail",
            TrailName=context.name("trail"),
            IsLogging=True,
            IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=True,
            S3BucketName=names.logs_bucket,
            S3KeyPrefix=CLOUDTRAIL_PREFIX,
            KMSKeyId=context.imported("security", "OperationsKeyArn"),
            CloudWatchLogsLogGroupArn=GetAtt(log_group, "Arn"),
            CloudWatchLogsRoleArn=GetAtt(role, "Arn"),
            EventSelectors=[
                EventSelector(
                    ReadWriteType="All",
                    IncludeManagementEvents=True,
                    DataResources=[
                        DataResource(
                            Type="AWS::S3::Object",
                            Values=[
                                Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/")
                                for bucket in (names.raw_bucket, names.processed_bucket)
                            ],
                        )
                    ],
                )
            ],
            Tags=context.tags(),
        )
    )


def _config(context: StackContext, template: Template) -> None:
    """Record every resource, deliver daily snapshots, evaluate a few managed rules."""
    role = template.add_resource(
        Role(
            "ConfigRole",
            Description="AWS Config: read resource configurations",
            AssumeRolePolicyDocument=assume_role_policy("config"),
            ManagedPolicyArns=[
                Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole")
            ],
            Tags=context.tags(),
        )
    )
    recorder = template.add_resource(
        ConfigurationRecorder(
            "ConfigRecorder",
            Name=context.name("recorder"),
            RoleARN=GetAtt(role, "Arn"),
            RecordingGroup=RecordingGroup(AllSupported=True, IncludeGlobalResourceTypes=True),
        )
    )
    channel = template.add_resource(
        DeliveryChannel(
            "ConfigDeliveryChannel",
            Name=context.name("config"),
            S3BucketName=context.names.logs_bucket,
            S3KeyPrefix=CONFIG_PREFIX,
            ConfigSnapshotDeliveryProperties=ConfigSnapshotDeliveryProperties(
                DeliveryFrequency="TwentyFour_Hours"
            ),
            # Config accepts a delivery channel only once a recorder exists.
            DependsOn=[recorder.title],
        )
    )
    for rule in MANAGED_CONFIG_RULES:
        template.add_resource(
            ConfigRule(
                "".join(part.capitalize() for part in rule.split("_")) + "Rule",
                ConfigRuleName=f"{context.names.prefix}-{rule.lower().replace('_', '-')}",
                Source=Source(Owner="AWS", SourceIdentifier=rule),
                DependsOn=[recorder.title, channel.title],
            )
        )
