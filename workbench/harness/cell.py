"""One cell's timeline, seen from the parent: start its worker, let the users ramp up until all are
warm (or the warm limit passes), fix the window, wait it out, collect the recording.

What a cell is (`Cell`) and what a run of it returned (`CellRun`) live here too, with the progress
callbacks (`Observer`) the timeline reports to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.cell_spec import CellSpec
from workbench.errors import RunFailed
from workbench.harness.settings import IoSettings, warm_limit
from workbench.metrics import Recording
from workbench.units import size_label
from workbench.worker_channel import start_worker

if TYPE_CHECKING:
    from workbench.interpreters import Interpreter
    from workbench.results import Row
    from workbench.server_process import ServerHandle

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Cell:
    model: str
    client: str
    workload: str
    clients: int | None = None  # None: the run's --clients
    file_size: int | None = None  # disk cells
    cache: str | None = None  # disk read cells
    python: Interpreter | None = None  # set when a run measures more than one interpreter
    server: str | None = None  # served cells: the server configuration under the load

    @property
    def label(self) -> str:
        text = f"{self.model} · {self.client} · {self.workload}"
        if self.server is not None:
            text = f"{self.server} · {self.workload.removeprefix('served-')}"
        if self.file_size is not None:
            text += f" · {size_label(self.file_size)}"
            text += f" {self.cache}" if self.cache else ""
            text += f" · {self.clients}"
        if self.python is not None:
            text += f" · {self.python.name}"
        return text


class Observer:
    """Progress callbacks; the CLI draws them with rich, tests ignore them."""

    def start(self, total: int) -> None: ...

    def cell(self, index: int, cell: Cell, round_: int) -> None: ...

    def phase(self, name: str, fraction: float) -> None: ...

    def done(self, cell: Cell, row: Row) -> None: ...

    def note(self, text: str) -> None:
        """Something slow that is not a cell: an interpreter's environment being prepared."""


@dataclass
class CellRun:
    recording: Recording
    server_cpu_s: float | None
    window_s: float
    metadata: dict[str, Any]
    ramp_s: float | None  # from `go` until every user had finished one operation; None: never
    # The window on the wall clock (epoch seconds): windows measured on different hosts can only
    # be lined up on it (monotonic clocks start at each host's boot).
    wall_window: tuple[float, float] | None = None
    host: str | None = None  # the cluster worker that measured it (None: this machine)
    # The server's timer lateness in the window (delay_ms, p50_ms, p99_ms, count); None: no
    # delayed writes, or a server that does not measure it (a database without the proxy).
    timer: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recording": self.recording.to_dict(),
            "server_cpu_s": self.server_cpu_s,
            "window_s": self.window_s,
            "metadata": self.metadata,
            "ramp_s": self.ramp_s,
            "wall_window": None if self.wall_window is None else list(self.wall_window),
            "host": self.host,
            "timer": self.timer,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellRun:
        wall = d.get("wall_window")
        return cls(
            Recording.from_dict(d["recording"]),
            d["server_cpu_s"],
            d["window_s"],
            d["metadata"],
            d["ramp_s"],
            None if wall is None else (wall[0], wall[1]),
            d.get("host"),
            d.get("timer"),
        )


# Agrees the window's start with others (a spread cell's hosts): given the earliest start this
# host could take (its monotonic ns), returns the start all take (its monotonic ns).
StartAgreement = Callable[[int], int]


def _sleep_until(
    ns: int, observer: Observer, phase: str, begin_ns: int, check: Callable[[], None]
) -> None:
    span = max(1, ns - begin_ns)
    while (left := ns - time.monotonic_ns()) > 0:
        observer.phase(phase, 1 - left / span)
        check()
        time.sleep(min(0.1, left / 1e9))
    observer.phase(phase, 1.0)


