"""Shared pieces of the benchmark scripts: wrk runs, pinning, medians. Not a test: timings live
here, as ratios against a reference measured in the same run."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence

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
    cmd = [require_tool("wrk", "wrk"), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", url]
    cmd = ["taskset", "-c", ",".join(map(str, sorted(load_cpus))), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = _RPS.search(out)
    if m is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    if "Non-2xx" in out or _ERR.search(out):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return float(m.group(1))


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
