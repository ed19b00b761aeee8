"""Glue job runs that run: `StartJobRun` executes the deployed job on local Spark, as Glue 5.0.

moto records a job run and calls it SUCCEEDED at once. Here `StartJobRun` downloads the job's
`Command.ScriptLocation`, its `--extra-py-files`, `--extra-files` and `--extra-jars` from the
emulated S3, installs its `--additional-python-modules`, and runs the script in Glue 5.0's
Python environment (`runtime`: exactly the modules Glue 5.0 provides, at their versions), with
the argv Glue gives a script (`--JOB_NAME`, `--JOB_RUN_ID`, then `DefaultArguments` merged with
the run's `Arguments`), so `awsglue.utils.getResolvedOptions` works. Nothing of the emulator's
own environment is importable: a job that imports a module Glue lacks fails here with the
`ModuleNotFoundError` it would fail with on AWS. The script's Spark starts on the settings'
master with the S3A connector pointed at the emulator, and its boto3 reaches the emulator too;
it runs in UTC, as Glue does. Arguments Glue 5.0 refuses fail the run; those it ignores are
named in the error log (`arguments`).

The run's state is that of the process: SUCCEEDED, FAILED with the script's Python error, or
TIMEOUT once the job's `Timeout` minutes have passed (the process is killed). Logs land in
CloudWatch Logs as Glue 5.0 writes them: the script's stdout and stderr in
`/aws-glue/jobs/output`, the run's own account (warnings, the error) in `/aws-glue/jobs/error`
(or under `--custom-logGroup-prefix`), one stream per run id, written before the run leaves
RUNNING.

`BatchStopJobRun` (which moto lacks) moves a running run to STOPPING, kills its script's process
group, and the run is STOPPED once the process is gone. A FAILED run of a job whose `MaxRetries`
is above zero is followed by a new attempt, as in Glue: a new run id, `Attempt` one higher and
`PreviousRunId` the failed run's, up to `MaxRetries` attempts after the first. Only FAILED runs
are retried here: TIMEOUT and STOPPED are not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import nullcontext, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from moto.core.common_types import TYPE_RESPONSE
from moto.core.utils import utcnow
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.glue.models import FakeJob, FakeJobRun, GlueBackend
from moto.glue.responses import GlueResponse

from ecomdw.core.aws import EMULATOR_CREDENTIALS, client, spark_s3_conf
from ecomdw.core.errors import UserError
from ecomdw.core.settings import Settings
from ecomdw.core.storage import S3Location
from ecomdw.emulation.patching import original, replace
from ecomdw.emulation.services.glue.arguments import JobArgumentError, JobParameters
from ecomdw.emulation.services.glue.runtime import (
    COMMITTER_CLASS,
    COMMITTER_SETTINGS,
    RUNTIMES,
    committer_jar,
    runtime_for,
)
from ecomdw.emulation.services.glue.warm.pool import WarmDriver, WarmDrivers, attach_folder
from ecomdw.emulation.services.logs.writing import append_lines
from ecomdw.emulation.state import RUNNING
from ecomdw.etl.spark import java_home, script_environment

EMULATED_COMMANDS = ("glueetl",)
"""`Command.Name`s whose runs execute: Spark ETL jobs (not Python shell, streaming or Ray)."""
KEPT_VARIABLES = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR")
"""The only variables of the emulator's own environment a job script sees."""
DEFAULT_TIMEOUT_MINUTES = 2880  # Glue's default for Spark jobs: 48 hours
MINUTE_SECONDS_VARIABLE = "ECOMDW_GLUE_MINUTE_SECONDS"
"""Seconds in one minute of a job's `Timeout` (60); tests shorten it so a timeout costs seconds."""
ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
CAPACITY_FIELDS = (
    "allocated_capacity",
    "max_capacity",
    "worker_type",
    "security_configuration",
    "number_of_workers",
    "notification_property",
)
"""The `StartJobRun` settings that fall back to the job's own, and that a retry keeps."""


