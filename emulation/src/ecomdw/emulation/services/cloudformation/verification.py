"""Read every deployed resource back through its own service API and compare it with its template.

A stack reaching CREATE_COMPLETE proves little in an emulator: both moto and LocalStack report
some types complete without creating them. So each resource is looked up by its physical id
through boto3 alone (nothing of moto's internals), and each property the API returns is
compared with the template's value, intrinsics resolved as CloudFormation would. Values an
intrinsic yields that only the deploy knows (`Fn::GetAtt`) are checked for presence only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ecomdw.core.names import EMULATOR_ACCOUNT_ID
from ecomdw.emulation.services.cloudformation.stacks import (
    ALARM_FIELDS,
    EMULATED_TYPES,
    GLUE_JOB_FIELDS,
    NOT_EMULATED,
    NOT_EMULATED_PROPERTIES,
    SCHEDULE_FIELDS,
    emulator_client,
)

BY_EMULATOR = "created by emulator"
BY_ECOMDW = "created by ecomdw emulation"
NOT_EMULATED_ORIGIN = "not emulated"


def origin_of(resource_type: str) -> str:
    if resource_type in NOT_EMULATED:
        return NOT_EMULATED_ORIGIN
    return BY_ECOMDW if resource_type in EMULATED_TYPES else BY_EMULATOR


class UnresolvedError(Exception):
    """An intrinsic whose value only the deploy knows (an attribute): compared by presence."""


@dataclass(frozen=True)
class StackFacts:
    """What resolving a template's intrinsics needs: ids, exports and pseudo parameters."""

    name: str
    region: str
    account_id: str
    physical_ids: Mapping[str, str]
    exports: Mapping[str, str]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
            return {key: self.resolve(item) for key, item in value.items()}
        function, argument = next(iter(value.items()))
        if function == "Ref":
            return self._ref(argument)
        if function == "Fn::ImportValue":
            return self.exports[self.resolve(argument)]
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(m.group(1)), argument)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(self.resolve(items))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(index)]
        raise UnresolvedError(function)

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise UnresolvedError(name)


@dataclass(frozen=True)
class Reading:
    """One resource to read back: its clients, physical id and resolved template properties."""

    clients: Callable[[str], Any]
    physical_id: str
    properties: Mapping[str, Any]


Reader = Callable[[Reading], dict[str, Any]]
"""Returns the resource as its API shows it, in the template's property shape."""


@dataclass(frozen=True)
class ResourceCheck:
    stack: str
    logical_id: str
    resource_type: str
    origin: str
    compared: tuple[str, ...] = ()
    presence_only: tuple[str, ...] = ()
    not_readable: tuple[str, ...] = ()
    mismatches: tuple[str, ...] = ()
    error: str | None = None

    @property
    def verified(self) -> bool:
        return self.origin != NOT_EMULATED_ORIGIN and not self.error and not self.mismatches


@dataclass
class Verification:
    checks: list[ResourceCheck] = field(default_factory=list)

    @property
    def failures(self) -> list[ResourceCheck]:
        return [c for c in self.checks if c.origin != NOT_EMULATED_ORIGIN and not c.verified]

    @property
    def not_emulated_types(self) -> set[str]:
        return {c.resource_type for c in self.checks if c.origin == NOT_EMULATED_ORIGIN}

    def table(self) -> list[tuple[str, str, int, int, int]]:
        """(type, origin, resources, verified, properties compared) per type, sorted."""
        rows: dict[str, list[ResourceCheck]] = {}
        for check in self.checks:
            rows.setdefault(check.resource_type, []).append(check)
        return [
            (
                resource_type,
                checks[0].origin,
                len(checks),
                sum(c.verified for c in checks),
                sum(len(c.compared) for c in checks),
            )
            for resource_type, checks in sorted(rows.items(), key=lambda r: (r[1][0].origin, r[0]))
        ]

    def counts(self) -> Counter[str]:
        return Counter(check.origin for check in self.checks)


def verify_stacks(
    endpoint: str,
    stacks: Iterable[tuple[str, str, dict[str, Any]]],
    account_id: str = EMULATOR_ACCOUNT_ID,
) -> Verification:
    """Check every resource of every (stack name, region, template) deployed at `endpoint` in
    the emulated account `account_id`."""
    verification = Verification()
    for name, region, template in stacks:
        verification.checks.extend(verify_stack(endpoint, name, region, template, account_id))
    return verification


