"""Glue 5.0's special job parameters: which the emulator honours, and which Glue 5.0 ignores.

AWS Glue developer guide, "Using job parameters in AWS Glue jobs" (the job parameter reference)
and "Logging for AWS Glue jobs" (Glue 5.0 logs in real time to `/aws-glue/jobs/output` and
`/error`, or `<--custom-logGroup-prefix>/output` and `/error`; the continuous-logging parameters
are for Glue 4.0 and earlier). A parameter Glue 5.0 ignores is run without, as Glue does, and
named in the run's error log, so a template that relies on it is seen to be wrong here, not on
AWS. Parameters for a script's own use (any other `--name`) pass through untouched.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

OUTPUT_LOG_GROUP = "/aws-glue/jobs/output"
ERROR_LOG_GROUP = "/aws-glue/jobs/error"
MAX_ARGUMENTS_BYTES = 260 * 1024
"""Glue refuses job arguments larger than this in total (the job parameter reference)."""
LOG_PREFIX_PATTERN = re.compile(r"[^:*]{1,400}")
"""What `--custom-logGroup-prefix` and `--custom-logStream-prefix` may be ("Logging for AWS
Glue jobs": at most 400 characters, no `:` or `*`)."""

IGNORED_IN_GLUE_5 = {
    "--enable-continuous-cloudwatch-log": "continuous logging is Glue 4.0 and earlier; Glue 5.0 "
    "logs in real time to /aws-glue/jobs/output and /error (set --custom-logGroup-prefix for "
    "groups of your own)",
    "--enable-continuous-log-filter": "continuous logging is Glue 4.0 and earlier",
    "--continuous-log-logGroup": "Glue 5.0 ignores it: its logs go to <--custom-logGroup-prefix>"
    "/output and /error",
    "--continuous-log-logStreamPrefix": "Glue 5.0 takes --custom-logStream-prefix instead",
    "--continuous-log-conversionPattern": "continuous logging is Glue 4.0 and earlier",
}
INTERNAL = ("--JOB_ID", "--JOB_RUN_ID", "--JOB_NAME")
"""Set by Glue itself for every run ("Internal to AWS Glue. Do not set"): its own value wins."""
NOT_EMULATED_LANGUAGES = ("scala",)


class JobArgumentError(ValueError):
    """Arguments Glue would refuse: the run fails before its script starts."""


@dataclass(frozen=True)
class JobParameters:
    """A run's merged arguments, read as Glue 5.0 reads its special parameters."""

    arguments: Mapping[str, str]

    def _list(self, name: str) -> list[str]:
        value = self.arguments.get(name, "")
        return [item.strip() for item in value.split(",") if item.strip()]

    @property
    def extra_py_files(self) -> list[str]:
        return self._list("--extra-py-files")

    @property
    def extra_files(self) -> list[str]:
        return self._list("--extra-files")

    @property
    def extra_jars(self) -> list[str]:
        return self._list("--extra-jars")

    @property
    def additional_python_modules(self) -> list[str]:
        return self._list("--additional-python-modules")

    @property
    def installer_options(self) -> list[str]:
        return shlex.split(self.arguments.get("--python-modules-installer-option", ""))

    @property
    def spark_conf(self) -> dict[str, str]:
        """`--conf k=v --conf k2=v2` (the value of one `--conf` argument holds the rest)."""
        value = self.arguments.get("--conf", "")
        words = [word for word in shlex.split(value) if word != "--conf"]
        pairs = (word.split("=", 1) for word in words if "=" in word)
        return {key.strip(): setting.strip() for key, setting in pairs}

    @property
    def runs_warm(self) -> bool:
        """Whether a warm driver can run it: a run that adds jars or sets Spark settings a
        running context cannot take (any but SQL ones) needs a Spark of its own."""
        return not self.extra_jars and all(key.startswith("spark.sql.") for key in self.spark_conf)

    @property
    def log_groups(self) -> tuple[str, str]:
        """(output, error) log group names."""
        prefix = self.arguments.get("--custom-logGroup-prefix")
        if not prefix:
            return OUTPUT_LOG_GROUP, ERROR_LOG_GROUP
        return f"{prefix.rstrip('/')}/output", f"{prefix.rstrip('/')}/error"

    @property
    def log_group_name(self) -> str:
        """What GetJobRun reports as `LogGroupName`."""
        return self.arguments.get("--custom-logGroup-prefix") or "/aws-glue/jobs"

    def log_stream(self, run_id: str) -> str:
        """The driver's log stream: the run id, or `<--custom-logStream-prefix>-driver`."""
        prefix = self.arguments.get("--custom-logStream-prefix")
        return f"{prefix}-driver" if prefix else run_id

    def script_arguments(self) -> dict[str, str]:
        """What the script's argv carries: every argument but those Glue sets itself."""
        return {key: value for key, value in self.arguments.items() if key not in INTERNAL}

    def check(self) -> list[str]:
        """Raise `JobArgumentError` for what Glue refuses; return a warning per argument Glue
        5.0 ignores."""
        size = sum(len(key.encode()) + len(value.encode()) for key, value in self.arguments.items())
        if size > MAX_ARGUMENTS_BYTES:
            raise JobArgumentError(
                f"job arguments are {size} bytes; Glue accepts at most {MAX_ARGUMENTS_BYTES}"
            )
        for name in ("--custom-logGroup-prefix", "--custom-logStream-prefix"):
            value = self.arguments.get(name)
            if value is not None and not LOG_PREFIX_PATTERN.fullmatch(value):
                raise JobArgumentError(
                    f"{name} {value!r}: 1 to 400 characters, none of them ':' or '*'"
                )
        language = self.arguments.get("--job-language", "python").lower()
        if language in NOT_EMULATED_LANGUAGES:
            raise JobArgumentError(f"--job-language {language}: only Python jobs are emulated")
        return [
            f"{name} is ignored by Glue 5.0: {reason}"
            for name, reason in IGNORED_IN_GLUE_5.items()
            if name in self.arguments
        ]
