"""What the GIL claims share: work on k threads (or processes) started together, timed on the
wall and on the CPU, a fixed number of interleaved rounds (the stopping rule: see `judging`), and
the GIL-releasing work more than one claim times. Standard library only.

Two measures per phase, because noise can fake one but not both: the wall time (a speed-up), and
the CPU time the process used over that wall time, i.e. how many cores were busy. Under the GIL,
pure-Python threads keep about one core busy however many there are, whatever else the machine
is doing; another load can only lower the figure, never raise it past one.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from workbench.gil.thresholds import ROUNDS as ROUNDS  # fixed in advance: see thresholds

T = TypeVar("T")

# ROUNDS of every experiment are fixed in advance (not "until decided": stopping at the first
# clear answer picks the lucky ones; a simulation with no effect said "holds" 41-57% of the time
# under the old sample-until-decided rule).
Phase = dict[str, Any]  # {"wall_s": float, "cpu_s": float, "thread_cpu_s": [float, ...]}


def threads_phase(work: Callable[[], object], k: int) -> Phase:
    """k threads each run `work` once, started together: the wall time, the CPU time of the whole
    process meanwhile, and each thread's own CPU time."""
    barrier = threading.Barrier(k + 1)
    own: list[float] = [0.0] * k

    def run(i: int) -> None:
        barrier.wait()
        t = time.thread_time()
        work()
        own[i] = time.thread_time() - t

    threads = [threading.Thread(target=run, args=(i,)) for i in range(k)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "cpu_s": time.process_time() - cpu0, "thread_cpu_s": own}


def in_threads(work: Callable[[], object], k: int) -> float:
    """Wall time for k threads to each run `work` once (started together)."""
    wall: float = threads_phase(work, k)["wall_s"]
    return wall


def _cpu_of(fn: Callable[[int], object], arg: int) -> float:
    t = time.process_time()
    fn(arg)
    return time.process_time() - t


def processes_phase(
    pool: cf.ProcessPoolExecutor, fn: Callable[[int], object], args: Sequence[int]
) -> Phase:
    """One task per argument on a started pool: the wall time, and the CPU time the workers
    spent on them (each measures its own)."""
    t0 = time.perf_counter()
    cpus = list(pool.map(_cpu_of, [fn] * len(args), args))
    return {"wall_s": time.perf_counter() - t0, "cpu_s": sum(cpus), "thread_cpu_s": cpus}


def cores(phases: Sequence[Phase]) -> list[float]:
    """Cores kept busy in each phase: CPU seconds over wall seconds."""
    return [p["cpu_s"] / p["wall_s"] for p in phases if p["wall_s"] > 0]


def walls(phases: Sequence[Phase]) -> list[float]:
    return [p["wall_s"] for p in phases]


def cpus(phases: Sequence[Phase]) -> list[float]:
    return [p["cpu_s"] for p in phases]


def interleaved(runs: Mapping[str, Callable[[], T]], rounds: int = ROUNDS) -> dict[str, list[T]]:
    """Each run once per round, `rounds` rounds after one warm-up round that is thrown away, in an
    order drawn afresh each round: drift of the machine lands on all of them alike, so the i-th
    timings of two runs make a fair pair (asv's lesson), and none always runs right after the
    same neighbour (a run that heats the machine would otherwise always slow the same one)."""
    for run in runs.values():
        run()  # warm-up: first thread starts, first calls, caches
    out: dict[str, list[T]] = {name: [] for name in runs}
    order = list(runs)
    shuffle = random.Random().shuffle  # seeded from the OS: no run is always first or last
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            out[name].append(runs[name]())
    return out


def mp_context() -> Any:
    # fork is fast and needs no importable __main__; fall back where it does not exist.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def cpu_count() -> int:
    """CPUs this process may use (its affinity), which is what threads can spread over."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def sha256_work(units: int) -> None:
    """GIL-releasing work: hashlib lets go of the GIL for buffers of 2 KiB or more."""
    buf = b"\xa5" * (1 << 20)
    for _ in range(units):
        hashlib.sha256(buf).digest()
