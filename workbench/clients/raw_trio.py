"""`raw` client for trio: trio's own SocketStream and the shared sans-I/O framing."""

from __future__ import annotations

import trio

from workbench.clients.base import AsyncClient, AsyncConnection, ClientContext, tls_context
from workbench.clients.raw_blocking import RECV_SIZE
from workbench.workloads.base import Exchange


class TrioStreamConnection(AsyncConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] | None = None
        self.exchange: Exchange = ctx.workload.exchange()

    async def op(self) -> int:
        with trio.fail_after(self.ctx.timeout):
            stream = self.stream
            if stream is None:
                target = self.ctx.workload.target
                stream = await trio.open_tcp_stream(target.connect_host, target.port)
                tls = tls_context(target)
                if tls is not None:
                    stream = trio.SSLStream(stream, tls, server_hostname=target.host)
                self.stream = stream
            exchange = self.exchange
            await stream.send_all(exchange.request)
            while True:
                # bytes(): an SSLStream may hand back a bytearray (no copy when it is bytes).
                data = bytes(await stream.receive_some(RECV_SIZE))
                n = exchange.feed(data) if data else exchange.feed_eof()
                if n is not None:
                    if not exchange.keep_alive:
                        await self.reset()
                    return n

    async def reset(self) -> None:
        stream, self.stream = self.stream, None
        self.exchange = self.ctx.workload.exchange()
        if stream is not None:
            await trio.aclose_forcefully(stream)


class TrioStreamClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return TrioStreamConnection(self.ctx)
