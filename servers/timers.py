"""Timers that keep time on any asyncio loop, and a record of how late they were.

A loop's own timers fire late by a loop-dependent amount: libuv (uvloop) counts its timeouts in
whole milliseconds, and asyncio's selector rounds its poll timeout up to one; measured here, a
1 ms delay came out 1.65 ms on uvloop. An average correction (arming timers early by their mean
lateness, as this server once did) sends some writes early and cannot be right for a delay
shorter than its own cap. So every due time goes into one heap, and one Linux timerfd, set to the
earliest due time on CLOCK_MONOTONIC (the clock `time.monotonic` reads), wakes the loop as a
readable file: its poll returns within microseconds of the due time, whatever the loop's own
timer resolution. Nothing fires early.

Each delayed write's lateness (when it went out minus when it was due) is counted in a
log-bucketed histogram; with `--timer-stats PATH` the counts live in a file the harness maps and
reads at each window's edges, so every result row carries its server's lateness.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import heapq
import math
import mmap
import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from time import monotonic

# Lateness buckets: SUB per doubling of (1 + microseconds), up to about 2^(BUCKETS/SUB) µs.
SUB = 16
BUCKETS = 24 * SUB  # 16.7 s: anything later lands in the last bucket
_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1


def bucket_of(late_s: float) -> int:
    return min(BUCKETS - 1, int(math.log2(1.0 + max(0.0, late_s) * 1e6) * SUB))


def bucket_us(index: int) -> float:
    """A bucket's representative lateness in µs (its geometric middle)."""
    return float(2.0 ** ((index + 0.5) / SUB) - 1.0)


def percentile_ms(counts: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) of a lateness histogram, in ms; None when it is empty."""
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    seen = 0
    for i, c in enumerate(counts):
        seen += c
        if c and seen >= rank:
            return round(bucket_us(i) / 1e3, 4)
    return round(bucket_us(len(counts) - 1) / 1e3, 4)


class Lateness:
    """Counts of delayed writes by lateness bucket, in memory or in a shared file."""

    def __init__(self, path: str | None = None) -> None:
        self._map: mmap.mmap | None = None
        if path is None:
            self.counts: memoryview | list[int] = [0] * BUCKETS
            return
        with open(path, "w+b") as f:
            f.truncate(BUCKETS * 8)
            self._map = mmap.mmap(f.fileno(), BUCKETS * 8)
        self.counts = memoryview(self._map).cast("Q")

    def add(self, late_s: float) -> None:
        self.counts[bucket_of(late_s)] += 1

    def summary(self, delay_s: float) -> dict[str, float | int | None]:
        return summarise(list(self.counts), delay_s)


def summarise(counts: Sequence[int], delay_s: float) -> dict[str, float | int | None]:
    """The delay asked for, and how many writes went out how late: what a row carries."""
    return {
        "delay_ms": round(delay_s * 1e3, 4),
        "count": sum(counts),
        "p50_ms": percentile_ms(counts, 0.5),
        "p99_ms": percentile_ms(counts, 0.99),
    }


def read_counts(path: str | Path) -> list[int] | None:
    """A server's lateness counts as they stand (the harness reads them at a window's edges);
    None if the file is not there (yet) or is cut short."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if len(data) != BUCKETS * 8:
        return None
    return list(struct.unpack(f"{BUCKETS}Q", data))


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class _TimerFd:
    """timerfd_create/timerfd_settime through libc (os.timerfd_* arrived only in Python 3.13)."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols, libc's among them
        self._settime = libc.timerfd_settime
        fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self.fd = int(fd)
        self._spec = _Itimerspec()

    def set_at(self, due: float) -> None:
        sec = int(due)
        nsec = max(1 if sec == 0 else 0, int((due - sec) * 1e9))  # all zeros would disarm it
        self._spec.it_value.tv_sec, self._spec.it_value.tv_nsec = sec, nsec
        if self._settime(self.fd, _TFD_TIMER_ABSTIME, ctypes.byref(self._spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self.fd, 8)

    def close(self) -> None:
        os.close(self.fd)


class Timers:
    """Callbacks at due times on `time.monotonic()`, off one timerfd the loop polls (or, where no
    timerfd can be made, the loop's own timer, late as it is: the lateness record then says so)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[list[object]] = []
        self._seq = 0
        self._armed = math.inf
        self._fallback: asyncio.TimerHandle | None = None
        try:
            self._fd: _TimerFd | None = _TimerFd()
        except (OSError, AttributeError):
            self._fd = None
        else:
            loop.add_reader(self._fd.fd, self._fire)

    def call_at(self, due: float, callback: Callable[[], None]) -> list[object]:
        """Run `callback` at `due` (not before); returns a handle for `cancel`."""
        self._seq += 1
        entry: list[object] = [due, self._seq, callback]
        heapq.heappush(self._heap, entry)
        if due < self._armed:
            self._arm(due)
        return entry

    @staticmethod
    def cancel(entry: list[object]) -> None:
        entry[2] = None  # left in the heap, skipped when it comes due

    def _arm(self, due: float) -> None:
        self._armed = due
        if self._fd is not None:
            self._fd.set_at(due)
            return
        if self._fallback is not None:
            self._fallback.cancel()
        self._fallback = self._loop.call_later(max(0.0, due - monotonic()), self._fire)

    def _fire(self) -> None:
        if self._fd is not None:
            self._fd.drain()
        self._fallback = None
        self._armed = math.inf
        heap = self._heap
        while heap and float(heap[0][0]) <= monotonic():  # type: ignore[arg-type]
            callback = heapq.heappop(heap)[2]
            if callback is not None:
                callback()  # type: ignore[operator]
        if heap:  # a one-shot timerfd that has fired needs nothing more when none is left
            self._arm(float(heap[0][0]))  # type: ignore[arg-type]

    def close(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd.fd)
            self._fd.close()
            self._fd = None
