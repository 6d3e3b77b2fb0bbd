"""The `echo` workload: send one framed message over TCP, read back exactly the same bytes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.protocol.echo import build_message
from workbench.workloads.base import Exchange, Target, Workload, WorkloadError

if TYPE_CHECKING:
    from workbench.workloads import WorkloadSettings


class EchoExchange(Exchange):
    __slots__ = ("_buf", "_size", "request")

    def __init__(self, message: bytes) -> None:
        self.request = message
        self._size = len(message)
        self._buf = b""

    def feed(self, data: bytes) -> int | None:
        buf = self._buf + data if self._buf else data
        if len(buf) < self._size:
            self._buf = buf
            return None
        self._buf = b""
        if buf != self.request:
            kind = "long-echo" if len(buf) > self._size else "corrupt-echo"
            raise WorkloadError(kind, "echo differs from the message sent")
        return 2 * self._size

    def feed_eof(self) -> int:
        from workbench.protocol.http import ConnectionClosed

        raise ConnectionClosed("connection closed before the echo was complete")


class EchoWorkload(Workload):
    name = "echo"

    def __init__(self, target: Target, message_size: int, framing: str = "length") -> None:
        super().__init__(target)
        self.framing = framing
        self.message = build_message(message_size, framing)

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> EchoWorkload:
        return cls(settings.target, settings.message_size, settings.framing)

    def exchange(self) -> Exchange:
        return EchoExchange(self.message)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(framing=self.framing, message_bytes=len(self.message), verify="bytes")
        return d


class IdleWorkload(EchoWorkload):
    """`idle`: connections held open, each sending one small echoed heartbeat every --heartbeat
    seconds on the open-loop schedule (latency counts from when the heartbeat fell due). The row
    says what the idle connections cost: memory per connection and CPU per connection-second."""

    name = "idle"
