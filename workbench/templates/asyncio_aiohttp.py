"""asyncio + aiohttp: many concurrent GETs through one shared session, bounded and timed out.

python asyncio_aiohttp.py http://127.0.0.1:8080/ --requests 10000 --concurrency 100
workbench io --client-file asyncio_aiohttp.py     # measured beside the built-in models
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp

MODEL = "asyncio"


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    # One session for all requests: it pools connections (reuse is most of the speed).
    connector = aiohttp.TCPConnector(limit=concurrency)
    session = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s)
    )
    return {"session": session, "url": url}


async def request(state: dict[str, Any]) -> int:
    async with state["session"].get(state["url"]) as resp:
        resp.raise_for_status()  # a 5xx is a failed request, not a fast one
        return len(await resp.read())


async def teardown(state: dict[str, Any]) -> None:
    await state["session"].close()


async def main(url: str, total: int, concurrency: int, timeout_s: float) -> tuple[int, int]:
    state = await setup(url, concurrency, timeout_s)
    done = failed = started = 0

    async def worker() -> None:  # N workers pull from one counter: bounded, and no task per request
        nonlocal done, failed, started
        while started < total:
            started += 1
            try:
                await request(state)
                done += 1
            except (TimeoutError, aiohttp.ClientError):
                failed += 1

    try:
        async with asyncio.TaskGroup() as tg:  # Ctrl-C cancels every worker, then we clean up
            for _ in range(concurrency):
                tg.create_task(worker())
    finally:
        await teardown(state)
    return done, failed


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    t0 = time.perf_counter()
    try:
        ok, bad = asyncio.run(main(a.url, a.requests, a.concurrency, a.timeout))
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {bad} failed, {ok / took:.0f} requests/s in {took:.2f}s")
