"""`raw` and `raw-buffered` clients for the asyncio family (default loop and uvloop).

Protocol callbacks rather than streams: this is the fastest way to drive a socket from asyncio,
so the row measures the loop, not a stream layer. Timeouts are enforced by one watchdog task per
worker scanning the connections, instead of a timer armed and cancelled on every operation.

The two differ only in how bytes arrive, and that difference is the allocator's, not the model's:
- `raw` is an `asyncio.Protocol`: the loop hands it a fresh bytes per read. That is the path
  asyncio's streams and most libraries take, so it is what users pay. The default loop's selector
  transport reads with `recv(256 KiB)`, which under glibc's defaults is a fresh mmap, mremap and
  munmap per read (python/cpython#85451): two page faults an operation, and half the row's rate.
  uvloop reads into a buffer it keeps, so it never pays.
- `raw-buffered` is an `asyncio.BufferedProtocol`: both loops `recv_into` one buffer this client
  keeps for all its connections (callbacks run one at a time on the loop's thread), the cheapest
  asyncio can read.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

from workbench.clients.base import (
    READ_SIZE,
    AsyncClient,
    AsyncConnection,
    ClientContext,
    tls_context,
)
from workbench.workloads.base import Exchange


class _Exchanging(asyncio.BaseProtocol):
    """What both protocols do with what arrives: feed the exchange, settle the operation."""

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


class _ExchangeProtocol(_Exchanging, asyncio.Protocol):
    __slots__ = ()


class _BufferedExchangeProtocol(_Exchanging, asyncio.BufferedProtocol):
    """Reads into its client's one buffer; what arrived is copied out before the next read."""

    __slots__ = ("view",)

    def __init__(self, exchange: Exchange, view: memoryview) -> None:
        super().__init__(exchange)
        self.view = view

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self.view[:nbytes]))


class RawProtocolConnection(AsyncConnection):
    def __init__(self, client: RawProtocolClient) -> None:
        self.client = client
        self.proto: _Exchanging | None = None

    async def _connect(self) -> _Exchanging:
        client = self.client
        target = client.ctx.workload.target
        exchange = client.ctx.workload.exchange()
        loop = client.loop
        tls = tls_context(target)
        async with asyncio.timeout(client.ctx.timeout):
            _, proto = await loop.create_connection(
                lambda: client.protocol(exchange),
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
    """`raw`: a Protocol per connection, handed a fresh bytes per read by the loop."""

    def protocol(self, exchange: Exchange) -> _Exchanging:
        return _ExchangeProtocol(exchange)

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


class BufferedProtocolClient(RawProtocolClient):
    """`raw-buffered`: a BufferedProtocol per connection, all reading into one kept buffer."""

    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        self.view = memoryview(bytearray(READ_SIZE))

    def protocol(self, exchange: Exchange) -> _Exchanging:
        return _BufferedExchangeProtocol(exchange, self.view)
