"""Mock HTTP/2 server (h2c, prior knowledge): many concurrent streams on one connection.

    python -m servers.h2 --port 0 [--body-size 64] [--latency 0.02]

Every GET is answered 200 with `--body-size` deterministic bytes (servers.payload, as the HTTP/1.1
server's), after `--latency` if asked, on the stream it came on. The protocol is h2's (a sans-I/O
state machine, hyper's): this module only moves bytes and times answers. A client that does not
open with the HTTP/2 preface gets a GOAWAY and a close, which an HTTP/1.1 client sees as a bad
answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from time import monotonic
from typing import Any, cast

from servers._runtime import ServerConfig, common_parser, serve
from servers.payload import body_bytes


class H2Protocol(asyncio.Protocol):
    def __init__(self, config: ServerConfig, body: bytes) -> None:
        import h2.config
        import h2.connection

        self.config = config
        self.stats = config.stats
        self.body = body
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.transport: asyncio.Transport | None = None
        self.delay = bool(config.timing.latency or config.timing.jitter)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.stats.connections += 1
        self.conn.initiate_connection()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.stats.bytes_out += len(data)
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        import h2.events
        import h2.exceptions

        self.stats.bytes_in += len(data)
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.stats.bad_requests += 1
            self._flush()  # the GOAWAY h2 queued
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.stats.requests += 1
                if self.delay:
                    due = monotonic() + self.config.timing.delay()
                    assert self.config.timers is not None
                    self.config.timers.call_at(due, partial(self._late, event.stream_id, due))
                else:
                    self._respond(event.stream_id)
            elif isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        self._flush()

    def _late(self, stream_id: int, due: float) -> None:
        self.config.late.add(monotonic() - due)
        if self.transport is not None:
            self._respond(stream_id)
            self._flush()

    def _respond(self, stream_id: int) -> None:
        import h2.exceptions

        headers: list[tuple[bytes, bytes]] = [
            (b":status", b"200"),
            (b"content-length", str(len(self.body)).encode()),
            (b"content-type", b"application/octet-stream"),
        ]
        try:
            self.conn.send_headers(stream_id, headers)
            self.conn.send_data(stream_id, self.body, end_stream=True)
        except h2.exceptions.StreamClosedError:
            pass  # the client reset the stream while its answer waited


def protocol_factory(config: ServerConfig) -> Callable[[], asyncio.Protocol]:
    size = int(config.args.body_size)
    body = body_bytes(size)
    return lambda: H2Protocol(config, body)


def _validate(args: Any) -> str | None:
    if not 0 <= int(args.body_size) <= 16_384:
        return "--body-size must be 0 to 16KiB (one DATA frame within the default window)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser("python -m servers.h2", __doc__.splitlines()[0], ())
    parser.add_argument("--body-size", type=int, default=64, help="bytes in each answer's body")
    return serve("python -m servers.h2", "http", argv, parser, (), protocol_factory, _validate)


if __name__ == "__main__":
    raise SystemExit(main())
