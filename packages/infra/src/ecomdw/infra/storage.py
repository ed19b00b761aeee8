"""The raw, processed, scripts and logs buckets.

Every bucket is versioned, blocks public access, refuses plain HTTP and logs its access into
the logs bucket. Data buckets use the data KMS key; the logs bucket uses S3-managed keys
because S3 server access logs and Redshift audit logs can only be delivered to such buckets.
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Sub, Template
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    DeleteMarkerReplication,
    EncryptionConfiguration,
    LifecycleConfiguration,
    LifecycleRule,
    LifecycleRuleTransition,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ReplicationConfiguration,
    ReplicationConfigurationRules,
    ReplicationConfigurationRulesDestination,
    ReplicationRuleFilter,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    SourceSelectionCriteria,
    SseKmsEncryptedObjects,
    VersioningConfiguration,
)

from ecomdw.infra.context import (
    BACKUP_TAG_KEY,
    BACKUP_TAG_VALUE,
    RETAIN,
    StackContext,
    allow,
    bucket_arn,
    bucket_objects_arn,
    policy,
    service_principal,
    skip_checkov,
)

CONCERN = "storage"
ACCESS_LOG_PREFIX = "s3-access"
CLOUDTRAIL_PREFIX = "cloudtrail"
CONFIG_PREFIX = "config"
REDSHIFT_AUDIT_PREFIX = "redshift-audit"
GLUE_TEMP_PREFIX = "tmp/"
GLUE_TEMP_EXPIRY_DAYS = 7
NONCURRENT_VERSION_EXPIRY_DAYS = 30
INCOMPLETE_UPLOAD_DAYS = 7
STORAGE_TIERS = ((30, "STANDARD_IA"), (90, "GLACIER_IR"))
"""Objects move to cheaper classes as they age, if they live that long."""


def build(context: StackContext) -> Template:
    template = context.new_template("Raw, processed, scripts and logs buckets")
    names = context.names
    parameters = context.parameters
    data_key = context.imported("security", "DataKeyArn")
    logs = template.add_resource(
        skip_checkov(
            secure_bucket(
                context,
                "LogsBucket",
                names.logs_bucket,
                kms_key=None,
                lifecycle=aging_rules(parameters.logs_expiry_days),
            ),
            (
                "CKV_AWS_18",
                "the logs bucket is the access-log target; logging it into itself loops",
            ),
        )
    )
    template.add_resource(
        BucketPolicy(
            "LogsBucketPolicy",
            Bucket=Ref(logs),
            PolicyDocument=policy(
                *tls_only_statements(names.logs_bucket), *_log_delivery_statements(context)
            ),
        )
    )
    raw = secure_bucket(
        context,
        "RawBucket",
        names.raw_bucket,
        kms_key=data_key,
        lifecycle=aging_rules(parameters.raw_expiry_days),
        access_log_prefix=f"{ACCESS_LOG_PREFIX}/raw/",
        backed_up=True,
    )
    raw.ReplicationConfiguration = _replication(context)
    processed = secure_bucket(
        context,
        "ProcessedBucket",
        names.processed_bucket,
        kms_key=data_key if parameters.processed_bucket_kms else None,
        lifecycle=aging_rules(parameters.processed_expiry_days),
        access_log_prefix=f"{ACCESS_LOG_PREFIX}/processed/",
        backed_up=True,
    )
    scripts = secure_bucket(
        context,
        "ScriptsBucket",
        names.scripts_bucket,
        kms_key=data_key,
        lifecycle=[
            LifecycleRule(
                Id="expire-glue-temp",
                Status="Enabled",
                Prefix=GLUE_TEMP_PREFIX,
                ExpirationInDays=GLUE_TEMP_EXPIRY_DAYS,
            ),
            *housekeeping_rules(),
        ],
        access_log_prefix=f"{ACCESS_LOG_PREFIX}/scripts/",
    )
    for bucket, name in ((raw, names.raw_bucket), (processed, names.processed_bucket)):
        bucket.DependsOn = [logs.title, "LogsBucketPolicy"]
        template.add_resource(bucket)
        template.add_resource(
            BucketPolicy(
                f"{bucket.title}Policy",
                Bucket=Ref(bucket),
                PolicyDocument=policy(*tls_only_statements(name)),
            )
        )
    scripts.DependsOn = [logs.title, "LogsBucketPolicy"]
    template.add_resource(scripts)
    template.add_resource(
        BucketPolicy(
            "ScriptsBucketPolicy",
            Bucket=Ref(scripts),
            PolicyDocument=policy(*tls_only_statements(names.scripts_bucket)),
        )
    )
    for purpose, bucket in (
        ("Raw", raw),
        ("Processed", processed),
        ("Scripts", scripts),
        ("Logs", logs),
    ):
        context.export(
            template, CONCERN, f"{purpose}BucketName", Ref(bucket), f"The {purpose} bucket"
        )
    return template


def secure_bucket(
    context: StackContext,
    title: str,
    name: str,
    *,
    kms_key: Any | None,
    lifecycle: list[LifecycleRule],
    access_log_prefix: str | None = None,
    backed_up: bool = False,
) -> Bucket:
    """A versioned, private, encrypted bucket (SSE-KMS with `kms_key`, else SSE-S3)."""
    if kms_key is None:
        default = ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    else:
        default = ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=kms_key)
    bucket = Bucket(
        title,
        BucketName=name,
        BucketEncryption=BucketEncryption(
            ServerSideEncryptionConfiguration=[
                ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=default,
                    BucketKeyEnabled=kms_key is not None,
                )
            ]
        ),
        VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
        PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        LifecycleConfiguration=LifecycleConfiguration(Rules=lifecycle),
        Tags=context.tags({BACKUP_TAG_KEY: BACKUP_TAG_VALUE} if backed_up else None),
        **RETAIN,
    )
    if access_log_prefix is not None:
        bucket.LoggingConfiguration = LoggingConfiguration(
            DestinationBucketName=context.names.logs_bucket, LogFilePrefix=access_log_prefix
        )
    return bucket


def housekeeping_rules() -> list[LifecycleRule]:
    """Old versions and abandoned uploads do not pile up."""
    return [
        LifecycleRule(
            Id="expire-noncurrent-versions",
            Status="Enabled",
            NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                NoncurrentDays=NONCURRENT_VERSION_EXPIRY_DAYS
            ),
            AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                DaysAfterInitiation=INCOMPLETE_UPLOAD_DAYS
            ),
        )
    ]


def aging_rules(expiry_days: int) -> list[LifecycleRule]:
    """Tier objects down as they age, expire them after `expiry_days`."""
    transitions = [
        LifecycleRuleTransition(TransitionInDays=days, StorageClass=storage_class)
        for days, storage_class in STORAGE_TIERS
        if days < expiry_days
    ]
    rule = LifecycleRule(Id="tier-and-expire", Status="Enabled", ExpirationInDays=expiry_days)
    if transitions:
        rule.Transitions = transitions
    return [rule, *housekeeping_rules()]


def tls_only_statements(bucket: str) -> list[dict[str, Any]]:
    """Refuse every request not made over TLS 1.2 or later."""
    resources = [bucket_arn(bucket), bucket_objects_arn(bucket)]
    return [
        {
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOldTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def _log_delivery_statements(context: StackContext) -> list[dict[str, Any]]:
    """AWS services that deliver logs here, each into its own prefix, for this account only."""
    bucket = context.names.logs_bucket
    same_account = {"StringEquals": {"aws:SourceAccount": Sub("${AWS::AccountId}")}}
    writers = (
        ("logging.s3", ACCESS_LOG_PREFIX),  # S3 server access logs
        ("cloudtrail", f"{CLOUDTRAIL_PREFIX}/AWSLogs/${{AWS::AccountId}}"),
        ("config", f"{CONFIG_PREFIX}/AWSLogs/${{AWS::AccountId}}/Config"),
        ("redshift", REDSHIFT_AUDIT_PREFIX),
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "LogWritersCheckTheBucket",
            "Effect": "Allow",
            "Principal": {"Service": sorted(f"{service}.amazonaws.com" for service, _ in writers)},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn(bucket),
            "Condition": same_account,
        }
    ]
    for service, prefix in writers:
        statement = allow(["s3:PutObject"], [bucket_objects_arn(bucket, f"{prefix}/")])
        statement["Sid"] = f"{service.split('.')[0].capitalize()}Writes"
        statement["Principal"] = service_principal(service)
        statement["Condition"] = same_account
        statements.append(statement)
    return statements


def _replication(context: StackContext) -> ReplicationConfiguration:
    """Every raw object, re-encrypted with the replica key, into the backup region."""
    alias = Sub(
        f"arn:${{AWS::Partition}}:kms:{context.settings.backup_region}:${{AWS::AccountId}}:"
        f"{context.replica_key_alias}"
    )
    return ReplicationConfiguration(
        Role=context.imported("security", "RawReplicationRoleArn"),
        Rules=[
            ReplicationConfigurationRules(
                Id="raw-to-backup-region",
                Status="Enabled",
                Priority=1,
                Filter=ReplicationRuleFilter(Prefix=""),
                DeleteMarkerReplication=DeleteMarkerReplication(Status="Enabled"),
                SourceSelectionCriteria=SourceSelectionCriteria(
                    SseKmsEncryptedObjects=SseKmsEncryptedObjects(Status="Enabled")
                ),
                Destination=ReplicationConfigurationRulesDestination(
                    Bucket=bucket_arn(context.replica_bucket),
                    EncryptionConfiguration=EncryptionConfiguration(ReplicaKmsKeyID=alias),
                    StorageClass="STANDARD_IA",
                ),
            )
        ],
    )
