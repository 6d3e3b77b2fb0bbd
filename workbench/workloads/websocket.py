"""WebSocket workloads on one long-lived connection per user (servers/websocket.py answers them).

`ws-echo`: send one binary message, read back exactly the same bytes.
`ws-push`: only listen; the server pushes a message to every listener at a fixed rate, each
carrying a sequence number and its send time. Every message is checked (in order, none lost, the
right size), and its delivery latency (receive time minus send time, on the CLOCK_MONOTONIC every
process on the machine shares) is counted for the row, apart from the loop's own latency, which
for a listener is only the wait for the next push.

What an answer must be is decided here, with no I/O; the clients (workbench/clients/ws_*) only
move messages.
"""

from __future__ import annotations

import struct
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from workbench.workloads.base import Exchange, Target, Workload, WorkloadError

if TYPE_CHECKING:
    from workbench.workloads import WorkloadSettings

PUSH_HEAD = struct.Struct(">QQ")  # as servers.websocket sends it: sequence, send time (ns)


def echo_message(size: int) -> bytes:
    from servers.payload import body_bytes

    return body_bytes(size)


class _WebSocketWorkload(Workload):
    """What both WebSocket workloads share: no raw `Exchange` (the wsproto clients hold a
    session per connection, opened once, instead of one request per operation)."""

    path = "/"

    @property
    def url(self) -> str:
        return f"ws://{self.target.connect_host}:{self.target.port}{self.path}"

    def exchange(self) -> Exchange:
        raise NotImplementedError(f"{self.name} is driven by the WebSocket clients, not raw ones")


class WsEcho(_WebSocketWorkload):
    name = "ws-echo"
    listens = False

    def __init__(self, target: Target, message_size: int) -> None:
        super().__init__(target)
        self.message = echo_message(message_size)
        # Our mock server answers /echo; a user's --url says its own path.
        self.path = target.path if target.path not in ("", "/") else "/echo"

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> WsEcho:
        return cls(settings.target, settings.message_size)

    def check(self, reply: bytes | str) -> int:
        """The bytes one echo moved, or WorkloadError if it is not the message sent."""
        if isinstance(reply, str):
            raise WorkloadError("text-echo", "a text message came back for a binary one")
        if reply != self.message:
            kind = "long-echo" if len(reply) > len(self.message) else "corrupt-echo"
            raise WorkloadError(kind, "echo differs from the message sent")
        return 2 * len(reply)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(path=self.path, message_bytes=len(self.message), verify="bytes")
        return d


class Listener:
    """One user's view of the pushes: each must follow the one before it."""

    __slots__ = ("last", "latencies_us", "workload")

    def __init__(self, workload: WsPush) -> None:
        self.workload = workload
        self.last: int | None = None
        self.latencies_us: list[int] = []

    def received(self, data: bytes | str, now_ns: int | None = None) -> int:
        """Check one push and count its delivery latency if the window has started; its size."""
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        w = self.workload
        if isinstance(data, str) or len(data) != w.message_size:
            raise WorkloadError("bad-push", "a push of the wrong kind or size")
        seq, sent_ns = PUSH_HEAD.unpack_from(data)
        if self.last is not None and seq != self.last + 1:
            kind = "lost-push" if seq > self.last + 1 else "out-of-order"
            prev, self.last = self.last, seq
            raise WorkloadError(kind, f"push {seq} after {prev}")
        self.last = seq
        if w.window_started():
            self.latencies_us.append(max(0, now_ns - sent_ns) // 1000)
        return len(data)

    def reset(self) -> None:
        """A new connection starts a new sequence: the server numbers from its ticker, so the
        first push on it may be any number."""
        self.last = None


class WsPush(_WebSocketWorkload):
    name = "ws-push"
    listens = True

    def __init__(self, target: Target, message_size: int) -> None:
        super().__init__(target)
        self.path = target.path if target.path not in ("", "/") else "/push"
        self.message_size = max(PUSH_HEAD.size, message_size)
        self.listeners: list[Listener] = []

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> WsPush:
        return cls(settings.target, settings.message_size)

    def listener(self) -> Listener:
        one = Listener(self)
        self.listeners.append(one)
        return one

    def finish(self) -> tuple[dict[str, Any], dict[str, int]]:
        """Every listener's delivery latencies in HDR buckets (they add up across processes),
        and each listener's median: the slowest listener is the one whose median is largest."""
        from workbench.metrics import hdr_bucket

        counts: Counter[int] = Counter()
        medians = []
        for one in self.listeners:
            lat = sorted(one.latencies_us)
            counts.update(hdr_bucket(v) for v in lat)
            if lat:
                medians.append(lat[len(lat) // 2])
        extras = {
            "delivery_counts": sorted(counts.items()),
            "listener_median_us": sorted(medians),
        }
        return extras, {}

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(path=self.path, message_bytes=self.message_size, verify="sequence, size")
        return d


def user_of(workload: Workload) -> tuple[WsEcho | WsPush, Listener | None]:
    """What one WebSocket client user holds: its workload, and its own listener if it listens."""
    assert isinstance(workload, WsEcho | WsPush)
    return workload, workload.listener() if isinstance(workload, WsPush) else None
