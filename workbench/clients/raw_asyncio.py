"""`raw` client for the asyncio family (default loop and uvloop): an asyncio Protocol.

Protocol callbacks rather than streams: this is the fastest way to drive a socket from asyncio,
so the row measures the loop, not a stream layer. Timeouts are enforced by one watchdog task per
worker scanning the connections, instead of a timer armed and cancelled on every operation.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

from workbench.clients.base import AsyncClient, AsyncConnection, ClientContext, tls_context
from workbench.workloads.base import Exchange


class _ExchangeProtocol(asyncio.Protocol):
    __slots__ = ("deadline", "exchange", "fut", "transport")

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.fut: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None
        self.deadline = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the Transport interface without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        fut = self.fut
        if fut is None or fut.done():
            return  # bytes after a failed exchange: the connection is reset anyway
        try:
            n = self.exchange.feed(data)
        except Exception as exc:
            fut.set_exception(exc)
            return
        if n is not None:
            fut.set_result(n)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        fut = self.fut
        if fut is None or fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
            return
        try:
            fut.set_result(self.exchange.feed_eof())
        except Exception as err:
            fut.set_exception(err)


class RawProtocolConnection(AsyncConnection):
    def __init__(self, client: RawProtocolClient) -> None:
        self.client = client
        self.proto: _ExchangeProtocol | None = None

    async def _connect(self) -> _ExchangeProtocol:
        client = self.client
        target = client.ctx.workload.target
        exchange = client.ctx.workload.exchange()
        loop = client.loop
        tls = tls_context(target)
        async with asyncio.timeout(client.ctx.timeout):
            _, proto = await loop.create_connection(
                lambda: _ExchangeProtocol(exchange),
                target.connect_host,
                target.port,
                ssl=tls,
                server_hostname=target.host if tls is not None else None,
            )
        self.proto = proto
        return proto

    async def op(self) -> int:
        proto = self.proto or await self._connect()
        loop = self.client.loop
        fut = loop.create_future()
        proto.fut = fut
        proto.deadline = loop.time() + self.client.ctx.timeout
        transport = proto.transport
        if transport is None:
            self.proto = None
            raise ConnectionResetError("connection closed by the server")
        transport.write(proto.exchange.request)
        n: int = await fut
        if not proto.exchange.keep_alive:
            await self.reset()
        return n

    async def reset(self) -> None:
        proto, self.proto = self.proto, None
        if proto is not None and proto.transport is not None:
            proto.transport.abort()


class RawProtocolClient(AsyncClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        self.connections: list[RawProtocolConnection] = []
        self._watchdog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._watchdog = asyncio.create_task(self._watch())

    def connection(self) -> AsyncConnection:
        conn = RawProtocolConnection(self)
        self.connections.append(conn)
        return conn

    async def _watch(self) -> None:
        period = min(0.25, self.ctx.timeout / 4)
        while True:
            await asyncio.sleep(period)
            now = self.loop.time()
            for conn in self.connections:
                proto = conn.proto
                fut = proto.fut if proto is not None else None
                if fut is not None and not fut.done() and now > proto.deadline:  # type: ignore[union-attr]
                    fut.set_exception(TimeoutError("operation timed out"))

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        for conn in self.connections:
            await conn.reset()
