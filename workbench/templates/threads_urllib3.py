"""threads + urllib3: a thread pool sharing one connection pool, bounded and timed out.

python threads_urllib3.py http://127.0.0.1:8080/ --requests 10000 --concurrency 32
workbench io --client-file threads_urllib3.py     # measured beside the built-in models
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3

MODEL = "threads"


def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    # One pool, as many connections as threads; block=True makes a thread wait for a free one
    # instead of opening (and dropping) extra connections.
    pool = urllib3.PoolManager(
        maxsize=concurrency, block=True, timeout=urllib3.Timeout(total=timeout_s)
    )
    return {"pool": pool, "url": url}


def request(state: dict[str, Any]) -> int:
    resp = state["pool"].request("GET", state["url"], retries=False)
    if resp.status >= 400:
        raise urllib3.exceptions.HTTPError(f"HTTP {resp.status}")
    return len(resp.data)


def teardown(state: dict[str, Any]) -> None:
    state["pool"].clear()


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
            except urllib3.exceptions.HTTPError:
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
