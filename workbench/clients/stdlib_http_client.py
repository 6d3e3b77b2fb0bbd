"""`http.client` client (blocking family): the standard library, one HTTPConnection per user."""

from __future__ import annotations

import http.client
import time

from workbench.clients.base import (
    BlockingClient,
    BlockingConnection,
    ClientContext,
    read_by_deadline,
)
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
                wl.target.connect_host, wl.target.port, timeout=self.ctx.timeout
            )
        deadline = time.monotonic() + self.ctx.timeout
        conn.request(wl.method, wl.target.path, body=wl.body, headers=wl.headers)
        resp = conn.getresponse()
        body = read_by_deadline(resp.read1, conn.sock, deadline)
        resp.close()  # read1 leaves a finished response open, and the next request needs it closed
        if conn.sock is not None:
            conn.sock.settimeout(self.ctx.timeout)
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
