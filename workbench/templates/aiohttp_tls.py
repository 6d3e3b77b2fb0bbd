"""asyncio + aiohttp over TLS: concurrent GETs through one session, the certificate verified.

python aiohttp_tls.py https://127.0.0.1:8443/ --ca-file ca.pem --requests 10000 --concurrency 100
workbench io --workloads https --client-file aiohttp_tls.py   # beside the built-in models
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import time
from typing import Any

import aiohttp

MODEL = "asyncio"


async def setup(url: str, concurrency: int, timeout_s: float) -> dict[str, Any]:
    # One SSL context for every connection, so the CA is loaded once, not per connection.
    # create_default_context() verifies the chain and the host name; it trusts the
    # system's CAs, or the file in SSL_CERT_FILE (which --ca-file sets, and which the workbench
    # sets to its mock server's throw-away CA). Never pass ssl=False to make an error go away.
    context = ssl.create_default_context()
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=context)
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
    if a.ca_file:
        os.environ["SSL_CERT_FILE"] = a.ca_file
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
                # A certificate that fails verification lands here too.
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
    p.add_argument("--ca-file", help="the CA to verify the server against (default: the system's)")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--timeout", type=float, default=10.0)
    try:
        asyncio.run(main(p.parse_args()))
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
