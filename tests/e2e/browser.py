"""Headless Chromium (Debian's `chromium`), driven over the DevTools protocol with the network
cut off: what a page logged as an error, every request it made, whether its charts drew, and
a screenshot.

A small driver rather than a browser-automation library: the protocol over one websocket
(aiohttp's client) is all these tests need, and it runs the distribution's own browser.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CANDIDATES = ("chromium", "chromium-browser")
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
START_SECONDS = 60.0
DRAW_SECONDS = 30.0

CHARTS_DRAWN = """(() => {
  const charts = [...document.querySelectorAll("div.chart")];
  return charts.map((chart) => {
    const svg = chart.querySelector("svg.main-svg");
    const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    const marks = chart.querySelectorAll(
      ".cartesianlayer .trace path, .cartesianlayer .trace image, .cartesianlayer image"
    ).length;
    return { id: chart.id, svg: !!svg, width: box.width, height: box.height, marks };
  });
})()"""


def chromium() -> str | None:
    """The browser's executable, when Debian's package (or another build by its names) is in."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class Visit:
    """What one page did in the browser."""

    url: str
    loaded: bool = False
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)

    def undrawn(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self.charts
            if not (c["svg"] and c["width"] and c["height"]) or not c["marks"]
        ]


class Browser:
    """One headless Chromium, a fresh profile, one page target reached over CDP."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = websocket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[tuple[str | None, asyncio.Queue[dict[str, Any]]]] = []
        self._reader = asyncio.create_task(self._read())
        self.session: str | None = None

    async def _read(self) -> None:
        async for message in self._socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
                continue
            for session, queue in self._listeners:
                if session is None or data.get("sessionId") == session:
                    queue.put_nowait(data)

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One command to the page's session (the browser's before there is one)."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if self.session is not None:
            message["sessionId"] = self.session
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = answer
        await self._socket.send_str(json.dumps(message))
        reply = await asyncio.wait_for(answer, START_SECONDS)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def events(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.append((self.session, queue))
        return queue

    async def open_page(self) -> None:
        """A page target, attached, with what these tests watch switched on and the network
        cut off (a request that would leave the machine fails, and is recorded)."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            await self.send(f"{domain}.enable")
        await self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
        )

    async def visit(self, url: str, screenshot: Path) -> Visit:
        """Load `url`, wait until its charts have drawn (or DRAW_SECONDS pass), keep a
        screenshot of the whole page."""
        visit = Visit(url)
        events = self.events()
        await self.send("Page.navigate", {"url": url})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAW_SECONDS
        while loop.time() < deadline:
            with suppress(TimeoutError):
                while True:
                    self._note(visit, await asyncio.wait_for(events.get(), 0.2))
            if visit.loaded:
                visit.charts = await self.evaluate(CHARTS_DRAWN)
                if not visit.undrawn():
                    break
        png = await self.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        screenshot.write_bytes(base64.b64decode(png["data"]))
        while not events.empty():
            self._note(visit, events.get_nowait())
        return visit

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    @staticmethod
    def _note(visit: Visit, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Page.loadEventFired":
            visit.loaded = True
        elif method == "Network.requestWillBeSent":
            visit.requests.append(str(params["request"]["url"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            visit.errors.append(str(details.get("exception", {}).get("description") or details))
        elif method == "Runtime.consoleAPICalled" and params["type"] in {"error", "assert"}:
            visit.errors.append(" ".join(str(a.get("value", a)) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            visit.errors.append(str(params["entry"]["text"]))
        elif method == "Network.loadingFailed":
            visit.errors.append(f"request failed: {params.get('errorText')}")


@asynccontextmanager
async def headless_chromium(executable: str) -> AsyncIterator[Browser]:
    """Chromium with the flags the tests promise and a profile of its own, removed after."""
    profile = Path(tempfile.mkdtemp(prefix="ecomdw-chromium-"))
    process = await asyncio.create_subprocess_exec(
        executable,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        endpoint = await asyncio.wait_for(_endpoint(process.stderr), START_SECONDS)
        drain = asyncio.create_task(process.stderr.read())  # a full pipe would stall it
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(endpoint, max_msg_size=0) as websocket,
        ):
            yield Browser(websocket)
        drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            with suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
                await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _endpoint(stderr: asyncio.StreamReader) -> str:
    lines = []
    while line := await stderr.readline():
        text = line.decode(errors="replace")
        lines.append(text)
        if match := LISTENING.search(text):
            return match.group(1)
    raise RuntimeError("chromium ended before listening: " + "".join(lines[-20:]))