def run_cell(
    spec: CellSpec,
    settings: IoSettings,
    server: ServerHandle | None,
    client_cpus: set[int] | None,
    observer: Observer,
    halt: Callable[[], None] | None = None,
    agree: StartAgreement | None = None,
) -> CellRun:
    """One run of a cell. `halt` is called often and raises to stop it (a cluster's Ctrl-C);
    `agree` lines its window up with other hosts'."""
    with start_worker(
        spec.as_dict(), spec.label, python=spec.python, env=spec.env, cpus=client_cpus
    ) as channel:
        ready = channel.expect("ready", READY_TIMEOUT_S)

        def check() -> None:
            if server is not None and not server.alive():
                raise RunFailed(f"the mock {server.kind} server died during {spec.label}")
            if halt is not None:
                halt()

        # Ramp-up: the users start with no window; it opens once all have finished an operation
        # (10,000 connections can take seconds), or at the warm limit, flagged `not-warm`.
        go = time.monotonic_ns()
        limit_s = warm_limit(settings)
        limit = go + int(limit_s * 1e9)
        span = limit_s + settings.warmup + settings.duration + settings.grace
        # A bound in count as well as time: no loopback client completes a million ops a second.
        max_ops = int(span * 1_000_000) + 1
        # Open loop: the cell's users share --rate, so each one's operations fall due every N/R.
        interval_ns = int(spec.clients / settings.rate * 1e9) if settings.rate else 0
        if spec.workload.name == "idle":  # each user's heartbeat falls due every --heartbeat
            interval_ns = int(settings.heartbeat * 1e9)
        channel.send(
            {"warm_deadline_ns": limit + 5 * 10**9, "max_ops": max_ops, "interval_ns": interval_ns}
        )
        ramp_s: float | None = None
        while (left := limit - time.monotonic_ns()) > 0:
            check()
            observer.phase("ramp-up", 1 - left / (limit - go))
            if channel.poll("warm", min(0.1, left / 1e9)) is not None:
                ramp_s = (time.monotonic_ns() - go) / 1e9
                break
        # Warm-up counts from the users' start; once all are warm they settle a little more.
        now = time.monotonic_ns()
        start = max(go + int(settings.warmup * 1e9), now + int(settings.warmup * 0.25e9))
        if agree is not None:
            start = agree(start)
            now = min(now, start)
        end = start + int(settings.duration * 1e9)
        stop = end + int(settings.grace * 1e9)
        channel.send({"start_ns": start, "end_ns": end, "stop_ns": stop})
        lead = int(server.cpu_lead_s * 1e9) if server is not None else 0
        _sleep_until(start - lead, observer, "warm-up", now, check)
        s0 = server.cpu_seconds() if server is not None else None
        _sleep_until(start, observer, "warm-up", now, check)
        t0 = server.timer_counts() if server is not None else None
        _sleep_until(end - lead, observer, "measuring", start, check)
        s1 = server.cpu_seconds() if server is not None else None
        _sleep_until(end, observer, "measuring", start, check)
        t1 = server.timer_counts() if server is not None else None
        observer.phase("collecting", 1.0)
        payload = channel.expect("result", (stop - time.monotonic_ns()) / 1e9 + 30.0)
    server_cpu = s1 - s0 if s0 is not None and s1 is not None else None
    rec = Recording.from_dict(payload)
    to_wall = time.time() - time.monotonic_ns() / 1e9
    wall = (start / 1e9 + to_wall, end / 1e9 + to_wall)
    timer = None
    if server is not None and t0 is not None and t1 is not None:
        timer = window_lateness(t0, t1, server.timer_delay_s)
    return CellRun(
        rec, server_cpu, (end - start) / 1e9, ready["metadata"], ramp_s, wall, None, timer
    )


def window_lateness(before: list[int], after: list[int], delay_s: float) -> dict[str, Any] | None:
    """The server's timer lateness over a window, from its counts at the window's edges."""
    from servers.timers import summarise

    counts = [b - a for a, b in zip(before, after, strict=True)]
    return summarise(counts, delay_s) if sum(counts) else None
