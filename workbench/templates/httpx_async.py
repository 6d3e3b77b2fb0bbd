"""httpx (async) on trio or asyncio via anyio: one shared AsyncClient, bounded and timed out.

    python httpx_async.py http://127.0.0.1:8080/ --requests 10000 --concurrency 50
    workbench io --client-file httpx_async.py         # measured beside the built-in models

Keep --concurrency modest: httpx 0.28's pool has been seen to collapse past ~100 connections.
"""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any

import anyio
import httpx

MODEL = "anyio-asyncio"  # the same code runs on trio: anyio.run(..., backend="trio")


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(timeout_s))
    return {"client": client, "url": url}


async def request(state: dict[str, Any]) -> int:
    resp = await state["client"].get(state["url"])
    resp.raise_for_status()  # a 5xx is a failed request, not a fast one
    return len(resp.content)


async def teardown(state: dict[str, Any]) -> None:
    await state["client"].aclose()


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
            except httpx.HTTPError:
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
        with anyio.CancelScope(shield=True):  # close the pool even while being cancelled
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
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    a = p.parse_args()
    try:
        interrupted = anyio.run(main, a, backend=a.backend)
    except* KeyboardInterrupt:  # before the receiver is listening; trio sends it in a group
        interrupted = True
    if interrupted:
        raise SystemExit("interrupted")
