"""Mock WebSocket server: echo, and push to every listener at a fixed rate, on a raw Protocol.

    python -m servers.websocket --port 0 [--push-rate 10] [--message-size 64] [--latency 0.02]

`ws://HOST:PORT/echo` (or any path but /push) sends every message back, after `--latency` if
asked. `ws://HOST:PORT/push` sends nothing back: every connection on it receives
`--push-rate` binary messages a second, all from one ticker, each `--message-size` bytes whose
first 16 are a sequence number and the send time (CLOCK_MONOTONIC ns, which every process on the
machine shares) big-endian, so a client can check that none is lost or out of order and measure
delivery latency from the send time to its own receive time.

The protocol is `websockets`' sans-I/O one (its server's own state machine, with its C masking):
this module only moves bytes, and a request that is not a WebSocket upgrade is answered with the
library's refusal (426 or 400) and closed. The push frame is encoded once per tick and written to
every listener (a server's frames are not masked, so every listener's copy is the same bytes).
Not wsproto, which the clients use: under the same echo load this server on wsproto cost a third
more CPU per message than `websockets`' own server, and on `websockets`' protocol a quarter less
(`scripts/bench_long_lived_servers.py`); a mock server must be the cheap side of every row.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Sequence
from time import monotonic, monotonic_ns

from servers._runtime import ServerConfig, common_parser, serve
from servers.connection import MockProtocol

WS_FAULTS = ("reset", "stall")  # on echoes; pushes go out on time to every listener

PUSH_HEAD = struct.Struct(">QQ")  # sequence number, send time (monotonic ns)


class _Listeners:
    """The /push connections of one server and the one ticker that feeds them."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.members: set[WebSocketProtocol] = set()
        self.seq = 0
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
        from websockets.frames import Frame, Opcode

        assert self.due is not None
        self.config.late.add(monotonic() - self.due)  # the ticker's own lateness
        self.seq += 1
        payload = PUSH_HEAD.pack(self.seq, monotonic_ns()) + self.padding
        frame = Frame(Opcode.BINARY, payload).serialize(mask=False)
        for member in list(self.members):
            member.push(frame)
        self.config.stats.bytes_out += len(frame) * len(self.members)
        self.due += self.period
        if self.members:
            self._arm()
        else:
            self.due = None


class WebSocketProtocol(MockProtocol):
    def __init__(self, config: ServerConfig, listeners: _Listeners) -> None:
        from websockets.server import ServerProtocol

        super().__init__(config)
        self.listeners = listeners
        # No extensions (no compression), no size limit: both sides move only the workload's
        # messages, whatever --message-size asks.
        self.ws = ServerProtocol(max_size=None)
        self.text = False  # the message being gathered from fragments is text
        self.parts: list[bytes] = []

    def connection_lost(self, exc: Exception | None) -> None:
        self.listeners.members.discard(self)
        self.transport = None
        super().connection_lost(exc)

    def push(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _flush(self) -> None:
        """Send what the protocol has to say (handshake, pongs, the closing frame) at once."""
        out = self.ws.data_to_send()
        if out and self.transport is not None:
            data = b"".join(out)
            self.stats.bytes_out += len(data)
            self.transport.write(data)

    def _echo(self, out: bytes) -> None:
        """An echo, after --latency, unless a fault hits it: `reset` aborts the connection with
        a RST (in order, after what came before), `stall` holds it --stall-seconds more."""
        if self.transport is None:
            return
        if not self.delayed:
            self.stats.bytes_out += len(out)
            self.transport.write(out)
            return
        delay, fault = self.draw()
        if fault != "reset":
            self.stats.bytes_out += len(out)
        self.send_later(delay, fault, out)

    def data_received(self, data: bytes) -> None:
        from websockets.frames import Frame, Opcode
        from websockets.http11 import Request

        self.stats.bytes_in += len(data)
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Request):
                response = ws.accept(event)
                ws.send_response(response)
                self._flush()
                if response.status_code != 101:
                    self.stats.bad_requests += 1
                    if self.transport is not None:
                        self.transport.close()
                    return
                if event.path.split("?", 1)[0] == "/push":
                    self.listeners.join(self)
            elif isinstance(event, Frame) and event.opcode in (
                Opcode.TEXT,
                Opcode.BINARY,
                Opcode.CONT,
            ):
                if event.opcode is not Opcode.CONT:
                    self.text = event.opcode is Opcode.TEXT
                self.parts.append(bytes(event.data))
                if event.fin:
                    whole = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
                    self.parts = []
                    self.stats.requests += 1
                    # Sent as it came, text as text: the bytes are echoed, never decoded.
                    opcode = Opcode.TEXT if self.text else Opcode.BINARY
                    self._echo(Frame(opcode, whole).serialize(mask=False))
        # Pongs, the closing handshake and protocol errors' close frames, which the protocol
        # answers itself; then close once it is done with the connection.
        self._flush()
        if ws.close_expected() and self.transport is not None:
            self.transport.close()


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
