"""The shape every concurrency model has, and the closed loop each family drives.

A model decides only *how N concurrent users run*: one after another, on threads, as tasks of an
event loop, or spread over processes. What a user does (`op()`) comes from a client, and what is
recorded comes from `ClientRecorder`; so the closed loop below is written once per function colour
(blocking and async) and every model of that colour shares it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.metrics import ClientRecorder, Recording, error_kind

if TYPE_CHECKING:
    from workbench.clients.base import AsyncConnection, BlockingConnection
    from workbench.harness.spec import CellSpec

FAMILIES = ("blocking", "asyncio", "trio", "anyio")

# Back-off after a failed operation, so a dead server makes a client wait rather than spin.
ERROR_BACKOFF_S = 0.001


@dataclass(frozen=True)
class Window:
    """The measuring window on CLOCK_MONOTONIC, which every process on the machine shares.

    Operations completing in [start_ns, end_ns) count; those before are warm-up. No operation
    starts after end_ns, and at stop_ns (end plus grace) anything still running is abandoned.
    `max_ops` bounds each user's loop in count as well as in time.
    """

    start_ns: int
    end_ns: int
    stop_ns: int
    max_ops: int

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("start_ns", "end_ns", "stop_ns", "max_ops")}


def blocking_closed_loop(conn: BlockingConnection, window: Window, rec: ClientRecorder) -> None:
    """One user, blocking: operate, wait for the answer, operate again, until the window ends."""
    clock = time.monotonic_ns
    start, end = window.start_ns, window.end_ns
    append = rec.latencies.append
    nbytes = 0
    try:
        for _ in range(window.max_ops):
            t0 = clock()
            if t0 >= end:
                break
            try:
                n = conn.op()
            except Exception as exc:
                if start <= clock() < end:
                    rec.errors[error_kind(exc)] += 1
                conn.reset()
                time.sleep(ERROR_BACKOFF_S)
                continue
            t1 = clock()
            if start <= t1 < end:
                append(t1 - t0)
                nbytes += n
    finally:
        rec.bytes += nbytes
        conn.close()


async def async_closed_loop(
    conn: AsyncConnection,
    window: Window,
    rec: ClientRecorder,
    sleep: Callable[[float], Awaitable[Any]],
) -> None:
    """The same loop for every async family; `sleep` is the family's own."""
    clock = time.monotonic_ns
    start, end = window.start_ns, window.end_ns
    append = rec.latencies.append
    nbytes = 0
    try:
        for _ in range(window.max_ops):
            t0 = clock()
            if t0 >= end:
                break
            try:
                n = await conn.op()
            except Exception as exc:
                if start <= clock() < end:
                    rec.errors[error_kind(exc)] += 1
                await conn.reset()
                await sleep(ERROR_BACKOFF_S)
                continue
            t1 = clock()
            if start <= t1 < end:
                append(t1 - t0)
                nbytes += n
    finally:
        rec.bytes += nbytes
        await conn.aclose()


def seconds_until(ns: int) -> float:
    return max(0.0, (ns - time.monotonic_ns()) / 1e9)


class Model(ABC):
    """A concurrency model. Lifecycle in the worker: `prepare(spec)`, then `run(window)` once."""

    name: ClassVar[str]
    family: ClassVar[str]  # which client implementations fit (see workbench.clients)
    summary: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()  # importable packages the model needs

    def effective_clients(self, requested: int) -> int:
        """How many concurrent users the model really runs for `requested`."""
        return requested

    def prepare(self, spec: CellSpec) -> None:
        """Import and build what the run needs, before the window is set."""
        from workbench.clients import load_client

        self.spec = spec
        self.client_cls = load_client(spec.client, self.family)

    @abstractmethod
    def run(self, window: Window) -> Recording:
        """Run the users through the window; return what they recorded (CPU is added later)."""

    def loop_name(self) -> str | None:
        """The event loop implementation, for the metadata (None for blocking models)."""
        return None

    def close(self) -> None:
        """Release anything `prepare` started."""
