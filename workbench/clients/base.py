"""The two client shapes: blocking (sync, threads, processes) and async (asyncio, trio, anyio).

A *client* holds what one worker process shares between its concurrent users (a connection pool,
a session); a *connection* is one concurrent user. `op()` performs one operation of the workload,
verified, and returns the bytes it moved; a timeout or failure raises. After an exception the
harness calls `reset()`, and the next `op()` reconnects. Each client applies the per-operation
timeout the way its library is meant to be used (socket timeouts, ClientTimeout, fail_after, ...).
"""

from __future__ import annotations

import functools
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

    from workbench.workloads.base import Target, Workload

READ_SIZE = 256 * 1024


class DeadlinePassed(TimeoutError):
    """The whole operation outlasted --timeout (each wait on its own was shorter)."""


def time_left(deadline: float) -> float:
    """Seconds until `deadline` (time.monotonic), or DeadlinePassed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed("the operation outlasted its --timeout")
    return left


def read_by_deadline(
    read1: Callable[[int], bytes], sock: socket.socket | None, deadline: float
) -> bytes:
    """A body read in pieces (`read1`: at most one recv each), every recv allowed only what is left
    of the operation's deadline: a socket timeout bounds each wait, not their sum, so a body that
    trickles in would otherwise outlast --timeout."""
    parts: list[bytes] = []
    while True:
        if sock is not None:
            sock.settimeout(time_left(deadline))
        chunk = read1(READ_SIZE)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


@functools.cache
def package_missing(module: str, package: str, extra: str) -> str | None:
    """Why a client cannot run here for want of a package, with what installs it; None if it
    can. A client's module declares its own check with this (the registry names it)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return f"{package} is not installed: pip install '.[{extra}]'"
    return None


def _context(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def tls_context(target: Target) -> ssl.SSLContext | None:
    """The one client SSL context of this process for an https target (None for plain ones): the
    standard library's defaults, which verify the chain and the host name, trusting the target's
    CA (or the system's). Shared, as a real client shares it, so the CA is loaded once per process
    rather than once per connection."""
    return _context(target.ca_file) if target.tls else None


def tls_name(target: Target) -> str | None:
    """The name the certificate must carry when it differs from the address connected to."""
    return target.host if target.tls and target.address else None


@dataclass(frozen=True)
class ClientContext:
    workload: Workload
    concurrency: int  # concurrent connections in this process (pool sizes)
    timeout: float  # per-operation timeout, seconds
    # How a blocking user waits without holding up the others: time.sleep on threads, gevent's
    # sleep on greenlets (the fake users of workbench.testing wait with it).
    sleep: Callable[[float], object] = time.sleep


class BlockingConnection(ABC):
    @abstractmethod
    def op(self) -> int:
        """One verified operation; returns bytes moved."""

    def reset(self) -> None:
        """Forget the connection after an error; the next op reconnects."""

    def open(self) -> None:
        """Connect ahead of the first operation, where the client can; a failure here is left
        for the first operation to meet (and count) again."""

    def close(self) -> None:
        self.reset()


class BlockingClient(ABC):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def connection(self) -> BlockingConnection:
        """A new concurrent user of this client."""

    def close(self) -> None:
        """Release what the client shares (pools)."""


class AsyncConnection(ABC):
    @abstractmethod
    async def op(self) -> int:
        """One verified operation; returns bytes moved."""

    async def reset(self) -> None:
        """Forget the connection after an error; the next op reconnects."""

    async def aclose(self) -> None:
        await self.reset()


class AsyncClient(ABC):
    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        """Create shared state; runs inside the model's event loop."""

    @abstractmethod
    def connection(self) -> AsyncConnection:
        """A new concurrent user of this client."""

    async def aclose(self) -> None:
        """Release shared state."""
