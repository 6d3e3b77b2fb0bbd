"""The shape every concurrency model has, and the closed loop each family drives.

A model decides only *how N concurrent users run*: one after another, on threads, as tasks of an
event loop, or spread over processes. What a user does (`op()`) comes from a client, and what is
recorded comes from `ClientRecorder`; so the closed loop below is written once per function colour
(blocking and async) and every model of that colour shares it.
"""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from workbench.metrics import ClientRecorder, Recording, error_kind
from workbench.workloads.base import UserDone

if TYPE_CHECKING:
    from workbench.cell_spec import CellSpec
    from workbench.clients.base import (
        AsyncClient,
        AsyncConnection,
        BlockingClient,
        BlockingConnection,
    )

FAMILIES = ("blocking", "asyncio", "trio", "anyio")

# Back-off after a failed operation, so a dead server makes a client wait rather than spin.
ERROR_BACKOFF_S = 0.001


NEVER_NS = 1 << 62


class Window:
    """The measuring window on CLOCK_MONOTONIC, which every process on the machine shares.

    It is fixed in two steps, so that warm-up ends when the users are warm rather than after a
    guess: users start with no window (nothing counts, `end_ns` is the warm-up limit); each calls
    `user_warm()` after its first operation, and when all have, `on_warm` tells the parent, which
    answers with the window that `open()` sets. Closed loops read the fields on every operation.

    Operations completing in [start_ns, end_ns) count. No operation starts after end_ns, and at
    stop_ns (end plus grace) anything still running is abandoned. `max_ops` bounds each user's
    loop in count as well as in time.
    """

    def __init__(
        self,
        users: int,
        max_ops: int,
        warm_deadline_ns: int,
        on_warm: Callable[[], None] | None = None,
        interval_ns: int = 0,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.users = users
        self.clock = clock
        self.max_ops = max_ops
        self.interval_ns = interval_ns  # open loop: each user's operations are due this often
        self.start_ns = NEVER_NS
        self.end_ns = warm_deadline_ns
        self.stop_ns = warm_deadline_ns
        self.warm = 0
        self.warm_at_open: int | None = None
        self._on_warm = on_warm
        self._lock = threading.Lock()

    @classmethod
    def fixed(
        cls,
        start_ns: int,
        end_ns: int,
        stop_ns: int,
        users: int = 1,
        max_ops: int = 1 << 40,
        interval_ns: int = 0,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> Window:
        """A window set before the users start, with no warm-up hand-shake: for callers that
        drive the loops themselves (the in-process tests, `scripts/bench_overhead.py`)."""
        w = cls(users, max_ops, stop_ns, interval_ns=interval_ns, clock=clock)
        w.open(start_ns, end_ns, stop_ns)
        return w

    def user_warm(self) -> None:
        with self._lock:
            self.warm += 1
            done = self.warm == self.users
        if done and self._on_warm is not None:
            self._on_warm()

    def open(self, start_ns: int, end_ns: int, stop_ns: int) -> None:
        # End before start: a loop reading in between sees no window rather than a wrong one.
        self.warm_at_open = self.warm
        self.stop_ns = stop_ns
        self.end_ns = end_ns
        self.start_ns = start_ns

    @property
    def is_open(self) -> bool:
        return self.start_ns != NEVER_NS

    def started(self) -> bool:
        """Open is not started: the parent fixes the window a little ahead of its start."""
        return self.clock() >= self.start_ns

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    @property
    def span(self) -> tuple[int, int] | None:
        """(start, end) once the window is open: what the recording slices."""
        return (self.start_ns, self.end_ns) if self.is_open else None


class Schedule:
    """The open loop (wrk2's lesson): a user's operations fall due every `interval_ns`, from a
    random phase so users do not fire in step, and latency counts from the due time. A user held
    up by a slow answer then sends late, and the lateness is in its figures: a stall cannot hide
    itself by delaying the requests that would have measured it (coordinated omission)."""

    __slots__ = ("clock", "due", "interval")

    def __init__(self, interval_ns: int, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.interval = interval_ns
        self.clock = clock
        self.due = clock() + random.randrange(interval_ns)

    def next(self) -> tuple[int, float]:
        """(the due time of the next operation, seconds to wait for it; 0 when late)."""
        due = self.due
        self.due += self.interval
        return due, max(0.0, (due - self.clock()) / 1e9)


def blocking_closed_loop(
    conn: BlockingConnection,
    window: Window,
    rec: ClientRecorder,
    clock: Callable[[], int] = time.monotonic_ns,
    sleep: Callable[[float], object] = time.sleep,
) -> None:
    """One user, blocking: operate, wait for the answer, operate again, until the window ends.
    With an open-loop schedule, each operation waits for its due time instead. `clock` and `sleep`
    are the real ones but in tests (`workbench.testing.FakeClock`)."""
    append, ended = rec.latencies.append, rec.ends.append
    nbytes = 0
    warm = False
    schedule = Schedule(window.interval_ns, clock) if window.interval_ns else None
    try:
        for _ in range(window.max_ops):
            if schedule is None:
                t0 = clock()
            else:
                t0, wait = schedule.next()
                if wait and t0 < window.end_ns:
                    sleep(wait)
            if t0 >= window.end_ns:
                break
            try:
                n = conn.op()
            except UserDone:
                break
            except Exception as exc:
                if window.start_ns <= clock() < window.end_ns:
                    rec.errors[error_kind(exc)] += 1
                # A failure does not warm a user: one whose every operation fails stays cold,
                # so its row says not-warm beside its errors instead of looking measured.
                conn.reset()
                sleep(ERROR_BACKOFF_S)
                continue
            t1 = clock()
            if not warm:
                warm = True
                window.user_warm()
            if window.start_ns <= t1 < window.end_ns:
                append(t1 - t0)
                ended(t1)
                nbytes += n
    finally:
        rec.bytes += nbytes
        conn.close()


async def async_closed_loop(
    conn: AsyncConnection,
    window: Window,
    rec: ClientRecorder,
    sleep: Callable[[float], Awaitable[Any]],
    clock: Callable[[], int] = time.monotonic_ns,
) -> None:
    """The same loop for every async family; `sleep` is the family's own."""
    append, ended = rec.latencies.append, rec.ends.append
    nbytes = 0
    warm = False
    schedule = Schedule(window.interval_ns, clock) if window.interval_ns else None
    try:
        for _ in range(window.max_ops):
            if schedule is None:
                t0 = clock()
            else:
                t0, wait = schedule.next()
                if wait and t0 < window.end_ns:
                    await sleep(wait)
            if t0 >= window.end_ns:
                break
            try:
                n = await conn.op()
            except UserDone:
                break
            except Exception as exc:
                if window.start_ns <= clock() < window.end_ns:
                    rec.errors[error_kind(exc)] += 1
                # A failure does not warm a user: one whose every operation fails stays cold,
                # so its row says not-warm beside its errors instead of looking measured.
                await conn.reset()
                await sleep(ERROR_BACKOFF_S)
                continue
            t1 = clock()
            if not warm:
                warm = True
                window.user_warm()
            if window.start_ns <= t1 < window.end_ns:
                append(t1 - t0)
                ended(t1)
                nbytes += n
    finally:
        rec.bytes += nbytes
        await conn.aclose()


async def keep_deadline(
    window: Window,
    running: Callable[[], bool],
    set_deadline: Callable[[float], None],
    sleep: Callable[[float], Awaitable[Any]],
) -> None:
    """Body of a trio nursery or anyio task group: keep its deadline at the window's stop (which
    moves when the window opens) until every user has returned."""
    while running():
        set_deadline(seconds_until(window.stop_ns))
        await sleep(0.05)


def join_until(threads: list[threading.Thread], window: Window) -> None:
    """Wait for the threads, but not past the window's stop (which moves when it opens)."""
    for t in threads:
        while t.is_alive() and time.monotonic_ns() < window.stop_ns:
            t.join(0.05)


def seconds_until(ns: int) -> float:
    return max(0.0, (ns - time.monotonic_ns()) / 1e9)


class Model(ABC):
    """A concurrency model. Lifecycle in the worker: `prepare(spec)`, then `run(window)` once."""

    name: ClassVar[str]
    family: ClassVar[str]  # which client implementations fit (see workbench.clients)
    summary: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()  # importable packages the model needs
    runs_users: ClassVar[bool] = True  # False: it hands its users to other processes
    skips: ClassVar[tuple[str, ...]] = ()  # workload protocols it does not run, and why not

    def effective_clients(self, requested: int) -> int:
        """How many concurrent users the model really runs for `requested`."""
        return requested

    def prepare(
        self, spec: CellSpec, client_cls: type[BlockingClient] | type[AsyncClient] | None = None
    ) -> None:
        """Import and build what the run needs, before the window is set. `client_cls` replaces
        the client the spec names (the in-process fakes of `workbench.testing`)."""
        from workbench.clients import load_client

        self.spec = spec
        self.client_cls = client_cls or load_client(spec.client, self.family)
        if spec.work is not None:
            from workbench.work import build_work, with_work

            self.client_cls = with_work(self.client_cls, build_work(spec.work))

    @abstractmethod
    def run(self, window: Window) -> Recording:
        """Run the users through the window; return what they recorded (CPU is added later)."""

    def thread_stack(self) -> int | None:
        """Bytes of stack each of its threads gets, where it runs a thread per user."""
        return None

    def loop_name(self) -> str | None:
        """The event loop implementation, for the metadata (None for blocking models)."""
        return None

    def warm_units(self) -> int:
        """How many `user_warm()` calls make this process warm: one per user."""
        return self.spec.clients

    def record_warmth(self, window: Window, rec: Recording) -> None:
        """Note how many users were warm when the window opened, and how many by its end (a ramp
        that outlasted the warm limit, against users that never got going)."""
        rec.users_warm = window.warm if window.warm_at_open is None else window.warm_at_open
        rec.users_started = window.warm

    def cooperative(self, stdin: TextIO) -> TextIO:
        """The worker's stdin as this model's users can share a process with: a thread that reads
        the window from it must not stop them (gevent's threads are greenlets)."""
        return stdin

    def close(self) -> None:
        """Release anything `prepare` started."""
