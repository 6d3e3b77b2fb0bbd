"""Work done per request inside the network workload (`io --work KIND:DURATION`): pure Python that
holds the GIL, or hashlib / zlib on a buffer, which release it. Calibrated in the worker, on the
machine that runs it, so `python:200us` is 200 µs of pure Python there.

It wraps a client: every connection's `op()` does its operation, then the work, on the user's own
thread (for an async model, the event loop's). That is what shows where each model breaks.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable

from workbench.burn import burn, calibrate
from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
)
from workbench.errors import UsageError
from workbench.units import parse_duration

WORK_KINDS = ("python", "hashlib", "zlib")


def parse_work(text: str) -> tuple[str, float]:
    kind, sep, duration = text.partition(":")
    if not sep or kind not in WORK_KINDS:
        raise UsageError(f"--work {text!r} is not KIND:DURATION with KIND one of {WORK_KINDS}")
    seconds = parse_duration(duration, "--work")
    if not 0 < seconds <= 1.0:
        raise UsageError(f"--work {text!r}: the duration must be above 0 and at most 1s")
    return kind, seconds


def build_work(text: str) -> Callable[[], object]:
    """A function that takes about the given time here, of the given kind."""
    kind, seconds = parse_work(text)
    if kind == "python":
        n = calibrate(burn, seconds)
        return lambda: burn(n)
    if kind == "hashlib":
        # sha256 releases the GIL for buffers of 2 KiB or more: size the buffer to the duration.
        size = max(2048, calibrate(lambda k: hashlib.sha256(b"\0" * k).digest(), seconds, 4096))
        buf = b"\xa5" * size
        return lambda: hashlib.sha256(buf).digest()
    size = max(2048, calibrate(lambda k: zlib.compress(b"workbench " * (k // 10), 6), seconds))
    text_buf = b"workbench " * (size // 10)
    return lambda: zlib.compress(text_buf, 6)


class _BlockingWorked(BlockingConnection):
    def __init__(self, inner: BlockingConnection, work: Callable[[], object]) -> None:
        self.inner, self.work = inner, work

    def op(self) -> int:
        n = self.inner.op()
        self.work()
        return n

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()


class _AsyncWorked(AsyncConnection):
    def __init__(self, inner: AsyncConnection, work: Callable[[], object]) -> None:
        self.inner, self.work = inner, work

    async def op(self) -> int:
        n = await self.inner.op()
        self.work()
        return n

    async def reset(self) -> None:
        await self.inner.reset()

    async def aclose(self) -> None:
        await self.inner.aclose()


def with_work(
    cls: type[BlockingClient] | type[AsyncClient], work: Callable[[], object]
) -> type[BlockingClient] | type[AsyncClient]:
    """`cls` with the work added to every operation of every connection."""
    if issubclass(cls, BlockingClient):

        class BlockingWithWork(cls):  # type: ignore[valid-type, misc]
            def connection(self) -> BlockingConnection:
                return _BlockingWorked(super().connection(), work)

        return BlockingWithWork

    class AsyncWithWork(cls):  # type: ignore[valid-type, misc]
        def connection(self) -> AsyncConnection:
            return _AsyncWorked(super().connection(), work)

    return AsyncWithWork
