"""`http.client` client (blocking family): the standard library, one HTTP(S)Connection per user."""

from __future__ import annotations

import http.client
import time
from typing import Any

from workbench.clients.base import (
    BlockingClient,
    BlockingConnection,
    ClientContext,
    read_by_deadline,
    tls_context,
)
from workbench.workloads.http import HttpWorkload


class _NamedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address, and verifies the certificate against the target's name
    (http.client would verify it against the address it was given)."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tls_name = name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            self.sock, server_hostname=self.tls_name
        )


class StdlibConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext, wl: HttpWorkload) -> None:
        self.ctx = ctx
        self.wl = wl
        self.conn: http.client.HTTPConnection | None = None

    def op(self) -> int:
        wl = self.wl
        conn = self.conn
        if conn is None:
            conn = self.conn = self._connection()
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

    def _connection(self) -> http.client.HTTPConnection:
        target, timeout = self.wl.target, self.ctx.timeout
        tls = tls_context(target)
        if tls is None:
            return http.client.HTTPConnection(target.connect_host, target.port, timeout=timeout)
        return _NamedHTTPSConnection(
            target.host, target.connect_host, target.port, timeout=timeout, context=tls
        )

    def reset(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class StdlibClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        assert isinstance(self.ctx.workload, HttpWorkload)
        return StdlibConnection(self.ctx, self.ctx.workload)
