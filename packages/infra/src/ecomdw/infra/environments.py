"""Every per-environment parameter of the stacks, in one place.

`local` is the emulator: it gets the same templates as `dev`, sized like `dev`, so what is
verified locally is what dev deploys. A change to one value here shows up as exactly that
change in the change set of the environment it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ecomdw.core.names import Environment

CI_REPOSITORY = "ecomdw/ecomdw"
"""The GitHub repository whose Actions workflows may assume the CI deploy role."""

WORKDAYS = "MON-FRI"
EVERY_DAY = "*"


@dataclass(frozen=True)
class ProvisionedWarehouse:
    """A provisioned Redshift cluster (ra3: managed storage, so pausing keeps the data)."""

    node_type: str = "ra3.xlplus"
    nodes: int = 2


@dataclass(frozen=True)
class ServerlessWarehouse:
    """Redshift Serverless: pays per RPU-second, so it needs no pause/resume schedule."""

    base_capacity_rpus: int = 8
    max_capacity_rpus: int = 64


@dataclass(frozen=True)
class GlueSizing:
    """Workers and limits for every Glue job of the environment."""

    worker_type: str
    workers: int
    timeout_minutes: int
    max_retries: int


@dataclass(frozen=True)
class PauseResume:
    """Hours (UTC) the provisioned warehouse runs on `days`; paused outside them.

    The warehouse resumes before the nightly jobs (`PIPELINE`'s schedules) so the load finds it
    running, and the pipeline runs on the same days.
    """

    resume_hour_utc: int
    pause_hour_utc: int
    days: str = WORKDAYS


@dataclass(frozen=True)
class EnvironmentParameters:
    glue: GlueSizing
    warehouse: ProvisionedWarehouse | ServerlessWarehouse
    pause_resume: PauseResume | None
    log_retention_days: int
    raw_expiry_days: int
    processed_expiry_days: int
    logs_expiry_days: int
    snapshot_retention_days: int
    backup_retention_days: int
    monthly_budget_usd: int
    run_duration_alarm_minutes: int
    data_quality_score_floor: float = 0.95
    promotes_to: Environment | None = None
    """The environment promoted from this one: what passes here goes there next."""
    processed_bucket_kms: bool = True
    """SSE-KMS on the processed bucket (else SSE-S3). Off only in the emulator, reached over
    plain HTTP: Spark's S3A commits a file by copying it, passes the source's KMS key to the
    copy, and the AWS SDK refuses to send KMS parameters over anything but HTTPS."""

    @property
    def schedule_days(self) -> str:
        """The days the nightly schedules run: only when the warehouse is up."""
        return self.pause_resume.days if self.pause_resume else EVERY_DAY


_DEV = EnvironmentParameters(
    glue=GlueSizing(worker_type="G.1X", workers=2, timeout_minutes=60, max_retries=0),
    warehouse=ProvisionedWarehouse(node_type="ra3.xlplus", nodes=1),
    pause_resume=PauseResume(resume_hour_utc=1, pause_hour_utc=19),
    log_retention_days=30,
    raw_expiry_days=90,
    processed_expiry_days=90,
    logs_expiry_days=90,
    snapshot_retention_days=1,
    backup_retention_days=7,
    monthly_budget_usd=300,
    run_duration_alarm_minutes=120,
    promotes_to=Environment.STAGING,
)

PARAMETERS: dict[Environment, EnvironmentParameters] = {
    Environment.LOCAL: replace(_DEV, processed_bucket_kms=False),
    Environment.DEV: _DEV,
    Environment.STAGING: EnvironmentParameters(
        glue=GlueSizing(worker_type="G.1X", workers=5, timeout_minutes=120, max_retries=1),
        warehouse=ProvisionedWarehouse(node_type="ra3.xlplus", nodes=2),
        pause_resume=PauseResume(resume_hour_utc=1, pause_hour_utc=19),
        log_retention_days=90,
        raw_expiry_days=365,
        processed_expiry_days=365,
        logs_expiry_days=365,
        snapshot_retention_days=7,
        backup_retention_days=14,
        monthly_budget_usd=1_000,
        run_duration_alarm_minutes=240,
        promotes_to=Environment.PROD,
    ),
    Environment.PROD: EnvironmentParameters(
        glue=GlueSizing(worker_type="G.2X", workers=10, timeout_minutes=180, max_retries=2),
        warehouse=ProvisionedWarehouse(node_type="ra3.4xlarge", nodes=2),
        pause_resume=None,
        log_retention_days=365,
        raw_expiry_days=2_555,
        processed_expiry_days=2_555,
        logs_expiry_days=2_555,
        snapshot_retention_days=35,
        backup_retention_days=35,
        monthly_budget_usd=5_000,
        run_duration_alarm_minutes=360,
        data_quality_score_floor=0.99,
    ),
}


def parameters_for(env: Environment) -> EnvironmentParameters:
    return PARAMETERS[env]
