"""Process lifetime helpers shared by the mock servers and the workbench's worker processes."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux only).

    The parent's context managers kill their children on any exception, but a parent killed with
    SIGKILL runs no code at all; this is the backstop so no server or worker outlives its owner.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)


def raise_nofile_limit(wanted: int | None = None) -> int:
    """Raise the soft open-files limit towards the hard limit; return the new soft limit.

    A privileged process (root in CI) may raise the hard limit too, up to the kernel's nr_open:
    it does when `wanted` (or, with no wish, 1,048,576) is more than the hard limit allows.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    goal = wanted if wanted is not None else 1 << 20
    if hard != resource.RLIM_INFINITY and goal > hard:
        try:
            with open("/proc/sys/fs/nr_open") as f:
                ceiling = int(f.read())
            new_hard = min(goal, ceiling)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, new_hard))
            hard = new_hard
        except (OSError, ValueError):
            pass  # not privileged: the hard limit stays what it was
    target = hard if wanted is None else min(max(soft, wanted), hard)
    if hard == resource.RLIM_INFINITY and wanted is None:
        target = max(soft, 1 << 20)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
