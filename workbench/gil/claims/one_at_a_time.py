"""Claim 1: one thread runs Python bytecode at a time. Pure-Python work timed on 1, 2 and 4 threads
and on 2 processes; judged by the threads' speed-up beside the processes'.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from functools import partial
from typing import Any

from workbench.burn import burn, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio
from workbench.gil.timing import REPEATS, cpu_count, in_threads, interleaved, mp_context

NUMBER = 1
TEXT = (
    "In one interpreter only one thread runs Python bytecode at a time: pure-Python CPU work "
    "gains nothing from threads (processes do gain)"
)


def measure(seconds: float = 0.2) -> dict[str, Any]:
    n = calibrate(burn, seconds)
    threads = interleaved(
        {str(k): partial(in_threads, partial(burn, n // k), k) for k in (1, 2, 4)}
    )
    procs: dict[str, list[float]] = {}
    for k in (2, 4):
        with cf.ProcessPoolExecutor(k, mp_context=mp_context()) as pool:
            list(pool.map(burn, [1000] * k))  # start the workers before timing
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                list(pool.map(burn, [n // k] * k))
                times.append(time.perf_counter() - t0)
        procs[str(k)] = times
    return {"threads_s": threads, "processes_s": procs, "cpus": cpu_count()}


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    t, p = m["threads_s"], m["processes_s"]
    threads2, threads4 = Ratio.of(t["1"], t["2"]), Ratio.of(t["1"], t["4"])
    procs2 = Ratio.of(t["1"], p["2"], paired=False)  # measured in a separate block
    evidence = (
        f"speed-up over 1 thread: 2 threads {threads2}, 4 threads {threads4}; "
        f"2 processes {procs2} ({m['cpus']} CPUs)"
    )
    if threads2.above(1.3):
        return FAILS, evidence, "threads ran pure Python in parallel: no GIL serialised them"
    if threads2.below(1.15) and threads4.below(1.15):
        if m["cpus"] < 2:
            return HOLDS, evidence, "threads gained nothing (one CPU: processes cannot gain either)"
        if procs2.above(1.15):
            return HOLDS, evidence, "threads gained nothing while processes used the other core"
        return UNSURE, evidence, "threads gained nothing, but neither did processes"
    return UNSURE, evidence, "the threads' speed-up is within the noise of 1.15x"
