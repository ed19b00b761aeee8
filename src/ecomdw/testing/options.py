"""The plugin's target names and the variables it reads: no import beyond the standard library
and ecomdw's resource names, so that loading the plugin costs a pytest session nothing."""

from __future__ import annotations

from enum import StrEnum

from ecomdw.core.names import EMULATOR_ACCOUNT_ID


class Target(StrEnum):
    EMULATOR = "emulator"
    LOCALSTACK = "localstack"
    AWS = "aws"


TARGET_VARIABLE = "ECOMDW_TEST_TARGET"
"""The default of `--ecomdw-target`."""
BUCKET_VARIABLE = "ECOMDW_TEST_BUCKET"
"""On `aws`: the bucket job scripts and COPY's files go to (each test under a prefix of its own)."""
GLUE_ROLE_VARIABLE = "ECOMDW_TEST_GLUE_ROLE"
"""On `aws`: the role ARN `glue_job`'s jobs run as."""
STATES_ROLE_VARIABLE = "ECOMDW_TEST_STATES_ROLE"
"""On `aws`: the role ARN `state_machine`'s state machines run as."""
REDSHIFT_VARIABLES = {
    "cluster_identifier": "ECOMDW_TEST_REDSHIFT_CLUSTER",
    "workgroup_name": "ECOMDW_TEST_REDSHIFT_WORKGROUP",
    "database": "ECOMDW_TEST_REDSHIFT_DATABASE",
    "db_user": "ECOMDW_TEST_REDSHIFT_DB_USER",
    "secret_arn": "ECOMDW_TEST_REDSHIFT_SECRET_ARN",
}
"""On `aws`: the warehouse `redshift` runs SQL on, through the Data API."""
REDSHIFT_ROLE_VARIABLE = "ECOMDW_TEST_REDSHIFT_COPY_ROLE"
"""On `aws`: the IAM_ROLE of `redshift.load`'s COPY (default: the cluster's `default`)."""
EMULATED_ROLE = f"arn:aws:iam::{EMULATOR_ACCOUNT_ID}:role/ecomdw-tests"
"""The role of jobs and state machines in an emulator, which checks no permission."""
SCRATCH_PREFIX = "ecomdw-tests"
