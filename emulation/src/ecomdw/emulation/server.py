"""The embedded emulator: a moto server on 127.0.0.1, in-process or as a long-lived process.

In-process (`EmbeddedEmulator`) is what `ecomdw run` and the test session use. The long-lived
one (`ecomdw emulator up`) is the same server in a detached process whose endpoint is kept in
the settings' state file, so Spark, DuckDB and the AWS CLI in other processes reach it. Both
run Glue job scripts on local Spark when a job run starts (`services.glue.jobs`) and crawl S3
into the catalog when a crawler starts (`services.glue.crawlers`).
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecomdw.core.names import Environment
from ecomdw.core.settings import Settings, load_settings
from ecomdw.emulation.lifecycle import Lifecycle
from ecomdw.emulation.request_counts import RequestCounter

if TYPE_CHECKING:
    from ecomdw.emulation.services.redshift.endpoint import RedshiftEndpoints
    from ecomdw.emulation.state import EmulatorState

MOTO_SETTINGS = {
    # IAM policies such as AWSGlueServiceRole exist, as in a real account.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}


class EmbeddedEmulator(Lifecycle):
    """A moto server on a free loopback port, started in this process."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        home: Path | None = None,
        redshift_files: Mapping[tuple[str, str], Path] | None = None,
    ) -> None:
        """`home` keeps the emulator's state (Redshift databases); default: the settings' home.
        `redshift_files` puts a (cluster, database) in a DuckDB file of the caller's choice."""
        for key, value in MOTO_SETTINGS.items():
            os.environ.setdefault(key, value)
        # werkzeug logs every request at INFO; the emulator's clients report what matters.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._endpoint: str | None = None
        self._state: EmulatorState | None = None
        self._home = home
        self._redshift_files = redshift_files

    @property
    def state(self) -> EmulatorState:
        """What this emulator holds beyond moto's backends."""
        if self._state is None:
            raise RuntimeError("the emulator is not started")
        return self._state

    @property
    def redshift_endpoints(self) -> RedshiftEndpoints:
        """The endpoints of the clusters created through this emulator."""
        return self.state.redshift_endpoints

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the emulator is not started")
        return self._endpoint

    def start(self) -> str:
        from moto.moto_api._internal.models import moto_api_backend

        from ecomdw.emulation.state import RUNNING

        _install_services()
        if RUNNING.empty():
            # moto's backends are the process's and outlive a stopped emulator: without this,
            # a new one would hold the buckets, objects and jobs of the last (its batch markers
            # made a later pipeline find nothing pending). Emulators running side by side in one
            # process share moto's resources.
            moto_api_backend.reset()
        self._server.start()
        wsgi: Any = self._server._server  # werkzeug's server reads its `app` per request
        self.requests = RequestCounter(wsgi.app)
        wsgi.app = self.requests
        host, port = self._server.get_host_and_port()
        self._endpoint = f"http://{host}:{port}"
        # The Spark master and region come from the settings; the endpoint is this server's.
        home = {"home": self._home} if self._home is not None else {}
        settings = load_settings(env=Environment.LOCAL, endpoint_url=self._endpoint, **home)
        self._state = _new_state(settings, self._redshift_files)
        RUNNING.add(self._state)
        return self._endpoint

    def reset(self) -> None:
        """No resource left, as in a new emulator, for a test that must not see another's.

        moto's backends are the process's, so every emulator in this process forgets its
        resources; this one's services forget theirs (`EmulatorState.reset`). Cheaper than a new
        emulator: the server, its port and its warm Spark drivers stay.
        """
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.state.reset()

    def stop(self) -> None:
        from ecomdw.emulation.state import RUNNING

        if self._state is not None:
            # Newer requests go to the newest other emulator; what this one runs ends first.
            RUNNING.remove(self._state)
            self._state.stop()
            self._state = None
        if self._endpoint is not None:
            self._server.stop()
            self._endpoint = None


