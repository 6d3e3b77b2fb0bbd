"""httpx (async) on trio or asyncio via anyio: one shared AsyncClient, bounded and timed out.

    python httpx_async.py http://127.0.0.1:8080/ --requests 10000 --concurrency 50
    workbench io --client-file httpx_async.py         # measured beside the built-in models

Keep --concurrency modest: httpx 0.28's pool has been seen to collapse past ~100 connections.
"""

from __future__ import annotations

import argparse
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


async def main(url: str, total: int, concurrency: int, timeout_s: float) -> tuple[int, int]:
    state = await setup(url, concurrency, timeout_s)
    counts = {"ok": 0, "failed": 0, "started": 0}

    async def worker() -> None:  # N workers pull from one counter: bounded concurrency
        while counts["started"] < total:
            counts["started"] += 1
            try:
                await request(state)
                counts["ok"] += 1
            except httpx.HTTPError:
                counts["failed"] += 1

    try:
        async with anyio.create_task_group() as tg:  # Ctrl-C cancels them all, then we close
            for _ in range(concurrency):
                tg.start_soon(worker)
    finally:
        with anyio.CancelScope(shield=True):  # close the pool even while being cancelled
            await teardown(state)
    return counts["ok"], counts["failed"]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    a = p.parse_args()
    t0 = time.perf_counter()
    try:
        ok, bad = anyio.run(main, a.url, a.requests, a.concurrency, a.timeout, backend=a.backend)
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {bad} failed, {ok / took:.0f} requests/s in {took:.2f}s")
