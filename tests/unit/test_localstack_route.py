"""Choosing LocalStack's route: which image needs a token, what a machine lacks, an endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecomdw.emulation import localstack
from ecomdw.emulation.localstack import (
    COMMUNITY_IMAGE,
    CURRENT_IMAGE,
    ENDPOINT_VARIABLE,
    IMAGE_VARIABLE,
    TOKEN_VARIABLE,
    LocalStackDocker,
    LocalStackHost,
    LocalStackUnavailableError,
    docker_image,
    needs_auth_token,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("image", "needs_token"),
    [
        ("localstack/localstack:4.14.0", False),
        ("localstack/localstack:3.8", False),
        ("localstack/localstack:2026.3.0", True),
        ("localstack/localstack:2027.1", True),
        ("localstack/localstack:latest", True),
        ("localstack/localstack", True),
        ("localstack/localstack-pro:4.14.0", True),
        ("registry.local:5000/localstack/localstack:4.14.0", False),
        ("registry.local:5000/localstack/localstack", True),
    ],
)
def test_which_images_need_an_auth_token(image: str, needs_token: bool) -> None:
    assert needs_auth_token(image) is needs_token


def test_the_image_follows_the_token_unless_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IMAGE_VARIABLE, raising=False)
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    assert docker_image() == COMMUNITY_IMAGE
    monkeypatch.setenv(TOKEN_VARIABLE, "a-token")
    assert docker_image() == CURRENT_IMAGE
    monkeypatch.setenv(IMAGE_VARIABLE, "mirror.local/localstack:4.14.0")
    assert docker_image() == "mirror.local/localstack:4.14.0"


def test_missing_names_the_token_and_the_docker_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    monkeypatch.setattr(localstack, "docker_unreachable", lambda: "no Docker daemon is reachable")

    missing = LocalStackDocker("localstack/localstack:2026.3.0").missing()

    assert missing == [
        f"localstack/localstack:2026.3.0 needs {TOKEN_VARIABLE} (LocalStack images since "
        f"2026.3.0 do); set it, or set {IMAGE_VARIABLE}={COMMUNITY_IMAGE} (no token, pulled once)",
        "no Docker daemon is reachable",
    ]
    with pytest.raises(LocalStackUnavailableError, match=f"needs {TOKEN_VARIABLE}.*no Docker"):
        LocalStackDocker("localstack/localstack:2026.3.0").start()


def test_a_community_image_with_docker_lacks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    monkeypatch.setattr(localstack, "docker_unreachable", lambda: None)
    assert LocalStackDocker(COMMUNITY_IMAGE).missing() == []


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"services": {"s3": "running"}}).encode()
        self.send_response(200 if self.path == "/_localstack/health" else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_host_route_uses_a_running_localstack_from_the_setting(
    answering_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, answering_endpoint + "/")
    with LocalStackHost(tmp_path / "venv") as host:
        assert host.endpoint == answering_endpoint
    assert not (tmp_path / "venv").exists()  # nothing installed, nothing started


def test_host_route_refuses_a_setting_where_nothing_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, "http://127.0.0.1:9")
    with pytest.raises(LocalStackUnavailableError, match="no LocalStack answers there"):
        LocalStackHost(tmp_path / "venv").start()
