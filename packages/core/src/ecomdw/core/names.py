"""Every AWS resource name ecomdw uses, derived from the environment and region.

Kept apart from the settings so that code which ships to Glue (the pipeline definition, the
job scripts) can name resources without importing pydantic, which Glue 5.0 does not provide.
"""

from __future__ import annotations

from enum import StrEnum

PROJECT = "ecomdw"
EMULATOR_ACCOUNT_ID = "123456789012"


class Environment(StrEnum):
    LOCAL = "local"
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class ResourceNames:
    """Every AWS resource name, derived from environment and region."""

    def __init__(self, env: Environment, region: str) -> None:
        self.env = env
        self.region = region
        self.prefix = f"{PROJECT}-{env.value}"

    def bucket(self, purpose: str) -> str:
        """S3 bucket names are global: the region keeps environments in two regions apart."""
        return f"{self.prefix}-{purpose}-{self.region}"

    @property
    def raw_bucket(self) -> str:
        return self.bucket("raw")

    @property
    def processed_bucket(self) -> str:
        return self.bucket("processed")

    @property
    def scripts_bucket(self) -> str:
        return self.bucket("scripts")

    @property
    def logs_bucket(self) -> str:
        return self.bucket("logs")

    @property
    def glue_database(self) -> str:
        return f"{PROJECT}_{self.env.value}"

    def glue_job(self, stage: str) -> str:
        return f"{self.prefix}-{stage}"

    @property
    def glue_crawler(self) -> str:
        return f"{self.prefix}-processed"

    @property
    def glue_workflow(self) -> str:
        return f"{self.prefix}-etl"

    @property
    def redshift_cluster(self) -> str:
        return f"{self.prefix}-warehouse"

    @property
    def redshift_database(self) -> str:
        return PROJECT

    @property
    def state_machine(self) -> str:
        return f"{self.prefix}-pipeline"

    def stack(self, concern: str) -> str:
        return f"{self.prefix}-{concern}"
