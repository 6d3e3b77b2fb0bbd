"""`websockets` clients: the library's asyncio client (asyncio, uvloop) and its threading client
(sync, threads, processes), one connection per user, compression and keepalive pings off so that
both sides move only the workload's messages. Every answer is checked by the workload."""

from __future__ import annotations

import asyncio
from typing import Any

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
)
from workbench.workloads.websocket import WsEcho, user_of

OPTIONS: dict[str, Any] = {"compression": None, "max_size": None, "ping_interval": None}


class WebsocketsAsyncConnection(AsyncConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.workload, self.listener = user_of(ctx.workload)
        self.ws: Any = None

    async def op(self) -> int:
        from websockets.asyncio.client import connect

        async with asyncio.timeout(self.ctx.timeout):
            if self.ws is None:
                if self.listener is not None:
                    self.listener.reset()
                self.ws = await connect(self.workload.url, **OPTIONS)
            if self.listener is not None:
                return self.listener.received(await self.ws.recv())
            assert isinstance(self.workload, WsEcho)
            await self.ws.send(self.workload.message)
            return self.workload.check(await self.ws.recv())

    async def reset(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            ws.transport.abort()

    async def aclose(self) -> None:
        await self.reset()


class WebsocketsAsyncClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return WebsocketsAsyncConnection(self.ctx)


class WebsocketsSyncConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.workload, self.listener = user_of(ctx.workload)
        self.ws: Any = None

    def op(self) -> int:
        from websockets.sync.client import connect

        timeout = self.ctx.timeout
        if self.ws is None:
            if self.listener is not None:
                self.listener.reset()
            self.ws = connect(self.workload.url, open_timeout=timeout, **OPTIONS)
        if self.listener is not None:
            return self.listener.received(self.ws.recv(timeout=timeout))
        assert isinstance(self.workload, WsEcho)
        self.ws.send(self.workload.message)
        return self.workload.check(self.ws.recv(timeout=timeout))

    def reset(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            ws.socket.close()

    def close(self) -> None:
        self.reset()


class WebsocketsSyncClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        return WebsocketsSyncConnection(self.ctx)
