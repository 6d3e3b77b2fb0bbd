"""anyio + h11: keep-alive GETs over a pool of anyio streams, on asyncio or trio unchanged.

    python anyio_h11.py http://127.0.0.1:8080/ --requests 10000 --concurrency 100 --backend trio
    workbench io --client-file anyio_h11.py           # measured beside the built-in models

Write once against anyio (task groups, CapacityLimiter, fail_after, shielded cleanup) and pick
the event loop when you run it; h11 does the HTTP and no I/O.
"""

from __future__ import annotations

import argparse
import signal
import time
import urllib.parse
from typing import Any

import anyio
import h11
from anyio.abc import SocketStream

MODEL = "anyio-asyncio"  # the same code runs on trio: anyio.run(..., backend="trio")


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    u = urllib.parse.urlsplit(url)
    get = h11.Request(method="GET", target=u.path or "/", headers=[("Host", u.netloc)])
    return {
        "addr": (u.hostname, u.port or 80),
        "get": get,
        "timeout": timeout_s,
        "idle": [],
        "limit": anyio.CapacityLimiter(concurrency),
    }


async def exchange(stream: SocketStream, conn: h11.Connection, get: h11.Request) -> bytes:
    await stream.send(conn.send(get) + conn.send(h11.EndOfMessage()))
    body, status = bytearray(), 0
    while not isinstance(event := conn.next_event(), h11.EndOfMessage):
        if event is h11.NEED_DATA:
            try:
                conn.receive_data(await stream.receive(65536))
            except anyio.EndOfStream:
                conn.receive_data(b"")  # closed: h11 raises if the answer was cut short
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
    conn.start_next_cycle()  # ready for the next request on this connection
    if status >= 400:  # a 5xx is a failure, not a fast answer
        raise h11.RemoteProtocolError(f"HTTP {status}")
    return bytes(body)


async def request(state: dict[str, Any]) -> int:
    async with state["limit"]:  # bounded: never more connections open than this
        stream, conn = state["idle"].pop() if state["idle"] else (None, h11.Connection(h11.CLIENT))
        try:
            with anyio.fail_after(state["timeout"]):  # one deadline for connect, send and read
                stream = stream or await anyio.connect_tcp(*state["addr"])
                body = await exchange(stream, conn, state["get"])
        except BaseException:  # failed, timed out or cancelled: the connection is unusable
            if stream is not None:
                await anyio.aclose_forcefully(stream)
            raise
        state["idle"].append((stream, conn))  # reuse: the next request skips the handshake
        return len(body)


async def teardown(state: dict[str, Any]) -> None:
    with anyio.CancelScope(shield=True):  # close the pool even while being cancelled
        for stream, _ in state["idle"]:
            await anyio.aclose_forcefully(stream)


async def main(a: argparse.Namespace) -> bool:
    state, t0 = await setup(a.url, a.concurrency, a.timeout), time.perf_counter()
    ok = failed = started = 0
    interrupted = False

    async def worker() -> None:  # N workers pull from one counter: no task per request
        nonlocal ok, failed, started
        while started < a.requests:
            started += 1
            try:
                await request(state)
                ok += 1
            except (TimeoutError, anyio.BrokenResourceError, OSError, h11.ProtocolError):
                failed += 1

    try:
        # Ctrl-C through a signal receiver: the default handler can raise KeyboardInterrupt inside
        # a library's callback, where Python swallows it ("Exception ignored in ...").
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async with anyio.create_task_group() as outer:

                async def on_ctrl_c() -> None:
                    nonlocal interrupted
                    async for _ in signals:
                        interrupted = True
                        outer.cancel_scope.cancel()

                outer.start_soon(on_ctrl_c)
                async with anyio.create_task_group() as tg:  # Ctrl-C cancels them all
                    for _ in range(a.concurrency):
                        tg.start_soon(worker)
                outer.cancel_scope.cancel()  # every request done: stop listening
    finally:
        await teardown(state)
    if interrupted:
        return True
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {failed} failed, {ok / took:.0f} requests/s in {took:.2f}s")
    return False


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    a = p.parse_args()
    try:
        interrupted = anyio.run(main, a, backend=a.backend)
    except* KeyboardInterrupt:  # before the receiver is listening; trio sends it in a group
        interrupted = True
    if interrupted:
        raise SystemExit("interrupted")
