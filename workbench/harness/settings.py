"""What a run is asked to do (`IoSettings`, one field per command-line option) and the checks that
need no knowledge of any kind of cell. Each kind checks its own settings (see `cell_kinds`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.clients import client_entry
from workbench.errors import UsageError
from workbench.models import DEFAULT_MODELS, MODEL_NAMES
from workbench.workloads import WORKLOAD_NAMES


@dataclass
class IoSettings:
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    libs: list[str] | None = None  # None: raw everywhere plus plan.DEFAULT_LIBRARY_CELLS
    workloads: list[str] = field(default_factory=lambda: ["http"])
    clients: int = 100
    duration: float = 2.0
    warmup: float = 0.5  # from the users' start, and at least until every one finished an op
    warm_limit: float | None = None  # longest wait for that (None: 5 s + 1 ms per client)
    grace: float = 1.0
    timeout: float = 10.0
    latency: float = 0.0
    jitter: float = 0.0
    body_size: int = 64
    upload_size: int = 1024
    message_size: int = 64
    push_rate: float = 10.0  # ws-push: messages a second the server sends every listener
    heartbeat: float = 1.0  # idle: seconds between one user's heartbeats
    thread_stack: int | None = None  # bytes of stack per thread on the threads model
    repeat: int = 3  # rounds of each cell, each a fresh worker: one round ranks nothing
    pin: bool = True
    url: str | None = None
    allow_remote: bool = False
    ca_file: str | None = None  # the CA an https --url's certificate is verified against
    procs: int | None = None
    faults: list[str] = field(default_factory=list)
    server_loop: str = "uvloop"
    # Interpreters for the client workers, as given (paths or versions like 3.13, 3.14t); none:
    # this one. See `interpreters.resolve`.
    pythons: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # KEY=A|B: one run per value
    # The workers' allocators (workbench.allocators), each a variant of every cell.
    allocators: list[str] = field(default_factory=lambda: ["default"])
    work: str | None = None  # per-request work in network cells, e.g. python:200us
    rate: float | None = None  # open loop: operations per second in total (None: closed loop)
    client_files: list[str] = field(default_factory=list)  # users' clients, in the templates' shape
    # Disk cells (workloads file-*).
    disk_clients: int = 8  # concurrency of every disk model but threads
    pool_sizes: list[int] = field(default_factory=lambda: [8, 32])  # threads on disk cells
    file_dir: str | None = None  # None: the user's cache directory
    file_sizes: list[int] = field(default_factory=lambda: [16 * 1024, 1 << 20])
    file_set_bytes: int = 128 << 20  # each size's set holds about this much
    file_content: str = "random"
    cache: list[str] = field(default_factory=lambda: ["warm"])
    chunk: int = 64 * 1024
    fsync: bool = False
    write_budget: int = 2 << 30
    # Which (model, file API) pairs the disk cells run: "io" the io command's few
    # (DEFAULT_DISK_CELLS), "each-api" every file API once on the model it is usually used with
    # (EACH_FILE_API), "every" every file API on every model it fits (disk --full).
    disk_cells: str = "io"
    # Db cells (workloads pg-*, redis-*).
    pg_url: str | None = None  # the user's PostgreSQL (None: the run starts its own)
    redis_url: str | None = None  # the user's Redis (None: the run starts its own)
    db_latency: float = 0.0  # each direction, through a delay proxy (0: none)
    pool_size: int = 20  # connections per process for the *-pool clients
    db_keys: int = 10_000  # rows / keys seeded and read
    value_size: int = 64  # characters of each seeded value
    # Served cells (workloads served-*): the server configurations (workbench.served.configs).
    served: list[str] = field(default_factory=list)
    served_app: str | None = None  # the user's module:callable in place of the workbench's app
    served_work: str | None = None  # the work scenario's per-request work, python:DURATION
    downstream_latency: float = 0.02  # the downstream mock server's wait before each answer
    server_workers: int = 1
    server_threads: int = 8  # per worker, for the threaded servers
    server_port: int = 0  # 0: a free one each round
    fail_every: int = 0  # the app raises on every Nth request (0: never)


def validate_common(settings: IoSettings) -> None:
    """The checks every run needs, whatever kinds of cell it holds."""
    for name in settings.models:
        if name not in MODEL_NAMES:
            raise UsageError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    for name in settings.workloads:
        if name not in WORKLOAD_NAMES:
            raise UsageError(f"unknown workload {name!r}; choose from {', '.join(WORKLOAD_NAMES)}")
    for lib in settings.libs or ():
        client_entry(lib)
    positive = {
        "clients": settings.clients,
        "duration": settings.duration,
        "repeat": settings.repeat,
        "warm_limit": warm_limit(settings),
    }
    positive["timeout"] = settings.timeout
    for name, value in positive.items():
        if not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be greater than 0 (got {value:g})")
    nonneg = {"warmup": settings.warmup, "latency": settings.latency, "jitter": settings.jitter}
    nonneg.update(grace=settings.grace, body_size=settings.body_size)
    nonneg.update(upload_size=settings.upload_size, message_size=settings.message_size)
    for name, value in nonneg.items():
        if value < 0:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 0 (got {value:g})")
    if not settings.heartbeat > 0:
        raise UsageError(f"--heartbeat must be greater than 0 (got {settings.heartbeat:g})")
    if settings.thread_stack is not None and settings.thread_stack < 32 * 1024:
        raise UsageError("--thread-stack must be at least 32KiB (the platform's minimum)")
    if not settings.push_rate > 0:
        raise UsageError(f"--push-rate must be greater than 0 (got {settings.push_rate:g})")
    if settings.rate is not None and not settings.rate > 0:
        raise UsageError(f"--rate must be greater than 0 (got {settings.rate:g})")
    if settings.procs is not None and settings.procs < 1:
        raise UsageError("--procs must be at least 1")
    if settings.clients > 1_000_000:
        raise UsageError("--clients above 1,000,000 is not a load test this tool can run")


def warm_limit(settings: IoSettings) -> float:
    """How long users may take to all finish a first operation before measuring anyway."""
    if settings.warm_limit is not None:
        return settings.warm_limit
    return 5.0 + 0.001 * max(settings.clients, settings.disk_clients)
