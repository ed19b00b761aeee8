"""The one AWS client factory: every boto3, pyarrow, DuckDB and Spark client comes from here.

In `local` the endpoint is the emulator's and credentials are fixed dummies; on AWS the
endpoint is AWS's own and credentials come from the default chain. Callers never see which.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from ecomdw.core.errors import UserError
from ecomdw.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from pyarrow.fs import S3FileSystem

EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class EndpointMissingError(UserError):
    """`local` needs a running emulator and none was given."""


def _endpoint(settings: Settings) -> str | None:
    endpoint = settings.resolved_endpoint()
    if settings.emulated and not endpoint:
        raise EndpointMissingError(
            "no emulator is running: start one with `ecomdw emulator up`, or point "
            "ECOMDW_ENDPOINT_URL at one"
        )
    return endpoint


def _credentials(settings: Settings) -> dict[str, str]:
    return _session_credentials(settings.emulated)


def client(service: str, settings: Settings | None = None) -> Any:
    """A boto3 client for `service`, pointed at the emulator or at AWS."""
    settings = settings or load_settings()
    return _cached_client(service, settings.region, _endpoint(settings), settings.emulated)


@lru_cache(maxsize=64)
def _cached_client(service: str, region: str, endpoint: str | None, emulated: bool) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    if emulated:
        config = config.merge(Config(s3={"addressing_style": "path"}))
    # Session.client is typed per service name; the factory serves every service.
    session: Any = boto3.session.Session
    return session(region_name=region, **_session_credentials(emulated)).client(
        service, endpoint_url=endpoint, config=config
    )


def _session_credentials(emulated: bool) -> dict[str, str]:
    return dict(EMULATOR_CREDENTIALS) if emulated else {}


def s3_filesystem(settings: Settings | None = None) -> S3FileSystem:
    """A pyarrow S3 filesystem on the same endpoint and credentials as the boto3 clients."""
    from pyarrow.fs import S3FileSystem

    settings = settings or load_settings()
    endpoint = _endpoint(settings)
    creds = _credentials(settings)
    if endpoint is None:
        return S3FileSystem(region=settings.region)
    parsed = urlparse(endpoint)
    return S3FileSystem(
        access_key=creds.get("aws_access_key_id"),
        secret_key=creds.get("aws_secret_access_key"),
        region=settings.region,
        endpoint_override=parsed.netloc,
        scheme=parsed.scheme or "http",
        force_virtual_addressing=False,
    )


def duckdb_s3_secret_sql(settings: Settings | None = None) -> str:
    """DuckDB `CREATE SECRET` that makes httpfs read and write the same S3 as boto3."""
    settings = settings or load_settings()
    endpoint = _endpoint(settings)
    if endpoint is None:
        return (
            "CREATE OR REPLACE SECRET ecomdw_s3 "
            f"(TYPE s3, PROVIDER credential_chain, REGION '{settings.region}')"
        )
    parsed = urlparse(endpoint)
    creds = _credentials(settings)
    # An AWS environment given an endpoint (a private one, or a stand-in for AWS) keeps its
    # credential chain; only the emulator's credentials are fixed.
    keys = (
        f"KEY_ID '{creds['aws_access_key_id']}', SECRET '{creds['aws_secret_access_key']}', "
        if creds
        else "PROVIDER credential_chain, "
    )
    return (
        f"CREATE OR REPLACE SECRET ecomdw_s3 (TYPE s3, {keys}"
        f"REGION '{settings.region}', ENDPOINT '{parsed.netloc}', URL_STYLE 'path', "
        f"USE_SSL {'true' if parsed.scheme == 'https' else 'false'})"
    )


def spark_s3_conf(settings: Settings | None = None) -> dict[str, str]:
    """Hadoop S3A settings so that Spark's `s3://` paths reach the same S3 as boto3."""
    settings = settings or load_settings()
    endpoint = _endpoint(settings)
    conf = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        # One rename per file at commit instead of two: on S3 a rename is a copy and a delete.
        "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
    }
    if endpoint is not None:
        conf |= {
            "spark.hadoop.fs.s3a.endpoint": endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.startswith("https")),
        }
    if endpoint is not None and (creds := _credentials(settings)):
        conf |= {
            "spark.hadoop.fs.s3a.access.key": creds["aws_access_key_id"],
            "spark.hadoop.fs.s3a.secret.key": creds["aws_secret_access_key"],
            "spark.hadoop.fs.s3a.aws.credentials.provider": (
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            ),
        }
    return conf
