"""In-process fakes for fast tests, in the spirit of `trio.testing` and httpcore's `MockBackend`:
no socket, no server, no child process, and a clock that moves only when told.

- `FakeClock`: `CLOCK_MONOTONIC` for the loops, advanced by fake operations and fake sleeps, so
  a test of the closed and open loops is exact and instant.
- `Script`: what each operation of a fake user does, in order: succeed after a latency, or raise.
  httpcore's `MockBackend(list[bytes])` is the model: the test writes the peer's behaviour down.
- `scripted_client(...)`: a client class of either colour whose users play a script, for running
  a real model (its threads, loop, task group) in this process with `run_model`.
- `make_row(...)` / `make_doc(...)`: complete result rows with neutral figures, for the trust
  flags, the reports and `compare` (mypy checks them like real rows).

Everything here is also usable by a user checking a model or client of their own: it is the
conformance kit a new model must pass (see tests/test_models.py).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.cell_spec import CellSpec
from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
)
from workbench.interpreters import Interpreter
from workbench.metrics import Recording
from workbench.models import model_class
from workbench.models.base import Window
from workbench.results import SCHEMA_VERSION, ResultDoc, Row
from workbench.workloads import Target, WorkloadSettings
from workbench.workloads.base import UserDone

NS = 1_000_000_000


class FakeClock:
    """A monotonic nanosecond clock that moves only when advanced (by a fake op or sleep)."""

    def __init__(self, start_ns: int = 10 * NS) -> None:
        self.ns = start_ns
        self.slept: list[float] = []  # every sleep asked for, in seconds

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += round(seconds * NS)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """The same for an async loop: the clock moves, and the task still yields once."""
        import anyio

        self.sleep(seconds)
        await anyio.lowlevel.checkpoint()


@dataclass
class Script:
    """Outcomes of a user's operations, in order: a float is a success after that many seconds,
    an exception is raised after no time. Past the end, `then` repeats (None: the user is done)."""

    steps: Sequence[float | BaseException] = ()
    then: float | BaseException | None = 0.0
    nbytes: int = 100  # bytes each success reports

    def outcomes(self) -> Iterator[float | BaseException]:
        yield from self.steps
        if self.then is not None:
            yield from itertools.repeat(self.then)


class _Scripted:
    """What both colours of fake user share: the script, the counts, the clock."""

    def __init__(self, script: Script, clock: FakeClock | None = None) -> None:
        self.script = script
        self.clock = clock
        self.outcomes = script.outcomes()
        self.ops = 0
        self.resets = 0
        self.closed = False

    def _next(self) -> float:
        """The next op's latency, with a FakeClock already advanced by it (then 0 is left to
        wait); raises what the script says."""
        self.ops += 1
        outcome = next(self.outcomes, None)
        if outcome is None:
            raise UserDone
        if isinstance(outcome, BaseException):
            raise outcome
        if self.clock is not None:
            self.clock.advance(outcome)
            return 0.0
        return outcome


class ScriptedConnection(_Scripted, BlockingConnection):
    """A blocking user playing a script; with a FakeClock, latencies advance it, not the wall."""

    def __init__(
        self,
        script: Script,
        clock: FakeClock | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        super().__init__(script, clock)
        self.sleep = sleep

    def op(self) -> int:
        wait = self._next()
        if wait:
            self.sleep(wait)
        return self.script.nbytes

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closed = True


class AsyncScriptedConnection(_Scripted, AsyncConnection):
    """An async user playing a script. It waits with anyio's sleep, which runs on every event loop
    the models use (asyncio, uvloop, trio), so one fake serves every async family."""

    async def op(self) -> int:
        import anyio

        # sleep(0) too: every op yields to the loop, as real I/O does.
        await anyio.sleep(self._next())
        return self.script.nbytes

    async def reset(self) -> None:
        self.resets += 1

    async def aclose(self) -> None:
        self.closed = True


FakeUser = ScriptedConnection | AsyncScriptedConnection


def scripted_client(
    family: str, scripts: Iterable[Script] | Script, made: list[FakeUser]
) -> type[BlockingClient] | type[AsyncClient]:
    """A client class for `family` whose i-th user plays the i-th script (one script: all of
    them). Every user it makes is appended to `made`, for the test to look at afterwards."""
    pool = itertools.repeat(scripts) if isinstance(scripts, Script) else iter(scripts)

    if family == "blocking":

        class FakeBlockingClient(BlockingClient):
            def connection(self) -> BlockingConnection:
                conn = ScriptedConnection(next(pool), sleep=self.ctx.sleep)
                made.append(conn)
                return conn

        return FakeBlockingClient

    class FakeAsyncClient(AsyncClient):
        def connection(self) -> AsyncConnection:
            conn = AsyncScriptedConnection(next(pool))
            made.append(conn)
            return conn

    return FakeAsyncClient


def fake_spec(model: str, users: int, timeout: float = 1.0) -> CellSpec:
    """A spec naming a workload nobody connects to (the fake clients never open a socket)."""
    target = Target("http", "127.0.0.1", 9, "/")
    return CellSpec(model, "fake", WorkloadSettings("http", target), users, timeout)


def run_model(
    model: str, users: int, scripts: Iterable[Script] | Script, window: Window
) -> tuple[Recording, list[FakeUser]]:
    """Run a real model in this process, its users playing `scripts`, through `window`.
    Returns the recording and the fake users the model made."""
    m = model_class(model)()
    if not m.runs_users:
        raise ValueError(f"model {model!r} runs its users in other processes")
    made: list[FakeUser] = []
    m.prepare(fake_spec(model, users), scripted_client(m.family, scripts, made))
    try:
        rec = m.run(window)
        m.record_warmth(window, rec)
    finally:
        m.close()
    return rec, made


def make_row(**overrides: Any) -> Row:
    """A complete, unremarkable network row (10,000 ops in 1 s, nothing flagged); `overrides`
    replaces any field."""
    row: Row = {
        "model": "uvloop", "client": "raw", "workload": "http", "work": None, "clients": 100,
        "python": "3.11.7 GIL on",
        "clients_requested": 100, "users_warm": 100, "ramp_s": 0.01, "processes": 1,
        "ops": 10_000, "ops_per_s": 10_000.0, "ops_per_s_ci": [9_900.0, 10_100.0], "errors": 0,
        "error_rate": 0.0,
        "errors_by_kind": {}, "bytes": 1_000_000, "mb_per_s": 1.0,
        "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": 4.0, "max": 5.0, "mean": 1.2},
        "cpu_s": 0.5, "cpu_user_s": 0.4, "cpu_sys_s": 0.1, "cpu_us_per_op": 50.0,
        "server_cpu_s": 0.3, "server_cpu_util": 0.3, "peak_rss_mb": 30.0,
        "ctx_switches": {"voluntary": 10, "involuntary": 1}, "minor_faults_per_op": 0.0,
        "window_s": 1.0, "repeats": {"ops_per_s": [10_000.0], "median": 10_000.0, "spread": None},
        "metadata": {}, "histogram": "", "flags": [],
    }  # fmt: skip
    row.update(overrides)  # type: ignore[typeddict-item]
    return row


def fake_interpreter(version: str = "3.11.7", **fields: Any) -> Interpreter:
    """An interpreter as `interpreters.resolve` would return it, without running one."""
    base: dict[str, Any] = {
        "base": f"/opt/python{version}/bin/python3",
        "executable": f"/opt/python{version}/bin/python3",
        "version": version,
        "implementation": "CPython",
        "free_threaded": False,
        "gil_at_start": True,
    }
    base.update(fields)
    return Interpreter(**base)


def make_doc(*rows: Row, kind: str = "io") -> ResultDoc:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "partial": False,
        "stopped": None,
        "metadata": {},
        "results": list(rows),
    }


def phases(walls: Sequence[float], cores: Sequence[float]) -> list[dict[str, Any]]:
    """GIL-lab phases as `gil.timing.threads_phase` records them: wall seconds, and CPU seconds
    that kept `cores` busy; for judging recorded or synthetic measurements (a free-threaded
    build's, say) without running them."""
    return [
        {"wall_s": w, "cpu_s": w * c, "thread_cpu_s": []} for w, c in zip(walls, cores, strict=True)
    ]
