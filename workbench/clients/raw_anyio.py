"""`raw` client for anyio (on asyncio or trio): anyio's TCP streams and the shared framing.

It reads with `receive()` at anyio's own default size (64 KiB), as anyio's users write it: under
glibc's 128 KiB mmap threshold, so no read maps fresh memory (see raw_trio)."""

from __future__ import annotations

import anyio
import anyio.abc

from workbench.clients.base import AsyncClient, AsyncConnection, ClientContext, tls_context
from workbench.workloads.base import Exchange


class AnyioStreamConnection(AsyncConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.stream: anyio.abc.ByteStream | None = None
        self.exchange: Exchange = ctx.workload.exchange()

    async def op(self) -> int:
        with anyio.fail_after(self.ctx.timeout):
            stream = self.stream
            if stream is None:
                target = self.ctx.workload.target
                tls = tls_context(target)
                if tls is None:
                    stream = await anyio.connect_tcp(target.connect_host, target.port)
                else:
                    stream = await anyio.connect_tcp(
                        target.connect_host, target.port, ssl_context=tls, tls_hostname=target.host
                    )
                self.stream = stream
            exchange = self.exchange
            await stream.send(exchange.request)
            while True:
                n: int | None
                try:
                    data = await stream.receive()
                except anyio.EndOfStream:
                    n = exchange.feed_eof()
                else:
                    n = exchange.feed(data)
                if n is not None:
                    if not exchange.keep_alive:
                        await self.reset()
                    return n

    async def reset(self) -> None:
        stream, self.stream = self.stream, None
        self.exchange = self.ctx.workload.exchange()
        if stream is not None:
            await anyio.aclose_forcefully(stream)


class AnyioStreamClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return AnyioStreamConnection(self.ctx)
