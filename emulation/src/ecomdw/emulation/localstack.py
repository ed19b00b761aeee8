"""LocalStack as an optional backend: on the host (no Docker, no token) or in Docker.

Since March 2026 LocalStack's images and CLI need an auth token; `localstack-core` 2026.3.0
still runs on the host without one, under Python 3.13, in a virtual environment of its own
(`LocalStackHost`). Where a Docker daemon is reachable, `LocalStackDocker` runs LocalStack in a
container through testcontainers instead: the current image (`CURRENT_IMAGE`) with
`LOCALSTACK_AUTH_TOKEN`, or without a token the last community tag (`COMMUNITY_IMAGE`), which
must be in the local Docker images or pullable; `ECOMDW_LOCALSTACK_IMAGE` picks another.
`python -m ecomdw.emulation.localstack docker -- COMMAND` runs COMMAND against such a container,
which `LocalStackHost` then uses instead of starting its own (`ECOMDW_LOCALSTACK_ENDPOINT`).
Community LocalStack has no Glue, Redshift Data API, Backup, CloudTrail or GuardDuty: tests of
those are marked `ecomdw_emulation` and skip on this backend with that reason.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from ecomdw.emulation.lifecycle import Lifecycle

PINS = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "pyopenssl<26.2",
    "service_identity",
)
MISSING_IN_COMMUNITY = "community LocalStack has no Glue job runs, Redshift Data API or crawlers"
ENDPOINT_VARIABLE = "ECOMDW_LOCALSTACK_ENDPOINT"
"""A LocalStack already listening (e.g. a container): `LocalStackHost` uses it, starts none."""
IMAGE_VARIABLE = "ECOMDW_LOCALSTACK_IMAGE"
TOKEN_VARIABLE = "LOCALSTACK_AUTH_TOKEN"
CURRENT_IMAGE = "localstack/localstack:2026.3.0"
"""The image of the host pin's release; like every LocalStack image since 2026.3.0 (March 2026),
it exits at start (code 55) without `LOCALSTACK_AUTH_TOKEN`."""
COMMUNITY_IMAGE = "localstack/localstack:4.14.0"
"""The last community tag, which starts without a token; it must be pulled where the network is."""


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


class LocalStackHost(Lifecycle):
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
        return self.healthy_at(self.endpoint)

    @staticmethod
    def healthy_at(endpoint: str) -> bool:
        """Whether a LocalStack with S3 answers at `endpoint`."""
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as r:
                return "s3" in json.loads(r.read()).get("services", {})
        except (OSError, ValueError):
            return False

    def start(self, timeout: float = 120.0) -> str:
        if external := os.environ.get(ENDPOINT_VARIABLE):
            self.endpoint = external.rstrip("/")
            if not self.healthy():
                raise LocalStackUnavailableError(
                    f"{ENDPOINT_VARIABLE}={external}, but no LocalStack answers there"
                )
            return self.endpoint
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


def needs_auth_token(image: str) -> bool:
    """Whether LocalStack `image` refuses to start without `LOCALSTACK_AUTH_TOKEN`: the Pro
    image, `latest`/`stable`, and every CalVer release (2026.3.0 on); not the 4.x tags."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag: Docker's `latest`
        name, tag = image, "latest"
    if name.endswith("localstack-pro") or tag in ("latest", "stable"):
        return True
    major = tag.split(".")[0]
    return major.isdigit() and int(major) >= 2026


def docker_image() -> str:
    """$ECOMDW_LOCALSTACK_IMAGE, else the current image with a token, the community one without."""
    if image := os.environ.get(IMAGE_VARIABLE):
        return image
    return CURRENT_IMAGE if os.environ.get(TOKEN_VARIABLE) else COMMUNITY_IMAGE


def docker_unreachable() -> str | None:
    """Why no Docker daemon can be used (as testcontainers finds it), or None when one answers."""
    try:
        from testcontainers.core.docker_client import DockerClient

        DockerClient().client.ping()
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0]
        return (
            f"no Docker daemon is reachable ({type(exc).__name__}: {first_line}); "
            "LocalStack in a container needs one (DOCKER_HOST or /var/run/docker.sock)"
        )
    return None


