"""`io_uring` file API: reads and writes through a ring that the event loop drives itself, with no
thread hop (`hops/op` 0). The operations are written once (workbench.clients.uring_ring); a
family's driver only says how a pump is scheduled, how the eventfd is watched and how a waiter
wakes:

- asyncio and uvloop: `loop.add_reader` on the eventfd, `call_soon` for the pump, a future per
  operation;
- trio: two system tasks, one that pumps once the tasks of a scheduling batch have queued their
  operations and one that waits on the eventfd, and `wait_task_rescheduled` per operation;
- anyio: the driver of its backend.

Submissions are batched: every operation the users start before the pump runs goes into the
kernel in one `io_uring_enter`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sniffio

from workbench.clients.base import ClientContext
from workbench.clients.files_base import AsyncFileClient
from workbench.clients.uring_ops import FIRST_READ, FileOp, ReadFile, WriteFile
from workbench.clients.uring_ring import Ring, unavailable
from workbench.errors import UsageError


class UringFileClient(AsyncFileClient):
    hops = False

    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        self.driver: AsyncioDriver | TrioDriver | None = None
        self.size_hint = FIRST_READ

    async def start(self) -> None:
        reason = unavailable()
        if reason is not None:
            raise UsageError(f"io_uring: {reason}")
        await super().start()
        ring = Ring()
        lib = sniffio.current_async_library()
        self.driver = TrioDriver(ring) if lib == "trio" else AsyncioDriver(ring)
        await self.driver.start()

    async def read(self, path: str, chunk: int | None) -> bytearray:
        assert self.driver is not None
        data: bytearray = await self.driver.perform(ReadFile(path, chunk, self.size_hint))
        # The next whole-file read asks for this file's size first: one round when sizes
        # repeat, as the others' fstat makes it (a guess only: a full read goes on).
        self.size_hint = len(data) + 1
        return data

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        assert self.driver is not None
        await self.driver.perform(WriteFile(path, data, fsync))

    async def aclose(self) -> None:
        if self.driver is not None:
            self.driver.close()


class AsyncioDriver:
    def __init__(self, ring: Ring) -> None:
        self.ring = ring
        self.pump_due = False

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.ring.fileno(), self.ring.pump)

    def _pump(self) -> None:
        self.pump_due = False
        self.ring.pump()

    async def perform(self, op: FileOp) -> Any:
        fut: asyncio.Future[Any] = self.loop.create_future()

        def done(op: FileOp) -> None:
            if fut.done():
                return
            if op.error is not None:
                fut.set_exception(op.error)
            else:
                fut.set_result(op.result)

        op.on_done = done
        self.ring.start(op)
        if not self.pump_due:
            self.pump_due = True
            self.loop.call_soon(self._pump)
        try:
            return await fut
        except asyncio.CancelledError:
            op.abandoned = True  # the kernel finishes the round into buffers the op still holds
            raise

    def close(self) -> None:
        if not self.ring.closed:
            self.loop.remove_reader(self.ring.fileno())
            self.ring.close()


class TrioDriver:
    def __init__(self, ring: Ring) -> None:
        self.ring = ring
        self.due = False  # operations were started since the last pump
        self.parked: Any = None  # the pump task, while it waits for work

    async def start(self) -> None:
        import trio

        trio.lowlevel.spawn_system_task(self._pumper)
        trio.lowlevel.spawn_system_task(self._watcher)

    async def _pumper(self) -> None:
        import trio

        while not self.ring.closed:
            if not self.due:
                self.parked = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(lambda _: trio.lowlevel.Abort.SUCCEEDED)
            self.due = False
            if not self.ring.closed:
                self.ring.pump()

    def _kick(self) -> None:
        """Have the pump task run after the tasks now runnable, which may start more."""
        import trio

        self.due = True
        if self.parked is not None:
            trio.lowlevel.reschedule(self.parked)
            self.parked = None

    async def _watcher(self) -> None:
        import trio

        while not self.ring.closed:
            try:
                await trio.lowlevel.wait_readable(self.ring.fileno())
            except trio.ClosedResourceError:
                return  # close() is tearing the ring down
            self.ring.pump()

    async def perform(self, op: FileOp) -> Any:
        import outcome
        import trio

        task = trio.lowlevel.current_task()

        def done(op: FileOp) -> None:
            result = outcome.Error(op.error) if op.error is not None else outcome.Value(op.result)
            trio.lowlevel.reschedule(task, result)

        def abort(_: Any) -> trio.lowlevel.Abort:
            op.abandoned = True
            return trio.lowlevel.Abort.SUCCEEDED

        op.on_done = done
        self.ring.start(op)
        self._kick()
        return await trio.lowlevel.wait_task_rescheduled(abort)

    def close(self) -> None:
        import trio

        if not self.ring.closed:
            trio.lowlevel.notify_closing(self.ring.fileno())
            self.ring.close()
            self._kick()  # to see that the ring is closed, and return
