"""Deploy the stacks into the emulator and read every resource back through its API."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from ecomdw.core.aws import EMULATOR_CREDENTIALS
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.emulation.clients import in_account
from ecomdw.emulation.services.cloudformation.registry import NOT_EMULATED, RESOURCE_TYPES
from ecomdw.emulation.services.cloudformation.resource_types import (
    BY_ECOMDW,
    BY_EMULATOR,
    NOT_EMULATED_ORIGIN,
)
from ecomdw.emulation.services.cloudformation.verification import Verification, verify_stacks
from ecomdw.infra.deploy import apply_stack
from ecomdw.infra.synth import SynthesizedStack, stacks

pytestmark = [pytest.mark.integration, pytest.mark.ecomdw_emulation]


def emulator_clients(endpoint: str, account_id: str) -> Any:
    """Clients into one emulated account."""

    def clients(service: str, region: str) -> Any:
        session_class: Any = boto3.session.Session
        client = session_class(region_name=region, **EMULATOR_CREDENTIALS).client(
            service, endpoint_url=endpoint
        )
        return in_account(client, account_id)

    return clients


@pytest.fixture(scope="module")
def local_stacks(emulator_endpoint: str) -> list[SynthesizedStack]:
    synthesized = stacks(Environment.LOCAL, Settings(endpoint_url=emulator_endpoint))
    clients = emulator_clients(emulator_endpoint, "123456789012")
    # test_run_deployment may have deployed these very templates into the session's emulator.
    outcomes = {apply_stack(clients, stack) for stack in synthesized}
    assert outcomes in ({"created"}, {"unchanged"})
    return synthesized


@pytest.fixture(scope="module")
def verification(emulator_endpoint: str, local_stacks: list[SynthesizedStack]) -> Verification:
    return verify_stacks(emulator_endpoint, [(s.name, s.region, s.template) for s in local_stacks])


def test_every_resource_is_read_back_as_its_template_declares(
    verification: Verification, local_stacks: list[SynthesizedStack]
) -> None:
    declared = sum(len(s.template["Resources"]) for s in local_stacks)
    assert len(verification.checks) == declared
    assert [(c.stack, c.logical_id, c.error or c.mismatches) for c in verification.failures] == []
    assert all(c.compared for c in verification.checks if c.verified)


def test_what_is_not_emulated_is_exactly_the_reasoned_list(verification: Verification) -> None:
    assert verification.not_emulated_types == set(NOT_EMULATED)
    unread = {(c.resource_type, p) for c in verification.checks for p in c.not_readable}
    reasoned = {
        (resource_type, path.split(".")[0])
        for resource_type, known in RESOURCE_TYPES.items()
        for path in known.unreadable
        if "." not in path
    }
    assert unread == reasoned


LOCAL_TABLE = [
    ("AWS::Backup::BackupPlan", BY_ECOMDW, 1, 1, 2),
    ("AWS::Backup::BackupVault", BY_ECOMDW, 2, 2, 5),
    ("AWS::Budgets::Budget", BY_ECOMDW, 1, 1, 2),
    ("AWS::CloudTrail::Trail", BY_ECOMDW, 1, 1, 10),
    ("AWS::CloudWatch::Alarm", BY_ECOMDW, 5, 5, 65),
    ("AWS::Config::ConfigRule", BY_ECOMDW, 5, 5, 10),
    ("AWS::Config::ConfigurationRecorder", BY_ECOMDW, 1, 1, 2),
    ("AWS::Config::DeliveryChannel", BY_ECOMDW, 1, 1, 4),
    ("AWS::EC2::RouteTable", BY_ECOMDW, 1, 1, 2),
    ("AWS::EC2::SecurityGroup", BY_ECOMDW, 3, 3, 13),
    ("AWS::EC2::SecurityGroupEgress", BY_ECOMDW, 2, 2, 12),
    ("AWS::EC2::SecurityGroupIngress", BY_ECOMDW, 2, 2, 12),
    ("AWS::EC2::Subnet", BY_ECOMDW, 2, 2, 8),
    ("AWS::EC2::SubnetRouteTableAssociation", BY_ECOMDW, 2, 2, 4),
    ("AWS::EC2::VPC", BY_ECOMDW, 1, 1, 4),
    ("AWS::Glue::Connection", BY_ECOMDW, 1, 1, 2),
    ("AWS::Glue::Crawler", BY_ECOMDW, 1, 1, 8),
    ("AWS::Glue::Database", BY_ECOMDW, 1, 1, 2),
    ("AWS::Glue::Job", BY_ECOMDW, 5, 5, 70),
    ("AWS::Glue::SecurityConfiguration", BY_ECOMDW, 1, 1, 2),
    ("AWS::Glue::Trigger", BY_ECOMDW, 6, 6, 36),
    ("AWS::Glue::Workflow", BY_ECOMDW, 1, 1, 4),
    ("AWS::GuardDuty::Detector", BY_ECOMDW, 1, 1, 4),
    ("AWS::IAM::OIDCProvider", BY_ECOMDW, 1, 1, 4),
    ("AWS::IAM::Role", BY_ECOMDW, 13, 13, 44),
    ("AWS::KMS::Key", BY_ECOMDW, 3, 3, 12),
    ("AWS::Logs::LogGroup", BY_ECOMDW, 5, 5, 20),
    ("AWS::Redshift::Cluster", BY_ECOMDW, 1, 1, 20),
    ("AWS::Redshift::ClusterParameterGroup", BY_ECOMDW, 1, 1, 3),
    ("AWS::Redshift::ClusterSubnetGroup", BY_ECOMDW, 1, 1, 3),
    ("AWS::S3::Bucket", BY_ECOMDW, 5, 5, 38),
    ("AWS::S3::BucketPolicy", BY_ECOMDW, 5, 5, 10),
    ("AWS::SNS::Topic", BY_ECOMDW, 1, 1, 3),
    ("AWS::SNS::TopicPolicy", BY_ECOMDW, 1, 1, 2),
    ("AWS::Scheduler::Schedule", BY_ECOMDW, 1, 1, 5),
    ("AWS::SecurityHub::Hub", BY_ECOMDW, 1, 1, 2),
    ("AWS::StepFunctions::StateMachine", BY_ECOMDW, 1, 1, 7),
    ("AWS::CloudWatch::Dashboard", BY_EMULATOR, 1, 1, 2),
    ("AWS::EC2::FlowLog", BY_EMULATOR, 1, 1, 6),
    ("AWS::EC2::VPCEndpoint", BY_EMULATOR, 6, 6, 34),
    ("AWS::Events::Rule", BY_EMULATOR, 1, 1, 5),
    ("AWS::KMS::Alias", BY_EMULATOR, 3, 3, 6),
    ("AWS::Backup::BackupSelection", NOT_EMULATED_ORIGIN, 1, 0, 0),
    ("AWS::Redshift::ScheduledAction", NOT_EMULATED_ORIGIN, 2, 0, 0),
    ("AWS::SecurityHub::Standard", NOT_EMULATED_ORIGIN, 2, 0, 0),
]
"""The verification table `ecomdw infra deploy --env local` prints: (type, origin, resources,
verified, properties compared). A change to the stacks or to the emulation changes it here."""

LOCAL_NOT_EMULATED = [
    ("ecomdw-local-compliance", "CisBenchmarkStandard", "AWS::SecurityHub::Standard"),
    ("ecomdw-local-compliance", "FoundationalBestPracticesStandard", "AWS::SecurityHub::Standard"),
    ("ecomdw-local-backup", "BackupSelection", "AWS::Backup::BackupSelection"),
    ("ecomdw-local-cost", "PauseWarehouse", "AWS::Redshift::ScheduledAction"),
    ("ecomdw-local-cost", "ResumeWarehouse", "AWS::Redshift::ScheduledAction"),
]


def test_the_local_table_is_as_pinned(verification: Verification) -> None:
    assert verification.table() == LOCAL_TABLE
    not_emulated = [
        (c.stack, c.logical_id, c.resource_type)
        for c in verification.checks
        if c.origin == NOT_EMULATED_ORIGIN
    ]
    assert not_emulated == LOCAL_NOT_EMULATED
    assert all(NOT_EMULATED[resource_type] for _, _, resource_type in not_emulated)


def test_a_resource_changed_behind_the_stacks_back_is_caught(
    emulator_endpoint: str, local_stacks: list[SynthesizedStack]
) -> None:
    catalog = next(s for s in local_stacks if s.concern == "catalog")
    logical_id, log_group = next(
        (logical_id, r["Properties"])
        for logical_id, r in catalog.template["Resources"].items()
        if r["Type"] == "AWS::Logs::LogGroup"
    )
    logs = emulator_clients(emulator_endpoint, "123456789012")("logs", catalog.region)
    name, retention = log_group["LogGroupName"], log_group["RetentionInDays"]
    logs.put_retention_policy(logGroupName=name, retentionInDays=retention * 2)
    try:
        stack = [(catalog.name, catalog.region, catalog.template)]
        failures = verify_stacks(emulator_endpoint, stack).failures
    finally:
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    assert [(c.logical_id, c.mismatches) for c in failures] == [
        (logical_id, (f"RetentionInDays: template {retention}, API {retention * 2}",))
    ]
