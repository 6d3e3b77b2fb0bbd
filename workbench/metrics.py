"""What a cell measures, in one mergeable type: ops, errors by kind, bytes, an HDR latency
histogram, CPU, context switches and peak RSS. Processes merge losslessly (HDR histograms add)."""

from __future__ import annotations

import bisect
import errno
import resource
import ssl
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.results import LatencyMs
from workbench.stats import SLICES

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram

# Latencies are recorded in microseconds, 1 us to 1 hour, 3 significant digits.
HDR_LOWEST_US = 1
HDR_HIGHEST_US = 3_600_000_000
HDR_DIGITS = 3
# 3 significant digits: HDR splits each power of two into 2**11 sub-buckets.
HDR_SUB_BUCKET_BITS = 11


def new_histogram() -> HdrHistogram:
    """An HDR histogram, in the parent only: importing hdrh loads its C codec (pyhdrh), which has
    not declared free-threading support, and on a free-threaded build that import would switch
    the GIL back on in a worker and make every figure there a GIL figure."""
    from hdrh.histogram import HdrHistogram

    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_DIGITS)


def hdr_bucket(us: int) -> int:
    """The lowest value of the HDR bucket `us` falls in. Workers count latencies by it, in plain
    Python; recording those counts into a histogram in the parent gives exactly the histogram
    that recording every value would have."""
    us = min(max(us, HDR_LOWEST_US), HDR_HIGHEST_US)
    shift = max(0, us.bit_length() - HDR_SUB_BUCKET_BITS)
    return (us >> shift) << shift


class ClientRecorder:
    """One concurrent user's record. The hot path appends a nanosecond latency and the completion
    time to two arrays (about 30 ns each); the histogram and the per-slice counts are built after
    the window, outside the measured CPU."""

    __slots__ = ("bytes", "ends", "errors", "latencies")

    def __init__(self) -> None:
        self.latencies: array[int] = array("q")
        self.ends: array[int] = array("q")  # completion times, CLOCK_MONOTONIC ns, in order
        self.bytes = 0
        self.errors: Counter[str] = Counter()


def _chain(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """The exception and what it wraps: libraries re-raise the cause of a failure as their own
    (aiohttp, httpx and trio from __cause__, urllib3's MaxRetryError as `reason`)."""
    yield exc
    if depth < 4:
        for inner in (exc.__cause__, exc.__context__, getattr(exc, "reason", None)):
            if isinstance(inner, BaseException) and inner is not exc:
                yield from _chain(inner, depth + 1)


def error_kind(exc: BaseException) -> str:
    """A short, stable name for what went wrong, whichever library raised it: its cause, never a
    bare `oserror` (an OSError with no better name is named by its errno, `os-EMFILE`)."""
    kind = getattr(exc, "kind", None)
    if isinstance(kind, str):
        return kind
    chain = list(_chain(exc))
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or any(
        "certificate" in type(e).__name__.lower() for e in chain
    ):
        return "tls-verify"
    wrapped = " ".join(type(e).__name__ for e in chain).lower()
    if "authentication" in wrapped or "password" in wrapped or "authentication failed" in str(exc):
        return "auth"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "reset"
    if isinstance(exc, EOFError):
        return "eof"
    if any(isinstance(e, ConnectionResetError | BrokenPipeError) for e in chain):
        return "reset"  # trio's BrokenResourceError carries the reset as its cause
    names = " ".join(t.__name__ for t in type(exc).__mro__).lower()
    if "timeout" in names or "tooslow" in names:
        return "timeout"
    if "disconnected" in names or "remoteprotocol" in names or "incompleteread" in names:
        return "eof"
    if "connect" in names:
        # aiohttp/httpx wrap OSErrors; look at the cause to tell refused from reset.
        cause = exc.__cause__ or exc.__context__
        if cause is not None and cause is not exc:
            inner = error_kind(cause)
            if inner != "other":
                return inner
        return "connect"
    if "reset" in names or "brokenpipe" in names or "closedresource" in names:
        return "reset"
    if "protocol" in names or "payload" in names:
        # urllib3's ProtocolError("Connection aborted.", ConnectionResetError(...)) carries the
        # reset in its arguments, not as its cause.
        carried = next((a for a in exc.args if isinstance(a, BaseException)), None)
        if carried is not None:
            named = error_kind(carried)
            if named not in ("other", "protocol"):
                return named
        return "protocol"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "tls"
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0)
        return f"os-{code}" if code else f"os-{type(exc).__name__.lower()}"
    return "other"


