"""Verdicts on the GIL claims, computed from the measurements alone (pure functions, no I/O).

A ratio of two repeated timings is judged by its interval over the repeats: from the most
pessimistic pairing (min/max) to the most optimistic (max/min). A claim *holds* when the whole
interval is on its side of the threshold, *does not hold* when the whole interval is on the other
side, and is *inconclusive* when the interval straddles it: noise decides nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

HOLDS, FAILS, UNSURE = "holds", "does not hold", "inconclusive"

CLAIMS = {
    1: "In one interpreter only one thread runs Python bytecode at a time: pure-Python CPU work "
    "gains nothing from threads (processes do gain)",
    2: "Work outside the GIL scales with threads: sleeping, socket and file I/O, hashlib and zlib "
    "on large buffers (and NumPy)",
    3: "Pure-Python multithreading can be slower than doing the work sequentially, depending on "
    "the switch interval",
    4: "An event loop or UI thread needs long work moved off its thread",
    5: "Shared data written by several threads still needs a lock",
    6: "Processes cost more than threads, and sharing data with them is awkward",
}


@dataclass(frozen=True)
class Verdict:
    id: int
    claim: str
    verdict: str
    evidence: str
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Ratio:
    """a/b from repeated timings: median, and the interval over the repeats.

    Timings taken in interleaved rounds pair up (the i-th of each saw the same machine), so the
    interval is that of the paired ratios; otherwise the most pessimistic min/max pairing.
    """

    median: float
    lo: float
    hi: float

    @classmethod
    def of(cls, a: Sequence[float], b: Sequence[float], paired: bool = True) -> Ratio:
        if paired and len(a) == len(b):
            ratios = [x / y for x, y in zip(a, b, strict=True)]
            return cls(statistics.median(ratios), min(ratios), max(ratios))
        return cls(statistics.median(a) / statistics.median(b), min(a) / max(b), max(a) / min(b))

    def above(self, threshold: float) -> bool:
        return self.lo > threshold

    def below(self, threshold: float) -> bool:
        return self.hi < threshold

    def __str__(self) -> str:
        return f"{self.median:.2f}x [{self.lo:.2f}-{self.hi:.2f}]"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no extrapolation past the largest value)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def judge(number: int, m: dict[str, Any]) -> Verdict:
    verdict, evidence, explanation = JUDGES[number](m)
    return Verdict(number, CLAIMS[number], verdict, evidence, explanation)


def _one_at_a_time(m: dict[str, Any]) -> tuple[str, str, str]:
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


def _outside_the_gil(m: dict[str, Any]) -> tuple[str, str, str]:
    parts: list[str] = []
    kinds_hold: list[str] = []
    kinds_fail: list[str] = []
    for kind, r in m["kinds"].items():
        if "skipped" in r:
            parts.append(f"{kind}: skipped ({r['skipped']})")
            continue
        ratio = Ratio.of(r["one_thread_s"], r["two_threads_s"])
        parts.append(f"{kind} {ratio}")
        # Waiting scales on any machine; CPU work only with a second core to run on.
        if kind != "time.sleep" and m["cpus"] < 2:
            continue
        (kinds_hold if ratio.above(1.3) else kinds_fail if ratio.below(1.1) else []).append(kind)
    measured = [k for k, r in m["kinds"].items() if "skipped" not in r]
    evidence = "speed-up of 2 threads over 1: " + "; ".join(parts)
    if kinds_fail:
        return FAILS, evidence, f"did not scale: {', '.join(kinds_fail)}"
    if measured and set(kinds_hold) == set(measured):
        return HOLDS, evidence, "every kind of GIL-releasing work ran on both threads at once"
    return UNSURE, evidence, "some kinds scaled by less than the noise allows to call"


def _slower_than_sequential(m: dict[str, Any]) -> tuple[str, str, str]:
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


def _lag_summary(lags: dict[str, list[float]]) -> dict[str, tuple[float, float, float]]:
    return {k: (percentile(v, 50), percentile(v, 99), max(v, default=0.0)) for k, v in lags.items()}


def _responsiveness(m: dict[str, Any]) -> tuple[str, str, str]:
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


def _needs_a_lock(m: dict[str, Any]) -> tuple[str, str, str]:
    lost = m["lost_updates"]
    scope = Ratio.of(m["wide_lock_s"], m["narrow_lock_s"])
    evidence = (
        f"updates lost of {m['expected']:,} by {len(lost)} patterns: "
        + "; ".join(f"{k}: {v:,}" for k, v in lost.items())
        + f". Narrow lock scope {scope} faster than wide (hashing outside the lock)"
    )
    unlocked = {k: v for k, v in lost.items() if "no lock" in k}
    locked = {k: v for k, v in lost.items() if "with a lock" in k}
    if any(locked.values()):
        return FAILS, evidence, "updates were lost even with a lock: the lock is broken"
    if any(unlocked.values()):
        safe = [k for k, v in unlocked.items() if v == 0]
        note = ""
        if safe:
            note = (
                f" ({'; '.join(safe)} lost none here: this interpreter happens not to switch "
                "threads inside that statement, which no version promises)"
            )
        return HOLDS, evidence, f"without a lock, read-modify-write lost updates{note}"
    return UNSURE, evidence, "no update was lost this time; absence of a race is not proof"


def _process_cost(m: dict[str, Any]) -> tuple[str, str, str]:
    start = Ratio.of(m["pool_start_s"]["processes"], m["pool_start_s"]["threads"], paired=False)
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


JUDGES: dict[int, Callable[[dict[str, Any]], tuple[str, str, str]]] = {
    1: _one_at_a_time,
    2: _outside_the_gil,
    3: _slower_than_sequential,
    4: _responsiveness,
    5: _needs_a_lock,
    6: _process_cost,
}
