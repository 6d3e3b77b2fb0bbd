"""`raw` client for the blocking family: a plain socket and the shared sans-I/O framing."""

from __future__ import annotations

import contextlib
import socket
import time

from workbench.clients.base import (
    READ_SIZE,
    BlockingClient,
    BlockingConnection,
    ClientContext,
    time_left,
    tls_context,
)
from workbench.workloads.base import Exchange

RECV_SIZE = READ_SIZE


class RawSocketConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.sock: socket.socket | None = None
        self.exchange: Exchange = ctx.workload.exchange()

    def _connect(self) -> socket.socket:
        target = self.ctx.workload.target
        sock = socket.create_connection(
            (target.connect_host, target.port), timeout=self.ctx.timeout
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = tls_context(target)
        if tls is not None:
            try:  # the handshake, bounded by the socket's timeout
                sock = tls.wrap_socket(sock, server_hostname=target.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock
        return sock

    def op(self) -> int:
        sock = self.sock or self._connect()
        deadline = time.monotonic() + self.ctx.timeout
        exchange = self.exchange
        sock.sendall(exchange.request)
        recv = sock.recv
        # The socket's timeout is the whole budget for the first read: most answers need one.
        data = recv(RECV_SIZE)
        shortened = False
        while (n := exchange.feed(data) if data else exchange.feed_eof()) is None:
            # More to come: each further wait gets only what is left of the operation's deadline.
            sock.settimeout(time_left(deadline))
            shortened = True
            data = recv(RECV_SIZE)
        if shortened:
            sock.settimeout(self.ctx.timeout)
        if not exchange.keep_alive:
            self.reset()
        return n

    def open(self) -> None:
        if self.sock is None:
            # A failure is left to the first operation, which connects again and counts it.
            with contextlib.suppress(OSError):
                self._connect()

    def reset(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.exchange = self.ctx.workload.exchange()


class RawSocketClient(BlockingClient):
    def connection(self) -> BlockingConnection:
        return RawSocketConnection(self.ctx)
