"""Embedded emulator start-up and S3 round trip, against plain in-process HTTP baselines."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rich.table import Table

from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator

REPEATS = 5


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _median_seconds(action: Callable[[], object], repeats: int = REPEATS) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _time_to_first_answer(start: Callable[[], tuple[str, Callable[[], None]]]) -> float:
    """Seconds from start to the first answered request; stopping is not timed."""
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        url, stop = start()
        urllib.request.urlopen(url, timeout=10).read()
        timings.append(time.perf_counter() - started)
        stop()
    return statistics.median(timings)


def _plain_server() -> tuple[str, Callable[[], None]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}/", stop


def _emulator() -> tuple[str, Callable[[], None]]:
    emulator = EmbeddedEmulator()
    return f"{emulator.start()}/moto-api/data.json", emulator.stop


COLD_START = """
from ecomdw.core.aws import client
from ecomdw.core.settings import Settings
from ecomdw.emulation.server import EmbeddedEmulator
emulator = EmbeddedEmulator()
client("s3", Settings(endpoint_url=emulator.start())).list_buckets()
"""


def _fresh_process(code: str) -> float:
    return _median_seconds(lambda: subprocess.run([sys.executable, "-c", code], check=True))


def run() -> Table:
    cold_start = _fresh_process(COLD_START)
    python_start = _fresh_process("import boto3")
    emulator_start = _time_to_first_answer(_emulator)
    baseline_start = _time_to_first_answer(_plain_server)
    with EmbeddedEmulator() as emulator:
        s3 = client("s3", Settings(endpoint_url=emulator.endpoint))
        s3.create_bucket(Bucket="bench")
        put_get = _median_seconds(
            lambda: (
                s3.put_object(Bucket="bench", Key="k", Body=b"x" * 1024)
                and s3.get_object(Bucket="bench", Key="k")["Body"].read()
            ),
            repeats=50,
        )
        list_buckets = _median_seconds(lambda: s3.list_buckets() and None, repeats=50)
    table = Table(title="embedded emulator (median of runs)")
    for column in ("measure", "seconds", "baseline", "ratio"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row(
        "cold: new process, import, start, first S3 call",
        f"{cold_start:.3f}",
        f"{python_start:.3f} (new process importing boto3)",
        f"{cold_start / python_start:.1f}x",
    )
    table.add_row(
        "warm: start to first answer",
        f"{emulator_start:.3f}",
        f"{baseline_start:.4f} (plain HTTP server)",
        f"{emulator_start / baseline_start:.0f}x",
    )
    table.add_row(
        "S3 put + get 1 KiB",
        f"{put_get * 1000:.2f} ms",
        f"{list_buckets * 1000:.2f} ms (ListBuckets)",
        f"{put_get / list_buckets:.1f}x",
    )
    return table
