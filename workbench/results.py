"""The result document's shape: its schema version and one typed row per cell.

The lowest layer of the results' path: the harness builds `Row`s, the reports, `compare` and the
scripts read them, and mypy checks every key on both sides. Rows stay plain dicts (TypedDicts), so a
document is JSON as written and read back without a conversion step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

SCHEMA_VERSION = 1


class LatencyMs(TypedDict):
    """Percentiles of the HDR histogram, in milliseconds (None when nothing was recorded)."""

    p50: float | None
    p90: float | None
    p99: float | None
    p999: float | None
    max: float | None
    mean: float | None


class Repeats(TypedDict):
    ops_per_s: list[float]  # one rate per repeat, in round order
    median: float
    spread: float | None  # (max - min) / median; None with one repeat
    # CPU µs per operation in each round (rounds that completed nothing left out). Absent from
    # documents written before rounds were the unit of an interval.
    cpu_us_per_op: NotRequired[list[float]]
    # Each round's own figures, in the order the rounds ran (absent from older documents): the
    # row's errors and ops are their sums, its users_warm/users_started their least, its CPU
    # shares their most.
    ops: NotRequired[list[int]]
    errors: NotRequired[list[int]]
    users_warm: NotRequired[list[int]]
    users_started: NotRequired[list[int]]
    ramp_s: NotRequired[list[float | None]]
    client_cpu_util: NotRequired[list[float]]
    server_cpu_util: NotRequired[list[float | None]]
    timer_late_ms: NotRequired[list[dict[str, Any] | None]]
    cpu_span_s: NotRequired[list[float]]


class CtxSwitches(TypedDict):
    voluntary: int
    involuntary: int


class Row(TypedDict):
    """One cell's result: the median of its rounds, with the interval and spread between them."""

    model: str
    client: str
    workload: str
    work: str | None
    clients: int
    clients_requested: int
    users_warm: int  # the least, over the rounds, of users warm when the window opened
    # The least, over the rounds, of users that finished an operation at all (fewer than clients:
    # some never got going). Absent from older documents.
    users_started: NotRequired[int]
    ramp_s: float | None
    processes: int
    rounds: NotRequired[int]
    ops: int  # every round's operations in their windows (older documents: the median round's)
    ops_per_s: float
    # Where another run's rate should land: a 95% prediction interval from the rounds (Student's
    # t over their log rates; each round is a fresh worker process). None with one round.
    ops_per_s_ci: list[float] | None
    # The median round's rate within its own window (batch means over its slices): how steady that
    # one window was, not how far another run would land. Absent from older documents.
    window_ci: NotRequired[list[float] | None]
    # How far the median round's rate moved within its window (trust.window_drift); None: too
    # short to have thirds.
    window_drift: NotRequired[float | None]
    errors: int  # every round's (older documents: the median round's)
    error_rate: float
    errors_by_kind: dict[str, int]
    bytes: int
    mb_per_s: float
    latency_ms: LatencyMs
    cpu_s: float
    cpu_user_s: float
    cpu_sys_s: float
    cpu_us_per_op: float | None
    server_cpu_s: float | None
    server_cpu_util: float | None  # the highest of its rounds
    # The highest, over the rounds, of the client's CPU seconds per window second.
    client_cpu_util: NotRequired[float]
    # A round's CPU was read over a span longer than its window (a starved thread read it late):
    # the CPU figures are scaled to the window, flagged `cpu-late`.
    cpu_late: NotRequired[bool]
    # The mock server's (or delay proxy's) timer lateness: delay_ms, and the worst round's p50_ms
    # and p99_ms of a delayed write's actual time minus its due time. None: nothing was delayed.
    timer_late: NotRequired[dict[str, Any] | None]
    peak_rss_mb: float
    ctx_switches: CtxSwitches
    minor_faults_per_op: float | None
    window_s: float
    repeats: Repeats
    metadata: dict[str, Any]
    histogram: str  # HDR histogram, base64 (mergeable across rows, processes and machines)
    flags: list[str]
    # Open loop (--rate).
    rate_target: NotRequired[float]
    rate_share: NotRequired[float]
    # The interpreter the worker ran: version, t for free-threaded, GIL state ("3.14.0t GIL off").
    # Absent from documents written before interpreters were a dimension.
    python: NotRequired[str]
    # Cluster runs: the Dask worker that measured the row (a spread row: its hosts, comma
    # separated, with each host's own figures in per_host).
    host: NotRequired[str]
    per_host: NotRequired[list[dict[str, Any]]]
    # Network cells with injected latency, db cells with --db-latency: Little's law.
    bound_ops_per_s: NotRequired[float]
    bound_share: NotRequired[float]
    # Db cells: a connection per user or a shared pool, the delay proxy's each-way delay, and the
    # round trips an operation takes (its workload's and its client's: asyncpg's pool adds one).
    connections: NotRequired[str]
    db_latency_ms: NotRequired[float]
    round_trips: NotRequired[int]
    # ws-push: delivery latency (server send to client receive), pushes counted, and the largest
    # of the listeners' median delivery latencies (how far behind the slowest one fell).
    delivery_ms: NotRequired[LatencyMs]
    delivered: NotRequired[int]
    slowest_listener_ms: NotRequired[float | None]
    listeners_measured: NotRequired[int]
    push_share: NotRequired[float | None]  # pushes received over pushes sent (rate x listeners)
    # idle: what holding the connections cost, and the stack each thread got (threads model).
    memory_per_connection_kib: NotRequired[float | None]
    cpu_us_per_connection_s: NotRequired[float | None]
    thread_stack: NotRequired[int | None]
    heartbeat_s: NotRequired[float]  # idle: how often each user's heartbeat fell due
    # Served cells (`servers`): the row is the server's. `model` holds its configuration and
    # `client` its app; `load` is the model and client that loaded it. `served` has the server,
    # its family, interface, scenario, workers, threads, version and the interpreter it ran.
    served: NotRequired[dict[str, Any]]
    load: NotRequired[str]
    server_cpu_us_per_req: NotRequired[float]
    server_peak_rss_mb: NotRequired[float]  # the busiest worker's peak, over the rounds
    server_threads: NotRequired[int]
    downstream_cpu_util: NotRequired[float]  # the downstream mock server's, over a round
    # The app's event-loop lag: how far past its 5 ms tick the loop was, sampled on the clock by
    # a thread (delay_ms, p50_ms, p99_ms); None: a WSGI app.
    loop_lag: NotRequired[dict[str, Any] | None]
    bound_by: NotRequired[str]  # what sets bound_ops_per_s: "clients" or "threads x workers"
    # Disk cells.
    file_size: NotRequired[int]
    cache: NotRequired[str | None]
    files_per_s: NotRequired[float]
    mb_per_s_ci: NotRequired[list[float] | None]
    cpu_s_per_gb: NotRequired[float | None]
    hop_us: NotRequired[float | None]
    hops_per_op: NotRequired[int]
    evicted: NotRequired[bool | None]
    written_files: NotRequired[int]
    write_budget_spent: NotRequired[bool]
    in_memory: NotRequired[bool]


