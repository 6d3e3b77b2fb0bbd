"""A loopback TCP proxy that delays each direction: a realistic network round trip in front of a
real server (the db cells' `--db-latency`).

    python -m servers.delay_proxy --upstream 127.0.0.1:5432 --latency 0.0005 --port 0

Every byte a client sends reaches the upstream `--latency` seconds later, and every byte of the
answer reaches the client `--latency` seconds after that: a round trip gains twice `--latency`,
in order, on the loop's timer (the mock servers' OrderedWriter), whatever the protocol inside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import cast

from servers._runtime import CLOSE, OrderedWriter, ServerConfig, common_parser, serve


class _Upstream(asyncio.Protocol):
    """The proxy's connection to the server: answers go back to the client, delayed."""

    def __init__(self, downstream: ProxyProtocol) -> None:
        self.down = downstream

    def data_received(self, data: bytes) -> None:
        self.down.to_client(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.down.upstream_lost()


class ProxyProtocol(asyncio.Protocol):
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.up_writer: OrderedWriter | None = None
        self.down_writer: OrderedWriter | None = None
        self.early: list[bytes] = []
        self.connecting: asyncio.Task[None] | None = None  # kept: a bare task may be collected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.client = cast(asyncio.Transport, transport)
        self.config.stats.connections += 1
        loop = asyncio.get_running_loop()
        self.down_writer = OrderedWriter(self.config, self.client)
        self.connecting = loop.create_task(self._connect(loop))

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> None:
        host, _, port = self.config.args.upstream.rpartition(":")
        try:
            transport, _ = await loop.create_connection(lambda: _Upstream(self), host, int(port))
        except OSError:
            if self.client is not None:
                self.client.close()
            return
        self.upstream = transport
        self.up_writer = OrderedWriter(self.config, transport)
        for data in self.early:
            self.up_writer.send(self.config.timing.delay(), data)
        self.early.clear()

    def data_received(self, data: bytes) -> None:
        self.config.stats.bytes_in += len(data)
        self.config.stats.requests += 1
        if self.up_writer is None:
            self.early.append(data)  # arrived before the upstream connection was made
        else:
            self.up_writer.send(self.config.timing.delay(), data)

    def to_client(self, data: bytes) -> None:
        if self.down_writer is not None:
            self.down_writer.send(self.config.timing.delay(), data)

    def upstream_lost(self) -> None:
        if self.down_writer is not None:  # the server closed: so does the client, in order
            self.down_writer.send(self.config.timing.delay(), CLOSE)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.up_writer is not None:
            self.up_writer.send(self.config.timing.delay(), CLOSE)
        elif self.upstream is not None:
            self.upstream.close()


def protocol_factory(config: ServerConfig) -> Callable[[], asyncio.Protocol]:
    return lambda: ProxyProtocol(config)


def _validate(args: object) -> str | None:
    upstream = str(getattr(args, "upstream", ""))
    host, sep, port = upstream.rpartition(":")
    if not sep or not host or not port.isdigit():
        return f"--upstream {upstream!r} is not HOST:PORT"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser("python -m servers.delay_proxy", __doc__.splitlines()[0], ())
    parser.add_argument("--upstream", required=True, metavar="HOST:PORT", help="the real server")
    return serve(
        "python -m servers.delay_proxy", "tcp", argv, parser, (), protocol_factory, _validate
    )


if __name__ == "__main__":
    raise SystemExit(main())
