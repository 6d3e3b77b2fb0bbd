"""`urllib3` client (blocking family): one connection pool (HTTP or HTTPS) shared by all threads."""

from __future__ import annotations

import time
from typing import Any

import urllib3

from workbench.clients.base import (
    BlockingClient,
    BlockingConnection,
    ClientContext,
    read_by_deadline,
    tls_context,
    tls_name,
)
from workbench.workloads.http import HttpWorkload


def read_body(resp: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """A urllib3 response's body (requests' `resp.raw` is one too), read by the operation's
    deadline. Half read, its connection is closed, so that the pool reconnects rather than reuse
    a connection with the rest of a body still in it."""
    conn = getattr(resp, "connection", None)
    try:
        return read_by_deadline(resp.read1, getattr(conn, "sock", None), deadline)
    except BaseException:
        if conn is not None:
            conn.close()
        raise


class Urllib3Connection(BlockingConnection):
    def __init__(self, pool: urllib3.HTTPConnectionPool, wl: HttpWorkload, timeout: float) -> None:
        self.pool = pool
        self.wl = wl
        self.timeout = timeout

    def op(self) -> int:
        wl = self.wl
        deadline = time.monotonic() + self.timeout
        resp = self.pool.request(
            wl.method,
            wl.target.path,
            body=wl.body,
            headers=wl.headers,
            retries=False,
            preload_content=False,
        )
        try:
            body = read_body(resp, deadline)
        finally:
            resp.release_conn()
        return wl.check(resp.status, body) + len(wl.body or b"")


class Urllib3Client(BlockingClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, HttpWorkload)
        self.wl = ctx.workload
        target = ctx.workload.target
        options: dict[str, Any] = dict(
            maxsize=ctx.concurrency,
            block=True,
            timeout=urllib3.Timeout(total=ctx.timeout),
            retries=False,
        )
        tls = tls_context(target)
        if tls is None:
            self.pool = urllib3.HTTPConnectionPool(target.connect_host, target.port, **options)
        else:
            self.pool = urllib3.HTTPSConnectionPool(
                target.connect_host,
                target.port,
                ssl_context=tls,
                server_hostname=tls_name(target),
                **options,
            )

    def connection(self) -> BlockingConnection:
        return Urllib3Connection(self.pool, self.wl, self.ctx.timeout)

    def close(self) -> None:
        self.pool.close()
