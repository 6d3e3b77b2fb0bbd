"""threads + psycopg 3: a thread pool sharing one psycopg_pool, bounded and timed out.

python threads_psycopg.py postgresql://user:password@127.0.0.1:5432/db \
    --requests 10000 --concurrency 32
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

MODEL = "threads"
POOL_SIZE = 20  # connections the threads share: more threads than connections wait their turn
QUERY = "SELECT %s::int + 1"  # your query here; prepare=True below makes it a prepared statement


def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    # autocommit: a SELECT needs no transaction (psycopg would otherwise open one and hold it);
    # statement_timeout: the server ends a query that outlasts the timeout, since a blocking
    # driver cannot be interrupted from another thread.
    ms = int(timeout_s * 1000)
    kwargs = {
        "autocommit": True,
        "options": f"-c statement_timeout={ms}",
        "connect_timeout": max(1, round(timeout_s)),
    }
    size = min(POOL_SIZE, concurrency)
    pool = ConnectionPool(url, min_size=size, max_size=size, timeout=timeout_s, kwargs=kwargs)
    pool.wait(timeout=timeout_s)
    return {"pool": pool, "n": itertools.count(), "lock": threading.Lock()}


def request(state: dict[str, Any]) -> int:
    with state["lock"]:
        n = next(state["n"])
    with state["pool"].connection() as conn:  # waits up to the timeout for a free connection
        row = conn.execute(QUERY, (n,), prepare=True).fetchone()
    if row is None or row[0] != n + 1:  # a wrong answer is a failed request, not a fast one
        raise ValueError(f"expected {n + 1}, got {row!r}")
    return 1


def teardown(state: dict[str, Any]) -> None:
    state["pool"].close()


def main(a: argparse.Namespace) -> None:
    state, t0, stop = setup(a.url, a.concurrency, a.timeout), time.perf_counter(), threading.Event()

    def worker(share: int) -> tuple[int, int]:  # one thread's share, one request at a time
        ok = failed = 0
        for _ in range(share):
            if stop.is_set():  # Ctrl-C: finish the request in hand, start no other
                break
            try:
                request(state)
                ok += 1
            except (psycopg.Error, PoolTimeout, ValueError):
                failed += 1
        return ok, failed

    n = a.concurrency
    shares = [a.requests // n + (i < a.requests % n) for i in range(n)]
    try:
        with ThreadPoolExecutor(max_workers=n) as pool:  # the bound on concurrency
            try:
                done = list(pool.map(worker, shares))
            finally:
                stop.set()
    finally:
        teardown(state)
    ok, failed = sum(d[0] for d in done), sum(d[1] for d in done)
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {failed} failed, {ok / took:.0f} requests/s in {took:.2f}s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--timeout", type=float, default=10.0)
    try:
        main(p.parse_args())
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
