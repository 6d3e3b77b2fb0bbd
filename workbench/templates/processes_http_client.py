"""processes + http.client: requests spread over worker processes, a thread pool in each.

    python processes_http_client.py http://127.0.0.1:8080/ --requests 10000 --concurrency 64
    workbench io --client-file processes_http_client.py   # measured beside the built-in models

Processes sidestep the GIL for the client's own Python work; each costs a whole interpreter.
"""

from __future__ import annotations

import argparse
import http.client
import os
import threading
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

MODEL = "processes"


def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    return {"host": parts.hostname, "port": parts.port or 80, "path": parts.path or "/",
            "timeout": timeout_s, "local": threading.local()}  # fmt: skip


def request(state: dict[str, Any]) -> int:
    local = state["local"]  # one kept-alive connection per thread: http.client is not shared
    if getattr(local, "conn", None) is None:
        local.conn = http.client.HTTPConnection(
            state["host"], state["port"], timeout=state["timeout"]
        )
    try:
        local.conn.request("GET", state["path"])
        resp = local.conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException):
        local.conn.close()  # a broken connection is replaced on the next request
        local.conn = None
        raise
    if resp.status >= 400:
        raise http.client.HTTPException(f"HTTP {resp.status}")
    return len(body)


def teardown(state: dict[str, Any]) -> None:
    pass  # each thread's connection closes with its process


def share(url: str, count: int, threads: int, timeout_s: float) -> tuple[int, int]:
    """One process's part: `count` requests over `threads` threads."""
    state = setup(url, threads, timeout_s)

    def one(_: int) -> bool:
        try:
            request(state)
            return True
        except (OSError, http.client.HTTPException):
            return False

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, range(count)))
    teardown(state)
    return sum(results), len(results) - sum(results)


def main(url: str, total: int, concurrency: int, timeout_s: float, procs: int) -> tuple[int, int]:
    procs = max(1, min(procs, concurrency, total))
    counts = [total // procs + (i < total % procs) for i in range(procs)]
    with ProcessPoolExecutor(max_workers=procs) as pool:
        parts = [
            pool.submit(share, url, n, max(1, concurrency // procs), timeout_s) for n in counts
        ]
        done = [f.result() for f in parts]
    return sum(d[0] for d in done), sum(d[1] for d in done)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--procs", type=int, default=os.cpu_count() or 2)
    a = p.parse_args()
    t0 = time.perf_counter()
    try:
        ok, bad = main(a.url, a.requests, a.concurrency, a.timeout, a.procs)
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None  # the pool's workers exit with us
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {bad} failed, {ok / took:.0f} requests/s in {took:.2f}s")
