"""The closed and open loops, the window and the schedule, on a fake clock: exact and instant.

Each loop is run with `workbench.testing`'s scripted users, so the test says what the peer does
(answer after 1 ms, stall 100 ms once, reset) and checks what the loop recorded.
"""

from __future__ import annotations

import random

import pytest

from workbench.metrics import ClientRecorder, Recording
from workbench.models.base import (
    ERROR_BACKOFF_S,
    Schedule,
    Window,
    async_closed_loop,
    blocking_closed_loop,
)
from workbench.testing import NS, AsyncScriptedConnection, FakeClock, Script, ScriptedConnection

MS = NS // 1000


def window_at(clock: FakeClock, start_ms: int, end_ms: int, **kwargs: int) -> Window:
    t = clock()
    return Window.fixed(t + start_ms * MS, t + end_ms * MS, t + end_ms * MS, clock=clock, **kwargs)


def run_blocking(
    script: Script, window: Window, clock: FakeClock
) -> tuple[ClientRecorder, ScriptedConnection]:
    rec = ClientRecorder()
    conn = ScriptedConnection(script, clock)
    blocking_closed_loop(conn, window, rec, clock=clock, sleep=clock.sleep)
    return rec, conn


def test_closed_loop_counts_only_operations_completing_inside_the_window() -> None:
    clock = FakeClock()
    window = window_at(clock, 5, 105)
    rec, conn = run_blocking(Script(then=0.001), window, clock)
    # Ops complete every 1 ms: those at 5, 6, ..., 104 ms fall in [5 ms, 105 ms).
    assert len(rec.latencies) == 100
    assert set(rec.latencies) == {MS}
    assert rec.bytes == 100 * 100
    assert conn.ops == 105  # it started the op at 104 ms, which completed at the end: not counted
    assert conn.closed


def test_errors_are_counted_by_kind_inside_the_window_only() -> None:
    clock = FakeClock()
    window = window_at(clock, 2, 50)
    steps: list[float | BaseException] = [ConnectionResetError(), 0.001, 0.001, 0.001]
    steps += [ConnectionResetError(), TimeoutError(), 0.001]
    rec, conn = run_blocking(Script(steps, then=0.001), window, clock)
    # The first reset came before the window opened: not counted, but still backed off.
    assert rec.errors == {"reset": 1, "timeout": 1}
    assert conn.resets == 3
    assert clock.slept.count(ERROR_BACKOFF_S) == 3


def test_the_count_bound_stops_a_user_whose_clock_never_moves() -> None:
    clock = FakeClock()
    window = window_at(clock, 0, 100, max_ops=7)
    rec, conn = run_blocking(Script(then=0.0), window, clock)
    assert conn.ops == 7
    assert len(rec.latencies) == 7


def test_a_user_that_is_done_stops_at_once() -> None:
    clock = FakeClock()
    window = window_at(clock, 0, 100)
    rec, conn = run_blocking(Script([0.001] * 3, then=None), window, clock)
    assert len(rec.latencies) == 3
    assert conn.ops == 4  # the fourth said UserDone
    assert conn.closed


def test_window_calls_on_warm_once_when_every_user_has_finished_an_operation() -> None:
    clock = FakeClock()
    calls: list[int] = []
    window = Window(3, 1000, clock() + 50 * MS, on_warm=lambda: calls.append(1), clock=clock)
    assert not window.is_open
    for _ in range(3):
        run_blocking(Script([0.001], then=None), window, clock)
    assert calls == [1]
    assert window.warm == 3
    window.open(clock() + 5 * MS, clock() + 10 * MS, clock() + 20 * MS)
    assert window.is_open
    assert window.warm_at_open == 3
    assert not window.started()
    clock.advance(0.005)
    assert window.started()
    assert window.seconds == pytest.approx(0.005)


