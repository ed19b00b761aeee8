"""How many requests the emulator answers, per service and kind: what a job or a load costs in
round trips, which is most of a small run's time (each answer is a Python call in moto).

A WSGI wrapper around the emulator's application. A request's service is the one its
signature names (`Credential=<key>/<date>/<region>/<service>/aws4_request`); its kind is the
`X-Amz-Target` of JSON APIs (`AWSGlue.GetJobRun`), and for S3 what the call does to an object
or a bucket (`GET object`, `LIST`, `HEAD object`, `PUT object`, `COPY`, `DELETE objects`...).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _s3_kind(environ: dict[str, Any]) -> str:
    method = str(environ.get("REQUEST_METHOD", "GET"))
    query = str(environ.get("QUERY_STRING", ""))
    parts = str(environ.get("PATH_INFO", "/")).strip("/").split("/", 1)
    on_object = len(parts) == 2 and parts[1] != ""
    if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return "COPY"
    if "uploads" in query or "uploadId" in query:
        return f"{method} multipart"
    if method == "POST" and "delete" in query:
        return "DELETE objects"
    if method == "GET" and not on_object:
        return "LIST"
    return f"{method} {'object' if on_object else 'bucket'}"


def request_kind(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, kind) of one request."""
    found = SERVICE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    service = found.group(1) if found else "unsigned"
    if service == "s3":
        return service, _s3_kind(environ)
    target = environ.get("HTTP_X_AMZ_TARGET")
    return service, str(target).rsplit(".", 1)[-1] if target else str(environ["REQUEST_METHOD"])


class RequestCounter:
    """Counts the requests `app` answers; `counts()` since the last `reset()`."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        kind = request_kind(environ)
        with self._lock:
            self._counts[kind] += 1
        return self.app(environ, start_response)

    def counts(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
