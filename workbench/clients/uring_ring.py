"""io_uring for an event loop: one ring per loop, file operations as linked chains, completions
announced on an eventfd the loop watches. No thread of ours is involved: warm reads complete
inside the submitting system call, the rest in the kernel, and the loop learns of them from the
eventfd.

Binding: `liburing` 2024.5.3 from PyPI (Cython over the C liburing it bundles). Its 2026
releases are wheels built for AVX-512 CPUs and die with SIGILL elsewhere (any AMD before Zen 4,
these machines included), so it is pinned and built from source; see the README.

The operations are small state machines that do no I/O (`uring_ops.FileOp`); this ring submits
each round's chain on one fixed-file slot. The slot comes back when the round's close completes,
so a slot is never reused while its file may be open. The event-loop
glue (workbench.clients.files_uring) only decides when `pump()` runs and how a waiter is woken.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import importlib.metadata
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.clients.uring_ops import (
    IOSQE_FIXED_FILE,
    CloseSlot,
    FileOp,
    OpError,
)
from workbench.interpreters import SOURCE_ONLY

BINDING = "liburing"
BINDING_VERSION = SOURCE_ONLY[BINDING].partition("==")[2]  # the one pin pyproject.toml repeats
INSTALL_HINT = (
    f"pip install '{SOURCE_ONLY[BINDING]}', or the io-uring extra ('.[io-uring]' in a checkout); "
    "it builds from source: a C compiler, about 90 s"
)

OPS_NEEDED = (
    "IORING_OP_OPENAT",
    "IORING_OP_READ",
    "IORING_OP_WRITE",
    "IORING_OP_CLOSE",
    "IORING_OP_FSYNC",
)
ENTRIES = 256  # submission queue size; a chain never exceeds MAX_READS + 2
SLOTS = 1024  # fixed-file slots: one per round in flight
CLOSE_WAIT_S = 5.0  # at close, how long to wait for the kernel to finish what is in flight


def unavailable() -> str | None:
    """Why this process cannot use io_uring here, or None. Checks the binding's version, the
    sysctl, that a ring can be set up (seccomp and old kernels refuse) and the operations used."""
    if not sys.platform.startswith("linux"):
        return f"io_uring is Linux's; this is {sys.platform}"
    try:
        version = importlib.metadata.version(BINDING)
    except importlib.metadata.PackageNotFoundError:
        return f"{BINDING} is not installed ({INSTALL_HINT})"
    if version != BINDING_VERSION:
        # Not imported: the 2026 wheels crash the interpreter on CPUs without AVX-512.
        return (
            f"{BINDING} {version} is installed; this client needs {BINDING_VERSION} "
            f"({INSTALL_HINT})"
        )
    disabled = _sysctl("io_uring_disabled")
    if disabled == "2":
        return "io_uring is disabled on this machine (sysctl kernel.io_uring_disabled = 2)"
    liburing = binding()
    ring = liburing.io_uring()
    try:
        liburing.io_uring_queue_init(8, ring, 0)
    except OSError as exc:
        if exc.errno == errno.EPERM and disabled == "1":
            group = _sysctl("io_uring_group")
            return (
                f"io_uring is limited to group {group} (kernel.io_uring_disabled = 1), "
                "which this user is not in"
            )
        if exc.errno in (errno.EPERM, errno.ENOSYS):
            return (
                f"io_uring_setup is refused ({errno.errorcode[exc.errno]}): the kernel "
                "is too old or built without it, or a seccomp filter blocks it (as "
                "container runtimes' default profiles do)"
            )
        return f"io_uring_setup failed: {exc}"
    liburing.io_uring_queue_exit(ring)
    supported = liburing.probe()
    missing = [op.removeprefix("IORING_OP_") for op in OPS_NEEDED if not supported.get(op)]
    if missing:
        return f"this kernel's io_uring lacks {', '.join(missing)}"
    return None


def binding() -> Any:
    """The liburing module, imported under a lock shared by this machine's processes: its
    package's `__init__` (dynamic_import) deletes and rewrites a cache file in site-packages, and
    several workers importing it at once (processes-uvloop) race on that file
    (FileNotFoundError)."""
    if "liburing" in sys.modules:
        return sys.modules["liburing"]
    import fcntl
    import tempfile

    lock = os.path.join(tempfile.gettempdir(), f"workbench-liburing-{os.getuid()}.lock")
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            import liburing
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    return liburing


def _sysctl(name: str) -> str | None:
    try:
        with open(f"/proc/sys/kernel/{name}") as f:
            return f.read().strip()
    except OSError:
        return None  # before Linux 6.6 there is no such switch


@dataclass(eq=False)
class _Round:
    op: FileOp
    slot: int
    results: list[int]
    pending: int


class Ring:
    """One io_uring with an eventfd and a table of fixed-file slots, driven from one thread.

    `start(op)` queues an operation's first round; `pump()` submits what is queued and handles
    what has completed, calling each finished op's `on_done`; the loop calls `pump()` soon after
    a start and whenever `fileno()` (the eventfd) is readable."""

    def __init__(self) -> None:
        lu = binding()
        self._lu = lu
        self._ring = lu.io_uring()
        lu.io_uring_queue_init(ENTRIES, self._ring, 0)
        try:
            lu.io_uring_register_files_sparse(self._ring, SLOTS)
            self._efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            lu.io_uring_register_eventfd(self._ring, self._efd)
        except BaseException:
            lu.io_uring_queue_exit(self._ring)
            raise
        self._cqe = lu.io_uring_cqe()
        self._free = list(range(SLOTS - 1, -1, -1))
        self._waiting: collections.deque[FileOp] = collections.deque()  # for a free slot
        self._rounds: dict[int, _Round] = {}  # by user_data >> 8
        self._serial = 0
        self._queued = 0  # submissions prepared but not yet submitted
        self.closed = False
        self.broken: OSError | None = None  # why the ring stopped working, if it did

    def fileno(self) -> int:
        return self._efd

    def start(self, op: FileOp) -> None:
        if self.broken is not None:
            raise self._failure()
        if self._free:
            self._begin(op, self._free.pop())
        else:
            self._waiting.append(op)

    def pump(self) -> None:
        """Submit, then collect completions until none is left that a submission produced."""
        if self.closed:
            return  # a pump the loop had scheduled before close(): nothing is left to do
        lu, ring = self._lu, self._ring
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self._efd)  # its count only says "look"; the ring says what
        while True:
            stalled = False
            if self._queued:
                # Completions that happen inside this call are collected below: they need not
                # wake the loop through the eventfd as well.
                lu.io_uring_cq_eventfd_toggle(ring, False)
                try:
                    stalled = not self._submit()
                finally:
                    lu.io_uring_cq_eventfd_toggle(ring, True)
                if self.broken is not None:
                    return
            if lu.io_uring_cq_has_overflow(ring):
                # More completions than the completion queue holds: the kernel keeps the rest
                # until asked for them.
                lu.io_uring_get_events(ring)
            reaped = self._reap()
            if (
                not reaped
                and (stalled or not self._queued)
                and not lu.io_uring_cq_has_overflow(ring)
            ):
                return  # (stalled: the next completion's eventfd brings the loop back to retry)

    def _submit(self) -> bool:
        """Submit what is queued. False when the kernel said "later" (what was queued stays
        queued) or failed; a failure fails every operation and the ring with it, never the loop
        that pumps it."""
        try:
            self._lu.io_uring_submit(self._ring)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EBUSY, errno.EINTR):
                self._break(exc)
            return False
        self._queued = 0
        return True

    def _break(self, exc: OSError) -> None:
        self.broken = exc
        ops = [rnd.op for rnd in self._rounds.values()] + list(self._waiting)
        _LEAKED.append(self._rounds)  # the kernel may still write into their buffers
        self._rounds = {}
        self._waiting.clear()
        for op in ops:
            op.error = self._failure()
            _done(op)

    def _failure(self) -> OpError:
        assert self.broken is not None
        return OpError(self.broken.errno or errno.EIO, f"the ring failed: {self.broken}")

    def _continue(self, op: FileOp, begin: Callable[[], None]) -> None:
        """Start `op`'s next round from inside the pump, where a failed ring must fail the op,
        not escape into the loop."""
        try:
            begin()
        except OpError as exc:
            op.error = exc
            _done(op)

    def _begin(self, op: FileOp, slot: int) -> None:
        lu, ring = self._lu, self._ring
        steps = op.steps()
        if lu.io_uring_sq_space_left(ring) < len(steps):
            self._submit()  # a chain must go in one submission: make room first
            if self.broken is not None:
                raise self._failure()
        self._serial += 1
        key = self._serial
        self._rounds[key] = _Round(op, slot, [0] * len(steps), len(steps))
        for i, (what, arg, flags) in enumerate(steps):
            sqe = lu.io_uring_get_sqe(ring)
            if what == "read":
                buf, offset = arg
                lu.io_uring_prep_read(sqe, slot, buf, len(buf), offset)
                flags |= IOSQE_FIXED_FILE
            elif what == "open":
                path, oflags, mode = arg
                lu.io_uring_prep_openat_direct(sqe, path, oflags, slot, mode)
            elif what == "close":
                lu.io_uring_prep_close_direct(sqe, slot)
            elif what == "write":
                data, offset = arg
                lu.io_uring_prep_write(sqe, slot, data, len(data), offset)
                flags |= IOSQE_FIXED_FILE
            elif what == "fsync":
                lu.io_uring_prep_fsync(sqe, slot, 0)
                flags |= IOSQE_FIXED_FILE
            else:
                raise ValueError(f"unknown io_uring step {what!r}")
            sqe.flags = flags
            sqe.user_data = key << 8 | i
        self._queued += len(steps)

    def _reap(self) -> int:
        lu, ring, cqe = self._lu, self._ring, self._cqe
        n: int = lu.io_uring_cq_ready(ring)
        for _ in range(n):
            lu.io_uring_peek_cqe(ring, cqe)
            data, res = cqe.user_data, cqe.res
            lu.io_uring_cqe_seen(ring, cqe)
            rnd = self._rounds.get(data >> 8)
            if rnd is None:
                continue  # a round a failed ring gave up on (its buffers are kept in _LEAKED)
            rnd.results[data & 0xFF] = res
            rnd.pending -= 1
            if rnd.pending == 0:
                del self._rounds[data >> 8]
                self._round_done(rnd)
        return n

    def _round_done(self, rnd: _Round) -> None:
        op = rnd.op
        if rnd.results[-1] == -errno.ECANCELED:
            # The chain broke before its close (a failed open cancels everything after it; a
            # failed read cancels the reads and the close): the slot may still hold the file.
            self._close_slot(rnd.slot)
        else:
            self._slot_free(rnd.slot)
        try:
            done = op.finish(rnd.results)
        except Exception as exc:  # a bug in an op: fail it, never the loop
            op.error, done = exc, True
        if not done:
            self._continue(op, lambda: self.start(op))
        else:
            _done(op)

    def _close_slot(self, slot: int) -> None:
        self._begin(CloseSlot(), slot)  # the slot is freed when this close completes

    def _slot_free(self, slot: int) -> None:
        if self._waiting:
            op = self._waiting.popleft()
            self._continue(op, lambda: self._begin(op, slot))
        else:
            self._free.append(slot)

    def in_flight(self) -> int:
        return len(self._rounds)

    def close(self) -> None:
        """Wait (bounded) for what the kernel still holds, then tear the ring down. The buffers
        of anything still in flight after that are kept alive, never freed under the kernel."""
        if self.closed:
            return
        self.closed = True
        lu = self._lu
        deadline = time.monotonic() + CLOSE_WAIT_S
        while (self._rounds or (self._queued and not self.broken)) and time.monotonic() < deadline:
            self._waiting.clear()
            if self._queued and self.broken is None:
                self._submit()
            if not self._reap():
                time.sleep(0.001)
        if self._rounds:
            _LEAKED.append(self._rounds)
        lu.io_uring_queue_exit(self._ring)
        os.close(self._efd)


def _done(op: FileOp) -> None:
    """Tell the op's waiter, unless it went away."""
    if op.on_done is not None and not op.abandoned:
        op.on_done(op)


_LEAKED: list[Any] = []
