"""Warm Spark drivers for the emulated Glue: a job run costs what its data costs.

On Glue every run pays a JVM start, a Spark start and a cold JIT; locally that is most of a
small run's time. So the emulator keeps Spark drivers running (`driver.py`, in the Glue 5.0
environment) and lends each job run one of them, exclusively: the run's own Python process
attaches to it (`attach/sitecustomize.py`) with a session of its own, and when the run ends the
driver undoes what the run left (`end`). Runs that overlap take different drivers, up to
`size`; beyond that, or when a run needs what only a fresh JVM gives (`--extra-jars`, Spark
settings other than SQL ones), it runs cold, as on Glue. A driver that died is replaced.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import IO, Any

STARTUP_SECONDS = 180.0
COMMAND_SECONDS = 120.0


class DriverError(RuntimeError):
    """A warm driver did not start or did not answer: it is stopped and replaced."""


def attach_folder() -> Path:
    """The folder whose `sitecustomize.py` attaches a job run to a warm driver."""
    return Path(str(resources.files(__package__).joinpath("attach")))


def driver_script() -> Path:
    return Path(str(resources.files(__package__).joinpath("driver.py")))


class WarmDriver:
    """One driver process: a JVM with its SparkContext, and the commands to reset it."""

    def __init__(self, python: Path, environment: Mapping[str, str]) -> None:
        # Kept open while the driver runs, closed (and deleted) by `stop`.
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="ecomdw-warm-driver-", suffix=".log"
        )
        self.process = subprocess.Popen(
            [str(python), str(driver_script())],
            env=dict(environment),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,  # its JVM goes with it
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(
            target=self._read, args=(self.process.stdout,), name="warm-driver", daemon=True
        ).start()
        started = self._answer(STARTUP_SECONDS)
        self.port, self.secret = int(started["port"]), str(started["secret"])
        self.runs = 0

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def _answer(self, seconds: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=seconds)
        except queue.Empty:
            raise DriverError(f"no answer from the warm driver in {seconds:.0f} s") from None
        if line is None:
            raise DriverError(f"the warm driver exited: {self._tail()}")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("ok") is False:
            raise DriverError(str(answer.get("error")))
        return answer

    def _tail(self) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-3:]) or f"exit code {self.process.poll()}"

    def command(self, name: str) -> dict[str, Any]:
        if self.process.poll() is not None or self.process.stdin is None:
            raise DriverError(f"the warm driver exited: {self._tail()}")
        try:
            self.process.stdin.write(f"{name}\n")
            self.process.stdin.flush()
        except OSError as error:
            raise DriverError(f"the warm driver is gone: {error}") from error
        return self._answer(COMMAND_SECONDS)

    def attach_environment(self, run_id: str, worker_path: list[str]) -> dict[str, str]:
        """What a job run's process needs to attach (with `attach_folder` on its path)."""
        return {
            "PYSPARK_GATEWAY_PORT": str(self.port),
            "PYSPARK_GATEWAY_SECRET": self.secret,
            "ECOMDW_WARM_DRIVER": run_id,
            "ECOMDW_WORKER_PYTHONPATH": os.pathsep.join(worker_path),
        }

    def stop(self) -> None:
        if self.process.stdin is not None:
            with suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


class WarmDrivers:
    """Up to `size` warm drivers, each lent to one job run at a time."""

    def __init__(self, python: Path, environment: Mapping[str, str], size: int = 2) -> None:
        self.python = python
        self.environment = dict(environment)
        self.size = size
        self._idle: list[WarmDriver] = []
        self._lent = 0
        self._starting = 0
        self._lock = threading.Condition()
        self._closed = False

    def prestart(self) -> None:
        """Start one driver in the background (while the stacks deploy, say)."""

        def start() -> None:
            with suppress(DriverError):
                driver = WarmDriver(self.python, self.environment)
                with self._lock:
                    self._starting -= 1
                    if self._closed:
                        driver.stop()
                        return
                    self._idle.append(driver)
                    self._lock.notify_all()
                return
            with self._lock:
                self._starting -= 1
                self._lock.notify_all()

        with self._lock:
            if self._starting or self._idle or self._lent >= self.size:
                return
            self._starting += 1
        threading.Thread(target=start, name="warm-driver-start", daemon=True).start()

    def _take(self) -> WarmDriver | None:
        """An idle driver, one being started, or a new one; None when all `size` are lent."""
        with self._lock:
            while not self._idle and self._starting and not self._closed:
                self._lock.wait(timeout=STARTUP_SECONDS)
            if self._closed:
                return None
            if self._idle:
                self._lent += 1
                return self._idle.pop()
            if self._lent + self._starting >= self.size:
                return None
            self._lent += 1
        try:
            return WarmDriver(self.python, self.environment)
        except DriverError:
            with self._lock:
                self._lent -= 1
            raise

    def _give_back(self, driver: WarmDriver, healthy: bool) -> None:
        with self._lock:
            self._lent -= 1
            if healthy and not self._closed:
                self._idle.append(driver)
                self._lock.notify_all()
                return
        driver.stop()

    def _begun(self) -> WarmDriver | None:
        """A driver that has begun a run (one that does not answer is replaced, once)."""
        for _ in range(2):
            driver = self._take()
            if driver is None:
                return None
            try:
                driver.command("begin")
            except DriverError:
                self._give_back(driver, healthy=False)
                continue
            driver.runs += 1
            return driver
        return None

    @contextmanager
    def lease(self) -> Iterator[WarmDriver | None]:
        """A driver of this run's alone (None: run cold), reset when the run ends."""
        driver = self._begun()
        if driver is None:
            yield None
            return
        try:
            yield driver
        finally:
            try:
                driver.command("end")
                healthy = True
            except DriverError:
                healthy = False
            self._give_back(driver, healthy)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            drivers, self._idle = self._idle, []
            self._lock.notify_all()
        for driver in drivers:
            driver.stop()
