"""`aiohttp` client (asyncio family): one shared ClientSession, as aiohttp's docs recommend."""

from __future__ import annotations

import aiohttp

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    ClientContext,
    tls_context,
    tls_name,
)
from workbench.workloads.http import HttpWorkload


class AiohttpConnection(AsyncConnection):
    def __init__(self, client: AiohttpClient) -> None:
        self.client = client

    async def op(self) -> int:
        wl = self.client.workload
        async with self.client.session.request(
            wl.method, wl.url, data=wl.body, headers=wl.headers, server_hostname=self.client.name
        ) as resp:
            body = await resp.read()
        return wl.check(resp.status, body) + len(wl.body or b"")


class AiohttpClient(AsyncClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, HttpWorkload)
        self.workload = ctx.workload
        self.name = tls_name(ctx.workload.target)

    async def start(self) -> None:
        tls = tls_context(self.workload.target)
        connector = aiohttp.TCPConnector(
            limit=self.ctx.concurrency, limit_per_host=0, ssl=True if tls is None else tls
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.ctx.timeout),
            auto_decompress=False,
        )

    def connection(self) -> AsyncConnection:
        return AiohttpConnection(self)

    async def aclose(self) -> None:
        await self.session.close()
