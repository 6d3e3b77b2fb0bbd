"""Shared pieces of the benchmark scripts: wrk runs, pinning, medians. Not a test: timings live
here, as ratios against a reference measured in the same run."""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from workbench.errors import UsageError

_RPS = re.compile(r"Requests/sec:\s+([0-9.]+)")
_ERR = re.compile(r"Socket errors: (.*)")


def find_tool(name: str) -> str | None:
    """A reference tool's path: on PATH, or in the sbin directories Debian puts nginx in."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def require_tool(name: str, package: str) -> str:
    path = find_tool(name)
    if path is None:
        raise UsageError(f"{name} is not installed: apt-get install {package}")
    return path


def cpus() -> tuple[set[int], set[int]]:
    """(server CPUs, load CPUs): the last CPU for the server, the rest for the load generator."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return set(available), set(available)
    return {available[-1]}, set(available[:-1])


def wrk(url: str, connections: int, seconds: float, load_cpus: set[int], threads: int = 1) -> float:
    """Requests per second wrk measured; raises if wrk saw socket errors or non-2xx answers."""
    return wrk_run(url, connections, seconds, load_cpus, threads).rate


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: its rate, and the CPU seconds wrk and the watched server processes spent
    (user and kernel apart), so a reader can tell which side ran out of core."""

    rate: float
    seconds: float
    wrk_cpu: float
    server_user: float
    server_system: float

    @property
    def server_us_per_request(self) -> float:
        return (self.server_user + self.server_system) / (self.rate * self.seconds) * 1e6

    @property
    def server_kernel_share(self) -> float:
        total = self.server_user + self.server_system
        return self.server_system / total if total else 0.0


def wrk_run(
    url: str,
    connections: int,
    seconds: float,
    load_cpus: set[int],
    threads: int = 1,
    server_pids: Sequence[int] = (),
) -> WrkRun:
    """One wrk run with the CPU both sides spent during it (the server's over the whole run,
    so its idle start counts against it, never for it)."""
    cmd = [require_tool("wrk", "wrk"), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", url]
    cmd = ["taskset", "-c", ",".join(map(str, sorted(load_cpus))), *cmd]
    procs = [psutil.Process(pid) for pid in server_pids]
    before = [p.cpu_times() for p in procs]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = [p.cpu_times() for p in procs]
    m = _RPS.search(out)
    if m is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    if "Non-2xx" in out or _ERR.search(out):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    wrk_cpu = (after_children.ru_utime + after_children.ru_stime) - (
        children.ru_utime + children.ru_stime
    )
    return WrkRun(
        rate=float(m.group(1)),
        seconds=seconds,
        wrk_cpu=wrk_cpu,
        server_user=sum(b.user - a.user for a, b in zip(before, after, strict=True)),
        server_system=sum(b.system - a.system for a, b in zip(before, after, strict=True)),
    )


def median_spread(values: Sequence[float]) -> tuple[float, float]:
    """Median and half the range relative to it (the ± a reader expects)."""
    med = statistics.median(values)
    return med, (max(values) - min(values)) / 2 / med if med else 0.0


def fmt(values: Sequence[float]) -> str:
    med, spread = median_spread(values)
    runs = ", ".join(f"{v:,.0f}" for v in values)
    return f"{med:,.0f} ±{spread * 100:.0f}% ({runs})"


def python() -> str:
    return sys.executable