def _new_state(
    settings: Settings, redshift_files: Mapping[tuple[str, str], Path] | None
) -> EmulatorState:
    from ecomdw.emulation.services.glue.crawlers import GlueCrawlerRunner
    from ecomdw.emulation.services.glue.jobs import GlueJobRunner
    from ecomdw.emulation.services.redshift.data_api import RedshiftDataEmulation
    from ecomdw.emulation.services.redshift.endpoint import RedshiftEndpoints
    from ecomdw.emulation.state import EmulatorState

    redshift_data = RedshiftDataEmulation(settings, redshift_files)
    return EmulatorState(
        settings,
        glue_jobs=GlueJobRunner(settings),
        glue_crawlers=GlueCrawlerRunner(settings),
        redshift_data=redshift_data,
        # Clusters created through this emulator answer PostgreSQL clients on their Endpoint.
        redshift_endpoints=RedshiftEndpoints(redshift_data),
    )


def _install_services() -> None:
    """Extend moto in this process with what each service emulates beyond it (each install
    replaces moto's attributes through `patching`, so a second emulator's changes nothing).

    moto's backends are the process's, so these extensions are too: each serves the emulator
    a request reached, or else the newest running one (`state.RUNNING`).
    """
    from ecomdw.emulation import moto_speed
    from ecomdw.emulation.services.cloudformation import stacks
    from ecomdw.emulation.services.glue import crawlers, jobs
    from ecomdw.emulation.services.redshift import data_api
    from ecomdw.emulation.services.redshift.endpoint import server as redshift_endpoints
    from ecomdw.emulation.services.s3 import policies
    from ecomdw.emulation.services.stepfunctions import executions

    for install in (
        moto_speed.install,
        policies.install,
        stacks.install,
        jobs.install,
        crawlers.install,
        data_api.install,
        redshift_endpoints.install,
        executions.install,
    ):
        install()


@dataclass(frozen=True)
class DetachedEmulator:
    """The long-lived emulator's process and endpoint, as its state file records them."""

    pid: int
    endpoint: str


def _reachable(endpoint: str) -> bool:
    host, port = endpoint.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running_state(settings: Settings) -> DetachedEmulator | None:
    """The long-lived emulator, if one is up and answering."""
    try:
        raw = json.loads(settings.emulator_state_file.read_text())
        state = DetachedEmulator(pid=int(raw["pid"]), endpoint=str(raw["endpoint"]))
    except (OSError, ValueError, KeyError):
        return None
    return state if _alive(state.pid) and _reachable(state.endpoint) else None


def start_detached(settings: Settings, port: int = 0, timeout: float = 30.0) -> DetachedEmulator:
    """Start the long-lived emulator (or return the one already up)."""
    if (state := running_state(settings)) is not None:
        return state
    state_file = settings.emulator_state_file
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.unlink(missing_ok=True)
    log = (state_file.parent / "emulator.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "ecomdw.emulation", str(state_file), str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited at start; see {log.name}")
        if (state := running_state(settings)) is not None:
            return state
        time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"the emulator did not answer within {timeout:.0f}s; see {log.name}")


def stop_detached(settings: Settings, timeout: float = 10.0) -> bool:
    """Stop the long-lived emulator; False if none was running."""
    state = running_state(settings)
    settings.emulator_state_file.unlink(missing_ok=True)
    if state is None:
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def serve_forever(state_file: Path, port: int) -> None:
    """Body of the detached process: serve, publish the endpoint, exit on SIGTERM."""
    emulator = EmbeddedEmulator(port=port, home=state_file.parent)
    endpoint = emulator.start()
    # Any thread may receive SIGTERM, and pause() in the main thread would miss it then: the
    # signal's wakeup byte ends the wait instead, whichever thread it came to.
    woken, wake = socket.socketpair()
    wake.setblocking(False)
    signal.set_wakeup_fd(wake.fileno())
    signal.signal(signal.SIGTERM, lambda *_: None)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "endpoint": endpoint}))
    tmp.replace(state_file)
    try:
        select.select([woken], [], [])
    finally:
        emulator.stop()
