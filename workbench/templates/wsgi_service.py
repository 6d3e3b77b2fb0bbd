"""A service to start from: plain WSGI, JSON, a downstream over one shared urllib3 pool.

Run it under any WSGI server, or measure it under each with the workbench:

    gunicorn -k gthread --threads 32 wsgi_service:app
    DOWNSTREAM_URL=http://127.0.0.1:8000/ waitress-serve --threads 32 wsgi_service:app
    python -m workbench servers --app wsgi_service:app

One `urllib3.PoolManager` per process, shared by the server's threads (it is thread-safe), with as
many kept connections as threads: a pool smaller than the thread count makes threads wait for a
connection or open throw-away ones. Without `DOWNSTREAM_URL` the handler answers at once. A
threaded server answers at most threads x workers requests at a time, whatever the clients: with a
downstream that waits d, that is at most T x W / d a second.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import urllib3

DOWNSTREAM = os.environ.get("DOWNSTREAM_URL", "")
THREADS = int(os.environ.get("THREADS", "32"))
pool = urllib3.PoolManager(maxsize=THREADS, block=False, retries=False)


def handle() -> dict[str, Any]:
    if not DOWNSTREAM:
        return {"message": "hello, world"}
    resp = pool.request("GET", DOWNSTREAM)
    if resp.status != 200:  # a failed call fails the request: the server answers 500
        raise RuntimeError(f"downstream answered {resp.status}")
    return {"downstream_bytes": len(resp.data)}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps(handle()).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
