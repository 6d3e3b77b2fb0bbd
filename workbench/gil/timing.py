"""What the GIL claims share: work on k threads started together, interleaved rounds so that drift
of the machine lands on every variant alike, and the GIL-releasing work more than one claim times.
Standard library only."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

REPEATS = 3


def in_threads(work: Callable[[], object], k: int) -> float:
    """Wall time for k threads to each run `work` once (started together)."""
    barrier = threading.Barrier(k + 1)

    def run() -> None:
        barrier.wait()
        work()

    threads = [threading.Thread(target=run) for _ in range(k)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def interleaved(
    runs: Mapping[str, Callable[[], float]], repeats: int = REPEATS
) -> dict[str, list[float]]:
    """Each run once per round, rounds repeated: drift of the machine lands on all of them alike,
    so the i-th timings of two runs make a fair pair (asv's lesson)."""
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            out[name].append(run())
    return out


def mp_context() -> Any:
    # fork is fast and needs no importable __main__; fall back where it does not exist.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def sha256_work(units: int) -> None:
    """GIL-releasing work: hashlib lets go of the GIL for buffers of 2 KiB or more."""
    buf = b"\xa5" * (1 << 20)
    for _ in range(units):
        hashlib.sha256(buf).digest()
