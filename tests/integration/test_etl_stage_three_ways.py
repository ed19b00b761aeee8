"""The stage job script run three ways writes identical output: as a plain Python script (its
own local Spark), under `spark-submit`, and on a Spark standalone cluster (a master and a worker
started with the pip pyspark's `sbin/spark-daemon.sh`, the script launched as Glue's launcher
does, through PYSPARK_SUBMIT_ARGS). Each way takes a different branch of the job's runtime."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pyspark
import pytest

from ecomdw.core.generator import GeneratorConfig, generate
from ecomdw.etl.jobs import stage
from ecomdw.etl.spark import java_home, script_environment, spark_conf

from .processed_tables import contents, differences, layout

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

SAMPLE = GeneratorConfig(customers=30, products=10, orders=40, days=2, defect_rate=0.05)
SPARK_HOME = Path(pyspark.__file__).resolve().parent
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
RUN_ID = "three-ways"  # the same for every way: only loaded_at may differ
PER_RUN = {"batch_lineage": {"loaded_at"}}
TIMEOUT = 600


def clean_environment() -> dict[str, str]:
    """This process's variables without any Spark or PySpark launch state (the test session's
    own Spark must not leak into a script's)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "SPARK_"))}


def spark_environment() -> dict[str, str]:
    return {
        **clean_environment(),
        "JAVA_HOME": str(java_home()),
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


class StandaloneCluster:
    """A standalone master and one worker on 127.0.0.1, state and logs under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.work = folder / "work"
        self.logs = folder / "logs"
        self.pids = folder / "pids"
        conf = folder / "conf"  # empty: nothing from the pyspark install or the machine
        conf.mkdir(parents=True)
        self.env = {
            **spark_environment(),
            "SPARK_CONF_DIR": str(conf),
            "SPARK_LOG_DIR": str(self.logs),
            "SPARK_PID_DIR": str(self.pids),
            "SPARK_WORKER_DIR": str(self.work),
            "SPARK_MASTER_HOST": "127.0.0.1",
            "SPARK_IDENT_STRING": "ecomdw-test",
        }
        self.started: list[str] = []

    def _daemon(self, action: str, daemon: str, *args: str) -> subprocess.CompletedProcess[str]:
        script = SPARK_HOME / "sbin" / "spark-daemon.sh"
        return subprocess.run(
            ["bash", str(script), action, daemon, "1", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def _start(self, daemon: str, *args: str) -> None:
        self.started.append(daemon)  # before: stop() stops it even if starting fails
        result = self._daemon("start", daemon, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "failed to launch" not in result.stdout, result.stdout + self.log_tails()

    def _pid(self, daemon: str) -> int | None:
        pid_file = next(self.pids.glob(f"spark-*-{daemon}-1.pid"), None)
        return int(pid_file.read_text()) if pid_file else None

    def _wait_for(self, daemon: str, pattern: str, seconds: float = 300) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for log in self.logs.glob(f"spark-*-{daemon}-1-*.out"):
                found = re.search(pattern, log.read_text(errors="replace"))
                if found:
                    return found
            pid = self._pid(daemon)
            if pid is None or _ended(pid, seconds=0.2):
                raise AssertionError(f"{daemon} is not running\n{self.log_tails()}")
        raise AssertionError(f"{daemon} never logged {pattern!r}\n{self.log_tails()}")

    def start(self) -> str:
        """Master on a port the system picks, then a worker registered with it: its URL."""
        self._start(MASTER, "--host", "127.0.0.1", "--port", "0", "--webui-port", "0")
        url = self._wait_for(MASTER, r"Starting Spark master at (spark://127\.0\.0\.1:\d+)")[1]
        self._start(
            WORKER,
            *("--host", "127.0.0.1", "--port", "0", "--webui-port", "0"),
            *("--cores", "2", "--memory", "1g", "--work-dir", str(self.work)),
            url,
        )
        self._wait_for(WORKER, "Successfully registered with master")
        return url

    def stop(self) -> None:
        """Stop what was started, worker first; a daemon that ignores SIGTERM is killed."""
        for daemon in reversed(self.started):
            pid = self._pid(daemon)
            self._daemon("stop", daemon)
            if pid is not None and not _ended(pid, seconds=30):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.started.clear()

    def log_tails(self) -> str:
        return "\n".join(
            f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            for log in sorted(self.logs.glob("*.out"))
        )


def _ended(pid: int, seconds: float) -> bool:
    """Whether process `pid` has ended, or ends within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[StandaloneCluster]:
    cluster = StandaloneCluster(tmp_path / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop()


def stage_arguments(raw: Path, processed: Path) -> list[str]:
    return [
        *("--JOB_NAME", "stage", "--raw_uri", str(raw), "--processed_uri", str(processed)),
        *("--batch_dates", "pending", "--run_id", RUN_ID),
    ]


def launch(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`command` in a process group of its own (spark-submit's Python is a child of its JVM)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.fixture
def launched() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Processes the test starts; any still running at the end is killed with its group."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_stage_script_direct_spark_submit_and_standalone_write_identical_output(
    tmp_path: Path, standalone: StandaloneCluster, launched: dict[str, subprocess.Popen[bytes]]
) -> None:
    raw = tmp_path / "raw"
    generate(SAMPLE, raw)
    script = stage.__file__
    ways = {way: tmp_path / way for way in ("direct", "submit", "standalone")}

    # The local ways start first: the cluster's daemons start while they run.
    direct_env = {**spark_environment(), "ECOMDW_SPARK_MASTER": "local[2]"}
    submit = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", "local[2]"]
    for key, value in spark_conf().items():
        submit += ["--conf", f"{key}={value}"]
    runs = launched
    runs |= {
        "direct": launch(
            [sys.executable, script, *stage_arguments(raw, ways["direct"])],
            direct_env,
            tmp_path / "direct.log",
        ),
        "submit": launch(
            [*submit, script, *stage_arguments(raw, ways["submit"])],
            spark_environment(),
            tmp_path / "submit.log",
        ),
    }
    master = standalone.start()
    # What Glue's launcher does for a script (and the emulated Glue does): PYSPARK_SUBMIT_ARGS.
    runs["standalone"] = launch(
        [sys.executable, script, *stage_arguments(raw, ways["standalone"])],
        {**spark_environment(), **script_environment(master)},
        tmp_path / "standalone.log",
    )
    for way, process in runs.items():
        code = process.wait(timeout=TIMEOUT)
        output = (tmp_path / f"{way}.log").read_text(errors="replace")
        assert code == 0, f"{way}:\n{output[-4000:]}\n{standalone.log_tails()}"
        assert f"stage: late arrivals 0; batches {SAMPLE.days}" in output, way
    # The standalone run's tasks ran in an executor the worker launched, not in the driver.
    assert list(standalone.work.glob("app-*/*/stderr")), standalone.log_tails()

    reference = ways["direct"]
    expected = contents(reference, PER_RUN)
    assert {folder.split("/")[0] for folder in expected} == {"staged", "warehouse"}
    assert any(folder.startswith("warehouse/quarantine/") for folder in expected)
    assert any(folder.startswith("warehouse/batch_lineage/") for folder in expected)
    markers = sorted(p.read_text() for p in (reference / "_jobs").rglob("finished.json"))
    assert len(markers) == SAMPLE.days
    for way in ("submit", "standalone"):
        assert layout(ways[way]) == layout(reference), way
        assert differences(contents(ways[way], PER_RUN), expected) == [], way
        assert sorted(p.read_text() for p in (ways[way] / "_jobs").rglob("finished.json")) == (
            markers
        ), way