def test_a_user_is_warm_after_its_first_success_not_its_first_failure() -> None:
    clock = FakeClock()
    window = Window(2, 100, clock() + 50 * MS, clock=clock)
    failing: list[float | BaseException] = [ConnectionRefusedError()] * 3
    run_blocking(Script(failing, then=0.001), window, clock)  # fails 3 times, then succeeds
    assert window.warm == 1
    run_blocking(Script([], then=ConnectionRefusedError()), window, clock)  # never succeeds
    assert window.warm == 1  # the second user stays cold: its row will say not-warm


def test_users_run_before_the_window_opens_without_counting() -> None:
    clock = FakeClock()
    window = Window(1, 50, clock() + 10 * MS, clock=clock)  # not opened: warm-up only
    rec, conn = run_blocking(Script(then=0.001), window, clock)
    assert rec.latencies == ClientRecorder().latencies  # nothing counted
    assert conn.ops == 10  # and the warm-up limit stopped the user
    assert window.warm == 1


def test_schedule_spaces_operations_and_reports_lateness(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(random, "randrange", lambda n: 0)
    schedule = Schedule(10 * MS, clock)
    assert schedule.next() == (clock(), 0.0)
    due, wait = schedule.next()
    assert due - clock() == 10 * MS
    assert wait == pytest.approx(0.01)
    clock.advance(0.035)  # three intervals late
    due, wait = schedule.next()
    assert due == clock() - 15 * MS
    assert wait == 0.0


def _stall_script() -> Script:
    # 1 ms answers, but the 20th stalls for 100 ms.
    return Script([0.001] * 19 + [0.1], then=0.001)


def test_open_loop_records_the_backlog_a_stall_causes() -> None:
    """Coordinated omission, exactly: a closed loop records one slow answer; an open loop at one
    request per 10 ms also records the requests that were due during the stall, each late by what
    it waited (100, 91, 82, ... ms)."""
    clock = FakeClock()
    closed, _ = run_blocking(_stall_script(), window_at(clock, 0, 1000), clock)
    clock = FakeClock()
    opened, _ = run_blocking(_stall_script(), window_at(clock, 0, 1000, interval_ns=10 * MS), clock)
    slow_closed = [v for v in closed.latencies if v >= 50 * MS]
    slow_open = sorted((v for v in opened.latencies if v >= 50 * MS), reverse=True)
    assert slow_closed == [100 * MS]
    assert slow_open[:6] == [100 * MS, 91 * MS, 82 * MS, 73 * MS, 64 * MS, 55 * MS]
    # The schedule, not the answers, sets the rate: about one operation per 10 ms.
    assert 95 <= len(opened.latencies) <= 101


@pytest.mark.anyio
async def test_async_loop_matches_the_blocking_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The async loop is the same loop in the other colour: the same script and window give the
    same record, on every event loop the async models use."""
    monkeypatch.setattr(random, "randrange", lambda n: n // 2)  # the same phase for both
    clock = FakeClock()
    blocking, _ = run_blocking(_stall_script(), window_at(clock, 3, 300, interval_ns=5 * MS), clock)
    clock = FakeClock()
    window = window_at(clock, 3, 300, interval_ns=5 * MS)
    rec = ClientRecorder()
    conn = AsyncScriptedConnection(_stall_script(), clock)
    await async_closed_loop(conn, window, rec, clock.async_sleep, clock=clock)
    assert conn.closed
    assert list(rec.latencies) == list(blocking.latencies)
    assert rec.bytes == blocking.bytes


def test_recording_merges_losslessly() -> None:
    users = [ClientRecorder() for _ in range(3)]
    for i, u in enumerate(users):
        u.latencies.extend([(i + 1) * MS] * 100)
        u.bytes = 10 * (i + 1)
        u.errors["reset"] += i
    whole = Recording.from_clients(users)
    parts = Recording.from_clients(users[:1])
    parts.merge(Recording.from_clients(users[1:]))
    parts.processes = whole.processes
    assert parts.to_dict() == whole.to_dict()
    assert whole.latency_ms()["p50"] == pytest.approx(2.0, rel=0.01)
    assert (whole.ops, whole.bytes, whole.errors) == (300, 60, {"reset": 3})
