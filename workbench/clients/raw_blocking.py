"""`raw` client for the blocking family: a plain socket and the shared sans-I/O framing.

It reads with `recv_into` a buffer each connection keeps, as the cheapest correct blocking client
would. A fresh 256 KiB `recv` per operation (what it once did) costs more than the model: glibc
serves a request that large with a fresh mmap, shrinks it with mremap and unmaps it again, two
page faults an operation; measured here, that alone held threads raw to 22.7k ops/s against
49.5k without it. The buffer starts at one page and grows only when a read fills it, so a
connection that never sees a large answer keeps one page (10,000 idle threads: 40 MiB in all)."""

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

# A connection's kept buffer: one page, grown fourfold each time a read fills it, up to READ_SIZE.
FIRST_BUFFER = 4096


class RawSocketConnection(BlockingConnection):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.sock: socket.socket | None = None
        self.exchange: Exchange = ctx.workload.exchange()
        self.buffer = bytearray(FIRST_BUFFER)
        self.view = memoryview(self.buffer)

    def _recv(self, sock: socket.socket) -> bytes:
        """One read into the kept buffer; the bytes it brought, copied out (the framing keeps
        what it is given). A read that fills the buffer grows it for the next one."""
        view = self.view
        n = sock.recv_into(view)
        data = bytes(view[:n])
        if n == len(view) and n < READ_SIZE:
            self.buffer = bytearray(min(READ_SIZE, 4 * n))
            self.view = memoryview(self.buffer)
        return data

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
        # The socket's timeout is the whole budget for the first read: most answers need one.
        data = self._recv(sock)
        shortened = False
        while (n := exchange.feed(data) if data else exchange.feed_eof()) is None:
            # More to come: each further wait gets only what is left of the operation's deadline.
            sock.settimeout(time_left(deadline))
            shortened = True
            data = self._recv(sock)
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