def verify_stack(
    endpoint: str,
    name: str,
    region: str,
    template: Mapping[str, Any],
    account_id: str = EMULATOR_ACCOUNT_ID,
) -> list[ResourceCheck]:
    @cache
    def clients(service: str) -> Any:
        return emulator_client(endpoint, region, service, account_id)

    cfn = clients("cloudformation")
    deployed = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
        for r in page["StackResourceSummaries"]
    }
    exports = {
        e["Name"]: e["Value"]
        for page in cfn.get_paginator("list_exports").paginate()
        for e in page["Exports"]
    }
    facts = StackFacts(name, region, account_id, deployed, exports)
    return [
        _check(clients, facts, name, logical_id, resource)
        for logical_id, resource in template["Resources"].items()
    ]


def _check(
    clients: Callable[[str], Any],
    facts: StackFacts,
    stack: str,
    logical_id: str,
    resource: Mapping[str, Any],
) -> ResourceCheck:
    resource_type = resource["Type"]
    origin = origin_of(resource_type)
    base = ResourceCheck(stack, logical_id, resource_type, origin)
    if origin == NOT_EMULATED_ORIGIN:
        return base
    reader = READERS.get(resource_type)
    if reader is None:
        return _replace(base, error="no reader for this type")
    if logical_id not in facts.physical_ids:
        return _replace(base, error="not in the deployed stack")
    resolved: dict[str, Any] = {}
    presence_only = []
    for key, value in resource.get("Properties", {}).items():
        try:
            resolved[key] = facts.resolve(value)
        except UnresolvedError:
            presence_only.append(key)
    try:
        observed = reader(Reading(clients, facts.physical_ids[logical_id], resolved))
    except Exception as exc:  # any failure to read it back means it is not there as declared
        return _replace(base, error=f"{type(exc).__name__}: {exc}")
    unreadable = NOT_EMULATED_PROPERTIES.get(resource_type, {})
    for path in unreadable:
        if "." in path:
            head, rest = path.split(".", 1)
            if head in resolved:
                resolved[head] = _without(resolved[head], rest)
    if isinstance(observed.get("Tags"), list):
        # CloudFormation's own aws:cloudformation:* tags are not the template's.
        observed["Tags"] = [t for t in observed["Tags"] if not t["Key"].startswith("aws:")]
    compared, mismatches, not_readable = [], [], []
    for key in resource.get("Properties", {}):
        if key in unreadable or key not in observed:
            not_readable.append(key)
        elif key in presence_only:
            if observed[key] in (None, "", []):
                mismatches.append(f"{key}: missing")
        else:
            compared.append(key)
            if not _covers(resolved[key], observed[key]):
                mismatches.append(f"{key}: template {resolved[key]!r}, API {observed[key]!r}")
    return _replace(
        base,
        compared=tuple(compared),
        presence_only=tuple(k for k in presence_only if k in observed),
        not_readable=tuple(not_readable),
        mismatches=tuple(mismatches),
    )


def _without(value: Any, path: str) -> Any:
    """`value` less what `path` names (`a.b`; a list applies the rest to each item)."""
    if isinstance(value, list):
        return [_without(item, path) for item in value]
    if not isinstance(value, dict):
        return value
    head, _, rest = path.partition(".")
    if not rest:
        return {k: v for k, v in value.items() if k != head}
    return {k: _without(v, rest) if k == head else v for k, v in value.items()}


def _replace(check: ResourceCheck, **changes: Any) -> ResourceCheck:
    return replace(check, **changes)


