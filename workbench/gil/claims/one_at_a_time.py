"""Claim 1: one thread runs Python bytecode at a time. Pure-Python work on 1, 2 and 4 threads and
on 2 processes, in interleaved rounds; judged by the cores each kept busy (CPU time over wall
time: noise cannot push a serialised run above one core) beside the wall-clock speed-up.

Beside it, the same loop with one large constant that the threads share (`burn_shared`), on 1 and
2 threads: where there is no GIL, threads that keep both cores busy and still do not finish
sooner are told apart by it. Measured on a free-threaded 3.13, the loop with only immortal
constants ran twice as fast on two threads, the shared-constant one slower than on one: the cost
is the reference count of an object every thread touches, not a lock, the allocator or the
interpreter's specialisation (the two loops share all three).

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import concurrent.futures as cf
from functools import partial
from typing import Any

from workbench.burn import burn, burn_shared, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Cores, Ratio, coverage_note
from workbench.gil.thresholds import ONE_CORE as ONE_CORE
from workbench.gil.thresholds import PARALLEL as PARALLEL
from workbench.gil.thresholds import PARALLEL_SPEED as PARALLEL_SPEED
from workbench.gil.timing import (
    ROUNDS,
    Phase,
    cores,
    cpu_count,
    interleaved,
    mp_context,
    processes_phase,
    threads_phase,
    walls,
)

NUMBER = 1
TEXT = (
    "In one interpreter only one thread runs Python bytecode at a time: pure-Python CPU work "
    "gains nothing from threads (processes do gain)"
)
# Below ONE_CORE the threads kept one core busy; above PARALLEL two of them ran at once.


def measure(seconds: float = 0.12, rounds: int = ROUNDS) -> dict[str, Any]:
    n, shared = calibrate(burn, seconds), calibrate(burn_shared, seconds)
    cpus = cpu_count()
    with cf.ProcessPoolExecutor(2, mp_context=mp_context()) as pool:
        list(pool.map(burn, [1000] * 2))  # start the workers before timing
        runs = {str(k): partial(threads_phase, partial(burn, n // k), k) for k in (1, 2, 4)}
        runs["processes"] = partial(processes_phase, pool, burn, [n // 2] * 2)
        for k in (1, 2):
            runs[f"shared {k}"] = partial(threads_phase, partial(burn_shared, shared // k), k)
        samples = interleaved(runs, rounds)
    return _shape(samples, cpus)


def _shape(samples: dict[str, list[Phase]], cpus: int) -> dict[str, Any]:
    return {
        "threads": {k: samples[k] for k in ("1", "2", "4")},
        "processes": {"2": samples["processes"]},
        "shared_constant": {k: samples[f"shared {k}"] for k in ("1", "2")},
        "cpus": cpus,
    }


def _shared(m: dict[str, Any], speed2: Ratio) -> tuple[str, str]:
    """The shared-constant loop's evidence, and what it explains where threads ran at once."""
    got = m.get("shared_constant")
    if not got:
        return "", ""
    ratio = Ratio.of_pairs(walls(got["1"]), walls(got["2"]))
    busy = Cores.of(cores(got["2"]))
    said = f"; the loop with a large constant both threads share: 2 threads {ratio} with {busy}"
    if busy.above(PARALLEL) and speed2.above(PARALLEL_SPEED) and ratio.below(1.0):
        why = (
            f"; the same loop with one large constant both threads share ran {ratio.median:.2f}x "
            "as fast on two: each use updates that object's reference count from both threads, "
            "which costs them their parallelism"
        )
        return said, why
    return said, ""


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    t, p = m["threads"], m["processes"]["2"]
    one = walls(t["1"])
    speed2, speed4 = Ratio.of_pairs(one, walls(t["2"])), Ratio.of_pairs(one, walls(t["4"]))
    busy2, busy4 = Cores.of(cores(t["2"])), Cores.of(cores(t["4"]))
    pspeed, pbusy = Ratio.of_pairs(one, walls(p)), Cores.of(cores(p))
    shared, why = _shared(m, speed2)
    evidence = (
        f"{coverage_note(len(one))}. Over 1 thread: 2 threads {speed2} with {busy2} busy, "
        f"4 threads {speed4} with {busy4}; 2 processes {pspeed} with {pbusy} ({m['cpus']} CPUs)"
        f"{shared}"
    )
    if busy2.above(PARALLEL) and speed2.above(PARALLEL_SPEED):
        return FAILS, evidence, f"threads ran pure Python in parallel: no GIL serialised them{why}"
    # The cores are the decisive measure: threads that kept one core busy did one core's work,
    # so a wall-clock "speed-up" beside it is noise in the one-thread baseline (this VM's steal).
    if busy2.below(ONE_CORE) and busy4.below(ONE_CORE):
        kept = f"2 and 4 threads kept at most {max(busy2.hi, busy4.hi):.2f} cores busy"
        if m["cpus"] < 2:
            return HOLDS, evidence, f"{kept} (one CPU: processes cannot gain)"
        if pbusy.above(PARALLEL):
            return (
                HOLDS,
                evidence,
                f"{kept}, one core's work however many ran; two processes kept "
                f"{pbusy.median:.2f} busy",
            )
        return UNSURE, evidence, f"{kept}, but two processes kept only {pbusy} busy"
    if busy2.above(PARALLEL):
        return UNSURE, evidence, "threads kept two cores busy but did not finish sooner"
    return UNSURE, evidence, "the cores the threads kept busy are within the noise of the limits"