class ExecutedJobRun(FakeJobRun):
    """A moto job run whose state is its script's process, not moto's canned progression."""

    def __init__(self, job: FakeJob, attempt: int = 0, **fields: Any) -> None:
        """`job_run_id` in `fields` is moto's name for the run this one repeats (PreviousRunId)."""
        super().__init__(job_name=job.name, **fields)
        self.glue_version = job.glue_version
        self.attempt = attempt
        self.state = "RUNNING"
        self.error_message: str | None = None
        self.finished_on: datetime | None = None
        self.execution_seconds = 0
        self.stop_requested = False
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()  # the stop request against the script's launch

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
        with self.lock:
            self.error_message = error_message
            self.execution_seconds = round(execution_seconds)
            self.finished_on = self.modified_on = utcnow()
            self.state = state

    def next_attempt(self, job: FakeJob) -> ExecutedJobRun:
        """Glue's retry of this failed run: same arguments and capacity, the next attempt."""
        return ExecutedJobRun(
            job,
            attempt=self.attempt + 1,
            arguments=self.arguments,
            timeout=self.timeout,
            job_run_id=self.job_run_id,
            **{name: getattr(self, name) for name in CAPACITY_FIELDS},
        )

    def request_stop(self) -> bool:
        """BatchStopJobRun: STOPPING, and the script's process group killed if it runs yet.
        False if the run has ended already."""
        with self.lock:
            if self.state not in ACTIVE_STATES:
                return False
            self.stop_requested = True
            self.state = "STOPPING"
            self.modified_on = utcnow()
            process = self.process
        if process is not None:
            _kill_group(process)
        return True

    def launched(self, process: subprocess.Popen[bytes]) -> None:
        """Record the script's process; a stop that came first kills it at once."""
        with self.lock:
            self.process = process
            stop = self.stop_requested
        if stop:
            _kill_group(process)

    def as_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = super().as_dict()
        described |= {
            "Attempt": self.attempt,
            "ExecutionTime": self.execution_seconds,
            "LogGroupName": JobParameters(self.arguments or {}).log_group_name,
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


def import_path(py_files: list[str]) -> list[str]:
    """The `sys.path` entries that make `--extra-py-files` importable, as on Glue: an archive
    (zip, wheel, egg) is one itself; a single `.py` module, which Glue takes unzipped, is
    importable from its folder (where only the job's `--extra-py-files` are downloaded)."""
    return list(
        dict.fromkeys(str(Path(path).parent) if path.endswith(".py") else path for path in py_files)
    )


def script_run_environment(
    settings: Settings,
    *,
    python: Path,
    py_files: list[str],
    jars: list[str],
    conf: dict[str, str],
    workdir: Path | None,
) -> dict[str, str]:
    """The environment a job script runs in: Glue's (UTC, nothing importable but `py_files`),
    pointed at the emulator at `settings` (its boto3, and its Spark's master and S3A), its
    writes committed as Glue's EMRFS committer commits them (straight to their destination:
    `DirectOutputCommitter`, where a Java compiler could build it); its temporary files in
    `workdir` (None: the system's)."""
    endpoint = str(settings.endpoint_url)
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    committer = committer_jar(RUNTIMES["5.0"], java_home() / "bin" / "javac")
    writes = dict.fromkeys(COMMITTER_SETTINGS, COMMITTER_CLASS) if committer else {}
    spark = script_environment(
        settings.spark_master,
        {**spark_s3_conf(settings), **writes, **conf},
        python=str(python),
        py_files=py_files,
        jars=jars,
        class_path=[committer] if committer else [],
    )
    return {
        **kept,
        **spark,
        "TZ": "UTC",
        **({"TMPDIR": str(workdir)} if workdir is not None else {}),
        "PYTHONPATH": os.pathsep.join(import_path(py_files)),
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_REGION": settings.region,
    }


def warm_drivers(settings: Settings) -> WarmDrivers | None:
    """Warm Spark drivers for the job runs of the emulator at `settings`, started as a cold run
    starts its Spark; None when the settings ask for cold runs or Glue's environment is absent
    (a run then fails, saying how to build it)."""
    runtime = RUNTIMES["5.0"]
    if settings.glue_driver != "warm" or not runtime.ready():
        return None
    environment = script_run_environment(
        settings, python=runtime.python, py_files=[], jars=[], conf={}, workdir=None
    )
    return WarmDrivers(runtime.python, environment)


def warm_environment(
    cold: dict[str, str], driver: WarmDriver, run_id: str, parameters: JobParameters
) -> dict[str, str]:
    """A run's environment on a warm driver: attached to it rather than starting a Spark, its
    `--extra-py-files` on its own and its workers' path, its SQL settings on its session."""
    imported = [path for path in cold["PYTHONPATH"].split(os.pathsep) if path]
    environment = {key: value for key, value in cold.items() if key != "PYSPARK_SUBMIT_ARGS"}
    return {
        **environment,
        **driver.attach_environment(run_id, imported),
        "PYTHONPATH": os.pathsep.join([str(attach_folder()), *imported]),
        "ECOMDW_SESSION_CONF": json.dumps(parameters.spark_conf),
    }


def download(settings: Settings, uri: str, folder: Path, what: str) -> Path:
    """The S3 object at `uri` (the job's `what`), in `folder` under its own name."""
    try:
        source = S3Location.parse(uri)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(source.prefix).name
        client("s3", settings).download_file(source.bucket, source.prefix, str(target))
    except (ValueError, ClientError) as exc:
        raise UserError(f"cannot read {what} {uri!r}: {exc}") from exc
    return target


def python_modules(settings: Settings, modules: list[str], folder: Path) -> list[str]:
    """`--additional-python-modules` as pip takes them: S3 wheels downloaded, names as given."""
    return [
        str(download(settings, module, folder, "--additional-python-modules"))
        if module.startswith("s3://")
        else module
        for module in modules
    ]


def traceback_block(output: str) -> list[str]:
    """The lines of the last Python traceback in `output`, its exception line included."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return []
    block = lines[starts[-1] :]
    end = next((i for i, line in enumerate(block[1:], 1) if line and not line[0].isspace()), None)
    return block if end is None else block[: end + 1]


def stop_job_runs(job: FakeJob, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Glue's `BatchStopJobRun` on `job`: each run id is submitted for stopping or an error.

    A run that is starting or running is submitted (one already STOPPING is, again); a run that
    has ended, or is not one of the job's, is an error of its own: the call itself succeeds.
    """
    runs = {run.job_run_id: run for run in job.job_runs}
    submitted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for run_id in run_ids:
        run = runs.get(run_id)
        if run is None:
            detail = {
                "ErrorCode": "EntityNotFoundException",
                "ErrorMessage": f"Job run {run_id} not found for job {job.name}",
            }
        elif isinstance(run, ExecutedJobRun) and run.request_stop():
            submitted.append({"JobName": job.name, "JobRunId": run_id})
            continue
        else:
            detail = {
                "ErrorCode": "InvalidInputException",
                "ErrorMessage": f"Job run {run_id} is {run.status} and cannot be stopped",
            }
        errors.append({"JobName": job.name, "JobRunId": run_id, "ErrorDetail": detail})
    return {"SuccessfulSubmissions": submitted, "Errors": errors}


def _batch_stop_job_run(response: GlueResponse) -> TYPE_RESPONSE:
    """The `BatchStopJobRun` action moto's Glue responses lack."""
    request = response.parameters
    job = response.glue_backend.get_job(str(request.get("JobName", "")))
    result = stop_job_runs(job, [str(run_id) for run_id in request.get("JobRunIds") or []])
    return 200, {}, json.dumps(result)


def install() -> None:
    """Make `StartJobRun` of every moto Glue job in this process run through the serving
    emulator's runner, and answer `BatchStopJobRun`; a warm driver starts as soon as a job is
    created. The seams: moto's backend and responses stay as they are around them."""
    replace(FakeJob, "start_job_run", _start_job_run)
    replace(GlueBackend, "create_job", _create_job)
    replace(GlueResponse, "batch_stop_job_run", _batch_stop_job_run)


def _start_job_run(job: FakeJob, **request: Any) -> str:
    return RUNNING.serving().glue_jobs.start(job, **request)


def _create_job(backend: GlueBackend, *args: Any, **kwargs: Any) -> Any:
    created = original(GlueBackend, "create_job")(backend, *args, **kwargs)
    RUNNING.serving().glue_jobs.prestart()  # a job will run soon: start its driver now
    return created


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the script and everything it started (Spark's JVM): its own process group."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class GlueJobRunner:
    """Runs the scripts of this process's moto Glue jobs against the emulator at `settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._drivers = warm_drivers(settings)

    def prestart(self) -> None:
        """Start a warm driver in the background, if this runner keeps them."""
        if self._drivers is not None:
            self._drivers.prestart()

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
        self._launch(job, run, settings)
        return str(run.job_run_id)

    def _launch(self, job: FakeJob, run: ExecutedJobRun, settings: Settings) -> None:
        threading.Thread(
            target=self._execute,
            args=(job, run, settings),
            name=f"glue-{run.job_run_id[:16]}",
            daemon=True,
        ).start()

    def stop(self) -> None:
        """Kill the scripts still running, and retry none: their emulator is going away."""
        with self._lock:
            self._stopped = True
            processes = list(self._processes)
        for process in processes:
            _kill_group(process)
        if self._drivers is not None:
            self._drivers.stop()

    def _execute(self, job: FakeJob, run: ExecutedJobRun, settings: Settings) -> None:
        started = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="ecomdw-glue-") as workdir:
                state, error = self._run_script(job, run, settings, Path(workdir))
        except Exception as exc:  # the thread's end: the run must not stay RUNNING forever
            state, error = "FAILED", f"ecomdw emulation could not run the job: {exc!r}"
        retry = None
        retried = state == "FAILED" and not (run.stop_requested or self._stopped)
        if retried and run.attempt < int(job.max_retries or 0):
            # Listed before the failed run ends: whoever sees FAILED can find the next attempt.
            retry = run.next_attempt(job)
            job.job_runs.append(retry)
        run.finish(state, error, time.monotonic() - started)
        if retry is not None:
            self._launch(job, retry, settings)

    def _run_script(
        self, job: FakeJob, run: ExecutedJobRun, settings: Settings, workdir: Path
    ) -> tuple[str, str | None]:
        command: Any = job.command  # annotated `str` in moto; it holds the request's Command map
        parameters = JobParameters(run.arguments or {})
        output_group, error_group = parameters.log_groups
        stream = parameters.log_stream(run.job_run_id)
        try:
            kind = str(command.get("Name", "glueetl"))
            if kind not in EMULATED_COMMANDS:
                raise UserError(f"Command.Name {kind} is not emulated: only glueetl jobs run")
            runtime = runtime_for(job.glue_version)
            python = runtime.require()
            warnings = parameters.check()
            location = str(command.get("ScriptLocation", ""))
            script = download(settings, location, workdir, "the job script")
            py_files = [
                str(download(settings, uri, workdir / "py", "--extra-py-files"))
                for uri in parameters.extra_py_files
            ]
            jars = [
                str(download(settings, uri, workdir / "jars", "--extra-jars"))
                for uri in parameters.extra_jars
            ]
            for uri in parameters.extra_files:
                download(settings, uri, workdir, "--extra-files")
            wheels = workdir / "wheels"
            modules = python_modules(settings, parameters.additional_python_modules, wheels)
            if modules:
                python = runtime.overlay(modules, parameters.installer_options)
        except (UserError, JobArgumentError) as exc:
            append_lines(settings, error_group, stream, [str(exc)])
            return "FAILED", str(exc)
        append_lines(settings, error_group, stream, warnings)
        if run.stop_requested:
            return "STOPPED", None

        argv = [
            str(python),
            str(script),
            *glue_argv(job.name, run.job_run_id, parameters.script_arguments()),
        ]
        log = workdir / "output"
        environment = script_run_environment(
            settings,
            python=python,
            py_files=py_files,
            jars=jars,
            conf=parameters.spark_conf,
            workdir=workdir,
        )
        drivers = self._drivers if parameters.runs_warm else None
        with drivers.lease() if drivers else nullcontext() as driver, log.open("wb") as out:
            if driver is not None:
                environment = warm_environment(environment, driver, run.job_run_id, parameters)
            process = subprocess.Popen(
                argv,
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group: a timeout kills Spark's JVM too
            )
            run.launched(process)
            timed_out = self._wait(process, run.timeout_minutes * _minute_seconds())
        output = log.read_text(errors="replace")
        append_lines(settings, output_group, stream, output.splitlines())
        if run.stop_requested:
            return "STOPPED", None
        if timed_out:
            return "TIMEOUT", f"Job run timed out after {run.timeout_minutes} minutes"
        if process.returncode != 0:
            failure = traceback_block(output)
            append_lines(settings, error_group, stream, failure)
            message = failure[-1] if failure else None
            return "FAILED", message or f"Command failed with exit code {process.returncode}"
        return "SUCCEEDED", None

    def _wait(self, process: subprocess.Popen[bytes], timeout_seconds: float) -> bool:
        """Wait for the script; kill its process group at the timeout. True if it timed out."""
        with self._lock:
            self._processes.add(process)
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.wait()
            return True
        finally:
            with self._lock:
                self._processes.discard(process)
        return False


def _minute_seconds() -> float:
    return float(os.environ.get(MINUTE_SECONDS_VARIABLE, "60"))
