"""Mock WebSocket server: echo, and push to every listener at a fixed rate, on a raw Protocol.

    python -m servers.websocket --port 0 [--push-rate 10] [--message-size 64] [--latency 0.02]

`ws://HOST:PORT/echo` (or any path but /push) sends every message back, after `--latency` if
asked. `ws://HOST:PORT/push` sends nothing back: every connection on it receives
`--push-rate` binary messages a second, all from one ticker, each `--message-size` bytes whose
first 16 are a sequence number and the send time (CLOCK_MONOTONIC ns, which every process on the
machine shares) big-endian, so a client can check that none is lost or out of order and measure
delivery latency from the send time to its own receive time.

The protocol is wsproto's (a sans-I/O state machine, h11's sibling): this module only moves bytes,
and a request that is not a WebSocket upgrade is answered 400 and closed. The push frame is
encoded once per tick and written to every listener (a server's frames are not masked, so every
listener's copy is the same bytes).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Sequence
from time import monotonic, monotonic_ns
from typing import cast

from servers._runtime import RESET, OrderedWriter, ServerConfig, common_parser, serve

WS_FAULTS = ("reset", "stall")  # on echoes; pushes go out on time to every listener

PUSH_HEAD = struct.Struct(">QQ")  # sequence number, send time (monotonic ns)


class _Listeners:
    """The /push connections of one server and the one ticker that feeds them."""

    def __init__(self, config: ServerConfig) -> None:
        from wsproto.frame_protocol import FrameProtocol

        self.config = config
        self.members: set[WebSocketProtocol] = set()
        self.seq = 0
        self.framer = FrameProtocol(client=False, extensions=[])
        size = max(PUSH_HEAD.size, int(config.args.message_size))
        self.padding = b"p" * (size - PUSH_HEAD.size)
        self.period = 1.0 / float(config.args.push_rate)
        self.due: float | None = None

    def join(self, member: WebSocketProtocol) -> None:
        self.members.add(member)
        if self.due is None:
            self.due = monotonic() + self.period
            self._arm()

    def _arm(self) -> None:
        assert self.config.timers is not None
        assert self.due is not None
        self.config.timers.call_at(self.due, self._tick)

    def _tick(self) -> None:
        assert self.due is not None
        self.config.late.add(monotonic() - self.due)  # the ticker's own lateness
        self.seq += 1
        payload = PUSH_HEAD.pack(self.seq, monotonic_ns()) + self.padding
        frame = bytes(self.framer.send_data(payload, fin=True))
        for member in list(self.members):
            member.push(frame)
        self.config.stats.bytes_out += len(frame) * len(self.members)
        self.due += self.period
        if self.members:
            self._arm()
        else:
            self.due = None


class WebSocketProtocol(asyncio.Protocol):
    def __init__(self, config: ServerConfig, listeners: _Listeners) -> None:
        from wsproto import ConnectionType, WSConnection

        self.config = config
        self.stats = config.stats
        self.listeners = listeners
        self.ws = WSConnection(ConnectionType.SERVER)
        timing = config.timing
        self.delayed = bool(timing.latency or timing.jitter or config.faults.active)
        self.transport: asyncio.Transport | None = None
        self.writer: OrderedWriter | None = None
        self.parts: list[bytes | str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.stats.connections += 1
        if self.delayed:
            self.writer = OrderedWriter(self.config, self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listeners.members.discard(self)
        self.transport = None
        if self.writer is not None:
            self.writer.cancel()

    def push(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _send(self, data: bytes, delay: float = 0.0) -> None:
        if self.transport is None or not data:
            return
        self.stats.bytes_out += len(data)
        if self.writer is not None and delay:
            self.writer.send(delay, data)
        else:
            self.transport.write(data)

    def _echo(self, out: bytes) -> None:
        """An echo, after --latency, unless a fault hits it: `reset` aborts the connection with
        a RST (in order, after what came before), `stall` holds it --stall-seconds more."""
        if not self.delayed:
            self._send(out)
            return
        assert self.writer is not None
        timing = self.config.timing
        delay = timing.delay()
        fault = self.config.faults.draw()
        if fault is not None:
            self.stats.faults[fault] += 1
        if fault == "reset":
            self.writer.send(delay, RESET)
        else:
            self.stats.bytes_out += len(out)
            self.writer.send(delay + (timing.stall_seconds if fault == "stall" else 0.0), out)

    def data_received(self, data: bytes) -> None:
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Message,
            Ping,
            RejectConnection,
            Request,
        )
        from wsproto.utilities import RemoteProtocolError

        self.stats.bytes_in += len(data)
        self.ws.receive_data(data)
        try:
            for event in self.ws.events():
                if isinstance(event, Request):
                    self._send(self.ws.send(AcceptConnection()))
                    if event.target.split("?", 1)[0] == "/push":
                        self.listeners.join(self)
                elif isinstance(event, Message):
                    self.parts.append(event.data)
                    if event.message_finished:
                        whole = self.parts[0] if len(self.parts) == 1 else _joined(self.parts)
                        self.parts = []
                        self.stats.requests += 1
                        out = self.ws.send(type(event)(data=whole))  # text stays text
                        self._echo(out)
                elif isinstance(event, Ping):
                    self._send(self.ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    self._send(self.ws.send(event.response()))
                    if self.transport is not None:
                        self.transport.close()
        except RemoteProtocolError as exc:
            self.stats.bad_requests += 1
            if exc.event_hint is not None and isinstance(exc.event_hint, RejectConnection):
                self._send(self.ws.send(exc.event_hint))
            elif self.transport is not None:
                self.transport.write(_BAD_REQUEST)
            if self.transport is not None:
                self.transport.close()


_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def _joined(parts: list[bytes | str]) -> bytes | str:
    if isinstance(parts[0], str):
        return "".join(cast(list[str], parts))
    return b"".join(cast(list[bytes], parts))


def protocol_factory(config: ServerConfig) -> Callable[[], asyncio.Protocol]:
    listeners = _Listeners(config)
    return lambda: WebSocketProtocol(config, listeners)


def _validate(args: object) -> str | None:
    rate = float(getattr(args, "push_rate", 0))
    if not rate > 0:
        return f"--push-rate must be greater than 0 (got {rate:g})"
    if int(getattr(args, "message_size", 0)) < PUSH_HEAD.size:
        return f"--message-size must be at least {PUSH_HEAD.size} (a push carries 16 bytes)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser("python -m servers.websocket", __doc__.splitlines()[0], WS_FAULTS)
    parser.add_argument("--push-rate", type=float, default=10.0, help="pushes a second (/push)")
    parser.add_argument("--message-size", type=int, default=64, help="bytes of each push")
    prog = "python -m servers.websocket"
    return serve(prog, "ws", argv, parser, WS_FAULTS, protocol_factory, _validate)


if __name__ == "__main__":
    raise SystemExit(main())
