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


def main(url: str, total: int, concurrency: int, timeout_s: float) -> tuple[int, int]:
    state = setup(url, concurrency, timeout_s)
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()  # the counters are shared: += from many threads needs it
    stop = threading.Event()

    def one(_: int) -> None:
        if stop.is_set():
            return
        try:
            request(state)
            key = "ok"
        except urllib3.exceptions.HTTPError:
            key = "failed"
        with lock:
            counts[key] += 1

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:  # the bound on concurrency
            try:
                list(pool.map(one, range(total)))
            except KeyboardInterrupt:
                stop.set()  # queued requests return at once; running ones finish, then we exit
                raise
    finally:
        teardown(state)
    return counts["ok"], counts["failed"]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    t0 = time.perf_counter()
    try:
        ok, bad = main(a.url, a.requests, a.concurrency, a.timeout)
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {bad} failed, {ok / took:.0f} requests/s in {took:.2f}s")
