"""`wsproto` clients: one WebSocket per user on each family's own socket API (a plain socket,
asyncio streams, trio and anyio streams), all framed by one sans-I/O session
(workbench.protocol.websocket), so that their rows differ by the family alone.

An operation is one echo (`ws-echo`) or one received push (`ws-push`), checked by the workload;
the opening handshake happens on a user's first operation, inside its deadline.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

from workbench.clients.base import (
    READ_SIZE,
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
    time_left,
)
from workbench.protocol.websocket import WsSession
from workbench.workloads.websocket import WsEcho, user_of


class _User:
    """What every family's connection shares: the session, and the workload's checks."""

    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.workload, self.listener = user_of(ctx.workload)
        self.session: WsSession | None = None

    def new_session(self) -> WsSession:
        if self.listener is not None:
            self.listener.reset()
        self.session = WsSession(self.workload.target.host, self.workload.path)
        return self.session

    def request(self) -> bytes:
        """What one operation sends (nothing, for a listener, but pongs owed)."""
        assert self.session is not None
        if isinstance(self.workload, WsEcho):
            return self.session.send(self.workload.message)
        return self.session.take_outgoing()

    def answer(self, message: bytes | str) -> int:
        if self.listener is not None:
            return self.listener.received(message)
        assert isinstance(self.workload, WsEcho)
        return self.workload.check(message)


# --- blocking ------------------------------------------------------------------------------------


class WsSocketConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.user = _User(ctx)
        self.sock: socket.socket | None = None

    def _receive(self, sock: socket.socket, deadline: float) -> bytes | str:
        session = self.user.session
        assert session is not None
        while not session.messages:
            sock.settimeout(time_left(deadline))
            session.feed(sock.recv(READ_SIZE))
            if session.outgoing:
                sock.sendall(session.take_outgoing())
        return session.messages.popleft()

    def op(self) -> int:
        deadline = time.monotonic() + self.user.ctx.timeout
        sock = self.sock
        if sock is None:
            target = self.user.workload.target
            sock = socket.create_connection(
                (target.connect_host, target.port), timeout=time_left(deadline)
            )
            self.sock = sock
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = self.user.new_session()
            sock.sendall(session.opening)
            while not session.open:
                sock.settimeout(time_left(deadline))
                session.feed(sock.recv(READ_SIZE))
        out = self.user.request()
        if out:
            sock.sendall(out)
        return self.user.answer(self._receive(sock, deadline))

    def reset(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def close(self) -> None:
        self.reset()


class WsSocketClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        return WsSocketConnection(self.ctx)


# --- asyncio, trio, anyio: one shape over three stream APIs ------------------------------------


@contextlib.asynccontextmanager
async def _scoped(scope: Any) -> AsyncIterator[None]:
    """A cancel scope (trio's, anyio's) entered the way asyncio.timeout is: `async with`."""
    with scope:
        yield


class _Stream:
    """send_all / receive_some / aclose over a family's stream, and its deadline, an async
    context manager."""

    async def connect(self, host: str, port: int) -> None:
        raise NotImplementedError

    async def send_all(self, data: bytes) -> None:
        raise NotImplementedError

    async def receive_some(self) -> bytes:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    def deadline(self, seconds: float) -> Any:
        raise NotImplementedError


class _AsyncioStream(_Stream):
    async def connect(self, host: str, port: int) -> None:
        import asyncio

        self.reader, self.writer = await asyncio.open_connection(host, port)

    async def send_all(self, data: bytes) -> None:
        self.writer.write(data)
        if self.writer.transport.get_write_buffer_size() > 1 << 16:
            await self.writer.drain()

    async def receive_some(self) -> bytes:
        return await self.reader.read(READ_SIZE)

    async def aclose(self) -> None:
        self.writer.transport.abort()

    def deadline(self, seconds: float) -> Any:
        import asyncio

        return asyncio.timeout(seconds)  # an async context manager already


class _TrioStream(_Stream):
    async def connect(self, host: str, port: int) -> None:
        import trio

        self.stream = await trio.open_tcp_stream(host, port)

    async def send_all(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def receive_some(self) -> bytes:
        return bytes(await self.stream.receive_some(READ_SIZE))

    async def aclose(self) -> None:
        import trio

        await trio.aclose_forcefully(self.stream)

    def deadline(self, seconds: float) -> Any:
        import trio

        return _scoped(trio.fail_after(seconds))


class _AnyioStream(_Stream):
    async def connect(self, host: str, port: int) -> None:
        import anyio

        self.stream = await anyio.connect_tcp(host, port)

    async def send_all(self, data: bytes) -> None:
        await self.stream.send(data)

    async def receive_some(self) -> bytes:
        import anyio

        try:
            return await self.stream.receive(READ_SIZE)
        except anyio.EndOfStream:
            return b""

    async def aclose(self) -> None:
        import anyio

        with anyio.CancelScope(shield=True):
            await self.stream.aclose()

    def deadline(self, seconds: float) -> Any:
        import anyio

        return _scoped(anyio.fail_after(seconds))


class WsStreamConnection(AsyncConnection):
    def __init__(self, ctx: ClientContext, stream_cls: type[_Stream]) -> None:
        self.user = _User(ctx)
        self.stream_cls = stream_cls
        self.stream: _Stream | None = None

    async def op(self) -> int:
        user = self.user
        probe = self.stream or self.stream_cls()
        async with probe.deadline(user.ctx.timeout):
            stream = self.stream
            if stream is None:
                stream = probe
                target = user.workload.target
                await stream.connect(target.connect_host, target.port)
                self.stream = stream
                session = user.new_session()
                await stream.send_all(session.opening)
                while not session.open:
                    session.feed(await stream.receive_some())
            live = user.session
            assert live is not None
            out = user.request()
            if out:
                await stream.send_all(out)
            while not live.messages:
                live.feed(await stream.receive_some())
                if live.outgoing:
                    await stream.send_all(live.take_outgoing())
            return user.answer(live.messages.popleft())

    async def reset(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()

    async def aclose(self) -> None:
        await self.reset()


class WsAsyncioClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return WsStreamConnection(self.ctx, _AsyncioStream)


class WsTrioClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return WsStreamConnection(self.ctx, _TrioStream)


class WsAnyioClient(AsyncClient):
    def connection(self) -> AsyncConnection:
        return WsStreamConnection(self.ctx, _AnyioStream)
