"""uvloop + a raw asyncio Protocol: keep-alive HTTP/1.1 GETs with no client library at all.

    python uvloop_protocol.py http://127.0.0.1:8080/ --requests 10000 --concurrency 100
    workbench io --client-file uvloop_protocol.py     # measured beside the built-in models

The fastest client here and the most to own: it reads Content-Length bodies only.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import urllib.parse
from typing import Any

import uvloop

MODEL = "uvloop"
LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


class Connection(asyncio.Protocol):
    """One kept-alive connection, one request at a time: `answer` resolves to the body."""

    answer: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport, self.buffer = transport, bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = LENGTH.search(head)
        if length is None or len(rest) < int(length[1]) or self.answer is None:
            return  # not the whole answer yet
        if self.answer.done():  # cancelled: nobody waits for it, and the connection is closing
            return
        del self.buffer[: len(head) + 4 + int(length[1])]
        if (status := int(head.split()[1])) >= 400:  # a 5xx is a failure, not a fast answer
            self.answer.set_exception(ConnectionError(f"HTTP {status}"))
        else:
            self.answer.set_result(bytes(rest[: int(length[1])]))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc or ConnectionError("closed by the server"))


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    u = urllib.parse.urlsplit(url)
    line = f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode()
    return {
        "addr": (u.hostname, u.port or 80),
        "request": line,
        "timeout": timeout_s,
        "idle": [],
        "limit": asyncio.Semaphore(concurrency),
    }


async def request(state: dict[str, Any]) -> int:
    loop = asyncio.get_running_loop()
    async with state["limit"]:  # bounded: never more connections open than this
        conn = state["idle"].pop() if state["idle"] else None
        try:
            async with asyncio.timeout(state["timeout"]):
                if conn is None or conn.transport.is_closing():
                    _, conn = await loop.create_connection(Connection, *state["addr"])
                conn.answer = loop.create_future()
                conn.transport.write(state["request"])
                body = await conn.answer
        except BaseException:  # failed, timed out or cancelled: the connection is unusable
            if conn is not None:
                conn.transport.close()
            raise
        state["idle"].append(conn)  # reuse: the next request skips the TCP handshake
        return len(body)


async def teardown(state: dict[str, Any]) -> None:
    for conn in state["idle"]:
        conn.transport.close()


async def main(a: argparse.Namespace) -> None:
    state, t0 = await setup(a.url, a.concurrency, a.timeout), time.perf_counter()
    ok = failed = started = 0

    async def worker() -> None:  # N workers pull from one counter: no task per request
        nonlocal ok, failed, started
        while started < a.requests:
            started += 1
            try:
                await request(state)
                ok += 1
            except (TimeoutError, OSError):
                failed += 1

    try:
        async with asyncio.TaskGroup() as tg:  # Ctrl-C cancels every worker, then we clean up
            for _ in range(a.concurrency):
                tg.create_task(worker())
    finally:
        await teardown(state)
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {failed} failed, {ok / took:.0f} requests/s in {took:.2f}s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10.0)
    try:
        uvloop.run(main(p.parse_args()))
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
