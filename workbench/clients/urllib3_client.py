"""`urllib3` client (blocking family): one HTTPConnectionPool shared by every thread."""

from __future__ import annotations

import urllib3

from workbench.clients.base import BlockingClient, BlockingConnection, ClientContext
from workbench.workloads.http import HttpWorkload


class Urllib3Connection(BlockingConnection):
    def __init__(self, pool: urllib3.HTTPConnectionPool, wl: HttpWorkload) -> None:
        self.pool = pool
        self.wl = wl

    def op(self) -> int:
        wl = self.wl
        resp = self.pool.request(wl.method, wl.target.path, body=wl.body, retries=False)
        return wl.check(resp.status, resp.data) + len(wl.body or b"")


class Urllib3Client(BlockingClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, HttpWorkload)
        self.wl = ctx.workload
        target = ctx.workload.target
        self.pool = urllib3.HTTPConnectionPool(
            target.host,
            target.port,
            maxsize=ctx.concurrency,
            block=True,
            timeout=urllib3.Timeout(total=ctx.timeout),
            retries=False,
        )

    def connection(self) -> BlockingConnection:
        return Urllib3Connection(self.pool, self.wl)

    def close(self) -> None:
        self.pool.close()
