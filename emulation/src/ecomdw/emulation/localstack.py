"""LocalStack as an optional backend: `localstack-core` run on the host, no Docker, no token.

Since March 2026 LocalStack's images and CLI need an auth token; `localstack-core` 2026.3.0
still runs on the host without one, under Python 3.13, in a virtual environment of its own.
Community LocalStack has no Glue, Redshift Data API, Backup, CloudTrail or GuardDuty: tests of
those are marked `ecomdw_emulation` and skip on this backend with that reason.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

PINS = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "pyopenssl<26.2",
    "service_identity",
)
MISSING_IN_COMMUNITY = "community LocalStack has no Glue job runs, Redshift Data API or crawlers"


class LocalStackUnavailableError(RuntimeError):
    pass


def find_python313() -> str:
    """A Python 3.13 interpreter: $ECOMDW_PYTHON313, python3.13 on PATH, or a pyenv install."""
    candidates = [os.environ.get("ECOMDW_PYTHON313", ""), "python3.13"]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if out.stdout.strip() == "True":
            return candidate
    raise LocalStackUnavailableError(
        "LocalStack 2026.3.0 runs under Python 3.13: install it (e.g. `apt-get install "
        "python3.13` or pyenv) or point ECOMDW_PYTHON313 at one"
    )


class LocalStackHost:
    """localstack-core in `venv` (created and pinned on first use), listening on 127.0.0.1."""

    def __init__(self, venv: Path, port: int = 4566) -> None:
        self.venv = venv
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def install(self) -> None:
        stamp = self.venv / "ecomdw-pins.json"
        if stamp.exists() and json.loads(stamp.read_text()) == list(PINS):
            return
        subprocess.run([find_python313(), "-m", "venv", "--clear", str(self.venv)], check=True)
        pip = [str(self.venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, *PINS], check=True)
        stamp.write_text(json.dumps(list(PINS)))

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_localstack/health", timeout=2) as r:
                return "s3" in json.loads(r.read()).get("services", {})
        except (OSError, ValueError):
            return False

    def start(self, timeout: float = 120.0) -> str:
        self.install()
        env = {
            **os.environ,
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            "GATEWAY_SERVER": "hypercorn",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
        }
        log = (self.venv / "localstack.log").open("ab")
        self._process = subprocess.Popen(
            [str(self.venv / "bin" / "python"), "-m", "localstack.runtime.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalStackUnavailableError(f"LocalStack exited at start; see {log.name}")
            if self.healthy():
                return self.endpoint
            time.sleep(0.5)
        self.stop()
        raise LocalStackUnavailableError(f"LocalStack did not answer in {timeout:.0f}s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None

    def __enter__(self) -> LocalStackHost:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
