"""The GIL lab's measurements: one function per claim, each returning plain numbers.

Standard library only, and no import of the rest of the workbench: `probe.py` runs these in a fresh
process under whatever interpreter is being examined (a free-threaded 3.13t, say), where the
workbench's dependencies need not be installed. Judging the numbers happens in the parent
(`verdicts.py`). Every timing is repeated, so the verdicts can take the spread into account.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

REPEATS = 3


def burn(n: int) -> int:
    """Pure-Python work that holds the GIL for its whole duration. Every step costs the same
    (small integers only), so the time is linear in n and `calibrate` can scale it."""
    x = 0
    for i in range(n):
        x = (x * 31 + i) & 0xFFFF
    return x


def calibrate(fn: Callable[[int], object], seconds: float, start: int = 1000) -> int:
    """The n for which fn(n) takes about `seconds` here."""
    n = start
    while True:
        t0 = time.perf_counter()
        fn(n)
        if time.perf_counter() - t0 >= 0.02:
            break
        n *= 4
    # Time the final size again and take the fastest: the first runs pay for warming caches and
    # the interpreter's specialisation, which the measured work will not.
    took = min(_timed(fn, n) for _ in range(3))
    return max(1, int(n * seconds / took))


def _timed(fn: Callable[[int], object], n: int) -> float:
    t0 = time.perf_counter()
    fn(n)
    return time.perf_counter() - t0


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


def _mp_context() -> Any:
    # fork is fast and needs no importable __main__; fall back where it does not exist.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# 1. One thread runs bytecode at a time.


def one_at_a_time(seconds: float = 0.2) -> dict[str, Any]:
    n = calibrate(burn, seconds)
    threads = interleaved(
        {str(k): partial(in_threads, partial(burn, n // k), k) for k in (1, 2, 4)}
    )
    procs: dict[str, list[float]] = {}
    for k in (2, 4):
        with cf.ProcessPoolExecutor(k, mp_context=_mp_context()) as pool:
            list(pool.map(burn, [1000] * k))  # start the workers before timing
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                list(pool.map(burn, [n // k] * k))
                times.append(time.perf_counter() - t0)
        procs[str(k)] = times
    return {"threads_s": threads, "processes_s": procs, "cpus": cpu_count()}


# 2. Work outside the GIL scales with threads.


def _hash_work(units: int) -> None:
    buf = b"\xa5" * (1 << 20)
    for _ in range(units):
        hashlib.sha256(buf).digest()


def _zlib_work(units: int) -> None:
    buf = (b"workbench " * 26_000)[: 256 * 1024]
    for _ in range(units):
        zlib.compress(buf, 6)


def _sleep_work(units: int) -> None:
    for _ in range(units):
        time.sleep(0.005)


def _file_work(path: str) -> Callable[[int], None]:
    def work(units: int) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            for _ in range(units):
                os.pread(fd, 1 << 20, 0)
        finally:
            os.close(fd)

    return work


def _socket_work(units: int) -> None:
    a, b = socket.socketpair()
    chunk = b"\x5a" * (64 * 1024)  # fits the socket buffer: one thread sends, then receives
    try:
        for _ in range(units):
            a.sendall(chunk)
            got = 0
            while got < len(chunk):
                got += len(b.recv(len(chunk)))
    finally:
        a.close()
        b.close()


def _numpy_work() -> Callable[[int], None] | None:
    # One BLAS thread: OpenBLAS spreads a single matmul over every core by itself, and two Python
    # threads then only fight over the same cores (0.86x measured here). The claim is about what
    # Python threads add. Read when numpy loads, which is now: this is a fresh process.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import numpy as np  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    m = np.random.default_rng(0).random((300, 300))

    def work(units: int) -> None:
        for _ in range(units):
            m @ m

    return work


def outside_the_gil(seconds: float = 0.15) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(os.urandom(1 << 20))
        path = f.name
    kinds: dict[str, Callable[[int], object] | None] = {
        "time.sleep": _sleep_work,
        "hashlib.sha256": _hash_work,
        "zlib.compress": _zlib_work,
        "file read": _file_work(path),
        "socket I/O": _socket_work,
        "numpy matmul, 1 BLAS thread": _numpy_work(),
    }
    out: dict[str, Any] = {}
    try:
        for name, work in kinds.items():
            if work is None:
                out[name] = {"skipped": "numpy is not installed"}
                continue
            units = max(2, calibrate(work, seconds, start=1))
            units -= units % 2
            pair = interleaved({
                "one_thread_s": partial(in_threads, partial(work, units), 1),
                "two_threads_s": partial(in_threads, partial(work, units // 2), 2),
            })  # fmt: skip
            out[name] = {**pair, "units": units}
    finally:
        os.unlink(path)
    return {"kinds": out, "cpus": cpu_count()}


# 3. Pure-Python threads can be slower than sequential, depending on the switch interval.


def slower_than_sequential(seconds: float = 0.2) -> dict[str, Any]:
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


# 4. An event loop (or a UI thread) needs long work moved off its thread.

TICK = 0.005


def _ticks_on_loop(run: Callable[[asyncio.AbstractEventLoop], object], span: float) -> list[float]:
    """Lag of a 5 ms ticker on an asyncio loop while `run(loop)` puts work somewhere."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        lags: list[float] = []

        async def ticker() -> None:
            end = loop.time() + span
            while loop.time() < end:
                due = loop.time() + TICK
                await asyncio.sleep(TICK)
                lags.append(max(0.0, loop.time() - due))

        tick = loop.create_task(ticker())
        await asyncio.sleep(TICK * 2)
        job = loop.create_task(_as_coro(run(loop)))
        await tick
        await job
        return lags

    return asyncio.run(main())


