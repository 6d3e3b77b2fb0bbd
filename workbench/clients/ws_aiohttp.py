"""`aiohttp` WebSocket client (asyncio, uvloop): one shared ClientSession, one `ws_connect`
connection per user, compression and heartbeat off so that both sides move only the workload's
messages. Every answer is checked by the workload."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from workbench.clients.base import AsyncClient, AsyncConnection, ClientContext
from workbench.protocol.http import ConnectionClosed
from workbench.workloads.websocket import WsEcho, user_of

ABNORMAL_CLOSURE = 1006  # RFC 6455: the connection ended without a closing handshake


def _payload(ws: aiohttp.ClientWebSocketResponse, msg: aiohttp.WSMessage) -> bytes | str:
    if msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
        return msg.data  # type: ignore[no-any-return]
    # aiohttp hands a transport's failure over as a message: raised, a reset is named one (as
    # the other clients' are), not the end of the stream.
    failure = ws.exception()
    if failure is not None:
        raise failure
    if ws.close_code == ABNORMAL_CLOSURE:
        raise ConnectionResetError(f"WebSocket closed abnormally ({msg.type.name})")
    raise ConnectionClosed(f"the WebSocket ended ({msg.type.name})")


class AiohttpWsConnection(AsyncConnection):
    def __init__(self, client: AiohttpWsClient) -> None:
        self.client = client
        self.workload, self.listener = user_of(client.ctx.workload)
        self.ws: Any = None

    async def op(self) -> int:
        async with asyncio.timeout(self.client.ctx.timeout):
            if self.ws is None:
                if self.listener is not None:
                    self.listener.reset()
                self.ws = await self.client.session.ws_connect(
                    self.workload.url, autoping=True, heartbeat=None, compress=0, max_msg_size=0
                )
            if self.listener is not None:
                return self.listener.received(_payload(self.ws, await self.ws.receive()))
            assert isinstance(self.workload, WsEcho)
            await self.ws.send_bytes(self.workload.message)
            return self.workload.check(_payload(self.ws, await self.ws.receive()))

    async def reset(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            await ws.close()

    async def aclose(self) -> None:
        await self.reset()


class AiohttpWsClient(AsyncClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        self.session: aiohttp.ClientSession

    async def start(self) -> None:
        # No limit on connections (each user holds one), no proxies from the environment.
        connector = aiohttp.TCPConnector(limit=0)
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False)

    def connection(self) -> AsyncConnection:
        return AiohttpWsConnection(self)

    async def aclose(self) -> None:
        await self.session.close()
