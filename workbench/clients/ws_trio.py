"""`trio-websocket` client (trio): the library trio users reach for, one connection per user,
each with the background reader task the library runs in a nursery of its own. Every answer is
checked by the workload.

The connection's context (its nursery) is entered outside any deadline of an operation: trio's
cancel scopes nest, and a deadline left while the connection's scope is still open would be
exited out of order. Each operation's own deadline is `trio.fail_after` inside it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from workbench.clients.base import AsyncClient, AsyncConnection, ClientContext
from workbench.protocol.http import ConnectionClosed as StreamEnded
from workbench.workloads.websocket import WsEcho, user_of

ABNORMAL_CLOSURE = 1006  # RFC 6455: the connection ended without a closing handshake

# The closing handshake when a user is reset or done: short, so that a dead server cannot hold
# a user past the window's stop; what it costs is not measured.
CLOSE_TIMEOUT_S = 1.0


class TrioWebsocketConnection(AsyncConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.workload, self.listener = user_of(ctx.workload)
        self.stack: contextlib.AsyncExitStack | None = None
        self.ws: Any = None

    async def _connect(self) -> Any:
        if self.listener is not None:
            self.listener.reset()
        stack = contextlib.AsyncExitStack()
        self.ws = await stack.enter_async_context(
            open_websocket_url(
                self.workload.url,
                connect_timeout=self.ctx.timeout,
                disconnect_timeout=min(self.ctx.timeout, CLOSE_TIMEOUT_S),
                max_message_size=1 << 30,
            )
        )
        self.stack = stack
        return self.ws

    async def op(self) -> int:
        ws = self.ws or await self._connect()
        try:
            with trio.fail_after(self.ctx.timeout):
                if self.listener is not None:
                    return self.listener.received(await ws.get_message())
                assert isinstance(self.workload, WsEcho)
                await ws.send_message(self.workload.message)
                return self.workload.check(await ws.get_message())
        except ConnectionClosed as exc:
            # The library keeps the transport's failure to itself and reports a close code:
            # 1006 is a connection that broke (the reset the other clients see), others an end.
            if exc.reason is not None and exc.reason.code == ABNORMAL_CLOSURE:
                raise ConnectionResetError(f"WebSocket closed abnormally: {exc.reason}") from exc
            raise StreamEnded(f"the WebSocket ended: {exc.reason}") from exc

    async def reset(self) -> None:
        stack, self.stack, self.ws = self.stack, None, None
        if stack is not None:
            # A connection that already failed may fail again on its way out: it is gone either
            # way, and the failure that counted was the operation's.
            with contextlib.suppress(Exception):
                await stack.aclose()

    async def aclose(self) -> None:
        await self.reset()


class TrioWebsocketClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return TrioWebsocketConnection(self.ctx)
