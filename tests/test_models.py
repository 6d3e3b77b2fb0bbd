"""Every model that runs its users in-process, driven by scripted fake users: the checks a new
model must pass (trio.testing's idea). Real threads, loops and task groups; no socket, no process.

The processes models hand their users to worker processes, so they are checked with real
processes in tests/test_cells.py and tests/test_reliability.py.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest

from tests.helpers import skip_if_missing
from workbench.models import MODEL_NAMES, model_class
from workbench.models.base import Window
from workbench.testing import Script, run_model

IN_PROCESS = [m for m in MODEL_NAMES if model_class(m).runs_users]
MS = 1_000_000


def window_from_now(start_ms: int, end_ms: int, grace_ms: int = 500) -> Window:
    now = time.monotonic_ns()
    start, end = now + start_ms * MS, now + end_ms * MS
    return Window.fixed(start, end, end + grace_ms * MS, users=1)


def users_for(model: str, wanted: int) -> int:
    return model_class(model)().effective_clients(wanted)


@pytest.fixture(params=IN_PROCESS)
def model(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    skip_if_missing(name, "raw")
    return name


def test_in_process_models_are_all_checked() -> None:
    assert set(IN_PROCESS) >= {"sync", "threads", "asyncio", "uvloop", "trio"}
    assert set(IN_PROCESS) >= {"anyio-asyncio", "anyio-trio"}


def test_counts_every_user_and_operation(model: str) -> None:
    n = users_for(model, 4)
    window = window_from_now(30, 230)
    rec, users = run_model(model, n, Script(then=0.001, nbytes=10), window)
    assert rec.clients == n
    assert window.warm == n  # every user said so after its first operation
    # 1 ms answers in a 200 ms window: about 200 each on a quiet machine. Bounds here are the
    # script's and the window's, far from what a loaded machine does, since a test that needs a
    # quiet machine fails in CI for no fault of the code.
    assert rec.ops > 3 * n
    assert rec.histogram.get_total_count() == rec.ops
    assert rec.bytes == 10 * rec.ops
    assert not rec.errors
    assert len(users) == n
    assert all(conn.closed for conn in users)
    assert rec.latency_ms()["p50"] is not None
    assert 0.9 <= (rec.latency_ms()["p50"] or 0) < 200  # never under the script's 1 ms


def test_counts_errors_by_kind_and_resets_the_user(model: str) -> None:
    n = users_for(model, 3)
    steps: list[float | BaseException] = [0.001, ConnectionResetError(), 0.001, TimeoutError()]
    rec, users = run_model(model, n, Script(steps * 1000), window_from_now(0, 150))
    assert rec.errors["reset"] > 0
    assert rec.errors["timeout"] > 0
    assert rec.ops > 0
    assert all(conn.resets > 0 for conn in users)


def test_users_that_finish_early_end_the_run_early(model: str) -> None:
    n = users_for(model, 5)
    t0 = time.monotonic()
    rec, _ = run_model(model, n, Script([0.001] * 3, then=None), window_from_now(0, 5000))
    assert time.monotonic() - t0 < 2.0  # not the 5 s window
    assert rec.ops == 3 * n


def test_no_operation_starts_after_the_window(model: str) -> None:
    n = users_for(model, 4)
    window = window_from_now(10, 110)
    rec, users = run_model(model, n, Script(then=0.02), window)
    ended = time.monotonic_ns()
    assert ended < window.stop_ns
    # At 20 ms an answer, each user completes at most about 100 / 20 + 1 ops in the window.
    assert rec.ops <= n * 6
    total = sum(conn.ops for conn in users)
    assert total <= n * 7  # warm-up ops included: nothing kept going past the end


def test_a_stuck_user_is_abandoned_at_the_stop(model: str) -> None:
    if model == "sync":
        pytest.skip("sync runs its one user on the calling thread: the worker exits instead")
    n = users_for(model, 3)
    # A window long enough that a busy machine cannot push the two quick operations out of it
    # (a 100 ms one failed once beside the rest of the suite): the stop is at 1.2 s.
    window = window_from_now(0, 1000, grace_ms=200)
    t0 = time.monotonic()
    rec, _ = run_model(model, n, Script([0.001, 0.001, 6.0], then=0.001), window)
    took = time.monotonic() - t0
    assert took < 6.0  # returned before the stuck operation would have ended: it was abandoned
    assert rec.ops >= 2 * n - 2


def test_threads_users_stay_parked_until_the_model_is_closed() -> None:
    """A thread's user that is done parks rather than exits (thousands exiting at once stall
    those still measuring), and goes home only at `close()`, after the figures are gathered; the
    switch interval the model raises to get them home is put back."""
    from workbench.testing import fake_spec, scripted_client

    m = model_class("threads")()
    m.prepare(fake_spec("threads", 5), scripted_client(m.family, Script(then=0.001), []))
    before = {t.ident for t in threading.enumerate()}
    interval = sys.getswitchinterval()
    rec = m.run(window_from_now(10, 110))
    users = [t for t in threading.enumerate() if t.ident not in before]
    assert rec.ops > 0
    assert sys.getswitchinterval() == interval
    assert len(users) == 5
    assert all(t.is_alive() for t in users)
    m.close()
    for t in users:
        t.join(2.0)
    assert not any(t.is_alive() for t in users)


def test_a_threads_user_stuck_past_the_stop_leaves_the_switch_interval_alone() -> None:
    """The switch interval raised to bring users home is the model's only while it gathers: a
    user that comes back after run() returned must not raise it for the rest of the process."""
    interval = sys.getswitchinterval()
    run_model("threads", 2, Script([0.001, 0.6], then=0.001), window_from_now(0, 100, 100))
    time.sleep(0.8)  # the stuck user is back, done, and parked or gone
    assert sys.getswitchinterval() == interval
