"""Deploy the stacks into the emulator and read every resource back through its API."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from ecomdw.core.aws import EMULATOR_CREDENTIALS
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings
from ecomdw.emulation.cfn_resources import NOT_EMULATED, NOT_EMULATED_PROPERTIES, in_account
from ecomdw.emulation.cfn_verify import NOT_EMULATED_ORIGIN, Verification, verify_stacks
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
        for resource_type, paths in NOT_EMULATED_PROPERTIES.items()
        for path in paths
        if "." not in path
    }
    assert unread == reasoned


def test_the_table_has_one_row_per_type_with_its_origin(verification: Verification) -> None:
    rows = verification.table()
    assert len(rows) == len({c.resource_type for c in verification.checks})
    origins = {row[0]: row[1] for row in rows}
    assert origins["AWS::Glue::Job"] == "created by ecomdw emulation"
    assert origins["AWS::EC2::VPCEndpoint"] == "created by emulator"
    assert origins["AWS::SecurityHub::Standard"] == NOT_EMULATED_ORIGIN
    assert sum(row[2] for row in rows) == len(verification.checks)


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
