import json
from pathlib import Path

import pytest

from ecomdw.core.aws import EndpointMissingError, client, duckdb_s3_secret_sql, spark_s3_conf
from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings

pytestmark = pytest.mark.unit


def test_resource_names_follow_environment_and_region() -> None:
    dev = Settings(env=Environment.DEV, region="eu-west-1")
    prod = Settings(env=Environment.PROD, region="eu-west-1")
    assert dev.names.raw_bucket == "ecomdw-dev-raw-eu-west-1"
    assert prod.names.raw_bucket == "ecomdw-prod-raw-eu-west-1"
    assert dev.names.glue_job("stage") == "ecomdw-dev-stage"
    assert dev.names.glue_database == "ecomdw_dev"


def test_env_vars_override_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "ecomdw.toml"
    config.write_text('env = "staging"\nregion = "eu-central-1"\n')
    monkeypatch.setenv("ECOMDW_CONFIG", str(config))
    assert Settings().env is Environment.STAGING
    monkeypatch.setenv("ECOMDW_REGION", "ap-southeast-2")
    settings = Settings()
    assert (settings.env, settings.region) == (Environment.STAGING, "ap-southeast-2")


def test_local_without_emulator_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EndpointMissingError, match="ecomdw emulator up"):
        client("s3", Settings(home=tmp_path))


def test_local_endpoint_comes_from_the_long_lived_emulator(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    settings.emulator_state_file.parent.mkdir(parents=True, exist_ok=True)
    settings.emulator_state_file.write_text(
        json.dumps({"pid": 1, "endpoint": "http://127.0.0.1:5"})
    )
    assert client("s3", settings).meta.endpoint_url == "http://127.0.0.1:5"


def test_every_client_kind_gets_the_same_endpoint() -> None:
    settings = Settings(endpoint_url="http://127.0.0.1:4566")
    assert spark_s3_conf(settings)["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:4566"
    assert "ENDPOINT '127.0.0.1:4566'" in duckdb_s3_secret_sql(settings)
    assert client("glue", settings).meta.endpoint_url == "http://127.0.0.1:4566"


def test_aws_environments_use_aws_endpoints() -> None:
    settings = Settings(env=Environment.PROD, region="eu-west-1")
    assert client("s3", settings).meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    assert "spark.hadoop.fs.s3a.endpoint" not in spark_s3_conf(settings)


def test_an_aws_environment_given_an_endpoint_keeps_its_credential_chain() -> None:
    """A private endpoint, or a stand-in for AWS: the endpoint is used, no key is fixed."""
    settings = Settings(env=Environment.DEV, endpoint_url="http://127.0.0.1:4566")
    conf = spark_s3_conf(settings)
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:4566"
    assert "spark.hadoop.fs.s3a.access.key" not in conf
    assert "spark.hadoop.fs.s3a.aws.credentials.provider" not in conf
    secret = duckdb_s3_secret_sql(settings)
    assert "PROVIDER credential_chain" in secret
    assert "ENDPOINT '127.0.0.1:4566'" in secret
    assert "KEY_ID" not in secret
