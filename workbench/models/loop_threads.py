"""`asyncio-threads` and `uvloop-threads`: K threads in one process, each running its own event
loop with its share of the N users.

The pattern free-threaded CPython makes worth asking about: on a GIL build the loops take turns
holding one GIL, so K loops can only cost (switching, contention) compared with one; without the
GIL they can run on K cores at once, like `processes-uvloop` without a process per loop. K is
`--procs` (default: the client CPUs, at least 2). Each loop has its own client (its own pool or
session), as each loop must: asyncio objects belong to the loop that made them.
"""

from __future__ import annotations

import threading

from workbench.errors import RunFailed
from workbench.metrics import ClientRecorder, Recording
from workbench.models.asyncio_loops import AsyncioModel, UvloopModel
from workbench.models.base import Window, join_until
from workbench.models.processes import split


class AsyncioThreadsModel(AsyncioModel):
    name = "asyncio-threads"
    summary = "N tasks over K threads, one asyncio event loop in each"

    def loop_name(self) -> str:
        return f"{super().loop_name()} (one per thread, {self.loops()} threads)"

    def loops(self) -> int:
        return max(1, min(self.spec.procs, self.spec.clients))

    def run(self, window: Window) -> Recording:
        shares = split(self.spec.clients, self.loops())
        results: list[list[ClientRecorder] | BaseException] = [[] for _ in shares]

        def loop_thread(i: int, n: int) -> None:
            try:
                results[i] = self.run_loop(window, n)
            except BaseException as exc:  # re-raised in the model's thread below
                results[i] = exc

        threads = [
            threading.Thread(target=loop_thread, args=(i, n), name=f"loop-{i}", daemon=True)
            for i, n in enumerate(shares)
        ]
        for t in threads:
            t.start()
        join_until(threads, window)
        for t in threads:
            t.join(3.0)  # each loop cancels what is left at the stop, then closes its client
        recorders: list[ClientRecorder] = []
        for i, got in enumerate(results):
            if isinstance(got, BaseException):
                raise RunFailed(f"loop thread {i}: {type(got).__name__}: {got}") from got
            recorders += got
        return Recording.from_clients(recorders, window.span)


class UvloopThreadsModel(AsyncioThreadsModel, UvloopModel):
    name = "uvloop-threads"
    summary = "N tasks over K threads, one uvloop event loop in each"
    requires = ("uvloop",)
