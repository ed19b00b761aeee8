"""Settings and environments.

`local` is the embedded emulator on this machine; `dev`, `staging` and `prod` are AWS accounts.
Values come from `ECOMDW_*` environment variables, then an optional TOML file
(`ECOMDW_CONFIG`, default `./ecomdw.toml`), then the defaults below. Resource names are
derived from the environment, never written out twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ecomdw.core.names import Environment, ResourceNames


def _config_file() -> Path:
    return Path(os.environ.get("ECOMDW_CONFIG", "ecomdw.toml"))


class Settings(BaseSettings):
    """Where ecomdw runs and what it talks to."""

    model_config = SettingsConfigDict(env_prefix="ECOMDW_", extra="ignore", frozen=True)

    env: Environment = Environment.LOCAL
    region: str = "us-east-1"
    backup_region: str = "us-west-2"
    endpoint_url: str | None = Field(
        default=None,
        description="AWS endpoint (the emulator's URL); None on AWS. Unset in `local` means "
        "the embedded emulator supplies it when it starts.",
    )
    spark_master: str = "local[*]"
    glue_driver: Literal["warm", "cold"] = Field(
        default="warm",
        description="How the emulated Glue runs a job: on a Spark driver kept running between "
        "runs (`warm`), or on a Spark of its own started for the run, as on Glue (`cold`).",
    )
    home: Path = Field(
        default=Path(".ecomdw"),
        description="Where local state lives: warehouse file, reports, emulator state.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    @property
    def emulated(self) -> bool:
        return self.env is Environment.LOCAL

    @property
    def names(self) -> ResourceNames:
        return ResourceNames(self.env, self.region)

    @property
    def warehouse_file(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def emulator_state_file(self) -> Path:
        """Written by `ecomdw emulator up`: the long-lived emulator's pid and endpoint."""
        return self.home / "emulator.json"

    def resolved_endpoint(self) -> str | None:
        """The endpoint to use: the setting, else (locally) the long-lived emulator's."""
        if self.endpoint_url or not self.emulated:
            return self.endpoint_url
        try:
            state = json.loads(self.emulator_state_file.read_text())
        except (OSError, ValueError):
            return None
        endpoint = state.get("endpoint")
        return endpoint if isinstance(endpoint, str) else None


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
