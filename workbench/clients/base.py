"""The two client shapes: blocking (sync, threads, processes) and async (asyncio, trio, anyio).

A *client* holds what one worker process shares between its concurrent users (a connection pool,
a session); a *connection* is one concurrent user. `op()` performs one operation of the workload,
verified, and returns the bytes it moved; a timeout or failure raises. After an exception the
harness calls `reset()`, and the next `op()` reconnects. Each client applies the per-operation
timeout the way its library is meant to be used (socket timeouts, ClientTimeout, fail_after, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.workloads.base import Workload


@dataclass(frozen=True)
class ClientContext:
    workload: Workload
    concurrency: int  # concurrent connections in this process (pool sizes)
    timeout: float  # per-operation timeout, seconds


class BlockingConnection(ABC):
    @abstractmethod
    def op(self) -> int:
        """One verified operation; returns bytes moved."""

    def reset(self) -> None:
        """Forget the connection after an error; the next op reconnects."""

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
