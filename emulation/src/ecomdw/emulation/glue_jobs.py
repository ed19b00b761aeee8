"""Glue job runs that run: `StartJobRun` executes the job's script on local Spark.

moto records a job run and calls it SUCCEEDED at once. Here `StartJobRun` downloads the job's
`Command.ScriptLocation` from the emulated S3 and runs it with this Python, with the argv Glue
gives a script (`--JOB_NAME`, `--JOB_RUN_ID`, then `DefaultArguments` merged with the run's
`Arguments`), so `awsglue.utils.getResolvedOptions` works. The script's own Spark starts on the
settings' master with the S3A connector pointed at the emulator, and its boto3 reaches the
emulator too. The run's state is that of the process: SUCCEEDED, FAILED with the script's
Python error, or TIMEOUT once the job's `Timeout` minutes have passed (the process is killed).
Driver stdout and stderr land in CloudWatch Logs as on AWS: `/aws-glue/jobs/output` and
`/aws-glue/jobs/error`, one stream per run id, written before the run leaves RUNNING.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from moto.core.utils import utcnow
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.glue.models import FakeJob, FakeJobRun

from ecomdw.core.aws import EMULATOR_CREDENTIALS, client, spark_s3_conf
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location
from ecomdw.emulation.cloudwatch_logs import append_lines
from ecomdw.etl.spark import script_environment

OUTPUT_LOG_GROUP = "/aws-glue/jobs/output"
ERROR_LOG_GROUP = "/aws-glue/jobs/error"
DEFAULT_TIMEOUT_MINUTES = 2880  # Glue's default for Spark jobs: 48 hours
MINUTE_SECONDS_VARIABLE = "ECOMDW_GLUE_MINUTE_SECONDS"
"""Seconds in one minute of a job's `Timeout` (60); tests shorten it so a timeout costs seconds."""
ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")


class ExecutedJobRun(FakeJobRun):
    """A moto job run whose state is its script's process, not moto's canned progression."""

    def __init__(self, job: FakeJob, **fields: Any) -> None:
        super().__init__(job_name=job.name, **fields)
        self.glue_version = job.glue_version
        self.state = "RUNNING"
        self.error_message: str | None = None
        self.finished_on: datetime | None = None
        self.execution_seconds = 0

    @property
    def status(self) -> str:
        return self.state

    @status.setter
    def status(self, value: str) -> None:
        self.state = value

    @property
    def timeout_minutes(self) -> int:
        return int(self.timeout or DEFAULT_TIMEOUT_MINUTES)

    def finish(self, state: str, error_message: str | None, execution_seconds: float) -> None:
        self.error_message = error_message
        self.execution_seconds = round(execution_seconds)
        self.finished_on = self.modified_on = utcnow()
        self.state = state

    def as_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = super().as_dict()
        described |= {
            "ExecutionTime": self.execution_seconds,
            "LogGroupName": "/aws-glue/jobs",
            "GlueVersion": self.glue_version,
            "Timeout": self.timeout_minutes,
            "CompletedOn": self.finished_on,
            "ErrorMessage": self.error_message,
        }
        return {key: value for key, value in described.items() if value is not None}


def glue_argv(job_name: str, run_id: str, arguments: Mapping[str, object]) -> list[str]:
    """The script's argv after its path, as Glue builds it: ids first, then `--key value`."""
    argv = ["--JOB_NAME", job_name, "--JOB_RUN_ID", run_id]
    for key, value in arguments.items():
        argv += [key, str(value)]
    return argv


