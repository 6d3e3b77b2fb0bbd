"""Claim 6: processes cost more than threads, and sharing data with them is awkward. Pool start-up,
the round trip of a task by payload size, and shared memory against pickling.

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

from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio
from workbench.gil.timing import REPEATS, mp_context

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


def measure(sizes: tuple[int, ...] = (1024, 64 * 1024, 1 << 20, 8 << 20)) -> dict[str, Any]:
    ctx = mp_context()
    start: dict[str, list[float]] = {"threads": [], "processes": []}
    for _ in range(REPEATS):
        for kind in start:
            t0 = time.perf_counter()
            executor: cf.Executor
            if kind == "threads":
                executor = cf.ThreadPoolExecutor(2)
            else:
                executor = cf.ProcessPoolExecutor(2, mp_context=ctx)
            executor.submit(_length, b"").result()
            start[kind].append(time.perf_counter() - t0)
            executor.shutdown()
    round_trip: dict[str, dict[str, float]] = {"threads": {}, "processes": {}, "shared_memory": {}}
    with cf.ThreadPoolExecutor(1) as threads, cf.ProcessPoolExecutor(1, mp_context=ctx) as procs:
        procs.submit(_length, b"").result()
        for size in sizes:
            payload = os.urandom(size)
            for kind, ex in (("threads", threads), ("processes", procs)):
                round_trip[kind][str(size)] = _median_call(partial(_submit_and_wait, ex, payload))
            round_trip["shared_memory"][str(size)] = _shm_round_trip(procs, payload)
    return {"pool_start_s": start, "round_trip_s": round_trip}


def _submit_and_wait(executor: cf.Executor, payload: bytes) -> int:
    return executor.submit(_length, payload).result()


def _median_call(fn: Callable[[], object], calls: int = 15) -> float:
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
    start = Ratio.of_pairs(
        m["pool_start_s"]["processes"], m["pool_start_s"]["threads"], paired=False
    )
    rt = m["round_trip_s"]
    sizes = list(rt["threads"])
    per = "; ".join(
        f"{_size(s)}: thread {rt['threads'][s] * 1e6:.0f} µs, "
        f"process {rt['processes'][s] * 1e6:.0f} µs, "
        f"shared memory {rt['shared_memory'][s] * 1e6:.0f} µs"
        for s in sizes
    )
    evidence = f"pool start, processes vs threads {start}; task round trip by payload: {per}"
    dearer = all(rt["processes"][s] > rt["threads"][s] for s in sizes)
    largest = sizes[-1]
    shm_gain = rt["processes"][largest] / rt["shared_memory"][largest]
    if start.above(2.0) and dearer:
        return (
            HOLDS,
            evidence,
            (
                f"processes start slower and every task pays for pickling its data; for "
                f"{_size(largest)} shared memory was {shm_gain:.0f}x cheaper than pickling it"
            ),
        )
    if start.below(1.0) and not dearer:
        return FAILS, evidence, "processes were no dearer than threads"
    return UNSURE, evidence, "the costs overlap within the noise"


def _size(text: str) -> str:
    n = int(text)
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"
