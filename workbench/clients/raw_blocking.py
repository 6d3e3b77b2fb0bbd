"""`raw` client for the blocking family: a plain socket and the shared sans-I/O framing."""

from __future__ import annotations

import socket

from workbench.clients.base import BlockingClient, BlockingConnection, ClientContext
from workbench.workloads.base import Exchange

RECV_SIZE = 256 * 1024


class RawSocketConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.sock: socket.socket | None = None
        self.exchange: Exchange = ctx.workload.exchange()

    def _connect(self) -> socket.socket:
        target = self.ctx.workload.target
        sock = socket.create_connection((target.host, target.port), timeout=self.ctx.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        return sock

    def op(self) -> int:
        sock = self.sock or self._connect()
        exchange = self.exchange
        sock.sendall(exchange.request)
        recv = sock.recv
        while True:
            data = recv(RECV_SIZE)
            n = exchange.feed(data) if data else exchange.feed_eof()
            if n is not None:
                if not exchange.keep_alive:
                    self.reset()
                return n

    def reset(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.exchange = self.ctx.workload.exchange()


class RawSocketClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        return RawSocketConnection(self.ctx)
