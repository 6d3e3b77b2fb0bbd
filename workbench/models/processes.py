"""`processes` and `processes-uvloop`: the cell's users spread over P worker processes.

Each worker runs an inner model (threads, or one uvloop loop) on its share of the users, in its
own interpreter with its own GIL, the way servers scale out. The workers are started and owned
exactly like cells, and their recordings merge losslessly (HDR histograms add).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from typing import ClassVar

from workbench.cell_spec import CellSpec
from workbench.clients.base import AsyncClient, BlockingClient
from workbench.metrics import Recording
from workbench.models.base import Model, Window, seconds_until
from workbench.worker_channel import WorkerChannel, start_worker

READY_TIMEOUT_S = 60.0


def split(total: int, parts: int) -> list[int]:
    """`total` users over `parts` workers, as evenly as possible, none empty."""
    parts = max(1, min(parts, total))
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class ProcessesModel(Model):
    name = "processes"
    family = "blocking"
    summary = "N clients over P processes, threads with blocking clients inside each"
    inner: ClassVar[str] = "threads"
    runs_users = False

    def prepare(
        self, spec: CellSpec, client_cls: type[BlockingClient] | type[AsyncClient] | None = None
    ) -> None:
        super().prepare(spec, client_cls)  # fails fast if the client does not fit this family
        self._stack = contextlib.ExitStack()
        self.workers: list[WorkerChannel] = []
        shares = split(spec.clients, spec.procs)
        for i, share in enumerate(shares):
            workload = replace(spec.workload, share=spec.workload.share * share / spec.clients)
            sub = replace(spec, model=self.inner, clients=share, workload=workload)
            channel = self._stack.enter_context(
                start_worker(
                    sub.as_dict(), f"{spec.label}#{i}", python=spec.python, env=spec.env, cpus=None
                )
            )
            self.workers.append(channel)
        for channel in self.workers:
            channel.expect("ready", READY_TIMEOUT_S)

    def loop_name(self) -> str | None:
        return None

    def warm_units(self) -> int:
        return len(self.workers)  # each worker says `warm` once all of its users are

    def record_warmth(self, window: Window, rec: Recording) -> None:
        pass  # the workers counted their own users; the merge added them up

    def run(self, window: Window) -> Recording:
        # Relay between the parent and the workers: `go` down, each `warm` up, the window down.
        for channel in self.workers:
            channel.send(
                {
                    "warm_deadline_ns": window.end_ns,
                    "max_ops": window.max_ops,
                    "interval_ns": window.interval_ns,
                }
            )
        cold = list(self.workers)
        while not window.is_open and time.monotonic_ns() < window.end_ns:
            for channel in list(cold):
                if channel.poll("warm", 0.005) is not None:
                    cold.remove(channel)
                    window.user_warm()
            if not cold:
                time.sleep(0.005)
        if window.is_open:
            times = {"start_ns": window.start_ns, "end_ns": window.end_ns}
            for channel in self.workers:
                channel.send({**times, "stop_ns": window.stop_ns})
        merged = Recording(processes=1)  # this process: it only waits, but its cost counts too
        for channel in self.workers:
            payload = channel.expect("result", seconds_until(window.stop_ns) + 10.0)
            merged.merge(Recording.from_dict(payload))
        return merged

    def close(self) -> None:
        stack = getattr(self, "_stack", None)
        if stack is not None:
            stack.close()


class ProcessesUvloopModel(ProcessesModel):
    name = "processes-uvloop"
    family = "asyncio"
    summary = "N clients over P processes, one uvloop event loop in each"
    requires = ("uvloop",)
    inner = "uvloop"

    def loop_name(self) -> str:
        return "uvloop (one per process)"
