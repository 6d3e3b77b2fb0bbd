"""Claim 4: an event loop (or a UI thread) needs long work moved off its thread. The lag of a 5 ms
ticker while the work runs in the loop, on a thread, or in a process.

Judged on the pair declared in advance: the work in the loop against the same work in a process,
each round's worst tick lag, over a fixed number of interleaved rounds (paired: the i-th of each
saw the same machine). It holds when the in-loop lag is at least LAG_FACTOR times the other's
across the whole interval and at least most of one chunk of the work. The thread scenarios and the
UI thread are measured once each and reported: what they show is said from their own numbers.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from workbench.burn import burn, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Interval, Ratio, coverage_note
from workbench.gil.thresholds import CHUNK_SHARE as CHUNK_SHARE
from workbench.gil.thresholds import LAG_FACTOR as LAG_FACTOR
from workbench.gil.timing import ROUNDS, interleaved, mp_context, sha256_work
from workbench.stats import percentile

NUMBER = 4
TEXT = "An event loop or UI thread needs long work moved off its thread"


TICK = 0.005
SWITCH_INTERVAL_MS = 5.0  # CPython's default, which a pure-Python thread may hold the GIL for
# "Holds": in-loop lag over in-process lag above LAG_FACTOR across the whole interval, and the
# in-loop lag at least CHUNK_SHARE of one chunk of the work (see `thresholds`).
JUDGED = ("in the loop", "process")


def _ticks_on_loop(run: Callable[[asyncio.AbstractEventLoop], object], span: float) -> list[float]:
    """Lag of a 5 ms ticker on an asyncio loop while `run(loop)` puts work somewhere."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        lags: list[float] = []

        async def ticker() -> None:
            end = loop.time() + span
            while loop.time() < end:
                due = loop.time() + TICK
                await asyncio.sleep(TICK)
                lags.append(max(0.0, loop.time() - due))

        tick = loop.create_task(ticker())
        await asyncio.sleep(TICK * 2)
        job = loop.create_task(_as_coro(run(loop)))
        await tick
        await job
        return lags

    return asyncio.run(main())


async def _as_coro(value: object) -> None:
    if asyncio.isfuture(value) or asyncio.iscoroutine(value):
        await value


def measure(chunk_s: float = 0.03, chunks: int = 4, rounds: int = ROUNDS) -> dict[str, Any]:
    n = calibrate(burn, chunk_s)
    h = max(1, calibrate(sha256_work, chunk_s, start=1))
    span = chunk_s * chunks + 0.05
    pool = cf.ProcessPoolExecutor(1, mp_context=mp_context())
    pool.submit(burn, 10).result()  # started before measuring

    async def in_loop(loop: asyncio.AbstractEventLoop) -> None:
        for _ in range(chunks):
            burn(n)
            await asyncio.sleep(0)

    async def off(
        loop: asyncio.AbstractEventLoop,
        fn: Callable[[int], object],
        arg: int,
        executor: cf.Executor | None,
    ) -> None:
        for _ in range(chunks):
            await loop.run_in_executor(executor, fn, arg)

    scenarios: dict[str, Callable[[asyncio.AbstractEventLoop], object]] = {
        "idle": lambda loop: None,
        "in the loop": in_loop,
        "thread, pure Python": lambda loop: off(loop, burn, n, None),
        "thread, hashlib (releases the GIL)": lambda loop: off(loop, sha256_work, h, None),
        "process": lambda loop: off(loop, burn, n, pool),
    }

    def worst_ms(run: Callable[[asyncio.AbstractEventLoop], object]) -> float:
        return round(max(_ticks_on_loop(run, span), default=0.0) * 1000, 4)

    try:
        loop_lags = {name: _ticks_on_loop(run, span) for name, run in scenarios.items()}
        # The judged pair, in interleaved rounds: each round's worst lag is one paired sample.
        worst = interleaved({name: partial(worst_ms, scenarios[name]) for name in JUDGED}, rounds)
    finally:
        pool.shutdown()
    ui = {
        "idle": _ui_thread_lags(lambda: time.sleep(span), span),
        "main thread, pure Python": _ui_thread_lags(lambda: burn(n * chunks), span),
        "main thread, hashlib": _ui_thread_lags(lambda: sha256_work(h * chunks), span),
    }
    return {
        "event_loop_ms": _ms(loop_lags),
        "ui_thread_ms": _ms(ui),
        "worst_lag_ms": worst,
        "chunk_s": chunk_s,
    }


