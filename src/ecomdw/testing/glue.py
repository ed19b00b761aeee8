"""`glue_job`: a script run as a Glue 5.0 job, through Glue's own API, to its end.

The script is uploaded, a job is created for it (`glueetl`, Glue 5.0) and started with the
arguments given, exactly as a deploy and a scheduler would; in the emulator the run executes on
local Spark in Glue 5.0's Python environment (`ecomdw.emulation.services.glue.jobs`), so an
import Glue lacks fails here as it would on AWS. What comes back is the finished run: its
state, Glue's error message, the script's output and error log lines, and how long it ran.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecomdw.emulation.services.glue.arguments import ERROR_LOG_GROUP, OUTPUT_LOG_GROUP
from ecomdw.testing.options import GLUE_ROLE_VARIABLE
from ecomdw.testing.targets import AwsAccount

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"})
GLUE_VERSION = "5.0"


@dataclass(frozen=True)
class GlueJobRun:
    """A finished job run, as `GetJobRun` and the run's log streams describe it."""

    job_name: str
    run_id: str
    state: str
    error: str | None
    duration: float
    """Seconds from the run's start to its end, as Glue timed it."""
    arguments: Mapping[str, str]
    logs: tuple[str, ...]
    """The script's output (stdout and stderr): `/aws-glue/jobs/output`."""
    error_logs: tuple[str, ...] = field(default=())
    """Glue's account of the run (warnings, the traceback): `/aws-glue/jobs/error`."""

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


def script_text(script: str | Path) -> tuple[str, str]:
    """(file name, source) of a script given as a path, or as its text (dedented).

    A `Path`, or a one-line string ending in `.py`, is a file; any other string is the script.
    """
    if isinstance(script, Path) or ("\n" not in script and script.endswith(".py")):
        path = Path(script)
        return path.name, path.read_text()
    return "script.py", textwrap.dedent(script)


class GlueJobs:
    """The `glue_job` factory: `glue_job(script, {"--key": "value"}) -> GlueJobRun`; also
    `glue_job.deploy(script) -> job name` and `glue_job.run(job name, arguments)`."""

    def __init__(self, account: AwsAccount, poll_seconds: float = 0.2) -> None:
        self.account = account
        self.poll_seconds = poll_seconds
        self._count = 0

    def __call__(
        self,
        script: str | Path,
        arguments: Mapping[str, str] | None = None,
        *,
        timeout_seconds: float = 600,
        **job: Any,
    ) -> GlueJobRun:
        """Deploy `script` as a Glue 5.0 job (`deploy`, which takes `job`), run it with
        `arguments`, and wait for the run's end."""
        return self.run(self.deploy(script, **job), arguments, timeout_seconds=timeout_seconds)

    def deploy(
        self,
        script: str | Path,
        *,
        name: str | None = None,
        default_arguments: Mapping[str, str] | None = None,
        extra_py_files: Sequence[Path] = (),
        **job: Any,
    ) -> str:
        """Upload `script` and create a Glue 5.0 job that runs it, without running it (for a
        state machine or trigger to start); the job's name.

        `extra_py_files` are uploaded and given as `--extra-py-files`; `job` holds more
        `CreateJob` fields (`Timeout`, `MaxRetries`, `NumberOfWorkers`, ...).
        """
        self._count += 1
        job_name = name or self.account.unique(f"job{self._count}")
        file_name, source = script_text(script)
        defaults = dict(default_arguments or {})
        if extra_py_files:
            defaults["--extra-py-files"] = ",".join(
                self._upload(f"{job_name}/py/{path.name}", path.read_bytes())
                for path in extra_py_files
            )
        location = self._upload(f"{job_name}/{file_name}", source.encode())
        self.account("glue").create_job(
            Name=job_name,
            Role=self.account.target.role(GLUE_ROLE_VARIABLE, "the role ARN Glue jobs run as"),
            Command={"Name": "glueetl", "ScriptLocation": location, "PythonVersion": "3"},
            GlueVersion=GLUE_VERSION,
            DefaultArguments=defaults,
            **job,
        )
        return job_name

    def run(
        self,
        job_name: str,
        arguments: Mapping[str, str] | None = None,
        *,
        timeout_seconds: float = 600,
    ) -> GlueJobRun:
        """Start a run of the job `job_name` with `arguments` and wait for its end."""
        glue = self.account("glue")
        run_id = glue.start_job_run(JobName=job_name, Arguments=dict(arguments or {}))["JobRunId"]
        run = self._wait(job_name, run_id, timeout_seconds)
        started, completed = run.get("StartedOn"), run.get("CompletedOn")
        return GlueJobRun(
            job_name=job_name,
            run_id=run_id,
            state=run["JobRunState"],
            error=run.get("ErrorMessage"),
            duration=(completed - started).total_seconds() if started and completed else 0.0,
            arguments=dict(run.get("Arguments") or {}),
            logs=self._log(OUTPUT_LOG_GROUP, run_id),
            error_logs=self._log(ERROR_LOG_GROUP, run_id),
        )

    def _upload(self, relative: str, body: bytes) -> str:
        scratch = self.account.scratch
        key = scratch.key(f"glue/{relative}")
        self.account("s3").put_object(Bucket=scratch.bucket, Key=key, Body=body)
        return f"s3://{scratch.bucket}/{key}"

    def _wait(self, job_name: str, run_id: str, timeout_seconds: float) -> dict[str, Any]:
        glue = self.account("glue")
        deadline = time.monotonic() + timeout_seconds
        while True:
            run: dict[str, Any] = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
            if run["JobRunState"] in FINAL_STATES:
                return run
            if time.monotonic() > deadline:
                glue.batch_stop_job_run(JobName=job_name, JobRunIds=[run_id])
                raise TimeoutError(
                    f"Glue job {job_name} run {run_id} still {run['JobRunState']} after "
                    f"{timeout_seconds:.0f}s: stopped"
                )
            time.sleep(self.poll_seconds)

    def _log(self, group: str, run_id: str) -> tuple[str, ...]:
        """Every line of the run's stream in `group` (none if the run wrote none there)."""
        logs = self.account("logs")
        lines: list[str] = []
        request: dict[str, Any] = {
            "logGroupName": group,
            "logStreamName": run_id,
            "startFromHead": True,
        }
        while True:
            try:
                page = logs.get_log_events(**request)
            except logs.exceptions.ResourceNotFoundException:
                return tuple(lines)
            lines += [event["message"] for event in page["events"]]
            token = page.get("nextForwardToken")
            if not page["events"] or token == request.get("nextToken"):
                return tuple(lines)
            request["nextToken"] = token
