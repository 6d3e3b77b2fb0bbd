"""Claim 3: pure-Python threads can be slower than sequential work, depending on the switch
interval. The same work on one thread and split over two, at several switch intervals, in a fixed
number of interleaved rounds (every interval in every round); the cores the two threads kept busy
show whether a GIL serialised them at all.

The verdict is read at one switch interval declared here in advance (JUDGED_AT), never at
whichever looked best afterwards: picking the best of four raises the chance of a false "holds"
up to fourfold. The others are reported beside it, which is what "depending on the switch
interval" asks to see.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from workbench.burn import burn, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Cores, Ratio, coverage_note
from workbench.gil.thresholds import SEQUENTIAL_PARALLEL as PARALLEL
from workbench.gil.timing import (
    ROUNDS,
    Phase,
    cores,
    cpu_count,
    cpus,
    interleaved,
    threads_phase,
    walls,
)

NUMBER = 3
TEXT = (
    "Pure-Python multithreading can be slower than doing the work sequentially, depending on "
    "the switch interval"
)
# From CPython's default down to 5 µs, where the hand-over of the GIL dominates.
INTERVALS_S = (0.005, 0.0005, 0.00005, 0.000005)
JUDGED_AT = "0.005ms"  # 5 µs: where the hand-over of the GIL costs most, so the effect is largest


def _at_interval(interval: float, run: Callable[[], Phase]) -> Phase:
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        return run()
    finally:
        sys.setswitchinterval(before)


def measure(seconds: float = 0.08, rounds: int = ROUNDS) -> dict[str, Any]:
    n = calibrate(burn, seconds)
    runs: dict[str, Callable[[], Phase]] = {}
    for interval in INTERVALS_S:
        label = f"{interval * 1000:g}ms"
        one = partial(threads_phase, partial(burn, n), 1)
        two = partial(threads_phase, partial(burn, n // 2), 2)
        runs[f"{label} sequential"] = partial(_at_interval, interval, one)
        runs[f"{label} two threads"] = partial(_at_interval, interval, two)
    cpus = cpu_count()
    samples = interleaved(runs, rounds)
    return _shape(samples, cpus)


def _shape(samples: dict[str, list[Phase]], cpus: int) -> dict[str, Any]:
    by: dict[str, dict[str, list[Phase]]] = {}
    for name, phases in samples.items():
        label, _, kind = name.partition(" ")
        by.setdefault(label, {})["sequential" if kind == "sequential" else "two_threads"] = phases
    return {"by_switch_interval": by, "cpus": cpus}


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    by = m["by_switch_interval"]
    ratios = {
        k: Ratio.of_pairs(walls(v["sequential"]), walls(v["two_threads"])) for k, v in by.items()
    }
    busy = {k: Cores.of(cores(v["two_threads"])) for k, v in by.items()}
    # CPU spent on the same work, two threads over one: the hand-over's own cost.
    cpu = {k: Ratio.of_pairs(cpus(v["two_threads"]), cpus(v["sequential"])) for k, v in by.items()}
    rounds = len(by[JUDGED_AT]["sequential"])
    evidence = (
        f"{coverage_note(rounds)}. 2 threads' speed relative to sequential, by switch interval "
        f"(judged at {JUDGED_AT}): "
        + "; ".join(
            f"{k} {r} with {busy[k]} busy, {cpu[k]} the CPU time" for k, r in ratios.items()
        )
    )
    at, cores_at = ratios[JUDGED_AT], busy[JUDGED_AT]
    others = [k for k in ratios if k != JUDGED_AT]
    if cores_at.above(PARALLEL):
        return (
            FAILS,
            evidence,
            (
                f"at {JUDGED_AT} two threads kept {cores_at.median:.2f} cores busy: they ran at "
                "once (no GIL), so they are parallel, not slower"
            ),
        )
    also = [k for k in others if ratios[k].below(1.0)]
    not_at = [k for k in others if not ratios[k].below(1.0)]
    if at.below(1.0):
        where = f"; also slower at {', '.join(also)}" if also else ""
        unlike = f", not at {', '.join(not_at)}" if not_at else ""
        # What the CPU shows, and only if it shows it: the same work cost more CPU on two.
        more = ": the same work took more CPU on two threads" if cpu[JUDGED_AT].above(1.0) else ""
        return (
            HOLDS,
            evidence,
            (
                f"at a {JUDGED_AT} switch interval two threads ran at {at.median:.2f}x the speed "
                f"of one (at most {at.hi:.2f}x), spending {cpu[JUDGED_AT].median:.2f}x its CPU "
                f"time{more}{where}{unlike}"
            ),
        )
    if at.above(1.0):
        return (
            FAILS,
            evidence,
            (f"at {JUDGED_AT} two threads were faster than one ({at}), not slower"),
        )
    return (
        UNSURE,
        evidence,
        (f"at {JUDGED_AT} two threads ran at {at} the speed of one: within the noise of 1"),
    )
