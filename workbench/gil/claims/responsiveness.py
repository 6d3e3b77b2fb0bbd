"""Claim 4: an event loop (or a UI thread) needs long work moved off its thread. The lag of a 5 ms
ticker while the work runs in the loop, on a thread, or in a process.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
import time
from collections.abc import Callable
from typing import Any

from workbench.burn import burn, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE
from workbench.gil.timing import mp_context, sha256_work
from workbench.stats import percentile

NUMBER = 4
TEXT = "An event loop or UI thread needs long work moved off its thread"


TICK = 0.005


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


def measure(chunk_s: float = 0.05, chunks: int = 6) -> dict[str, Any]:
    n = calibrate(burn, chunk_s)
    h = max(1, calibrate(sha256_work, chunk_s, start=1))
    span = chunk_s * chunks + 0.1
    pool = cf.ProcessPoolExecutor(1, mp_context=mp_context())
    pool.submit(burn, 10).result()  # started before measuring

    async def in_loop(loop: asyncio.AbstractEventLoop) -> None:
        for _ in range(chunks):
            burn(n)
            await asyncio.sleep(0)

    async def off(loop: asyncio.AbstractEventLoop, fn: Callable[[int], object], arg: int,
                  executor: cf.Executor | None) -> None:  # fmt: skip
        for _ in range(chunks):
            await loop.run_in_executor(executor, fn, arg)

    scenarios: dict[str, Callable[[asyncio.AbstractEventLoop], object]] = {
        "idle": lambda loop: None,
        "in the loop": in_loop,
        "thread, pure Python": lambda loop: off(loop, burn, n, None),
        "thread, hashlib (releases the GIL)": lambda loop: off(loop, sha256_work, h, None),
        "process": lambda loop: off(loop, burn, n, pool),
    }
    loop_lags = {name: _ticks_on_loop(run, span) for name, run in scenarios.items()}
    pool.shutdown()
    ui = {
        "idle": _ui_thread_lags(lambda: time.sleep(span), span),
        "main thread, pure Python": _ui_thread_lags(lambda: burn(n * chunks), span),
        "main thread, hashlib": _ui_thread_lags(lambda: sha256_work(h * chunks), span),
    }
    return {"event_loop_ms": _ms(loop_lags), "ui_thread_ms": _ms(ui), "chunk_s": chunk_s}


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


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    loop = _lag_summary(m["event_loop_ms"])
    ui = _lag_summary(m["ui_thread_ms"])

    def fmt(table: dict[str, tuple[float, float, float]]) -> str:
        return "; ".join(f"{k} {a:.1f}/{b:.1f}/{c:.1f}" for k, (a, b, c) in table.items())

    evidence = (
        f"tick lag p50/p99/max ms, 5 ms event-loop ticker: {fmt(loop)}. "
        f"UI thread ticking every 5 ms: {fmt(ui)}"
    )
    in_loop, off = loop["in the loop"][1], loop["process"][1]
    chunk_ms = m["chunk_s"] * 1000
    if in_loop >= chunk_ms * 0.8 and in_loop >= 5 * max(off, 1.0):
        return (
            HOLDS,
            evidence,
            (
                f"work in the loop delayed its ticks by the work itself (p99 {in_loop:.0f} ms); "
                f"moved to a process, {off:.1f} ms. A pure-Python thread still costs up to about "
                "one switch interval (5 ms) per tick, GIL-releasing C code much less"
            ),
        )
    if in_loop < 5 * max(off, 1.0):
        return FAILS, evidence, "work in the loop did not delay it much more than work elsewhere"
    return UNSURE, evidence, "the in-loop lag was shorter than the work it did"
