"""Claim 5: shared data written by several threads still needs a lock. Updates lost by
read-modify-write with and without a lock; readers with no lock beside writers with one (a
snapshot replaced whole reads consistently, two fields set in turn do not); and the cost of a wide
lock against a narrow one.

A lost update is an observation, not an estimate: it cannot happen without a race, so "holds"
from a count above zero has no false-positive rate (no effect, no lost update, no "holds"). A
count of zero proves nothing either way, and the explanation says which was seen.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from functools import partial
from typing import Any

from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio, coverage_note
from workbench.gil.timing import cpu_count, in_threads, interleaved

NUMBER = 5
TEXT = "Shared data written by several threads still needs a lock"


def measure(iterations: int = 200_000, threads: int = 4) -> dict[str, Any]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch as often as the interpreter allows: races show sooner
    try:
        lost = _lost_updates(iterations, threads)
        readers = _readers_beside_writers(iterations // 2)
    finally:
        sys.setswitchinterval(before)
    return {
        "lost_updates": lost,
        "expected": iterations * threads,
        "readers": readers,
        **_lock_scope(),
    }


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


def _readers_beside_writers(n: int, writers: int = 2, readers: int = 2) -> dict[str, int]:
    """Writers update shared state under their lock; readers read it with no lock at all. One
    state is an immutable tuple the writers replace whole (readers only ever see a finished one);
    the other is two attributes the writers set one after the other (a reader can see a pair
    that was never written together). Counts the reads, and the inconsistent ones of each."""

    class Shared:
        snapshot = (0, 0)  # invariant: second == 2 * first
        a = 0
        b = 0  # invariant: b == 2 * a

    shared = Shared()
    lock = threading.Lock()
    done = threading.Event()
    counts = {"reads": 0, "snapshot_inconsistent": 0, "two_fields_inconsistent": 0}

    def write() -> None:
        for i in range(n):
            with lock:
                shared.snapshot = (i, 2 * i)
                shared.a = i
                shared.b = 2 * i

    def read() -> None:
        reads = torn_snapshot = torn_fields = 0
        while not done.is_set():
            first, second = shared.snapshot
            torn_snapshot += second != 2 * first
            a = shared.a
            b = shared.b
            torn_fields += b != 2 * a
            reads += 1
        with lock:
            counts["reads"] += reads
            counts["snapshot_inconsistent"] += torn_snapshot
            counts["two_fields_inconsistent"] += torn_fields

    reading = [threading.Thread(target=read) for _ in range(readers)]
    for t in reading:
        t.start()
    in_threads(write, writers)
    done.set()
    for t in reading:
        t.join()
    return counts


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
    scope = Ratio.of_pairs(m["wide_lock_s"], m["narrow_lock_s"])
    evidence = (
        f"updates lost of {m['expected']:,} by {len(lost)} patterns: "
        + "; ".join(f"{k}: {v:,}" for k, v in lost.items())
        + f". Lock scope ({coverage_note(len(m['wide_lock_s']))}): the narrow lock (hashing "
        f"outside it) ran at {scope} the speed of the wide one"
    )
    readers = m.get("readers")
    if readers is not None:
        evidence += (
            f". Readers with no lock beside writers with one: {readers['reads']:,} reads, "
            f"{readers['snapshot_inconsistent']:,} inconsistent of a snapshot replaced whole, "
            f"{readers['two_fields_inconsistent']:,} of two fields set one after the other"
        )
        if readers["snapshot_inconsistent"]:
            return FAILS, evidence, "a reader saw a half-written snapshot: assignment was torn"
    unlocked = {k: v for k, v in lost.items() if "no lock" in k}
    locked = {k: v for k, v in lost.items() if "with a lock" in k}
    if any(locked.values()):
        return FAILS, evidence, "updates were lost even with a lock: the lock is broken"
    if any(unlocked.values()):
        safe = [k for k, v in unlocked.items() if v == 0]
        note = ""
        if safe:
            note = (
                f" ({'; '.join(safe)} lost none in this run, which no version promises: "
                "absence in one run is no proof)"
            )
        if readers is not None:
            note += "; " + _readers_note(readers)
        if scope.above(1.0):
            note += f"; a lock held only around the update was {scope.median:.2f}x faster"
        return HOLDS, evidence, f"without a lock, read-modify-write lost updates{note}"
    return UNSURE, evidence, "no update was lost this time; absence of a race is not proof"


def _readers_note(readers: dict[str, int]) -> str:
    """What the lock-free readers saw, said from their counts (both kinds can happen)."""
    torn = readers["two_fields_inconsistent"]
    whole = "readers with no lock never saw a half-written snapshot replaced whole"
    if torn:
        return (
            f"{whole}, while {torn:,} of {readers['reads']:,} reads of two fields set one after "
            "the other saw them half-updated"
        )
    return (
        f"{whole}, and none of {readers['reads']:,} reads of two fields set one after the other "
        "caught them half-updated this time: no proof that it cannot happen"
    )
