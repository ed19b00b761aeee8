"""boto3 clients of the emulator, each in the emulated account it names."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from ecomdw.core.aws import EMULATOR_CREDENTIALS

MOTO_ACCOUNT_HEADER = "x-moto-account-id"


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
def cached_client(endpoint: str, region: str, service: str, account_id: str) -> Any:
    """A shared client whose every request is tried once: the emulator answers or it does not."""
    return emulator_client(endpoint, region, service, account_id, retries={"max_attempts": 1})


def in_account(client: Any, account_id: str) -> Any:
    """`client`, its every request served by the emulated account `account_id`.

    moto serves the account whose IAM issued the request's access key (an assumed role's
    session, as a deploy has), else its default account; this header names the account outright.
    """

    def add_header(request: Any, **_: Any) -> None:
        request.headers[MOTO_ACCOUNT_HEADER] = account_id

    client.meta.events.register("before-sign.*.*", add_header)
    return client
