"""`httpx` clients: `httpx.Client` shared by threads, `httpx.AsyncClient` on asyncio/trio/anyio.

One shared client with a pool as large as the concurrency, which is how httpx is meant to be used.
If its pool collapses under many connections, the row shows it; that is a finding, not a bug here.
"""

from __future__ import annotations

import time

import anyio
import httpx

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
    time_left,
    tls_context,
    tls_name,
)
from workbench.workloads.http import HttpWorkload


def _options(ctx: ClientContext) -> dict[str, object]:
    limits = httpx.Limits(
        max_connections=ctx.concurrency, max_keepalive_connections=ctx.concurrency
    )
    # trust_env off: the load goes where the workbench checked it may go, never to HTTP_PROXY.
    options: dict[str, object] = {
        "limits": limits,
        "timeout": httpx.Timeout(ctx.timeout),
        "trust_env": False,
    }
    tls = tls_context(ctx.workload.target)
    if tls is not None:
        options["verify"] = tls
    return options


def _extensions(wl: HttpWorkload) -> dict[str, object]:
    name = tls_name(wl.target)
    return {} if name is None else {"sni_hostname": name}


def _workload(ctx: ClientContext) -> HttpWorkload:
    assert isinstance(ctx.workload, HttpWorkload)
    return ctx.workload


class HttpxSyncConnection(BlockingConnection):
    def __init__(self, client: httpx.Client, wl: HttpWorkload, timeout: float) -> None:
        self.client = client
        self.wl = wl
        self.timeout = timeout
        self.extensions = _extensions(wl)

    def op(self) -> int:
        wl = self.wl
        deadline = time.monotonic() + self.timeout
        # httpx's timeouts bound each network read; the deadline bounds their sum, checked as
        # each piece of the body arrives (a sync client cannot be interrupted mid-read, so the
        # last wait can run past the deadline by at most one read's timeout).
        with self.client.stream(
            wl.method, wl.url, content=wl.body, headers=wl.headers, extensions=self.extensions
        ) as resp:
            parts = []
            for chunk in resp.iter_raw():
                time_left(deadline)
                parts.append(chunk)
        return wl.check(resp.status_code, b"".join(parts)) + len(wl.body or b"")


class HttpxSyncClient(BlockingClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        self.client = httpx.Client(**_options(ctx))  # type: ignore[arg-type]

    def connection(self) -> BlockingConnection:
        return HttpxSyncConnection(self.client, _workload(self.ctx), self.ctx.timeout)

    def close(self) -> None:
        self.client.close()


class HttpxAsyncConnection(AsyncConnection):
    def __init__(self, client: httpx.AsyncClient, wl: HttpWorkload, timeout: float) -> None:
        self.client = client
        self.wl = wl
        self.timeout = timeout
        self.extensions = _extensions(wl)

    async def op(self) -> int:
        wl = self.wl
        # One deadline for the whole request (httpx's own timeouts bound each read); anyio's
        # fail_after works on asyncio and trio alike.
        with anyio.fail_after(self.timeout):
            resp = await self.client.request(
                wl.method, wl.url, content=wl.body, headers=wl.headers, extensions=self.extensions
            )
        return wl.check(resp.status_code, resp.content) + len(wl.body or b"")


class HttpxAsyncClient(AsyncClient):
    async def start(self) -> None:
        self.client = httpx.AsyncClient(**_options(self.ctx))  # type: ignore[arg-type]

    def connection(self) -> AsyncConnection:
        return HttpxAsyncConnection(self.client, _workload(self.ctx), self.ctx.timeout)

    async def aclose(self) -> None:
        await self.client.aclose()
