"""Claim 6: processes cost more than threads, and sharing data with them is awkward. Pool start-up,
the round trip of a task by payload size, and shared memory against pickling.

Every figure is measured in a fixed number of interleaved rounds after a warm-up round (each
round: a thread pool and a process pool started, then one task of every size through threads, a
process and shared memory), so each is a median with an interval, and the ratios pair round by
round.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio, coverage_note
from workbench.gil.thresholds import PROCESS_START
from workbench.gil.timing import ROUNDS, interleaved, mp_context

NUMBER = 6
TEXT = "Processes cost more than threads, and sharing data with them is awkward"


def _length(data: bytes) -> int:
    return len(data)


def _shm_length(name: str, size: int) -> int:
    from multiprocessing import resource_tracker, shared_memory

    try:
        shm = shared_memory.SharedMemory(name=name, track=False)  # type: ignore[call-arg, unused-ignore]
    except TypeError:  # before 3.13, attaching registers it for removal by this process: undo that
        shm = shared_memory.SharedMemory(name=name)
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    try:
        view = shm.buf
        return 0 if view is None else int(view[:size].nbytes)
    finally:
        shm.close()


def measure(
    sizes: tuple[int, ...] = (1024, 64 * 1024, 1 << 20, 8 << 20), rounds: int = ROUNDS
) -> dict[str, Any]:
    ctx = mp_context()
    kinds = ("threads", "processes", "shared_memory")
    payloads = {size: os.urandom(size) for size in sizes}
    with cf.ThreadPoolExecutor(1) as threads, cf.ProcessPoolExecutor(1, mp_context=ctx) as procs:
        procs.submit(_length, b"").result()
        runs: dict[str, Callable[[], float]] = {
            "start threads": partial(_pool_start, "threads", ctx),
            "start processes": partial(_pool_start, "processes", ctx),
        }
        for size, payload in payloads.items():
            for kind, ex in (("threads", threads), ("processes", procs)):
                runs[f"{kind} {size}"] = partial(
                    _median_call, partial(_submit_and_wait, ex, payload)
                )
            runs[f"shared_memory {size}"] = partial(_shm_round_trip, procs, payload)
        samples = interleaved(runs, rounds)
    start = {kind: samples[f"start {kind}"] for kind in ("threads", "processes")}
    round_trip = {k: {str(s): samples[f"{k} {s}"] for s in sizes} for k in kinds}
    return {"pool_start_s": start, "round_trip_s": round_trip}


def _pool_start(kind: str, ctx: Any) -> float:
    """Seconds to start a pool of 2 and have it answer one task."""
    t0 = time.perf_counter()
    executor: cf.Executor
    if kind == "threads":
        executor = cf.ThreadPoolExecutor(2)
    else:
        executor = cf.ProcessPoolExecutor(2, mp_context=ctx)
    executor.submit(_length, b"").result()
    took = time.perf_counter() - t0
    executor.shutdown()
    return took


def _submit_and_wait(executor: cf.Executor, payload: bytes) -> int:
    return executor.submit(_length, payload).result()


def _median_call(fn: Callable[[], object], calls: int = 5) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _shm_round_trip(procs: cf.ProcessPoolExecutor, payload: bytes) -> float:
    """Copy the payload into shared memory and have the process read it there, by name."""
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=len(payload))
    try:
        view = shm.buf
        assert view is not None

        def call() -> None:
            view[: len(payload)] = payload
            procs.submit(_shm_length, shm.name, len(payload)).result()

        return _median_call(call)
    finally:
        shm.close()
        shm.unlink()


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    starts = m["pool_start_s"]
    start = Ratio.of_pairs(starts["processes"], starts["threads"])
    rt = m["round_trip_s"]
    sizes = list(rt["threads"])
    dearer = {s: Ratio.of_pairs(rt["processes"][s], rt["threads"][s]) for s in sizes}
    per = "; ".join(
        f"{_size(s)}: thread {_us(rt['threads'][s])} µs, process {_us(rt['processes'][s])} µs "
        f"({dearer[s]} a thread's), shared memory {_us(rt['shared_memory'][s])} µs"
        for s in sizes
    )
    evidence = (
        f"{coverage_note(len(starts['threads']))}. Pool start, processes over threads {start}; "
        f"task round trip by payload (medians): {per}"
    )
    largest = sizes[-1]
    shm = Ratio.of_pairs(rt["processes"][largest], rt["shared_memory"][largest])
    if shm.above(1.0):
        sharing = (
            f"for {_size(largest)} shared memory was {shm.median:.1f}x cheaper than pickling it"
        )
    elif shm.below(1.0):
        sharing = (
            f"for {_size(largest)} shared memory, copied in each time, was no cheaper than "
            f"pickling ({shm.median:.2f}x)"
        )
    else:
        sharing = f"for {_size(largest)} shared memory and pickling cost about the same ({shm})"
    if start.above(PROCESS_START) and all(d.above(1.0) for d in dearer.values()):
        return (
            HOLDS,
            evidence,
            (
                f"processes took {start.median:.0f}x as long as threads to start and every task "
                f"paid for pickling its data ({min(d.median for d in dearer.values()):.1f}x to "
                f"{max(d.median for d in dearer.values()):.1f}x a thread's round trip); {sharing}"
            ),
        )
    if start.below(1.0) and all(d.below(1.0) for d in dearer.values()):
        return FAILS, evidence, "processes started and answered faster than threads"
    return (
        UNSURE,
        evidence,
        (
            f"pool start {start} and round trips {', '.join(str(d) for d in dearer.values())} do "
            "not all clear their thresholds (2x to start, 1x a task)"
        ),
    )


def _us(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e6:.0f}"


def _size(text: str) -> str:
    n = int(text)
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"
