"""`httpx-h2`: httpx over HTTP/2 with prior knowledge (h2c), many streams on few connections:
one connection per STREAMS_PER_CONNECTION users (the h2 server's default limit on concurrent
streams), where `httpx` over HTTP/1.1 opens one connection per user. The same requests and checks
as the `httpx` client; only the protocol under them differs. Async only: httpx's sync HTTP/2
connection, shared by threads, allocates stream IDs and writes HEADERS under different locks, so
under concurrency IDs reach the wire out of order and a conforming server resets the connection
(reproduced here against servers/h2.py; the fix is pydantic/httpx2#1153)."""

from __future__ import annotations

import httpx

from workbench.clients.base import AsyncConnection, ClientContext
from workbench.clients.httpx_client import (
    HttpxAsyncClient,
    HttpxAsyncConnection,
    _options,
    _workload,
)

STREAMS_PER_CONNECTION = 100


def _h2_options(ctx: ClientContext) -> dict[str, object]:
    connections = max(1, -(-ctx.concurrency // STREAMS_PER_CONNECTION))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return {**_options(ctx), "limits": limits, "http1": False, "http2": True}


class HttpxH2AsyncClient(HttpxAsyncClient):
    async def start(self) -> None:
        self.client = httpx.AsyncClient(**_h2_options(self.ctx))  # type: ignore[arg-type]

    def connection(self) -> AsyncConnection:
        return HttpxAsyncConnection(self.client, _workload(self.ctx), self.ctx.timeout)
