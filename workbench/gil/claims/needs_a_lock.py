"""Claim 5: shared data written by several threads still needs a lock. Updates lost by
read-modify-write with and without a lock, and the cost of a wide lock against a narrow one.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from functools import partial
from typing import Any

from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio
from workbench.gil.timing import cpu_count, in_threads, interleaved

NUMBER = 5
TEXT = "Shared data written by several threads still needs a lock"


def measure(iterations: int = 200_000, threads: int = 4) -> dict[str, Any]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch as often as the interpreter allows: races show sooner
    try:
        lost = _lost_updates(iterations, threads)
    finally:
        sys.setswitchinterval(before)
    return {"lost_updates": lost, "expected": iterations * threads, **_lock_scope()}


def _lost_updates(n: int, k: int) -> dict[str, int]:
    class Box:
        value = 0

    box = Box()
    counts: dict[str, int] = {"k": 0}
    lock = threading.Lock()

    def attr() -> None:
        for _ in range(n):
            box.value += 1

    def dict_rmw() -> None:
        for _ in range(n):
            counts["k"] = counts.get("k", 0) + 1

    def dict_rmw_locked() -> None:
        for _ in range(n):
            with lock:
                counts["k"] = counts.get("k", 0) + 1

    out = {}
    for name, fn, field in (
        ("obj.value += 1, no lock", attr, "box"),
        ("d[k] = d.get(k, 0) + 1, no lock", dict_rmw, "dict"),
        ("d[k] = d.get(k, 0) + 1, with a lock", dict_rmw_locked, "dict"),
    ):
        box.value = 0
        counts["k"] = 0
        in_threads(fn, k)
        out[name] = n * k - (box.value if field == "box" else counts["k"])
    return out


def _lock_scope(tasks: int = 40, threads: int = 2) -> dict[str, Any]:
    """Wide lock (around the hashing and the update) against narrow (around the update only)."""
    buf = b"\x11" * (256 * 1024)
    lock = threading.Lock()
    results: list[bytes] = []

    def wide() -> None:
        for _ in range(tasks // threads):
            with lock:
                results.append(hashlib.sha256(buf).digest())

    def narrow() -> None:
        for _ in range(tasks // threads):
            digest = hashlib.sha256(buf).digest()
            with lock:
                results.append(digest)

    runs = {"wide_lock_s": partial(in_threads, wide, threads)}
    runs["narrow_lock_s"] = partial(in_threads, narrow, threads)
    return {**interleaved(runs), "cpus": cpu_count()}


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
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