def python_error(stderr: str) -> str | None:
    """The exception line of the last Python traceback in `stderr`, as Glue reports it."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return None
    return next((line for line in lines[starts[-1] + 1 :] if line and not line[0].isspace()), None)


class GlueJobRunner:
    """Runs the scripts of this process's moto Glue jobs against the emulator at `settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def install(self) -> None:
        """Make `StartJobRun` of every moto Glue job in this process run through this runner."""
        runner = self

        def start_job_run(job: FakeJob, **request: Any) -> str:
            return runner.start(job, **request)

        # The one seam: moto's backend and responses stay as they are around it.
        FakeJob.start_job_run = start_job_run  # type: ignore[method-assign,assignment]

    def start(
        self,
        job: FakeJob,
        arguments: dict[str, str] | None = None,
        timeout: int | None = None,
        previous_run_id: str | None = None,
        **capacity: Any,
    ) -> str:
        """Glue's `StartJobRun`: check `MaxConcurrentRuns`, merge arguments, launch the script."""
        active = [run for run in job.job_runs if run.status in ACTIVE_STATES]
        if len(active) >= job.execution_property.get("MaxConcurrentRuns", 1):
            raise ConcurrentRunsExceededException(f"Job with name {job.name} already running")
        merged = {
            **job.default_arguments,
            **(arguments or {}),
            **(job.non_overridable_arguments or {}),
        }
        # Each capacity setting of the request falls back to the job's own.
        run = ExecutedJobRun(
            job,
            arguments=merged,
            timeout=timeout or job.timeout,
            job_run_id=previous_run_id,
            **{name: value or getattr(job, name) for name, value in capacity.items()},
        )
        job.job_runs.append(run)
        settings = self.settings.model_copy(update={"region": job.backend.region_name})
        threading.Thread(
            target=self._execute,
            args=(job, run, settings),
            name=f"glue-{run.job_run_id[:16]}",
            daemon=True,
        ).start()
        return str(run.job_run_id)

    def stop(self) -> None:
        """Kill the scripts still running: their emulator is going away."""
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def _execute(self, job: FakeJob, run: ExecutedJobRun, settings: Settings) -> None:
        started = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="ecomdw-glue-") as workdir:
                state, error = self._run_script(job, run, settings, Path(workdir))
        except Exception as exc:  # the thread's end: the run must not stay RUNNING forever
            state, error = "FAILED", f"ecomdw emulation could not run the job: {exc!r}"
        run.finish(state, error, time.monotonic() - started)

    def _run_script(
        self, job: FakeJob, run: ExecutedJobRun, settings: Settings, workdir: Path
    ) -> tuple[str, str | None]:
        command: Any = job.command  # annotated `str` in moto; it holds the request's Command map
        location = str(command.get("ScriptLocation", ""))
        script = workdir / Path(location).name
        try:
            source = S3Location.parse(location)
            client("s3", settings).download_file(source.bucket, source.prefix, str(script))
        except (ValueError, ClientError) as exc:
            return "FAILED", f"cannot read the job script {location!r}: {exc}"

        argv = [
            sys.executable,
            str(script),
            *glue_argv(job.name, run.job_run_id, run.arguments or {}),
        ]
        stdout, stderr = workdir / "stdout", workdir / "stderr"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                argv,
                cwd=workdir,
                env=self._environment(settings),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # a process group: a timeout kills Spark's JVM too
            )
            timed_out = self._wait(process, run.timeout_minutes * _minute_seconds())
        errors = stderr.read_text(errors="replace")
        output = stdout.read_text(errors="replace")
        append_lines(settings, OUTPUT_LOG_GROUP, run.job_run_id, output.splitlines())
        append_lines(settings, ERROR_LOG_GROUP, run.job_run_id, errors.splitlines())
        if timed_out:
            return "TIMEOUT", f"Job run timed out after {run.timeout_minutes} minutes"
        if process.returncode != 0:
            message = python_error(errors) or f"Command failed with exit code {process.returncode}"
            return "FAILED", message
        return "SUCCEEDED", None

    def _wait(self, process: subprocess.Popen[bytes], timeout_seconds: float) -> bool:
        """Wait for the script; kill its process group at the timeout. True if it timed out."""
        with self._lock:
            self._processes.add(process)
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        finally:
            with self._lock:
                self._processes.discard(process)
        return False

    def _environment(self, settings: Settings) -> dict[str, str]:
        """This process's environment, plus what points the script at the emulator."""
        endpoint = str(settings.endpoint_url)
        return {
            **os.environ,
            **script_environment(settings.spark_master, spark_s3_conf(settings)),
            "ECOMDW_ENV": settings.env.value,
            "ECOMDW_ENDPOINT_URL": endpoint,
            "ECOMDW_REGION": settings.region,
            "ECOMDW_SPARK_MASTER": settings.spark_master,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_REGION": settings.region,
        }


def _minute_seconds() -> float:
    return float(os.environ.get(MINUTE_SECONDS_VARIABLE, "60"))