@dataclass
class Recording:
    """What one process, or several merged, measured inside the window."""

    ops: int = 0
    bytes: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    # Latencies (us) counted by HDR bucket (`hdr_bucket`): mergeable by adding, no C codec needed.
    latency_counts: Counter[int] = field(default_factory=Counter)
    cpu_user_s: float = 0.0
    cpu_sys_s: float = 0.0
    ctx_voluntary: int = 0
    ctx_involuntary: int = 0
    minor_faults: int = 0  # page faults served without I/O: often the allocator's doing
    peak_rss_kb: int = 0
    baseline_rss_kb: int = 0  # resident memory before the users started (see cell_worker)
    usage_span_s: float = 0.0  # how long the CPU figures span (the window, unless read late)
    usage_off_s: float = 0.0  # how far the CPU readings may lie from the window's edges
    processes: int = 1
    clients: int = 0
    users_warm: int = 0  # users that had finished an operation when the window opened
    users_started: int = 0  # users that had finished an operation by the end of the round
    extras: list[dict[str, Any]] = field(default_factory=list)  # a workload's figures, per process
    # Operations completed in each of SLICES equal slices of the window (empty: not recorded).
    slice_ops: list[int] = field(default_factory=list)

    @classmethod
    def from_clients(
        cls, recorders: list[ClientRecorder], window: tuple[int, int] | None = None
    ) -> Recording:
        """Merge the users' records; with the window's (start, end) in ns, also count the
        operations completed in each slice of it (the within-run noise of the rate)."""
        rec = cls(clients=len(recorders))
        if window is not None and window[1] > window[0]:
            rec.slice_ops = slice_counts([r.ends for r in recorders], *window)
        counts: Counter[int] = Counter()
        for r in recorders:
            rec.bytes += r.bytes
            rec.errors.update(r.errors)
            rec.ops += len(r.latencies)
            counts.update([v // 1000 for v in r.latencies])  # whole microseconds first: fewer keys
        for value, count in counts.items():
            rec.latency_counts[hdr_bucket(value)] += count
        return rec

    @property
    def histogram(self) -> HdrHistogram:
        """The latencies as an HDR histogram, built anew on each access (in the parent, where
        hdrh may be imported): build it once where it is used twice."""
        hist = new_histogram()
        for value, count in self.latency_counts.items():
            hist.record_value(value, count)
        return hist

    def merge(self, other: Recording) -> None:
        self.ops += other.ops
        self.bytes += other.bytes
        self.errors.update(other.errors)
        self.latency_counts.update(other.latency_counts)
        self.cpu_user_s += other.cpu_user_s
        self.cpu_sys_s += other.cpu_sys_s
        self.ctx_voluntary += other.ctx_voluntary
        self.ctx_involuntary += other.ctx_involuntary
        self.minor_faults += other.minor_faults
        self.peak_rss_kb += other.peak_rss_kb
        self.baseline_rss_kb += other.baseline_rss_kb
        self.usage_span_s = max(self.usage_span_s, other.usage_span_s)
        self.usage_off_s = max(self.usage_off_s, other.usage_off_s)
        self.processes += other.processes
        self.clients += other.clients
        self.users_warm += other.users_warm
        self.users_started += other.users_started
        self.extras += other.extras
        if other.slice_ops:  # the same window on the same clock in every process: slices add up
            mine = self.slice_ops or [0] * len(other.slice_ops)
            self.slice_ops = [a + b for a, b in zip(mine, other.slice_ops, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ops": self.ops,
            "bytes": self.bytes,
            "errors": dict(self.errors),
            "latency_counts": sorted(self.latency_counts.items()),
            "cpu_user_s": self.cpu_user_s,
            "cpu_sys_s": self.cpu_sys_s,
            "ctx_voluntary": self.ctx_voluntary,
            "ctx_involuntary": self.ctx_involuntary,
            "minor_faults": self.minor_faults,
            "peak_rss_kb": self.peak_rss_kb,
            "baseline_rss_kb": self.baseline_rss_kb,
            "usage_span_s": self.usage_span_s,
            "usage_off_s": self.usage_off_s,
            "processes": self.processes,
            "clients": self.clients,
            "users_warm": self.users_warm,
            "users_started": self.users_started,
            "extras": self.extras,
            "slice_ops": self.slice_ops,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recording:
        return cls(
            ops=int(d["ops"]),
            bytes=int(d["bytes"]),
            errors=Counter(d.get("errors", {})),
            latency_counts=Counter({int(v): int(c) for v, c in d.get("latency_counts", [])}),
            cpu_user_s=float(d["cpu_user_s"]),
            cpu_sys_s=float(d["cpu_sys_s"]),
            ctx_voluntary=int(d["ctx_voluntary"]),
            ctx_involuntary=int(d["ctx_involuntary"]),
            minor_faults=int(d.get("minor_faults", 0)),
            peak_rss_kb=int(d["peak_rss_kb"]),
            baseline_rss_kb=int(d.get("baseline_rss_kb", 0)),
            usage_span_s=float(d.get("usage_span_s", 0.0)),
            usage_off_s=float(d.get("usage_off_s", 0.0)),
            processes=int(d.get("processes", 1)),
            clients=int(d.get("clients", 0)),
            users_warm=int(d.get("users_warm", 0)),
            users_started=int(d.get("users_started", d.get("users_warm", 0))),
            extras=list(d.get("extras", [])),
            slice_ops=[int(v) for v in d.get("slice_ops", [])],
        )

    def latency_ms(self, h: HdrHistogram | None = None) -> LatencyMs:
        """The percentiles, from `h` if the caller built the histogram already (building it
        records every bucket again)."""
        h = self.histogram if h is None else h
        if h.get_total_count() == 0:
            return {"p50": None, "p90": None, "p99": None, "p999": None, "max": None, "mean": None}

        def ms(us: float) -> float:
            return round(us / 1000, 4)

        at = h.get_value_at_percentile
        return {
            "p50": ms(at(50.0)), "p90": ms(at(90.0)), "p99": ms(at(99.0)), "p999": ms(at(99.9)),
            "max": ms(h.get_max_value()), "mean": ms(h.get_mean_value()),
        }  # fmt: skip


def slice_counts(ends: list[array[int]], start_ns: int, end_ns: int) -> list[int]:
    """Completions in each of SLICES equal slices of [start_ns, end_ns). Each user's completion
    times are in order, so a bisection per slice boundary counts them without a loop over ops."""
    bounds = [start_ns + (end_ns - start_ns) * i // SLICES for i in range(SLICES + 1)]
    counts = [0] * SLICES
    for times in ends:
        cuts = [bisect.bisect_left(times, b) for b in bounds]
        for i in range(SLICES):
            counts[i] += cuts[i + 1] - cuts[i]
    return counts


@dataclass(frozen=True)
class Usage:
    """A snapshot of this process's resource usage (all threads)."""

    user: float
    sys: float
    voluntary: int
    involuntary: int
    minor_faults: int

    @classmethod
    def now(cls) -> Usage:
        u = resource.getrusage(resource.RUSAGE_SELF)
        return cls(u.ru_utime, u.ru_stime, u.ru_nvcsw, u.ru_nivcsw, u.ru_minflt)

    def apply_delta(self, later: Usage, rec: Recording) -> None:
        rec.cpu_user_s += later.user - self.user
        rec.cpu_sys_s += later.sys - self.sys
        rec.ctx_voluntary += later.voluntary - self.voluntary
        rec.ctx_involuntary += later.involuntary - self.involuntary
        rec.minor_faults += later.minor_faults - self.minor_faults


def _status_kb(field: str) -> int | None:
    """A memory field of /proc/self/status (VmRSS, VmHWM), in KiB; None where /proc cannot say."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_kb() -> int:
    """This process's resident memory now (VmRSS), in KiB; 0 where /proc cannot say."""
    return _status_kb("VmRSS") or 0


def peak_rss_kb() -> int:
    """This process's own peak resident memory. Not getrusage's ru_maxrss: Linux carries that
    across exec, so a worker started from an 80 MB parent reported 80 MB however little it used
    (measured: a child of a 300 MB process said 311 MB, its own high-water mark 11 MB). VmHWM is
    the high-water mark of this process's own memory."""
    hwm = _status_kb("VmHWM")
    return hwm if hwm is not None else int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
