"""What every mock server's connection shares (servers/echo.py, http.py, websocket.py): its
transport and the server's counters, and, where --latency, --jitter or a fault delays its
writes, one `OrderedWriter` and the one way a fault shapes a delayed reply."""

from __future__ import annotations

import asyncio
from typing import cast

from servers._runtime import RESET, OrderedWriter, ServerConfig, slow_chunks


class MockProtocol(asyncio.Protocol):
    """What every mock server's connection shares: its transport, the server's counters, and an
    `OrderedWriter` where --latency, --jitter or a fault delays its writes."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.stats = config.stats
        timing = config.timing
        self.delayed = bool(timing.latency or timing.jitter or config.faults.active)
        self.transport: asyncio.Transport | None = None
        self.writer: OrderedWriter | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the Transport interface without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.stats.connections += 1
        if self.delayed:
            self.writer = OrderedWriter(self.config, self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.writer is not None:
            self.writer.cancel()

    def draw(self) -> tuple[float, str | None]:
        """One delayed reply's delay, and the fault that hits it (counted), if any."""
        delay = self.config.timing.delay()
        fault = self.config.faults.draw()
        if fault is not None:
            self.stats.faults[fault] += 1
        return delay, fault

    def send_later(self, delay: float, fault: str | None, data: bytes, head_len: int = 0) -> None:
        """Queue a reply as its fault shapes it: `reset` aborts the connection with a RST in its
        place (in order, after what came before), `stall` holds it --stall-seconds more, and
        `slow-body` trickles what follows its first `head_len` bytes."""
        assert self.writer is not None
        timing = self.config.timing
        if fault == "reset":
            self.writer.send(delay, RESET)
        elif fault == "stall":
            self.writer.send(delay + timing.stall_seconds, data)
        elif fault == "slow-body":
            for offset, chunk in slow_chunks(data, head_len, timing):
                self.writer.send(delay + offset, chunk)
        else:
            self.writer.send(delay, data)
