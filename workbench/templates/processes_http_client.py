"""processes + http.client: requests spread over worker processes, a thread pool in each.

    python processes_http_client.py http://127.0.0.1:8080/ --requests 10000 --concurrency 64
    workbench io --client-file processes_http_client.py   # measured beside the built-in models

Processes sidestep the GIL for the client's own Python work; each costs a whole interpreter.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import signal
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MODEL = "processes"


def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    return {
        "host": parts.hostname,
        "port": parts.port or 80,
        "path": parts.path or "/",
        "timeout": timeout_s,
        "local": threading.local(),
    }


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


def share(url: str, count: int, threads: int, timeout_s: float) -> int:
    """One process's part: `count` requests over `threads` threads; how many succeeded."""
    state = setup(url, threads, timeout_s)

    def worker(n: int) -> int:  # one thread's part: how many succeeded
        ok = 0
        for _ in range(n):
            try:
                request(state)
            except (OSError, http.client.HTTPException):
                continue  # a failure: the parent counts requests - ok
            ok += 1
        return ok

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(
            pool.map(worker, [count // threads + (i < count % threads) for i in range(threads)])
        )


def main(a: argparse.Namespace) -> None:
    t0, procs = time.perf_counter(), max(1, min(a.procs, a.concurrency, a.requests))
    shares = [a.requests // procs + (i < a.requests % procs) for i in range(procs)]
    jobs = [(a.url, n, a.concurrency // procs, a.timeout) for n in shares]
    # Workers ignore Ctrl-C; the parent gets it, and leaving the `with` terminates them.
    quiet = (signal.SIGINT, signal.SIG_IGN)
    with multiprocessing.Pool(procs, initializer=signal.signal, initargs=quiet) as pool:
        ok = sum(pool.starmap(share, jobs))
    failed = a.requests - ok
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {failed} failed, {ok / took:.0f} requests/s in {took:.2f}s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--procs", type=int, default=os.cpu_count() or 2)
    try:
        main(p.parse_args())
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