class Stopped(TypedDict):
    reason: str
    exit_code: int


class ResultDoc(TypedDict):
    """An `io`, `net`, `disk` or `sweep` run."""

    schema_version: int
    kind: str
    partial: bool
    stopped: Stopped | None
    metadata: dict[str, Any]
    results: list[Row]


# What makes two rows the same cell (a row's interpreter aside: see `cell_key`).
CELL_FIELDS = (
    "model",
    "client",
    "workload",
    "clients",
    "file_size",
    "cache",
    "work",
    "rate_target",
)


def cell_key(row: Row, with_python: bool = True) -> tuple[Any, ...]:
    """The cell a row measured; with its interpreter unless asked to pair across interpreters."""
    fields: Mapping[str, Any] = row
    key = tuple(fields.get(k) for k in CELL_FIELDS)
    return (*key, row.get("python")) if with_python else key


def pythons_in(rows: list[Row]) -> list[str]:
    """The interpreters of these rows, in the order they first appear."""
    return list(dict.fromkeys(r["python"] for r in rows if r.get("python")))


def is_disk(row: Row) -> bool:
    return row.get("file_size") is not None


def half_width(interval: list[float] | None, centre: float) -> float | None:
    """An interval's half-width as a share of its centre (0.05: ±5%); None when unknown."""
    if interval is None or not centre:
        return None
    return (interval[1] - interval[0]) / 2 / centre
