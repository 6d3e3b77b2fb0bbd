"""Whether a row can be trusted, decided from its own numbers. Pure functions, no I/O.

A row's figures for the flags are already the worst of its rounds (see `harness.rows`): a flag
raised by any one round stays on the row."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping
from typing import Any

from workbench.interpreters import gil_reenabled
from workbench.results import Row, half_width

SERVER_BOUND = 0.90  # server CPU share of its one core
CLIENT_BOUND = 0.90  # client CPU share of the cores it could use
FEW_SAMPLES = 1000  # below this, p99.9 is not a measurement
# `noisy` says what the ± column cannot: a spread between rounds is already in the interval, so
# the flag is raised only by a rate that moved within a window, or rounds that fell into two modes
# (in the default run of 2026-12-07, a spread over 10% flagged 12 rows of 15, and said nothing).
NOISY_DRIFT = 0.25  # a window's last third against its first, as a share of the window's rate
MODE_GAP = 0.20  # the widest gap between sorted rounds, as a share of their median, that splits
MODE_RATIO = 3.0  # ... when it is also this many times the widest of the others
# Rounds needed to tell two modes from a spread: of three, one round apart is as likely an
# outlier, which the interval already widens for (the sample of 2026-12-07 had 5 of 13 such rows).
MODE_ROUNDS = 4
NOISY_CI = 0.10  # one run: half-width of the rate's 95% interval, as a share of the rate
RATE_KEPT = 0.95  # open loop: share of --rate a row must achieve
PUSH_KEPT = 0.95  # ws-push: share of the pushes sent that the listeners must receive
HEARTBEAT_LATE = 0.10  # idle: a heartbeat's median lateness, as a share of --heartbeat
TIMER_LATE = 0.10  # a delayed write's median lateness, as a share of the delay
# Minor page faults per operation from which a network row measures the allocator: a read buffer
# mapped and unmapped afresh costs two a read; a reused one, none.
ALLOCATOR_FAULTS = 1.0

FLAG_HELP = {
    "server-bound": "the server (the mock server, or the database with its delay proxy) used >= "
    "90% of its core: the row measures the server",
    "client-bound": "the client used >= 90% of the CPU it can use: it is CPU-bound",
    "few-samples": f"fewer than {FEW_SAMPLES} operations: tail percentiles are not meaningful",
    "errors": "operations failed; see errors_by_kind",
    "noisy": "what ± does not show: its rate moved within its windows (in the median round, the "
    "last third differed from the first by over 25%, see window_drift), or its rounds fell into "
    "two modes (4 rounds or more, two or more in each, one gap between them over 20% of their "
    "median and three times any other), or, with one round, its window's interval was over "
    "±10%: the median may be neither mode's rate",
    "no-ops": "no operation completed in the window",
    "rate-missed": "open loop: the row achieved less than 95% of --rate (see rate_share); its "
    "latencies include the backlog, as they should",
    "not-warm": "some users never finished an operation in a round (see users_started): they "
    "never got going, and the row is a collapse at this many clients, not a rate",
    "late-warm": "some users finished their first operation only after the window opened (their "
    "ramp outlasted --warm-limit; see users_warm): the rate undercounts them a little",
    "cpu-late": "the worker's CPU was read off the window's edges (the thread that reads it was "
    "starved, by thousands of threads): the CPU figures are scaled from the span read to the "
    "window, an estimate",
    "timer-late": "the server's (or delay proxy's) delayed writes went out later than due by more "
    "than 10% of the delay at the median (see timer_late): the injected latency was longer than "
    "asked, and Little's law's bound with it",
    "not-evicted": "cold cache asked for, but pages were still resident after eviction: the row "
    "may measure the page cache",
    "eviction-unchecked": "cold cache asked for, but whether the pages left the cache could not "
    "be checked (fincore missing or failing): the row may measure the page cache",
    "in-memory": "the files live on tmpfs/ramfs: the row measures memory, not a disk",
    "gil-reenabled": "a free-threaded interpreter ran with its GIL on, though PYTHON_GIL=1 was "
    "not asked for: an extension without free-threading support turned it back on at import, "
    "so the row measures a GIL build",
    "allocator": "its operations page-faulted (>= 1 minor fault each; see faults/op): glibc "
    "mapped and unmapped a large read buffer per read, so the row measures malloc as much as the "
    "model (the stdlib asyncio transport reads 256 KiB at a time); --allocator no-mmap, or "
    "mimalloc on 3.13+, shows the model without it",
    "write-budget": "the cell wrote its whole --write-budget before the window ended: the rate "
    "is undercounted; raise the budget or shorten the window",
    "push-short": "ws-push: the listeners received under 95% of the pushes the server sent (see "
    "push_share): the model fell behind its listeners, and its latencies are of what arrived",
    "heartbeat-late": "idle: the median heartbeat was answered more than a tenth of --heartbeat "
    "after it fell due: the model did not keep its connections' schedule, so its memory and CPU "
    "per connection are not those of idle connections kept on time",
    "load-bound": "servers: the load generator, or the downstream mock server beside it on the "
    "same cores, used >= 90% of those cores: they, not the server, may have limited the row",
    "server-cpu": "servers: the row stayed under 90% of its Little's-law bound while the server "
    "used >= 90% of its core: its CPU per request, not the downstream wait, set its rate",
    "loop-blocked": "servers: at the median, the app's event loop had gone over 10 ms past its "
    "tick (see loop_lag) while the server's CPU was not saturated: a handler blocked the loop",
}
BOUND_REACHED = 0.90  # servers: the share of its Little's-law bound a row should reach
LOOP_BLOCKED_MS = 10.0  # the lag probe's median lateness from which its loop counts as blocked

# Raised by a cluster run (see workbench.cluster.dispatch), not by `flags_for`.
CLUSTER_FLAG_HELP = {
    "worker-lost": "a cluster worker died under this cell and its re-run was lost too (or, for a "
    "spread cell, could not rejoin the common window): the row keeps what the other runs measured",
    "shared-machine": "another cluster worker on the same machine ran a cell at the same time: "
    "the two shared its cores and measured each other",
    "window-skew": "spread cell: a host's window overlapped the others' by less than 95% (see "
    "per_host overlap): the summed rate mixes moments",
}

# What every flag a row can carry means (the reports print it beside the flag).
ALL_FLAG_HELP = {**FLAG_HELP, **CLUSTER_FLAG_HELP}


def client_capacity(processes: int, client_cpus: int, gil: bool = True) -> int:
    """Cores a cell's client can keep busy: one per process under the GIL (every CPU it has
    without one), at most the CPUs it has."""
    return max(1, min(processes, client_cpus) if gil else client_cpus)


def flags_for(row: Row, client_cpus: int) -> list[str]:
    flags: list[str] = []
    window = row["window_s"]
    if row["ops"] == 0:
        flags.append("no-ops")
    started = row.get("users_started", row["users_warm"])
    if started < row["clients"]:
        flags.append("not-warm")
    elif row["users_warm"] < row["clients"]:
        flags.append("late-warm")
    late = row.get("timer_late")
    if late and late["delay_ms"] and late["p50_ms"] > TIMER_LATE * late["delay_ms"]:
        flags.append("timer-late")
    if row.get("cpu_late"):
        flags.append("cpu-late")
    if row.get("rate_share") is not None and row["rate_share"] < RATE_KEPT:
        flags.append("rate-missed")
    if row.get("evicted") is False:
        flags.append("not-evicted")
    if row.get("cache") == "cold" and row.get("evicted") is None:
        flags.append("eviction-unchecked")
    if row.get("in_memory"):
        flags.append("in-memory")
    if row.get("write_budget_spent"):
        flags.append("write-budget")
    push = row.get("push_share")
    if push is not None and push < PUSH_KEPT:
        flags.append("push-short")
    beat = row.get("heartbeat_s")
    p50 = row["latency_ms"].get("p50")
    if row["workload"] == "idle" and beat and p50 is not None and p50 > HEARTBEAT_LATE * beat * 1e3:
        flags.append("heartbeat-late")
    faults = row.get("minor_faults_per_op")
    network = not row["workload"].startswith("file")  # a file read faults in its pages
    if network and faults is not None and faults >= ALLOCATOR_FAULTS:
        flags.append("allocator")
    served = row.get("served") is not None  # the server is what a served row measures
    server = row.get("server_cpu_util")
    if server is not None and server >= SERVER_BOUND and not served:
        flags.append("server-bound")
    lag = row.get("loop_lag")
    idle_enough = server is None or server < SERVER_BOUND  # a saturated loop is late too
    share = row.get("bound_share")
    if served and share is not None and share < BOUND_REACHED and not idle_enough:
        flags.append("server-cpu")
    if served and lag and (lag.get("p50_ms") or 0) > LOOP_BLOCKED_MS and idle_enough:
        flags.append("loop-blocked")
    if gil_reenabled(row["metadata"]):
        flags.append("gil-reenabled")
    gil = row["metadata"].get("gil_enabled") is not False
    capacity = client_capacity(row["processes"], client_cpus, gil)
    util = row.get("client_cpu_util", row["cpu_s"] / window if window else 0.0)
    if served:
        load = util + (row.get("downstream_cpu_util") or 0.0)
        if load >= CLIENT_BOUND * client_cpus:
            flags.append("load-bound")
    elif util >= CLIENT_BOUND * capacity:
        flags.append("client-bound")
    if 0 < row["ops"] < FEW_SAMPLES:
        flags.append("few-samples")
    if row["errors"]:
        flags.append("errors")
    if noisy(row):
        flags.append("noisy")
    return flags


def noisy(row: Row) -> bool:
    """A rate that drifted within a window, or rounds in two modes (see NOISY_DRIFT)."""
    fields: Mapping[str, Any] = row
    drift = fields.get("window_drift")
    if drift is not None and drift > NOISY_DRIFT:
        return True
    rates = [float(r) for r in row["repeats"]["ops_per_s"]]
    if len(rates) > 1:
        return two_modes(rates)
    width = half_width(fields.get("window_ci", row["ops_per_s_ci"]), row["ops_per_s"])
    return width is not None and width > NOISY_CI


def two_modes(rates: list[float]) -> bool:
    """Rounds that split into two groups of two or more: the widest gap between neighbours
    (sorted) is over MODE_GAP of the median and MODE_RATIO times every other gap. MODE_ROUNDS at
    least: with fewer, rounds apart are a spread, which the interval already shows."""
    if len(rates) < MODE_ROUNDS:
        return False
    xs = sorted(rates)
    median = statistics.median(xs)
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    widest = max(gaps)
    split = gaps.index(widest) + 1  # rounds below the gap
    if min(split, len(xs) - split) < 2:
        return False  # one round apart: an outlier, not a mode
    rest = sorted(gaps)[:-1]
    return median > 0 and widest > MODE_GAP * median and widest >= MODE_RATIO * max(rest)


def littles_law_bound(clients: int, latency_s: float) -> float | None:
    """Throughput bound N / d for N closed-loop clients against a server that waits d seconds."""
    return clients / latency_s if latency_s > 0 else None
