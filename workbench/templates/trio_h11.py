"""trio + h11: keep-alive GETs over a pool of trio streams, bounded, timed out, cancellable.

    python trio_h11.py http://127.0.0.1:8080/ --requests 10000 --concurrency 100
    workbench io --client-file trio_h11.py            # measured beside the built-in models

h11 does the HTTP (and does no I/O); trio does the I/O, the deadlines and the cancellation.
"""

from __future__ import annotations

import argparse
import signal
import time
import urllib.parse
from typing import Any

import h11
import trio

MODEL = "trio"


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    u = urllib.parse.urlsplit(url)
    get = h11.Request(method="GET", target=u.path or "/", headers=[("Host", u.netloc)])
    return {
        "addr": (u.hostname, u.port or 80),
        "get": get,
        "timeout": timeout_s,
        "idle": [],
        "limit": trio.CapacityLimiter(concurrency),
    }


async def exchange(stream: trio.SocketStream, conn: h11.Connection, get: h11.Request) -> bytes:
    await stream.send_all(conn.send(get) + conn.send(h11.EndOfMessage()))
    body, status = bytearray(), 0
    while not isinstance(event := conn.next_event(), h11.EndOfMessage):
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))  # b"": h11 raises if early
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
            with trio.fail_after(state["timeout"]):  # one deadline for connect, send and read
                stream = stream or await trio.open_tcp_stream(*state["addr"])
                body = await exchange(stream, conn, state["get"])
        except BaseException:  # failed, timed out or cancelled: the connection is unusable
            if stream is not None:
                await trio.aclose_forcefully(stream)
            raise
        state["idle"].append((stream, conn))  # reuse: the next request skips the handshake
        return len(body)


async def teardown(state: dict[str, Any]) -> None:
    with trio.CancelScope(shield=True):  # close the pool even while being cancelled
        for stream, _ in state["idle"]:
            await trio.aclose_forcefully(stream)


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
            except (trio.TooSlowError, trio.BrokenResourceError, OSError, h11.ProtocolError):
                failed += 1

    try:
        # Ctrl-C through a signal receiver: the default handler can raise KeyboardInterrupt inside
        # a library's callback, where Python swallows it ("Exception ignored in ...").
        with trio.open_signal_receiver(signal.SIGINT) as signals:
            async with trio.open_nursery() as outer:

                async def on_ctrl_c() -> None:
                    nonlocal interrupted
                    async for _ in signals:
                        interrupted = True
                        outer.cancel_scope.cancel()

                outer.start_soon(on_ctrl_c)
                async with trio.open_nursery() as nursery:  # Ctrl-C cancels them all
                    for _ in range(a.concurrency):
                        nursery.start_soon(worker)
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
    try:
        interrupted = trio.run(main, p.parse_args())
    except* KeyboardInterrupt:  # before the receiver is listening; trio sends it in a group
        interrupted = True
    if interrupted:
        raise SystemExit("interrupted")
