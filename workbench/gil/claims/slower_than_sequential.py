"""Claim 3: pure-Python threads can be slower than sequential work, depending on the switch
interval. The same work on one thread and split over two, at several switch intervals, in
interleaved rounds (every interval in every round) until the verdict is clear; the cores the two
threads kept busy show whether a GIL serialised them at all.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from workbench.burn import burn, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Cores, Ratio
from workbench.gil.timing import Phase, adaptive, cores, cpu_count, cpus, threads_phase, walls

NUMBER = 3
TEXT = (
    "Pure-Python multithreading can be slower than doing the work sequentially, depending on "
    "the switch interval"
)
# From CPython's default down to 5 µs, where the hand-over of the GIL dominates.
INTERVALS_S = (0.005, 0.0005, 0.00005, 0.000005)
BUDGET_S = 12.0
PARALLEL = 1.5


def _at_interval(interval: float, run: Callable[[], Phase]) -> Phase:
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        return run()
    finally:
        sys.setswitchinterval(before)


def measure(seconds: float = 0.15, budget_s: float = BUDGET_S) -> dict[str, Any]:
    n = calibrate(burn, seconds)
    runs: dict[str, Callable[[], Phase]] = {}
    for interval in INTERVALS_S:
        label = f"{interval * 1000:g}ms"
        one = partial(threads_phase, partial(burn, n), 1)
        two = partial(threads_phase, partial(burn, n // 2), 2)
        runs[f"{label} sequential"] = partial(_at_interval, interval, one)
        runs[f"{label} two threads"] = partial(_at_interval, interval, two)
    cpus = cpu_count()
    samples = adaptive(runs, lambda s: judge(_shape(s, cpus))[0] != UNSURE, budget_s)
    return _shape(samples, cpus)


def _shape(samples: dict[str, list[Phase]], cpus: int) -> dict[str, Any]:
    by: dict[str, dict[str, list[Phase]]] = {}
    for name, phases in samples.items():
        label, _, kind = name.partition(" ")
        by.setdefault(label, {})["sequential" if kind == "sequential" else "two_threads"] = phases
    return {"by_switch_interval": by, "cpus": cpus}


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    ratios = {
        k: Ratio.of_pairs(walls(v["sequential"]), walls(v["two_threads"]))
        for k, v in m["by_switch_interval"].items()
    }
    busy = {k: Cores.of(cores(v["two_threads"])) for k, v in m["by_switch_interval"].items()}
    # CPU spent on the same work, two threads over one: the hand-over's own cost.
    cpu = {
        k: Ratio.of_pairs(cpus(v["two_threads"]), cpus(v["sequential"]))
        for k, v in m["by_switch_interval"].items()
    }
    evidence = "2 threads' speed relative to sequential, by switch interval: " + "; ".join(
        f"{k} {r} with {busy[k]} busy, {cpu[k]} the CPU time" for k, r in ratios.items()
    )
    if any(b.above(PARALLEL) for b in busy.values()):
        return FAILS, evidence, "two threads ran at once (no GIL): parallel, not slower"
    slower = [k for k, r in ratios.items() if r.below(1.0)]
    if slower:
        worst = min(ratios, key=lambda k: ratios[k].median)
        return (
            HOLDS,
            evidence,
            f"two threads took longer than one did alone at {', '.join(slower)} "
            f"(worst at {worst}: handing the GIL over costs time)",
        )
    if all(r.above(1.0) for r in ratios.values()):
        return FAILS, evidence, "two threads were faster than sequential at every interval"
    return UNSURE, evidence, "the difference from sequential is within the noise"
