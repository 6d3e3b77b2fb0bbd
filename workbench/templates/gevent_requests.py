"""gevent + requests: greenlets with one requests.Session each, monkey-patched, bounded, timed out.

python gevent_requests.py http://127.0.0.1:8080/ --requests 10000 --concurrency 100
workbench io --client-file gevent_requests.py     # measured beside the built-in models
"""

# Patch before anything else imports socket, ssl or threading: run as a script, this file is the
# first thing Python runs. (Under the workbench, its gevent worker has already patched.)
if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()

import argparse
import os
import signal
import threading
import time
from typing import Any

import gevent
import gevent.pool
import requests

MODEL = "gevent"


def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    # A Session per greenlet: patched, threading.local is greenlet-local, so each user keeps its
    # own session and its one keep-alive connection, as locust's users do. trust_env=False keeps
    # HTTP_PROXY from redirecting load meant for this URL.
    return {"url": url, "timeout": timeout_s, "local": threading.local(), "sessions": []}


def request(state: dict[str, Any]) -> int:
    session = getattr(state["local"], "session", None)
    if session is None:
        session = state["local"].session = requests.Session()
        session.trust_env = False
        # An https URL: the CA in REQUESTS_CA_BUNDLE if set (the workbench sets it to its mock
        # server's throw-away CA), else certifi's. trust_env=False would otherwise drop it.
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE", True)
        state["sessions"].append(session)
    resp = session.get(state["url"], timeout=state["timeout"])
    resp.raise_for_status()  # a 5xx is a failed request, not a fast one
    return len(resp.content)


def teardown(state: dict[str, Any]) -> None:
    for session in state["sessions"]:
        session.close()


def main(a: argparse.Namespace) -> None:
    state, t0 = setup(a.url, a.concurrency, a.timeout), time.perf_counter()
    ok = failed = started = 0

    def worker() -> None:  # N greenlets pull from one counter: no greenlet per request
        nonlocal ok, failed, started
        while started < a.requests:
            started += 1
            try:
                request(state)
                ok += 1
            except requests.RequestException:
                failed += 1

    pool = gevent.pool.Pool(a.concurrency)  # the bound on concurrency
    interrupted = []

    def on_ctrl_c() -> None:
        # gevent would raise KeyboardInterrupt in whichever greenlet was running: stop them all
        # instead (GreenletExit unwinds each one quietly) and say so once, below.
        interrupted.append(True)
        pool.kill(block=False)

    handler = gevent.signal_handler(signal.SIGINT, on_ctrl_c)
    try:
        for _ in range(a.concurrency):
            pool.spawn(worker)
        pool.join(raise_error=True)
    finally:
        handler.cancel()
        pool.kill()
        teardown(state)
    if interrupted:
        raise KeyboardInterrupt
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {failed} failed, {ok / took:.0f} requests/s in {took:.2f}s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10.0)
    try:
        main(p.parse_args())
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
