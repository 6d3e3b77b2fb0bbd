"""Claim 2: work outside the GIL scales with threads. Each kind of GIL-releasing work timed on one
thread and split over two; judged by the speed-up of every kind.

Standard library only: the probe runs `measure` under any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from workbench.burn import calibrate
from workbench.gil.judging import FAILS, HOLDS, UNSURE, Ratio
from workbench.gil.timing import cpu_count, in_threads, interleaved, sha256_work

NUMBER = 2
TEXT = (
    "Work outside the GIL scales with threads: sleeping, socket and file I/O, hashlib and zlib "
    "on large buffers (and NumPy)"
)


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


def measure(seconds: float = 0.15) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(os.urandom(1 << 20))
        path = f.name
    kinds: dict[str, Callable[[int], object] | None] = {
        "time.sleep": _sleep_work,
        "hashlib.sha256": sha256_work,
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


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
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
