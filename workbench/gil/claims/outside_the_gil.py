"""Claim 2: work outside the GIL scales with threads. Each kind of work the claim names, timed on
one thread and split over one thread per CPU, in interleaved rounds until each kind is decided.

Two families, judged by what each can show: *waiting* (sleeping, a socket whose peer answers after
a fixed wait) overlaps on any machine, so its evidence is the wall-clock speed-up; *CPU work
outside the GIL* (hashlib, zlib, file reads from the page cache, NumPy, Pillow, native code via
ctypes) can only overlap on cores, so its evidence is the cores the threads kept busy, beside the
speed-up. On one CPU the second family is reported, not judged.

Standard library only (NumPy and Pillow are used when present): the probe runs `measure` under
any interpreter; the parent runs `judge`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from workbench.burn import calibrate
from workbench.gil.judging import (
    FAILS,
    HOLDS,
    UNSURE,
    Cores,
    Ratio,
    coverage_note,
    union_confidence,
)
from workbench.gil.thresholds import SCALES as SCALES
from workbench.gil.thresholds import STAYS as STAYS
from workbench.gil.timing import (
    ROUNDS,
    cores,
    cpu_count,
    interleaved,
    sha256_work,
    threads_phase,
    walls,
)

NUMBER = 2
TEXT = (
    "Work outside the GIL scales with threads: waiting on sockets and sleeps, file reads, hashlib "
    "and zlib on large buffers, NumPy, image processing, and native code called through ctypes"
)
PEER_WAIT_S = 0.002
WAITING = ("time.sleep", f"socket I/O, peer answers after {PEER_WAIT_S * 1000:g} ms")
# Scales: more than SCALES of the ideal k-fold figure (beyond what one GIL allows, with room for a
# VM that lends the second core only part of the time). Stays: below 1 + STAYS of the extra
# threads' share. Declared, with their dates and history, in `thresholds`.


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
    """Request and answer over a socket pair; the peer waits a fixed time before answering, so
    the thread is I/O-bound: it spends its time waiting in recv, where the GIL is released."""
    a, b = socket.socketpair()

    def peer() -> None:
        while data := b.recv(64):
            time.sleep(PEER_WAIT_S)
            b.sendall(data)

    answering = threading.Thread(target=peer)
    answering.start()
    try:
        for _ in range(units):
            a.sendall(b"\x5a" * 64)
            got = 0
            while got < 64:
                got += len(a.recv(64))
    finally:
        a.shutdown(socket.SHUT_WR)
        answering.join()
        a.close()
        b.close()


def _numpy_work() -> Callable[[int], None] | str:
    # One BLAS thread: OpenBLAS spreads a single matmul over every core by itself, and two Python
    # threads then only fight over the same cores. The claim is about what Python threads add.
    # Read when numpy loads, which is now: this is a fresh process.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import numpy as np  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return "numpy is not installed"
    m = np.random.default_rng(0).random((300, 300))

    def work(units: int) -> None:
        for _ in range(units):
            m @ m

    return work


def _pillow_work() -> Callable[[int], None] | str:
    try:
        from PIL import Image, ImageFilter  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return "Pillow is not installed"
    img = Image.new("RGB", (640, 640), (120, 60, 30))

    def work(units: int) -> None:
        for _ in range(units):
            img.filter(ImageFilter.GaussianBlur(2))

    return work


def _ctypes_work() -> Callable[[int], None] | str:
    """zlib's crc32 called straight from the shared library: ctypes releases the GIL around
    every foreign call (ctypes.CDLL; PyDLL would keep it)."""
    name = ctypes.util.find_library("z")
    if name is None:
        return "no libz shared library found"
    libz = ctypes.CDLL(name)
    libz.crc32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
    libz.crc32.restype = ctypes.c_ulong
    buf = os.urandom(1 << 20)

    def work(units: int) -> None:
        for _ in range(units):
            libz.crc32(0, buf, len(buf))

    return work


def measure(seconds: float = 0.1, rounds: int = ROUNDS) -> dict[str, Any]:
    cpus = cpu_count()
    k = max(2, min(cpus, 4))  # one thread per CPU it may use (two at least: waiting overlaps)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(os.urandom(1 << 20))
        path = f.name
    kinds: dict[str, Callable[[int], object] | str] = {
        WAITING[0]: _sleep_work,
        WAITING[1]: _socket_work,
        "file read (page cache)": _file_work(path),
        "hashlib.sha256": sha256_work,
        "zlib.compress": _zlib_work,
        "NumPy matmul, 1 BLAS thread": _numpy_work(),
        "Pillow GaussianBlur": _pillow_work(),
        "native code via ctypes (libz crc32)": _ctypes_work(),
    }
    out: dict[str, Any] = {}
    try:
        for name, work in kinds.items():
            if isinstance(work, str):
                out[name] = {"skipped": work}
                continue
            units = max(k, calibrate(work, seconds, start=1))
            units -= units % k
            runs = {
                "one_thread": partial(threads_phase, partial(work, units), 1),
                "threads": partial(threads_phase, partial(work, units // k), k),
            }
            out[name] = {**interleaved(runs, rounds), "units": units, "k": k}
    finally:
        os.unlink(path)
    return {"kinds": out, "cpus": cpus, "threads": k}


def _kind(name: str, r: dict[str, Any], cpus: int, judged: int) -> tuple[bool | None, str]:
    """(scales, not, or None when undecided or not judged here; the evidence). "Holds" needs every
    kind to scale (an intersection: each at the plain coverage), but any one kind that stays
    makes it "does not hold" (a union), so that direction is judged on intervals widened for the
    `judged` kinds (`union_confidence`)."""
    k = r["k"]
    wide = union_confidence(judged)
    pairs = walls(r["one_thread"]), walls(r["threads"])
    speed = Ratio.of_pairs(*pairs)
    if name in WAITING:
        stays = Ratio.of([a / b for a, b in zip(*pairs, strict=True)], wide)
        scales = (
            True
            if speed.above(SCALES * k)
            else False
            if stays.below(1 + STAYS * (k - 1) / 2)
            else None
        )
        return scales, f"{name} {speed}"
    busy = Cores.of(cores(r["threads"]))
    text = f"{name} {speed} with {busy} busy"
    if cpus < 2:
        return None, f"{text} (not judged: one CPU)"
    if busy.above(SCALES * k):
        return True, text
    if Cores.of(cores(r["threads"]), wide).below(1 + STAYS * (k - 1) / 2):
        return False, text
    return None, text


def judge(m: dict[str, Any]) -> tuple[str, str, str]:
    parts: list[str] = []
    scaled: list[str] = []
    stayed: list[str] = []
    open_: list[str] = []
    rounds = 0
    judged = sum(
        1 for n, r in m["kinds"].items() if "skipped" not in r and (m["cpus"] >= 2 or n in WAITING)
    )
    for name, r in m["kinds"].items():
        if "skipped" in r:
            parts.append(f"{name}: skipped ({r['skipped']})")
            continue
        rounds = max(rounds, len(r["one_thread"]))
        scales, text = _kind(name, r, m["cpus"], judged)
        parts.append(text)
        if scales is True:
            scaled.append(name)
        elif scales is False:
            stayed.append(name)
        elif m["cpus"] >= 2 or name in WAITING:
            open_.append(name)
    k = m["threads"]
    evidence = f"{coverage_note(rounds)}. Over 1 thread, {k} threads: " + "; ".join(parts)
    if stayed:
        return FAILS, evidence, f"did not scale: {', '.join(stayed)}"
    if scaled and not open_:
        unjudged = "" if m["cpus"] >= 2 else " (one CPU: the CPU-bound kinds were not judged)"
        return (
            HOLDS,
            evidence,
            f"every kind judged ({len(scaled)}) kept more than {SCALES * k:g} of {k} threads "
            f"busy or sped up by more than {SCALES * k:g}x{unjudged}",
        )
    return UNSURE, evidence, f"within the noise of the thresholds: {', '.join(open_)}"
