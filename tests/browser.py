"""A page opened in real headless Chromium, driven over the DevTools protocol (a websocket,
spoken here with aiohttp, which the workbench depends on anyway): what its console said, what
scripts evaluated on it return, and a screenshot. No browser automation package, no mock."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]  # fmt: skip


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    console: list[str] = field(default_factory=list)  # errors and warnings, as the browser said
    values: dict[str, Any] = field(default_factory=dict)  # expression -> its value on the page
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    screenshot: bytes = b""


class _Session:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, page: Page) -> None:
        self.ws = ws
        self.page = page
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json(timeout=30)
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.note(msg)

    async def wait_for(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.note(await self.ws.receive_json())

    def note(self, msg: dict[str, Any]) -> None:
        self.events.append(msg)
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.page.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.page.console.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.page.console.append(f"exception: {text}")
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            entry = params["entry"]
            self.page.console.append(f"{entry['source']} {entry['level']}: {entry['text']}")


async def _drive(port: int, url: str, expressions: list[str], settle_s: float) -> Page:
    page = Page()
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as resp:
            target = await resp.json(content_type=None)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            s = _Session(ws, page)
            for domain in ("Page", "Runtime", "Log", "Network"):
                await s.call(f"{domain}.enable")
            await s.call(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            await s.call("Page.navigate", url=url)
            async with asyncio.timeout(30):
                await s.wait_for("Page.loadEventFired")
            await asyncio.sleep(settle_s)  # load handlers, late errors
            for expr in expressions:
                got = await s.call("Runtime.evaluate", expression=expr, returnByValue=True)
                page.values[expr] = got.get("result", {}).get("value")
            shot = await s.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            page.screenshot = base64.b64decode(shot["data"])
            with contextlib.suppress(Exception):
                await s.call("Browser.close")
    return page


def open_page(
    url: str, profile: Path, expressions: Sequence[str] = (), settle_s: float = 0.5
) -> Page:
    """Open `url` in a fresh headless Chromium; evaluate `expressions` once loaded."""
    browser = find_chromium()
    assert browser is not None
    proc = subprocess.Popen(
        [browser, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        return asyncio.run(_drive(port, url, list(expressions), settle_s))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
