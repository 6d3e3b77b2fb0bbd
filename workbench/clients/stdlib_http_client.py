"""`http.client` client (blocking family): the standard library, one HTTPConnection per user."""

from __future__ import annotations

import http.client

from workbench.clients.base import BlockingClient, BlockingConnection, ClientContext
from workbench.workloads.http import HttpWorkload


class StdlibConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext, wl: HttpWorkload) -> None:
        self.ctx = ctx
        self.wl = wl
        self.conn: http.client.HTTPConnection | None = None

    def op(self) -> int:
        wl = self.wl
        conn = self.conn
        if conn is None:
            conn = self.conn = http.client.HTTPConnection(
                wl.target.host, wl.target.port, timeout=self.ctx.timeout
            )
        conn.request(wl.method, wl.target.path, body=wl.body)
        resp = conn.getresponse()
        body = resp.read()
        if resp.will_close:
            self.reset()
        return wl.check(resp.status, body) + len(wl.body or b"")

    def reset(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class StdlibClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        assert isinstance(self.ctx.workload, HttpWorkload)
        return StdlibConnection(self.ctx, self.ctx.workload)
