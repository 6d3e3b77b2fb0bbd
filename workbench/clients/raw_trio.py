"""`raw` client for trio: trio's own SocketStream and the shared sans-I/O framing.

It reads with `receive_some()` at trio's own default size (64 KiB), as trio's users write it. A
size at or past glibc's mmap threshold (128 KiB) makes every read a fresh mmap, mremap and
munmap: the 256 KiB this client once asked for cost two page faults an operation and held trio
raw to 15k ops/s where it reaches 26k without them (3.11, 500 clients, measured here)."""

from __future__ import annotations

import trio

from workbench.clients.base import AsyncClient, AsyncConnection, ClientContext, tls_context
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
                data = bytes(await stream.receive_some())
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
