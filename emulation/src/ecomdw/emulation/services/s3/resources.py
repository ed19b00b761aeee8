"""S3's CloudFormation types: buckets with every setting the template declares, their policies.

moto's bucket model applies the encryption and tags alone; a bucket policy it has no model
for. Both are created through S3's API here, and read back through it.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.s3.models import s3_backends

from ecomdw.emulation.services.cloudformation.properties import (
    FieldMap,
    api_tags,
    as_json,
    as_list,
)
from ecomdw.emulation.services.cloudformation.resource_types import (
    NO_MODEL,
    Created,
    Creating,
    Reading,
    ResourceType,
)

LIFECYCLE_RULE = FieldMap(
    {
        "Id": "ID",
        "Status": "Status",
        "Prefix": "Filter.Prefix",
        "ExpirationInDays": "Expiration.Days",
        "Transitions": "Transitions",
        "NoncurrentVersionExpiration": "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload": "AbortIncompleteMultipartUpload",
    },
    items={"Transitions": FieldMap({"TransitionInDays": "Days", "StorageClass": "StorageClass"})},
)
"""A lifecycle rule as CloudFormation and as the S3 API spell it."""
REPLICATION_RULE = FieldMap({"Id": "ID"}, others=True)
"""The S3 API spells a replication rule's id `ID`; the rest has the same shape."""
S3_LOGGING_PRINCIPAL = "logging.s3.amazonaws.com"


def create_bucket(c: Creating, props: dict[str, Any]) -> Created:
    s3 = c.client("s3")
    name = props["BucketName"]
    location = {} if c.region == "us-east-1" else {"LocationConstraint": c.region}
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
            # A rule with no prefix covers the whole bucket: S3 wants its filter all the same.
            "Rules": [
                {"Filter": {"Prefix": ""}} | LIFECYCLE_RULE.to_api(rule)
                for rule in props["LifecycleConfiguration"]["Rules"]
            ]
        },
    )
    if logging := props.get("LoggingConfiguration"):
        _enable_access_logging(
            c, name, logging["DestinationBucketName"], logging.get("LogFilePrefix", "")
        )
    if replication := props.get("ReplicationConfiguration"):
        s3.put_bucket_replication(
            Bucket=name,
            ReplicationConfiguration={
                "Role": replication["Role"],
                "Rules": [REPLICATION_RULE.to_api(rule) for rule in replication["Rules"]],
            },
        )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": api_tags(props)})
    return Created(
        name,
        {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{c.region}.amazonaws.com",
        },
    )


def _enable_access_logging(c: Creating, bucket: str, target: str, prefix: str) -> None:
    """Log `bucket`'s access into `target`, if `target`'s policy lets S3 logging write there.

    moto's own check wants the policy's `Resource` to be one string equal to the prefix's
    ARN; S3 accepts any statement whose resources cover it, as ours (a list) does.
    """
    policy = json.loads(c.client("s3").get_bucket_policy(Bucket=target)["Policy"])
    written = f"arn:aws:s3:::{target}/{prefix}log-object"
    allowed = any(
        statement.get("Effect") == "Allow"
        and S3_LOGGING_PRINCIPAL in as_list(statement.get("Principal", {}).get("Service"))
        and "s3:PutObject" in as_list(statement.get("Action"))
        and any(fnmatch.fnmatchcase(written, arn) for arn in as_list(statement.get("Resource")))
        for statement in policy["Statement"]
    )
    if not allowed:
        raise PermissionError(
            f"{target}'s bucket policy does not let {S3_LOGGING_PRINCIPAL} write {prefix}"
        )
    s3_backends[c.account_id]["aws"].get_bucket(bucket).logging = {
        "TargetBucket": target,
        "TargetPrefix": prefix,
    }


def read_bucket(r: Reading) -> dict[str, Any]:
    s3 = r.client("s3")
    name = r.physical_id
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    observed: dict[str, Any] = {
        "BucketName": name,
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"],
                    "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
                }
                for rule in rules
            ]
        },
        "VersioningConfiguration": {"Status": s3.get_bucket_versioning(Bucket=name)["Status"]},
        "PublicAccessBlockConfiguration": s3.get_public_access_block(Bucket=name)[
            "PublicAccessBlockConfiguration"
        ],
        "OwnershipControls": s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"],
        "LifecycleConfiguration": {
            "Rules": [
                LIFECYCLE_RULE.from_api(rule)
                for rule in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
            ]
        },
        "Tags": s3.get_bucket_tagging(Bucket=name)["TagSet"],
    }
    if logging := s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"):
        observed["LoggingConfiguration"] = {
            "DestinationBucketName": logging["TargetBucket"],
            "LogFilePrefix": logging["TargetPrefix"],
        }
    if "ReplicationConfiguration" in r.properties:
        replication = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]
        observed["ReplicationConfiguration"] = {
            "Role": replication["Role"],
            "Rules": [REPLICATION_RULE.from_api(rule) for rule in replication["Rules"]],
        }
    return observed


def create_bucket_policy(c: Creating, props: dict[str, Any]) -> Created:
    c.client("s3").put_bucket_policy(
        Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
    )
    return Created(props["Bucket"])


def delete_bucket_policy(c: Creating, physical_id: str, props: dict[str, Any]) -> None:
    c.client("s3").delete_bucket_policy(Bucket=physical_id)


def read_bucket_policy(r: Reading) -> dict[str, Any]:
    bucket = r.properties["Bucket"]
    policy = r.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    return {"Bucket": bucket, "PolicyDocument": as_json(policy)}


RESOURCE_TYPES = (
    ResourceType(
        "AWS::S3::Bucket",
        read_bucket,
        create_bucket,
        "moto's model applies encryption and tags only",
        unreadable={
            "ReplicationConfiguration.Rules.DeleteMarkerReplication": "moto's S3 keeps no "
            "delete-marker replication setting",
            "ReplicationConfiguration.Rules.SourceSelectionCriteria": "moto's S3 keeps no source "
            "selection criteria",
        },
    ),
    ResourceType(
        "AWS::S3::BucketPolicy",
        read_bucket_policy,
        create_bucket_policy,
        NO_MODEL,
        delete=delete_bucket_policy,
    ),
)
