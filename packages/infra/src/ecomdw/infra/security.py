"""KMS keys and the IAM roles of the pipeline, the warehouse, replication and CI.

Two keys: `data` encrypts what holds business data (buckets, Glue, Redshift, backups, the
warehouse admin secret); `operations` encrypts what AWS services write about it (log groups,
the alarm topic, CloudTrail). Roles name every bucket, job and key they touch; the only
`Resource: *` statements are for actions AWS offers no resource scoping for.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub, Template
from troposphere.iam import OIDCProvider, Policy, Role
from troposphere.kms import Alias, Key

from ecomdw.core.names import Environment
from ecomdw.core.processed import JOB_MARKERS, RUN_PLANS
from ecomdw.etl.pipeline import load_handover
from ecomdw.infra.artifact import RECORD_PREFIX, SCRIPTS_PREFIX
from ecomdw.infra.context import (
    RETAIN,
    StackContext,
    account_administers_key,
    allow,
    arn,
    assume_role_policy,
    bucket_arn,
    bucket_objects_arn,
    policy,
    service_principal,
    skip_checkov,
)
from ecomdw.infra.environments import CI_REPOSITORY, ServerlessWarehouse
from ecomdw.infra.monitoring import METRIC_NAMESPACE

CONCERN = "security"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"
GLUE_LOG_GROUP_PREFIX = "/aws-glue/"


def build(context: StackContext) -> Template:
    template = context.new_template("KMS keys and least-privilege IAM roles")
    data_key = template.add_resource(_key(context, "DataKey", "data", _data_key_policy()))
    ops_key = template.add_resource(_key(context, "OperationsKey", "operations", _ops_policy()))
    for key, purpose in ((data_key, "data"), (ops_key, "operations")):
        template.add_resource(
            Alias(
                f"{key.title}Alias",
                AliasName=f"alias/{context.name(purpose)}",
                TargetKeyId=Ref(key),
            )
        )
    data_key_arn = GetAtt(data_key, "Arn")
    roles = {
        "GlueRoleArn": _glue_role(context, [data_key_arn, GetAtt(ops_key, "Arn")]),
        "StatesRoleArn": _states_role(context, data_key_arn),
        "RedshiftRoleArn": _redshift_role(context, data_key_arn),
        "RawReplicationRoleArn": _replication_role(context, data_key_arn),
    }
    roles.update(_ci_roles(context, template, data_key_arn))
    for output, role in roles.items():
        template.add_resource(role)
        context.export(template, CONCERN, output, GetAtt(role, "Arn"), f"{role.title} ARN")
    context.export(template, CONCERN, "DataKeyArn", data_key_arn, "Data KMS key")
    context.export(
        template, CONCERN, "OperationsKeyArn", GetAtt(ops_key, "Arn"), "Operations KMS key"
    )
    return template


def _key(context: StackContext, title: str, purpose: str, key_policy: dict[str, Any]) -> Key:
    return Key(
        title,
        Description=f"{context.name(purpose)}: {purpose} encryption key",
        EnableKeyRotation=True,
        PendingWindowInDays=30,
        KeyPolicy=key_policy,
        Tags=context.tags(),
        **RETAIN,
    )


def _data_key_policy() -> dict[str, Any]:
    return policy(account_administers_key())


def _ops_policy() -> dict[str, Any]:
    """Let the services that write logs, trails and alarm messages use the key for that only."""
    same_account = {"StringEquals": {"aws:SourceAccount": Sub("${AWS::AccountId}")}}
    return policy(
        account_administers_key(),
        {
            "Sid": "LogGroupsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": Sub("logs.${AWS::Region}.amazonaws.com")},
            "Action": [
                "kms:Decrypt*",
                "kms:Describe*",
                "kms:Encrypt*",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": arn("logs", "log-group:*"),
                }
            },
        },
        {
            "Sid": "CloudTrailOfThisAccount",
            "Effect": "Allow",
            "Principal": service_principal("cloudtrail"),
            "Action": ["kms:DescribeKey", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": arn(
                        "cloudtrail", "trail/*", region="*"
                    )
                }
            },
        },
        {
            "Sid": "AlarmPublishers",
            "Effect": "Allow",
            "Principal": {
                "Service": [
                    "budgets.amazonaws.com",
                    "cloudwatch.amazonaws.com",
                    "events.amazonaws.com",
                ]
            },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": same_account,
        },
    )


def _glue_role(context: StackContext, keys: list[Any]) -> Role:
    names = context.names
    catalog = [
        arn("glue", "catalog"),
        arn("glue", f"database/{names.glue_database}"),
        arn("glue", f"table/{names.glue_database}/*"),
    ]
    statements = [
        allow(
            ["s3:ListBucket", "s3:GetBucketLocation"],
            [
                bucket_arn(b)
                for b in (names.raw_bucket, names.processed_bucket, names.scripts_bucket)
            ],
        ),
        allow(["s3:GetObject"], [bucket_objects_arn(names.raw_bucket)]),
        allow(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            [bucket_objects_arn(names.processed_bucket)],
        ),
        allow(["s3:GetObject"], [bucket_objects_arn(names.scripts_bucket)]),
        allow(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            [bucket_objects_arn(names.scripts_bucket, "tmp/")],
        ),
        allow(
            [
                "glue:BatchCreatePartition",
                "glue:BatchGetPartition",
                "glue:CreatePartition",
                "glue:CreateTable",
                "glue:GetDatabase",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:GetTable",
                "glue:GetTables",
                "glue:UpdatePartition",
                "glue:UpdateTable",
            ],
            catalog,
        ),
        allow(["glue:GetConnection"], [arn("glue", "catalog"), arn("glue", "connection/*")]),
        allow(
            ["logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"],
            [arn("logs", f"log-group:{GLUE_LOG_GROUP_PREFIX}*")],
        ),
        allow(
            ["cloudwatch:PutMetricData"],
            ["*"],
            StringEquals={"cloudwatch:namespace": ["Glue", METRIC_NAMESPACE]},
        ),
        allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], keys),
        allow(
            [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcAttribute",
                "ec2:DescribeVpcEndpoints",
            ],
            ["*"],
        ),
        allow(
            ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            [
                arn("ec2", "network-interface/*"),
                arn("ec2", "subnet/*"),
                arn("ec2", "security-group/*"),
            ],
        ),
        allow(
            ["ec2:CreateTags", "ec2:DeleteTags"],
            [arn("ec2", "network-interface/*")],
            **{"ForAllValues:StringEquals": {"aws:TagKeys": ["aws-glue-service-resource"]}},
        ),
    ]
    return Role(
        "GlueRole",
        Description="Glue jobs and crawler: read raw, write processed, update the catalog",
        AssumeRolePolicyDocument=assume_role_policy("glue"),
        Policies=[Policy(PolicyName="glue-jobs", PolicyDocument=policy(*statements))],
        Tags=context.tags(),
    )


def warehouse_data_api_resources(context: StackContext) -> list[Any]:
    """What the Redshift Data API may run statements on: the cluster, or the workgroups."""
    if isinstance(context.parameters.warehouse, ServerlessWarehouse):
        return [arn("redshift-serverless", "workgroup/*")]
    return [arn("redshift", f"cluster:{context.names.redshift_cluster}")]


def _states_role(context: StackContext, data_key: Any) -> Role:
    names = context.names
    jobs = [arn("glue", f"job/{names.glue_job(stage)}") for stage in context.pipeline.stages]
    _, loaded = load_handover(context.pipeline.pipeline)
    warehouse = warehouse_data_api_resources(context)
    if isinstance(context.parameters.warehouse, ServerlessWarehouse):
        credentials = allow(["redshift-serverless:GetCredentials"], warehouse)
    else:
        credentials = allow(
            ["redshift:GetClusterCredentialsWithIAM"],
            [arn("redshift", f"dbname:{names.redshift_cluster}/{names.redshift_database}")],
        )
    statements = [
        allow(
            ["glue:BatchStopJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"],
            jobs,
        ),
        allow(["glue:StartCrawler"], [arn("glue", f"crawler/{names.glue_crawler}")]),
        allow(["s3:GetObject"], [bucket_objects_arn(names.processed_bucket, f"{RUN_PLANS}/")]),
        allow(
            ["s3:PutObject"],
            [bucket_objects_arn(names.processed_bucket, f"{JOB_MARKERS}/{loaded}/")],
        ),
        allow(["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"], warehouse),
        allow(
            [
                "redshift-data:CancelStatement",
                "redshift-data:DescribeStatement",
                "redshift-data:GetStatementResult",
            ],
            ["*"],
            StringEquals={"redshift-data:statement-owner-iam-userid": "${aws:userid}"},
        ),
        credentials,
        allow(["kms:Decrypt", "kms:GenerateDataKey"], [data_key]),
        allow(
            [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            ],
            ["*"],
        ),
    ]
    role = Role(
        "StatesRole",
        Description="The pipeline state machine: run the Glue jobs, load the warehouse",
        AssumeRolePolicyDocument=assume_role_policy("states"),
        Policies=[Policy(PolicyName="pipeline", PolicyDocument=policy(*statements))],
        Tags=context.tags(),
    )
    return skip_checkov(
        role,
        (
            "CKV_AWS_111",
            "log delivery and X-Ray actions have no resource-level permissions; data actions "
            "are scoped to the jobs, the warehouse and the caller's own statements",
        ),
    )


def _redshift_role(context: StackContext, data_key: Any) -> Role:
    names = context.names
    statements = [
        allow(["s3:GetBucketLocation", "s3:ListBucket"], [bucket_arn(names.processed_bucket)]),
        allow(["s3:GetObject"], [bucket_objects_arn(names.processed_bucket)]),
        allow(["kms:Decrypt"], [data_key]),
    ]
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {
                "Service": ["redshift-serverless.amazonaws.com", "redshift.amazonaws.com"]
            },
            "Action": "sts:AssumeRole",
        }
    )
    return Role(
        "RedshiftRole",
        Description="Redshift COPY: read the processed bucket",
        AssumeRolePolicyDocument=trust,
        Policies=[Policy(PolicyName="copy-from-processed", PolicyDocument=policy(*statements))],
        Tags=context.tags(),
    )


def _replication_role(context: StackContext, data_key: Any) -> Role:
    names = context.names
    backup_region = context.settings.backup_region
    statements = [
        allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], [bucket_arn(names.raw_bucket)]),
        allow(
            [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            [bucket_objects_arn(names.raw_bucket)],
        ),
        allow(
            ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            [bucket_objects_arn(context.replica_bucket)],
        ),
        allow(["kms:Decrypt"], [data_key]),
        allow(
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [arn("kms", "key/*", region=backup_region)],
            **{
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": [context.replica_key_alias]},
                "StringEquals": {"kms:ViaService": f"s3.{backup_region}.amazonaws.com"},
            },
        ),
    ]
    return Role(
        "RawReplicationRole",
        Description="S3 replication of the raw bucket to the backup region",
        AssumeRolePolicyDocument=assume_role_policy("s3"),
        Policies=[Policy(PolicyName="replicate-raw", PolicyDocument=policy(*statements))],
        Tags=context.tags(),
    )


def _ci_roles(context: StackContext, template: Template, data_key: Any) -> dict[str, Role]:
    """GitHub Actions (in the environment's GitHub environment) deploys through change sets.

    The CI role itself can only manage this environment's stacks, upload job scripts, and hand
    the execution role to CloudFormation; what the stacks create is created by that role. The
    environment promoted from this one reads the artifact it records through the promotion
    reader role: its scripts and records, nothing else.
    """
    names = context.names
    provider = template.add_resource(
        OIDCProvider(
            "GitHubOidcProvider",
            Url=f"https://{GITHUB_OIDC_HOST}",
            ClientIdList=["sts.amazonaws.com"],
            ThumbprintList=[GITHUB_OIDC_THUMBPRINT],
            Tags=context.tags(),
        )
    )
    execution = Role(
        "CloudFormationExecutionRole",
        Description="What CloudFormation uses to create this environment's stacks",
        AssumeRolePolicyDocument=assume_role_policy("cloudformation"),
        ManagedPolicyArns=[Sub("arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess")],
        Tags=context.tags(),
    )
    stacks = arn("cloudformation", f"stack/{names.prefix}-*/*", region="*")
    statements = [
        allow(
            [
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:GetTemplate",
                "cloudformation:ListChangeSets",
            ],
            [stacks],
        ),
        allow(["cloudformation:ValidateTemplate"], ["*"]),
        allow(
            ["iam:PassRole"],
            [GetAtt(execution, "Arn")],
            StringEquals={"iam:PassedToService": "cloudformation.amazonaws.com"},
        ),
        allow(["s3:GetBucketLocation", "s3:ListBucket"], [bucket_arn(names.scripts_bucket)]),
        allow(["s3:GetObject", "s3:PutObject"], [bucket_objects_arn(names.scripts_bucket)]),
        allow(["kms:Encrypt", "kms:GenerateDataKey"], [data_key]),
    ]
    ci = Role(
        "CiDeployRole",
        Description="GitHub Actions: deploy this environment through change sets",
        AssumeRolePolicyDocument=_github_trust(provider, context.settings.env),
        Policies=[Policy(PolicyName="deploy", PolicyDocument=policy(*statements))],
        Tags=context.tags(),
    )
    roles = {"CiDeployRoleArn": ci, "CloudFormationExecutionRoleArn": execution}
    promoted_to = context.parameters.promotes_to
    if promoted_to is not None:
        reads = [
            allow(["s3:ListBucket"], [bucket_arn(names.scripts_bucket)]),
            allow(
                ["s3:GetObject"],
                [
                    bucket_objects_arn(names.scripts_bucket, SCRIPTS_PREFIX),
                    bucket_objects_arn(names.scripts_bucket, RECORD_PREFIX),
                ],
            ),
            allow(["kms:Decrypt"], [data_key]),
        ]
        roles["PromotionReaderRoleArn"] = Role(
            "PromotionReaderRole",
            Description=f"GitHub Actions in {promoted_to.value}: read the artifact to promote",
            AssumeRolePolicyDocument=_github_trust(provider, promoted_to),
            Policies=[Policy(PolicyName="read-artifact", PolicyDocument=policy(*reads))],
            Tags=context.tags(),
        )
    return roles


def _github_trust(provider: OIDCProvider, env: Environment) -> dict[str, Any]:
    """Jobs of this repository in GitHub environment `env` may assume the role."""
    return policy(
        {
            "Effect": "Allow",
            "Principal": {"Federated": Ref(provider)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                    f"{GITHUB_OIDC_HOST}:sub": f"repo:{CI_REPOSITORY}:environment:{env.value}",
                }
            },
        }
    )