def _ui_thread_lags(work: Callable[[], object], span: float) -> list[float]:
    """Lag of a thread that wakes every 5 ms (a UI's frame clock) while the main thread works."""
    lags: list[float] = []
    stop = threading.Event()

    def ui() -> None:
        while not stop.is_set():
            due = time.perf_counter() + TICK
            time.sleep(TICK)
            lags.append(max(0.0, time.perf_counter() - due))

    t = threading.Thread(target=ui)
    t.start()
    time.sleep(TICK * 2)
    work()
    stop.set()
    t.join()
    return lags


def _ms(lags: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: [round(v * 1000, 4) for v in vs] for k, vs in lags.items()}


def _lag_summary(lags: dict[str, list[float]]) -> dict[str, tuple[float, float, float]]:
    return {k: (percentile(v, 50), percentile(v, 99), max(v, default=0.0)) for k, v in lags.items()}


def _thread_note(lag_ms: float, what: str) -> str:
    """What a thread scenario's p99 lag says about the switch interval, from the number itself."""
    if lag_ms <= SWITCH_INTERVAL_MS * 1.2:
        return (
            f"{what} delayed ticks by p99 {lag_ms:.1f} ms, within about one "
            f"{SWITCH_INTERVAL_MS:g} ms switch interval"
        )
    return (
        f"{what} delayed ticks by p99 {lag_ms:.1f} ms, more than one {SWITCH_INTERVAL_MS:g} ms "
        "switch interval"
    )


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    loop = _lag_summary(m["event_loop_ms"])
    ui = _lag_summary(m["ui_thread_ms"])

    def fmt(table: dict[str, tuple[float, float, float]]) -> str:
        return "; ".join(f"{k} {a:.1f}/{b:.1f}/{c:.1f}" for k, (a, b, c) in table.items())

    worst = m["worst_lag_ms"]
    inside, outside = worst[JUDGED[0]], worst[JUDGED[1]]
    # A floor of 0.1 ms under the process's lag: a tick that came exactly on time is 0 ms late.
    factor = Ratio.of_pairs(inside, [max(v, 0.1) for v in outside])
    in_loop, off = Interval.of(inside), Interval.of(outside)
    chunk_ms = m["chunk_s"] * 1000
    evidence = (
        f"{coverage_note(len(inside))}. Worst tick lag per round of a 5 ms event-loop ticker "
        f"while {len(inside)} rounds of {chunk_ms:g} ms chunks of pure Python ran: in the loop "
        f"{in_loop} ms, in a process {off} ms, ratio {factor}. Once each, tick lag p50/p99/max "
        f"ms: {fmt(loop)}. UI thread ticking every 5 ms: {fmt(ui)}"
    )
    threads = "; ".join(
        _thread_note(loop[name][1], f"a {what} thread")
        for name, what in (
            ("thread, pure Python", "pure-Python"),
            ("thread, hashlib (releases the GIL)", "GIL-releasing (hashlib)"),
        )
        if name in loop
    )
    threads = threads[:1].upper() + threads[1:]
    if factor.above(LAG_FACTOR) and in_loop.above(CHUNK_SHARE * chunk_ms):
        return (
            HOLDS,
            evidence,
            (
                f"work in the loop delayed its ticks by a worst {in_loop.median:.0f} ms a round, "
                f"{in_loop.median / chunk_ms:.1f} of its {chunk_ms:g} ms chunks; moved to a "
                f"process, {off.median:.1f} ms. {threads}"
            ),
        )
    if factor.below(LAG_FACTOR):
        return (
            FAILS,
            evidence,
            (
                f"work in the loop delayed it only {factor.median:.1f}x as much as work in a "
                f"process (at most {factor.hi:.1f}x, below {LAG_FACTOR:g}x)"
            ),
        )
    return (
        UNSURE,
        evidence,
        (
            f"in-loop lag {in_loop} ms against {off} ms in a process: the ratio {factor} or the "
            f"lag against the {chunk_ms:g} ms chunk is within the noise of the thresholds"
        ),
    )