async def _as_coro(value: object) -> None:
    if asyncio.isfuture(value) or asyncio.iscoroutine(value):
        await value


def responsiveness(chunk_s: float = 0.05, chunks: int = 6) -> dict[str, Any]:
    n = calibrate(burn, chunk_s)
    h = max(1, calibrate(_hash_work, chunk_s, start=1))
    span = chunk_s * chunks + 0.1
    pool = cf.ProcessPoolExecutor(1, mp_context=_mp_context())
    pool.submit(burn, 10).result()  # started before measuring

    async def in_loop(loop: asyncio.AbstractEventLoop) -> None:
        for _ in range(chunks):
            burn(n)
            await asyncio.sleep(0)

    async def off(loop: asyncio.AbstractEventLoop, fn: Callable[[int], object], arg: int,
                  executor: cf.Executor | None) -> None:  # fmt: skip
        for _ in range(chunks):
            await loop.run_in_executor(executor, fn, arg)

    scenarios: dict[str, Callable[[asyncio.AbstractEventLoop], object]] = {
        "idle": lambda loop: None,
        "in the loop": in_loop,
        "thread, pure Python": lambda loop: off(loop, burn, n, None),
        "thread, hashlib (releases the GIL)": lambda loop: off(loop, _hash_work, h, None),
        "process": lambda loop: off(loop, burn, n, pool),
    }
    loop_lags = {name: _ticks_on_loop(run, span) for name, run in scenarios.items()}
    pool.shutdown()
    ui = {
        "idle": _ui_thread_lags(lambda: time.sleep(span), span),
        "main thread, pure Python": _ui_thread_lags(lambda: burn(n * chunks), span),
        "main thread, hashlib": _ui_thread_lags(lambda: _hash_work(h * chunks), span),
    }
    return {"event_loop_ms": _ms(loop_lags), "ui_thread_ms": _ms(ui), "chunk_s": chunk_s}


def _ui_thread_lags(work: Callable[[], object], span: float) -> list[float]:
    """Lag of a thread that wakes every 5 ms (a UI's frame clock) while the main thread works."""
    lags: list[float] = []
    stop = threading.Event()

    def ui() -> None:
        while not stop.is_set():
            due = time.perf_counter() + TICK
            time.sleep(TICK)
            lags.append(max(0.0, time.perf_counter() - due))

    t = threading.Thread(target=ui)
    t.start()
    time.sleep(TICK * 2)
    work()
    stop.set()
    t.join()
    return lags


def _ms(lags: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: [round(v * 1000, 4) for v in vs] for k, vs in lags.items()}


# 5. Shared data written by several threads needs a lock.


def needs_a_lock(iterations: int = 200_000, threads: int = 4) -> dict[str, Any]:
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


# 6. Processes cost more than threads, and sharing data with them is awkward.


def _length(data: bytes) -> int:
    return len(data)


def _shm_length(name: str, size: int) -> int:
    from multiprocessing import resource_tracker, shared_memory

    try:
        shm = shared_memory.SharedMemory(name=name, track=False)  # type: ignore[call-arg, unused-ignore]
    except TypeError:  # before 3.13, attaching registers it for removal by this process: undo that
        shm = shared_memory.SharedMemory(name=name)
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    try:
        view = shm.buf
        return 0 if view is None else int(view[:size].nbytes)
    finally:
        shm.close()


def process_cost(sizes: tuple[int, ...] = (1024, 64 * 1024, 1 << 20, 8 << 20)) -> dict[str, Any]:
    ctx = _mp_context()
    start: dict[str, list[float]] = {"threads": [], "processes": []}
    for _ in range(REPEATS):
        for kind in start:
            t0 = time.perf_counter()
            executor: cf.Executor
            if kind == "threads":
                executor = cf.ThreadPoolExecutor(2)
            else:
                executor = cf.ProcessPoolExecutor(2, mp_context=ctx)
            executor.submit(_length, b"").result()
            start[kind].append(time.perf_counter() - t0)
            executor.shutdown()
    round_trip: dict[str, dict[str, float]] = {"threads": {}, "processes": {}, "shared_memory": {}}
    with cf.ThreadPoolExecutor(1) as threads, cf.ProcessPoolExecutor(1, mp_context=ctx) as procs:
        procs.submit(_length, b"").result()
        for size in sizes:
            payload = os.urandom(size)
            for kind, ex in (("threads", threads), ("processes", procs)):
                round_trip[kind][str(size)] = _median_call(partial(_submit_and_wait, ex, payload))
            round_trip["shared_memory"][str(size)] = _shm_round_trip(procs, payload)
    return {"pool_start_s": start, "round_trip_s": round_trip}


def _submit_and_wait(executor: cf.Executor, payload: bytes) -> int:
    return executor.submit(_length, payload).result()


def _median_call(fn: Callable[[], object], calls: int = 15) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _shm_round_trip(procs: cf.ProcessPoolExecutor, payload: bytes) -> float:
    """Copy the payload into shared memory and have the process read it there, by name."""
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=len(payload))
    try:
        view = shm.buf
        assert view is not None

        def call() -> None:
            view[: len(payload)] = payload
            procs.submit(_shm_length, shm.name, len(payload)).result()

        return _median_call(call)
    finally:
        shm.close()
        shm.unlink()


EXPERIMENTS: dict[int, Callable[[], dict[str, Any]]] = {
    1: one_at_a_time,
    2: outside_the_gil,
    3: slower_than_sequential,
    4: responsiveness,
    5: needs_a_lock,
    6: process_cost,
}
