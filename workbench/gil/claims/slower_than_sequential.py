"""Claim 3: pure-Python threads can be slower than sequential work, depending on the switch
interval. Two threads against one, at three switch intervals.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from workbench.burn import burn, calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio
from workbench.gil.timing import cpu_count, in_threads, interleaved

NUMBER = 3
TEXT = (
    "Pure-Python multithreading can be slower than doing the work sequentially, depending on "
    "the switch interval"
)


def measure(seconds: float = 0.2) -> dict[str, Any]:
    n = calibrate(burn, seconds)
    before = sys.getswitchinterval()
    out: dict[str, Any] = {}
    try:
        for interval in (0.005, 0.0005, 0.00005):
            sys.setswitchinterval(interval)
            out[f"{interval * 1000:g}ms"] = interleaved(
                {
                    "sequential_s": partial(in_threads, partial(burn, n), 1),
                    "two_threads_s": partial(in_threads, partial(burn, n // 2), 2),
                },
                repeats=5,
            )
    finally:
        sys.setswitchinterval(before)
    return {"by_switch_interval": out, "cpus": cpu_count()}


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    ratios = {
        k: Ratio.of(v["sequential_s"], v["two_threads_s"])
        for k, v in m["by_switch_interval"].items()
    }
    evidence = "2 threads relative to sequential, by switch interval: " + "; ".join(
        f"{k} {r}" for k, r in ratios.items()
    )
    slower = [k for k, r in ratios.items() if r.below(1.0)]
    if slower:
        worst = min(ratios, key=lambda k: ratios[k].median)
        return (
            HOLDS,
            evidence,
            (
                f"two threads took longer than one did alone at {', '.join(slower)} "
                f"(worst at {worst}: handing the GIL over costs time)"
            ),
        )
    if all(r.above(1.0) for r in ratios.values()):
        return FAILS, evidence, "two threads were faster than sequential at every interval"
    return UNSURE, evidence, "the difference from sequential is within the noise"
