"""CPU work that holds the GIL, and calibration of any work to a duration on this machine.

Standard library only, and no import of the rest of the workbench: the GIL lab's probe runs this
in a fresh process under whatever interpreter is being examined (a free-threaded 3.14t, say),
where the workbench's dependencies need not be installed. `io --work python:200us` uses the same
functions, so "200 µs of pure Python" means the same thing in both places.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def burn(n: int) -> int:
    """Pure-Python work that holds the GIL for its whole duration. Every step costs the same, so
    the time is linear in n and `calibrate` can scale it. Its constants are small integers, which
    are immortal: threads running it share no object whose reference count they would update.
    On a free-threaded 3.13 that matters: see `burn_shared`."""
    x = 0
    for i in range(n):
        x = (x * 31 + i) & 0xFF
    return x


def burn_shared(n: int) -> int:
    """`burn` with one large constant, which every thread running it shares. On a free-threaded
    3.13 each use updates that one object's reference count from every thread at once, and two
    threads of this ran at about half the speed of one, both cores busy, where `burn` ran twice
    as fast (measured here, 3.13.5t; the GIL lab's claim 1 measures it every run)."""
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
    took = min(timed(fn, n) for _ in range(3))
    return max(1, int(n * seconds / took))


def timed(fn: Callable[[int], object], n: int) -> float:
    """Wall seconds of one fn(n)."""
    t0 = time.perf_counter()
    fn(n)
    return time.perf_counter() - t0
