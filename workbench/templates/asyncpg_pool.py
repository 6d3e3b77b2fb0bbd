"""uvloop + asyncpg: many concurrent queries through one shared pool, bounded and timed out.

python asyncpg_pool.py postgresql://user:password@127.0.0.1:5432/db \
    --requests 10000 --concurrency 100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from typing import Any

import asyncpg
import uvloop

MODEL = "uvloop"
POOL_SIZE = 20  # connections the workers share: more users than connections wait their turn
QUERY = "SELECT $1::int + 1"  # your query here; asyncpg prepares and caches it per connection


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    size = min(POOL_SIZE, concurrency)
    pool = await asyncpg.create_pool(url, min_size=size, max_size=size, timeout=timeout_s)
    return {"pool": pool, "timeout": timeout_s, "n": itertools.count()}


async def request(state: dict[str, Any]) -> int:
    n = next(state["n"])
    # The timeout covers the wait for a free connection as well as the query.
    async with asyncio.timeout(state["timeout"]):
        value = await state["pool"].fetchval(QUERY, n)
    if value != n + 1:  # a wrong answer is a failed request, not a fast one
        raise ValueError(f"expected {n + 1}, got {value!r}")
    return 1


async def teardown(state: dict[str, Any]) -> None:
    await state["pool"].close()


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
            except (TimeoutError, ValueError, asyncpg.PostgresError, OSError):
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
