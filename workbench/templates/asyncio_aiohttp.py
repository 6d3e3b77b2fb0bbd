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
            except (TimeoutError, aiohttp.ClientError):
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
        asyncio.run(main(p.parse_args()))
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