class LocalStackDocker(Lifecycle):
    """LocalStack in a Docker container (testcontainers), its edge port on a free host port."""

    def __init__(self, image: str | None = None) -> None:
        self.image = image or docker_image()
        self.token = os.environ.get(TOKEN_VARIABLE, "")
        self._container: Any = None
        self._endpoint: str | None = None

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the LocalStack container is not started")
        return self._endpoint

    def missing(self) -> list[str]:
        """What this machine lacks for the container, each saying what to do; [] if nothing."""
        missing = []
        if needs_auth_token(self.image) and not self.token:
            missing.append(
                f"{self.image} needs {TOKEN_VARIABLE} (LocalStack images since 2026.3.0 do); "
                f"set it, or set {IMAGE_VARIABLE}={COMMUNITY_IMAGE} (no token, pulled once)"
            )
        if (unreachable := docker_unreachable()) is not None:
            missing.append(unreachable)
        return missing

    def image_present(self) -> bool:
        """Whether the image is in the local Docker images already (no pull needed)."""
        from testcontainers.core.docker_client import DockerClient

        return bool(DockerClient().client.images.list(name=self.image))

    def pull(self) -> None:
        from testcontainers.core.docker_client import DockerClient

        try:
            DockerClient().client.images.pull(self.image)
        except Exception as exc:
            raise LocalStackUnavailableError(
                f"{self.image} is not in the local Docker images and cannot be pulled "
                f"({type(exc).__name__}: {exc}); run `docker pull {self.image}` where the "
                f"registry is reachable, or set {IMAGE_VARIABLE} to an image present here"
            ) from exc

    def start(self, timeout: float = 180.0) -> str:
        if missing := self.missing():
            raise LocalStackUnavailableError("; ".join(missing))
        if not self.image_present():
            self.pull()
        from testcontainers.community.localstack import LocalStackContainer
        from testcontainers.core.container import DockerContainer

        container = LocalStackContainer(image=self.image)
        if self.token:
            container.with_env(TOKEN_VARIABLE, self.token)
        try:
            # The plain container start: LocalStackContainer.start's log wait cannot see an exit.
            DockerContainer.start(container)
        except Exception as exc:
            raise LocalStackUnavailableError(
                f"the {self.image} container did not start ({type(exc).__name__}: {exc}); "
                "offline, testcontainers' reaper image is needed too, or "
                "TESTCONTAINERS_RYUK_DISABLED=true"
            ) from exc
        self._container = container
        self._endpoint = container.get_url()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            wrapped = container.get_wrapped_container()
            wrapped.reload()
            if wrapped.status == "exited":
                logs = wrapped.logs(tail=15).decode(errors="replace")
                code = wrapped.attrs["State"]["ExitCode"]
                self.stop()
                raise LocalStackUnavailableError(
                    f"the {self.image} container exited with code {code}:\n{logs}"
                )
            if LocalStackHost.healthy_at(self.endpoint):
                return self.endpoint
            time.sleep(0.5)
        self.stop()
        raise LocalStackUnavailableError(f"{self.image} did not answer in {timeout:.0f}s")

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
        self._container = None
        self._endpoint = None


def main(argv: list[str]) -> int:
    """`docker -- COMMAND...`: COMMAND, its $ECOMDW_LOCALSTACK_ENDPOINT a LocalStack container."""
    if len(argv) < 3 or argv[:2] != ["docker", "--"]:
        print("usage: python -m ecomdw.emulation.localstack docker -- COMMAND...", file=sys.stderr)
        return 2
    try:
        with LocalStackDocker() as localstack:
            print(f"LocalStack {localstack.image} at {localstack.endpoint}", file=sys.stderr)
            env = {**os.environ, ENDPOINT_VARIABLE: localstack.endpoint}
            return subprocess.run(argv[2:], env=env, check=False).returncode
    except LocalStackUnavailableError as exc:
        print(f"LocalStack in Docker is not available: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
