"""Our own rules for every synthesized template, beyond what cfn-lint and checkov look at.

Everything that stores or carries data is encrypted, every log group expires, nothing is
public, and no policy allows a wildcard action on a data service or a data action on every
resource. `violations` returns one readable line per breach; an empty list means the template
passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Template = dict[str, Any]
Resource = dict[str, Any]

DATA_SERVICES = frozenset(
    {
        "athena",
        "dynamodb",
        "glue",
        "redshift",
        "redshift-data",
        "redshift-serverless",
        "s3",
        "secretsmanager",
        "sqs",
    }
)
"""Services whose actions read or change business data (or the secrets that guard it)."""
PUBLIC_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess")
BROAD_POLICY_EXCEPTIONS = {
    "CloudFormationExecutionRole": (
        "creates every resource type of the stacks; only CloudFormation can assume it and "
        "only the CI deploy role may pass it"
    ),
}
"""Roles allowed a broad AWS-managed policy, each with the reason."""


def violations(template: Template) -> list[str]:
    found: list[str] = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        properties = resource.get("Properties", {})
        for rule in RULES.get(resource["Type"], ()):
            problem = rule(properties)
            if problem:
                found.append(f"{logical_id} ({resource['Type']}): {problem}")
        for document in policy_documents(resource):
            found.extend(f"{logical_id}: {problem}" for problem in _statement_problems(document))
        found.extend(
            f"{logical_id}: {problem}" for problem in _managed_policy_problems(logical_id, resource)
        )
    found.extend(_buckets_without_tls_policy(template))
    return found


def policy_documents(resource: Resource) -> Iterator[dict[str, Any]]:
    """The permission documents of a resource (trust policies grant no permissions)."""
    properties = resource.get("Properties", {})
    kind = resource["Type"]
    if kind == "AWS::IAM::Role":
        for inline in properties.get("Policies", []):
            yield inline["PolicyDocument"]
    elif kind in {
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
    }:
        yield properties["PolicyDocument"]
    elif kind == "AWS::KMS::Key":
        yield properties["KeyPolicy"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_wildcard_data_action(action: str) -> bool:
    if action == "*":
        return True
    service, _, name = action.partition(":")
    return service.lower() in DATA_SERVICES and "*" in name


def _is_data_action(action: str) -> bool:
    return action.partition(":")[0].lower() in DATA_SERVICES


def _statement_problems(document: dict[str, Any]) -> Iterator[str]:
    for statement in _as_list(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
        sid = statement.get("Sid", "a statement")
        if "NotAction" in statement:
            yield f"{sid} allows NotAction: everything but a list"
        wildcards = sorted(a for a in actions if _is_wildcard_data_action(a))
        if wildcards:
            yield f"{sid} allows wildcard data actions {wildcards}"
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*"):
            yield f"{sid} allows anyone (Principal *)"
        resources = _as_list(statement.get("Resource", []))
        data_actions = sorted(a for a in actions if _is_data_action(a))
        if "*" in resources and data_actions and "Condition" not in statement:
            yield f"{sid} allows {data_actions} on every resource, unconditionally"


def _managed_policy_problems(logical_id: str, resource: Resource) -> Iterator[str]:
    if resource["Type"] != "AWS::IAM::Role" or logical_id in BROAD_POLICY_EXCEPTIONS:
        return
    for managed in resource.get("Properties", {}).get("ManagedPolicyArns", []):
        text = managed.get("Fn::Sub", "") if isinstance(managed, dict) else str(managed)
        if any(text.endswith(f":policy/{broad}") for broad in BROAD_MANAGED_POLICIES):
            yield f"attaches a broad managed policy: {text}"


def _buckets_without_tls_policy(template: Template) -> Iterator[str]:
    """Every bucket needs a policy that denies requests not made over TLS."""
    resources = template.get("Resources", {})
    guarded = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::S3::BucketPolicy":
            continue
        statements = _as_list(resource["Properties"]["PolicyDocument"].get("Statement", []))
        if any(
            s.get("Effect") == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        ):
            guarded.add(resource["Properties"]["Bucket"].get("Ref"))
    for logical_id, resource in sorted(resources.items()):
        if resource["Type"] == "AWS::S3::Bucket" and logical_id not in guarded:
            yield f"{logical_id} (AWS::S3::Bucket): no policy denying plain HTTP"


def _bucket(properties: dict[str, Any]) -> str | None:
    rules = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if not rules:
        return "no default encryption"
    block = properties.get("PublicAccessBlockConfiguration", {})
    settings = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    if not all(block.get(setting) is True for setting in settings):
        return "public access not fully blocked"
    return None


def _required(*keys: str, equals: object = None) -> Callable[[dict[str, Any]], str | None]:
    """A rule: each key present (and equal to `equals`, when given)."""

    def rule(properties: dict[str, Any]) -> str | None:
        for key in keys:
            if key not in properties:
                return f"{key} missing"
            if equals is not None and properties[key] != equals:
                return f"{key} is {properties[key]!r}, not {equals!r}"
        return None

    return rule


def _log_group(properties: dict[str, Any]) -> str | None:
    if "RetentionInDays" not in properties:
        return "no retention: logs kept forever"
    if "KmsKeyId" not in properties:
        return "not encrypted with a KMS key"
    return None


def _state_machine(properties: dict[str, Any]) -> str | None:
    encryption = properties.get("EncryptionConfiguration", {})
    if encryption.get("Type") != "CUSTOMER_MANAGED_KMS_KEY":
        return "not encrypted with a customer-managed KMS key"
    return None


def _queue(properties: dict[str, Any]) -> str | None:
    if "KmsMasterKeyId" in properties or properties.get("SqsManagedSseEnabled") is True:
        return None
    return "not encrypted"


def _security_group(properties: dict[str, Any]) -> str | None:
    for rule in properties.get("SecurityGroupIngress", []):
        if rule.get("CidrIp") in PUBLIC_CIDRS or rule.get("CidrIpv6") in PUBLIC_CIDRS:
            return f"ingress open to the internet: {rule}"
    return None


def _ingress(properties: dict[str, Any]) -> str | None:
    if properties.get("CidrIp") in PUBLIC_CIDRS or properties.get("CidrIpv6") in PUBLIC_CIDRS:
        return "ingress open to the internet"
    return None


def _cluster(properties: dict[str, Any]) -> str | None:
    return (
        _required("Encrypted", equals=True)(properties)
        or _required("KmsKeyId")(properties)
        or _required("PubliclyAccessible", equals=False)(properties)
    )


RULES: dict[str, tuple[Callable[[dict[str, Any]], str | None], ...]] = {
    "AWS::S3::Bucket": (_bucket,),
    "AWS::SNS::Topic": (_required("KmsMasterKeyId"),),
    "AWS::SQS::Queue": (_queue,),
    "AWS::Logs::LogGroup": (_log_group,),
    "AWS::Redshift::Cluster": (_cluster,),
    "AWS::RedshiftServerless::Namespace": (_required("KmsKeyId"),),
    "AWS::RedshiftServerless::Workgroup": (_required("PubliclyAccessible", equals=False),),
    "AWS::Backup::BackupVault": (_required("EncryptionKeyArn"),),
    "AWS::SecretsManager::Secret": (_required("KmsKeyId"),),
    "AWS::StepFunctions::StateMachine": (_state_machine,),
    "AWS::CloudTrail::Trail": (_required("KMSKeyId"),),
    "AWS::Glue::Job": (_required("SecurityConfiguration"),),
    "AWS::Glue::Crawler": (_required("CrawlerSecurityConfiguration"),),
    "AWS::KMS::Key": (_required("EnableKeyRotation", equals=True),),
    "AWS::EC2::SecurityGroup": (_security_group,),
    "AWS::EC2::SecurityGroupIngress": (_ingress,),
}