def _covers(expected: Any, observed: Any) -> bool:
    """The API's value holds everything the template declares (APIs add defaults)."""
    if isinstance(expected, dict) and isinstance(observed, dict):
        return all(k in observed and _covers(v, observed[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(observed, list):
        if len(expected) != len(observed):
            return False
        remaining = list(observed)
        for item in expected:
            match = next((o for o in remaining if _covers(item, o)), None)
            if match is None:
                return False
            remaining.remove(match)
        return True
    return _scalar(expected) == _scalar(observed)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _upper_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_upper_keys(item) for item in value]
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: _upper_keys(item) for key, item in value.items()}
    return value


def _tags(tags: Iterable[Mapping[str, Any]], key: str = "Key", value: str = "Value") -> list[Any]:
    return [{"Key": tag[key], "Value": tag[value]} for tag in tags]


def _tags_from_map(tags: Mapping[str, str]) -> list[Any]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _renamed(data: Mapping[str, Any], **names: str) -> dict[str, Any]:
    """API field -> template property, for the fields named; others dropped."""
    return {prop: data[field_] for field_, prop in names.items() if field_ in data}


# --- readers, one per type --------------------------------------------------------------------


def read_role(r: Reading) -> dict[str, Any]:
    iam = r.clients("iam")
    role = iam.get_role(RoleName=r.physical_id)["Role"]
    attached = iam.list_attached_role_policies(RoleName=r.physical_id)["AttachedPolicies"]
    inline = [
        {
            "PolicyName": policy_name,
            "PolicyDocument": _json(
                iam.get_role_policy(RoleName=r.physical_id, PolicyName=policy_name)[
                    "PolicyDocument"
                ]
            ),
        }
        for policy_name in iam.list_role_policies(RoleName=r.physical_id)["PolicyNames"]
    ]
    return {
        "AssumeRolePolicyDocument": _json(role["AssumeRolePolicyDocument"]),
        "Description": role.get("Description"),
        "ManagedPolicyArns": [p["PolicyArn"] for p in attached],
        "Policies": inline,
        "Tags": _tags(iam.list_role_tags(RoleName=r.physical_id)["Tags"]),
    }


def read_key(r: Reading) -> dict[str, Any]:
    kms = r.clients("kms")
    key = kms.describe_key(KeyId=r.physical_id)["KeyMetadata"]
    return {
        "Description": key["Description"],
        "KeyPolicy": _json(kms.get_key_policy(KeyId=r.physical_id, PolicyName="default")["Policy"]),
        "EnableKeyRotation": kms.get_key_rotation_status(KeyId=r.physical_id)["KeyRotationEnabled"],
        "Tags": _tags(kms.list_resource_tags(KeyId=r.physical_id)["Tags"], "TagKey", "TagValue"),
    }


def read_alias(r: Reading) -> dict[str, Any]:
    aliases = r.clients("kms").list_aliases()["Aliases"]
    alias = next(a for a in aliases if a["AliasName"] == r.physical_id)
    key_id = r.properties.get("TargetKeyId", "")
    target = alias["TargetKeyId"]
    # The template may name the key by id or by ARN; the API answers with the id.
    return {
        "AliasName": alias["AliasName"],
        "TargetKeyId": key_id if key_id.endswith(target) else target,
    }


def read_oidc_provider(r: Reading) -> dict[str, Any]:
    provider = r.clients("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=r.physical_id)
    url = provider["Url"]
    return {
        "Url": url if url.startswith("https://") else f"https://{url}",
        "ClientIdList": provider["ClientIDList"],
        "ThumbprintList": provider["ThumbprintList"],
        "Tags": _tags(provider.get("Tags", [])),
    }


def read_vpc(r: Reading) -> dict[str, Any]:
    ec2 = r.clients("ec2")
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


def read_subnet(r: Reading) -> dict[str, Any]:
    subnet = r.clients("ec2").describe_subnets(SubnetIds=[r.physical_id])["Subnets"][0]
    return _renamed(
        subnet,
        VpcId="VpcId",
        CidrBlock="CidrBlock",
        AvailabilityZone="AvailabilityZone",
        MapPublicIpOnLaunch="MapPublicIpOnLaunch",
        Tags="Tags",
    )


def read_route_table(r: Reading) -> dict[str, Any]:
    table = r.clients("ec2").describe_route_tables(RouteTableIds=[r.physical_id])["RouteTables"][0]
    return _renamed(table, VpcId="VpcId", Tags="Tags")


def read_route_table_association(r: Reading) -> dict[str, Any]:
    tables = r.clients("ec2").describe_route_tables(
        Filters=[{"Name": "association.route-table-association-id", "Values": [r.physical_id]}]
    )["RouteTables"]
    association = next(
        a
        for table in tables
        for a in table["Associations"]
        if a["RouteTableAssociationId"] == r.physical_id
    )
    return _renamed(association, RouteTableId="RouteTableId", SubnetId="SubnetId")


def _permissions(permissions: list[dict[str, Any]], peer: str) -> list[dict[str, Any]]:
    """EC2 permissions as the template's rule list: one rule per CIDR, prefix list or group."""
    rules = []
    for permission in permissions:
        ports = _renamed(permission, IpProtocol="IpProtocol", FromPort="FromPort", ToPort="ToPort")
        for cidr in permission.get("IpRanges", []):
            rules.append({**ports, "CidrIp": cidr["CidrIp"], **_description(cidr)})
        for prefix in permission.get("PrefixListIds", []):
            prefix_key = (
                "DestinationPrefixListId" if peer == "Destination" else "SourcePrefixListId"
            )
            rules.append({**ports, prefix_key: prefix["PrefixListId"], **_description(prefix)})
        for pair in permission.get("UserIdGroupPairs", []):
            group_key = f"{peer}SecurityGroupId"
            rules.append({**ports, group_key: pair["GroupId"], **_description(pair)})
    return rules


def _description(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"Description": item["Description"]} if item.get("Description") else {}


def read_security_group(r: Reading) -> dict[str, Any]:
    group = r.clients("ec2").describe_security_groups(GroupIds=[r.physical_id])["SecurityGroups"][0]
    return {
        "GroupDescription": group["Description"],
        "VpcId": group["VpcId"],
        "Tags": group.get("Tags", []),
        "SecurityGroupIngress": _declared(
            _permissions(group["IpPermissions"], "Source"), r.properties, "SecurityGroupIngress"
        ),
        "SecurityGroupEgress": _declared(
            _permissions(group["IpPermissionsEgress"], "Destination"),
            r.properties,
            "SecurityGroupEgress",
        ),
    }


def _declared(rules: list[Any], properties: Mapping[str, Any], key: str) -> list[Any]:
    """The group's rules that its template declares inline; standalone rule resources add
    the others, and are checked on their own."""
    declared = properties.get(key, [])
    return [rule for rule in rules if any(_covers(d, rule) for d in declared)]


def _group_rule(r: Reading, egress: bool) -> dict[str, Any]:
    """The standalone rule as its group now holds it: the one matching the template's rule."""
    group_id = r.properties["GroupId"]
    group = r.clients("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    peer = "Destination" if egress else "Source"
    rules = _permissions(group["IpPermissionsEgress" if egress else "IpPermissions"], peer)
    wanted = {k: v for k, v in r.properties.items() if k != "GroupId"}
    rule = next(rule for rule in rules if _covers(wanted, rule))
    return {"GroupId": group_id, **rule}


def read_security_group_ingress(r: Reading) -> dict[str, Any]:
    return _group_rule(r, egress=False)


def read_security_group_egress(r: Reading) -> dict[str, Any]:
    return _group_rule(r, egress=True)


def read_vpc_endpoint(r: Reading) -> dict[str, Any]:
    endpoint = r.clients("ec2").describe_vpc_endpoints(VpcEndpointIds=[r.physical_id])[
        "VpcEndpoints"
    ][0]
    observed = _renamed(
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


def read_flow_log(r: Reading) -> dict[str, Any]:
    flow_log = r.clients("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"][0]
    observed = _renamed(
        flow_log,
        ResourceId="ResourceId",
        TrafficType="TrafficType",
        LogGroupName="LogGroupName",
        DeliverLogsPermissionArn="DeliverLogsPermissionArn",
        LogDestinationType="LogDestinationType",
        Tags="Tags",
    )
    observed["ResourceType"] = _flow_log_resource_type(flow_log["ResourceId"])
    return observed


def _flow_log_resource_type(resource_id: str) -> str:
    kinds = {"vpc-": "VPC", "subnet-": "Subnet", "eni-": "NetworkInterface"}
    return next(kind for prefix, kind in kinds.items() if resource_id.startswith(prefix))


def read_log_group(r: Reading) -> dict[str, Any]:
    logs = r.clients("logs")
    group = next(
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
        if g["logGroupName"] == r.physical_id
    )
    tags = logs.list_tags_log_group(logGroupName=r.physical_id)["tags"]
    return {
        "LogGroupName": group["logGroupName"],
        "RetentionInDays": group.get("retentionInDays"),
        "KmsKeyId": group.get("kmsKeyId"),
        "Tags": _tags_from_map(tags),
    }


def read_topic(r: Reading) -> dict[str, Any]:
    sns = r.clients("sns")
    attributes = sns.get_topic_attributes(TopicArn=r.physical_id)["Attributes"]
    return {
        "TopicName": r.physical_id.rsplit(":", 1)[-1],
        "KmsMasterKeyId": attributes.get("KmsMasterKeyId"),
        "Tags": sns.list_tags_for_resource(ResourceArn=r.physical_id)["Tags"],
    }


def read_topic_policy(r: Reading) -> dict[str, Any]:
    sns = r.clients("sns")
    policies = [
        _json(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        for topic in r.properties["Topics"]
    ]
    if any(p != policies[0] for p in policies):
        raise AssertionError("the topics hold different policies")
    return {"Topics": r.properties["Topics"], "PolicyDocument": policies[0]}


def read_rule(r: Reading) -> dict[str, Any]:
    events = r.clients("events")
    name = r.physical_id.rsplit("/", 1)[-1]
    rule = events.describe_rule(Name=name)
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    observed = _renamed(rule, Name="Name", Description="Description", State="State")
    observed["EventPattern"] = _json(rule.get("EventPattern"))
    observed["Targets"] = targets
    return observed


def read_dashboard(r: Reading) -> dict[str, Any]:
    dashboard = r.clients("cloudwatch").get_dashboard(DashboardName=r.physical_id)
    return {
        "DashboardName": dashboard["DashboardName"],
        "DashboardBody": dashboard["DashboardBody"],
    }


def read_state_machine(r: Reading) -> dict[str, Any]:
    sfn = r.clients("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=r.physical_id)
    observed = _renamed(
        machine,
        name="StateMachineName",
        roleArn="RoleArn",
        type="StateMachineType",
    )
    observed["Definition"] = _json(machine["definition"])
    for api_key, prop in (
        ("loggingConfiguration", "LoggingConfiguration"),
        ("tracingConfiguration", "TracingConfiguration"),
        ("encryptionConfiguration", "EncryptionConfiguration"),
    ):
        if api_key in machine:
            observed[prop] = _upper_keys(machine[api_key])
    tags = sfn.list_tags_for_resource(resourceArn=r.physical_id)["tags"]
    observed["Tags"] = _tags(tags, "key", "value")
    return observed


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"Id": rule["ID"], "Status": rule["Status"]}
    if "Prefix" in rule.get("Filter", {}):
        converted["Prefix"] = rule["Filter"]["Prefix"]
    if "Expiration" in rule:
        converted["ExpirationInDays"] = rule["Expiration"]["Days"]
    if "Transitions" in rule:
        converted["Transitions"] = [
            {"TransitionInDays": t["Days"], "StorageClass": t["StorageClass"]}
            for t in rule["Transitions"]
        ]
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return converted


def read_bucket(r: Reading) -> dict[str, Any]:
    s3 = r.clients("s3")
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
                _lifecycle_rule(rule)
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
            "Rules": [
                {"Id" if k == "ID" else k: v for k, v in rule.items()}
                for rule in replication["Rules"]
            ],
        }
    return observed


def read_bucket_policy(r: Reading) -> dict[str, Any]:
    bucket = r.properties["Bucket"]
    policy = r.clients("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    return {"Bucket": bucket, "PolicyDocument": _json(policy)}


def read_glue_database(r: Reading) -> dict[str, Any]:
    database = r.clients("glue").get_database(Name=r.physical_id)["Database"]
    return {"CatalogId": database["CatalogId"], "DatabaseInput": database}


def read_glue_connection(r: Reading) -> dict[str, Any]:
    connection = r.clients("glue").get_connection(Name=r.physical_id)["Connection"]
    return {"CatalogId": r.properties["CatalogId"], "ConnectionInput": connection}


def read_glue_security_configuration(r: Reading) -> dict[str, Any]:
    configuration = r.clients("glue").get_security_configuration(Name=r.physical_id)[
        "SecurityConfiguration"
    ]
    encryption = dict(configuration["EncryptionConfiguration"])
    encryption["S3Encryptions"] = encryption.pop("S3Encryption")
    return {"Name": configuration["Name"], "EncryptionConfiguration": encryption}


def _glue_tags(r: Reading, resource: str) -> dict[str, str]:
    arn = f"arn:aws:glue:{r.clients('glue').meta.region_name}:" + resource
    tags: dict[str, str] = r.clients("glue").get_tags(ResourceArn=arn)["Tags"]
    return tags


def _account(r: Reading) -> str:
    account: str = r.clients("sts").get_caller_identity()["Account"]
    return account


def read_glue_job(r: Reading) -> dict[str, Any]:
    job = r.clients("glue").get_job(JobName=r.physical_id)["Job"]
    observed = {key: job[key] for key in (*GLUE_JOB_FIELDS, "Name") if key in job}
    observed["Tags"] = _glue_tags(r, f"{_account(r)}:job/{r.physical_id}")
    return observed


def read_glue_crawler(r: Reading) -> dict[str, Any]:
    crawler = r.clients("glue").get_crawler(Name=r.physical_id)["Crawler"]
    keys = (
        "Name",
        "Description",
        "Role",
        "DatabaseName",
        "Targets",
        "SchemaChangePolicy",
        "CrawlerSecurityConfiguration",
    )
    observed = {key: crawler[key] for key in keys if key in crawler}
    observed["Tags"] = _glue_tags(r, f"{_account(r)}:crawler/{r.physical_id}")
    return observed


def read_glue_workflow(r: Reading) -> dict[str, Any]:
    workflow = r.clients("glue").get_workflow(Name=r.physical_id)["Workflow"]
    observed = {
        k: workflow[k] for k in ("Name", "Description", "MaxConcurrentRuns") if k in workflow
    }
    observed["Tags"] = _glue_tags(r, f"{_account(r)}:workflow/{r.physical_id}")
    return observed


def read_glue_trigger(r: Reading) -> dict[str, Any]:
    trigger = r.clients("glue").get_trigger(Name=r.physical_id)["Trigger"]
    observed = {
        k: trigger[k]
        for k in ("Name", "Type", "WorkflowName", "Actions", "Predicate", "Schedule")
        if k in trigger
    }
    # A trigger made with StartOnCreation leaves the CREATED state at once.
    observed["StartOnCreation"] = trigger["State"] in ("ACTIVATED", "ACTIVATING")
    return observed


def read_cluster_subnet_group(r: Reading) -> dict[str, Any]:
    group = r.clients("redshift").describe_cluster_subnet_groups(
        ClusterSubnetGroupName=r.physical_id
    )["ClusterSubnetGroups"][0]
    return {
        "Description": group["Description"],
        "SubnetIds": [s["SubnetIdentifier"] for s in group["Subnets"]],
        "Tags": group.get("Tags", []),
    }


def read_cluster_parameter_group(r: Reading) -> dict[str, Any]:
    group = r.clients("redshift").describe_cluster_parameter_groups(
        ParameterGroupName=r.physical_id
    )["ParameterGroups"][0]
    return _renamed(
        group,
        Description="Description",
        ParameterGroupFamily="ParameterGroupFamily",
        Tags="Tags",
    )


def read_cluster(r: Reading) -> dict[str, Any]:
    redshift = r.clients("redshift")
    cluster = redshift.describe_clusters(ClusterIdentifier=r.physical_id)["Clusters"][0]
    observed = _renamed(
        cluster,
        ClusterIdentifier="ClusterIdentifier",
        NodeType="NodeType",
        DBName="DBName",
        MasterUsername="MasterUsername",
        Encrypted="Encrypted",
        KmsKeyId="KmsKeyId",
        PubliclyAccessible="PubliclyAccessible",
        EnhancedVpcRouting="EnhancedVpcRouting",
        ClusterSubnetGroupName="ClusterSubnetGroupName",
        AutomatedSnapshotRetentionPeriod="AutomatedSnapshotRetentionPeriod",
        ManualSnapshotRetentionPeriod="ManualSnapshotRetentionPeriod",
        AllowVersionUpgrade="AllowVersionUpgrade",
        PreferredMaintenanceWindow="PreferredMaintenanceWindow",
        Tags="Tags",
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
    observed["LoggingProperties"] = _renamed(
        logging, BucketName="BucketName", S3KeyPrefix="S3KeyPrefix"
    )
    secret_name = f"redshift!{r.physical_id}-{cluster['MasterUsername']}"
    secret = r.clients("secretsmanager").describe_secret(SecretId=secret_name)
    observed["ManageMasterPassword"] = True
    observed["MasterPasswordSecretKmsKeyId"] = secret["KmsKeyId"]
    return observed


def read_alarm(r: Reading) -> dict[str, Any]:
    alarm = r.clients("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"][0]
    return {key: alarm[key] for key in ("AlarmName", *ALARM_FIELDS) if key in alarm}


def read_trail(r: Reading) -> dict[str, Any]:
    cloudtrail = r.clients("cloudtrail")
    trail = cloudtrail.get_trail(Name=r.physical_id)["Trail"]
    observed = _renamed(
        trail,
        Name="TrailName",
        S3BucketName="S3BucketName",
        S3KeyPrefix="S3KeyPrefix",
        IncludeGlobalServiceEvents="IncludeGlobalServiceEvents",
        IsMultiRegionTrail="IsMultiRegionTrail",
        LogFileValidationEnabled="EnableLogFileValidation",
        CloudWatchLogsLogGroupArn="CloudWatchLogsLogGroupArn",
        CloudWatchLogsRoleArn="CloudWatchLogsRoleArn",
        KmsKeyId="KMSKeyId",
    )
    observed["IsLogging"] = cloudtrail.get_trail_status(Name=r.physical_id)["IsLogging"]
    observed["EventSelectors"] = cloudtrail.get_event_selectors(TrailName=r.physical_id).get(
        "EventSelectors", []
    )
    observed["Tags"] = cloudtrail.list_tags(ResourceIdList=[trail["TrailARN"]])["ResourceTagList"][
        0
    ].get("TagsList", [])
    return observed


def read_config_recorder(r: Reading) -> dict[str, Any]:
    recorder = r.clients("config").describe_configuration_recorders(
        ConfigurationRecorderNames=[r.physical_id]
    )["ConfigurationRecorders"][0]
    group = recorder["recordingGroup"]
    return {
        "Name": recorder["name"],
        "RoleARN": recorder["roleARN"],
        "RecordingGroup": {
            "AllSupported": group["allSupported"],
            "IncludeGlobalResourceTypes": group["includeGlobalResourceTypes"],
        },
    }


def read_delivery_channel(r: Reading) -> dict[str, Any]:
    channel = r.clients("config").describe_delivery_channels(DeliveryChannelNames=[r.physical_id])[
        "DeliveryChannels"
    ][0]
    return {
        "Name": channel["name"],
        "S3BucketName": channel["s3BucketName"],
        "S3KeyPrefix": channel.get("s3KeyPrefix"),
        "ConfigSnapshotDeliveryProperties": {
            "DeliveryFrequency": channel["configSnapshotDeliveryProperties"]["deliveryFrequency"]
        },
    }


def read_config_rule(r: Reading) -> dict[str, Any]:
    rule = r.clients("config").describe_config_rules(ConfigRuleNames=[r.physical_id])[
        "ConfigRules"
    ][0]
    return {"ConfigRuleName": rule["ConfigRuleName"], "Source": rule["Source"]}


def read_detector(r: Reading) -> dict[str, Any]:
    detector = r.clients("guardduty").get_detector(DetectorId=r.physical_id)
    return {
        "Enable": detector["Status"] == "ENABLED",
        "FindingPublishingFrequency": detector["FindingPublishingFrequency"],
        "Features": [
            {"Name": f["Name"], "Status": f["Status"]} for f in detector.get("Features", [])
        ],
        "Tags": _tags_from_map(detector.get("Tags", {})),
    }


def read_security_hub(r: Reading) -> dict[str, Any]:
    securityhub = r.clients("securityhub")
    hub = securityhub.describe_hub(HubArn=r.physical_id)
    return {
        "AutoEnableControls": hub["AutoEnableControls"],
        "ControlFindingGenerator": hub["ControlFindingGenerator"],
    }


def read_schedule(r: Reading) -> dict[str, Any]:
    name = r.physical_id.rsplit("/", 1)[-1]
    schedule = r.clients("scheduler").get_schedule(Name=name)
    return {key: schedule[key] for key in ("Name", *SCHEDULE_FIELDS) if key in schedule}


def read_backup_vault(r: Reading) -> dict[str, Any]:
    backup = r.clients("backup")
    vault = backup.describe_backup_vault(BackupVaultName=r.physical_id)
    tags = backup.list_tags(ResourceArn=vault["BackupVaultArn"])["Tags"]
    return {
        "BackupVaultName": vault["BackupVaultName"],
        "EncryptionKeyArn": vault["EncryptionKeyArn"],
        "BackupVaultTags": tags,
    }


def read_backup_plan(r: Reading) -> dict[str, Any]:
    backup = r.clients("backup")
    answer = backup.get_backup_plan(BackupPlanId=r.physical_id)
    plan = answer["BackupPlan"]
    rules = []
    for rule in plan["Rules"]:
        converted = {k: v for k, v in rule.items() if k not in ("RuleId", "TargetBackupVaultName")}
        converted["TargetBackupVault"] = rule["TargetBackupVaultName"]
        rules.append(converted)
    tags = backup.list_tags(ResourceArn=answer["BackupPlanArn"])["Tags"]
    return {
        "BackupPlan": {"BackupPlanName": plan["BackupPlanName"], "BackupPlanRule": rules},
        "BackupPlanTags": tags,
    }


def read_budget(r: Reading) -> dict[str, Any]:
    budgets = r.clients("budgets")
    account = _account(r)
    budget = budgets.describe_budget(AccountId=account, BudgetName=r.physical_id)["Budget"]
    limit = budget["BudgetLimit"]
    observed_budget = {
        k: budget[k] for k in ("BudgetName", "BudgetType", "TimeUnit", "CostFilters") if k in budget
    }
    observed_budget["BudgetLimit"] = {"Amount": float(limit["Amount"]), "Unit": limit["Unit"]}
    notifications = budgets.describe_notifications_for_budget(
        AccountId=account, BudgetName=r.physical_id
    )["Notifications"]
    return {
        "Budget": observed_budget,
        "NotificationsWithSubscribers": [{"Notification": n} for n in notifications],
    }


READERS: dict[str, Reader] = {
    "AWS::IAM::Role": read_role,
    "AWS::IAM::OIDCProvider": read_oidc_provider,
    "AWS::KMS::Key": read_key,
    "AWS::KMS::Alias": read_alias,
    "AWS::EC2::VPC": read_vpc,
    "AWS::EC2::Subnet": read_subnet,
    "AWS::EC2::RouteTable": read_route_table,
    "AWS::EC2::SubnetRouteTableAssociation": read_route_table_association,
    "AWS::EC2::SecurityGroup": read_security_group,
    "AWS::EC2::SecurityGroupIngress": read_security_group_ingress,
    "AWS::EC2::SecurityGroupEgress": read_security_group_egress,
    "AWS::EC2::VPCEndpoint": read_vpc_endpoint,
    "AWS::EC2::FlowLog": read_flow_log,
    "AWS::Logs::LogGroup": read_log_group,
    "AWS::SNS::Topic": read_topic,
    "AWS::SNS::TopicPolicy": read_topic_policy,
    "AWS::Events::Rule": read_rule,
    "AWS::CloudWatch::Dashboard": read_dashboard,
    "AWS::CloudWatch::Alarm": read_alarm,
    "AWS::StepFunctions::StateMachine": read_state_machine,
    "AWS::S3::Bucket": read_bucket,
    "AWS::S3::BucketPolicy": read_bucket_policy,
    "AWS::Glue::Database": read_glue_database,
    "AWS::Glue::Connection": read_glue_connection,
    "AWS::Glue::SecurityConfiguration": read_glue_security_configuration,
    "AWS::Glue::Job": read_glue_job,
    "AWS::Glue::Crawler": read_glue_crawler,
    "AWS::Glue::Workflow": read_glue_workflow,
    "AWS::Glue::Trigger": read_glue_trigger,
    "AWS::Redshift::ClusterSubnetGroup": read_cluster_subnet_group,
    "AWS::Redshift::ClusterParameterGroup": read_cluster_parameter_group,
    "AWS::Redshift::Cluster": read_cluster,
    "AWS::CloudTrail::Trail": read_trail,
    "AWS::Config::ConfigurationRecorder": read_config_recorder,
    "AWS::Config::DeliveryChannel": read_delivery_channel,
    "AWS::Config::ConfigRule": read_config_rule,
    "AWS::GuardDuty::Detector": read_detector,
    "AWS::SecurityHub::Hub": read_security_hub,
    "AWS::Scheduler::Schedule": read_schedule,
    "AWS::Backup::BackupVault": read_backup_vault,
    "AWS::Backup::BackupPlan": read_backup_plan,
    "AWS::Budgets::Budget": read_budget,
}
