"""The parent side of a run: start servers, run every cell in a fresh worker, build the rows.

Cells run one at a time: on a small machine two cells at once would measure each other. With
`repeat > 1`, rounds are interleaved (asv's lesson): every cell runs once per round, so slow drift
of the machine spreads over all models instead of landing on whichever ran last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from servers.lifetime import raise_nofile_limit
from workbench import __version__, fileset
from workbench.clients import CLIENTS, FILE_PREFIX, client_entry, fits
from workbench.errors import RunFailed, UsageError
from workbench.harness.channel import start_worker
from workbench.harness.spec import CellSpec
from workbench.harness.target import check_target, parse_url
from workbench.harness.trust import flags_for, littles_law_bound
from workbench.metadata import interpreter, machine
from workbench.metrics import Recording
from workbench.models import MODEL_NAMES, model_class
from workbench.report.results_file import SCHEMA_VERSION
from workbench.server_process import ServerHandle, run_server
from workbench.units import size_label
from workbench.workloads import WORKLOAD_NAMES, WORKLOAD_PROTOCOLS, WorkloadSettings
from workbench.workloads.base import Target
from workbench.workloads.files import CACHE_STATES, FileOptions

READY_TIMEOUT_S = 60.0
FD_MARGIN = 64

# Library clients measured by default, each on the model it is most often used with; `--libs`
# asks for every (model, library) pair that fits.
DEFAULT_LIBRARY_CELLS = (
    ("asyncio", "aiohttp"),
    ("asyncio", "httpx"),  # on trio it is the same AsyncClient code (via anyio): --libs all
    ("threads", "httpx"),
    ("threads", "urllib3"),
    ("threads", "http.client"),
)
# Disk cells `io` runs by default (`disk` runs every file API on every model): the thread pool
# against the async file APIs, on the question users ask most.
DEFAULT_DISK_CELLS = (
    ("threads", "os"),
    ("asyncio", "aiofiles"),
    ("trio", "trio-path"),
)


@dataclass
class IoSettings:
    models: list[str] = field(default_factory=lambda: list(MODEL_NAMES))
    libs: list[str] | None = None  # None: raw everywhere plus DEFAULT_LIBRARY_CELLS
    workloads: list[str] = field(default_factory=lambda: ["http"])
    clients: int = 100
    duration: float = 3.0
    warmup: float = 1.0  # from the users' start, and at least until every one finished an op
    warm_limit: float | None = None  # longest wait for that (None: 5 s + 1 ms per client)
    grace: float = 1.0
    timeout: float = 10.0
    latency: float = 0.0
    jitter: float = 0.0
    body_size: int = 64
    upload_size: int = 1024
    message_size: int = 64
    repeat: int = 1
    pin: bool = True
    url: str | None = None
    allow_remote: bool = False
    procs: int | None = None
    faults: list[str] = field(default_factory=list)
    server_loop: str = "uvloop"
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)
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
    every_disk_cell: bool = False  # False: DEFAULT_DISK_CELLS; True: every file API that fits


@dataclass(frozen=True)
class Cell:
    model: str
    client: str
    workload: str
    clients: int | None = None  # None: the run's --clients
    file_size: int | None = None  # disk cells
    cache: str | None = None  # disk read cells

    @property
    def is_disk(self) -> bool:
        return self.file_size is not None

    @property
    def label(self) -> str:
        text = f"{self.model} · {self.client} · {self.workload}"
        if self.file_size is not None:
            text += f" · {size_label(self.file_size)}"
            text += f" {self.cache}" if self.cache else ""
            text += f" · {self.clients}"
        return text


class Observer:
    """Progress callbacks; the CLI draws them with rich, tests ignore them."""

    def start(self, total: int) -> None: ...

    def cell(self, index: int, cell: Cell, round_: int) -> None: ...

    def phase(self, name: str, fraction: float) -> None: ...

    def done(self, cell: Cell, row: dict[str, Any]) -> None: ...


def validate(settings: IoSettings) -> None:
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
    if settings.rate is not None and not settings.rate > 0:
        raise UsageError(f"--rate must be greater than 0 (got {settings.rate:g})")
    if settings.work is not None:
        from workbench.work import parse_work

        parse_work(settings.work)
    if settings.python != sys.executable:
        check_worker_python(settings.python)
    if settings.procs is not None and settings.procs < 1:
        raise UsageError("--procs must be at least 1")
    counts = {"disk-clients": [settings.disk_clients], "pool-sizes": settings.pool_sizes}
    counts.update({"file-sizes": settings.file_sizes, "chunk": [settings.chunk]})
    for name, values in counts.items():
        if not values or any(v < 1 for v in values):
            raise UsageError(f"--{name} must be at least 1")
    for cache in settings.cache:
        if cache not in CACHE_STATES:
            raise UsageError(
                f"unknown cache state {cache!r}; choose from {', '.join(CACHE_STATES)}"
            )
    if settings.clients > 1_000_000:
        raise UsageError("--clients above 1,000,000 is not a load test this tool can run")
    if any(WORKLOAD_PROTOCOLS[w] != "file" for w in settings.workloads):
        # One socket per client in the process that holds it: the processes models split them.
        split = all(m.startswith("processes") for m in settings.models)
        per_process = -(-settings.clients // (settings.procs or 2)) if split else settings.clients
        soft = raise_nofile_limit(per_process + FD_MARGIN)
        if per_process + FD_MARGIN > soft:
            raise UsageError(
                f"--clients {settings.clients} needs about {per_process + FD_MARGIN} open "
                f"files in one process, but the hard limit is {soft}; raise it (ulimit -Hn) "
                "or use fewer clients"
            )


def warm_limit(settings: IoSettings) -> float:
    """How long users may take to all finish a first operation before measuring anyway."""
    if settings.warm_limit is not None:
        return settings.warm_limit
    return 5.0 + 0.001 * max(settings.clients, settings.disk_clients)


def worker_env(settings: IoSettings) -> dict[str, str]:
    if settings.python == sys.executable:
        return settings.env
    from workbench.gil.lab import PACKAGE_ROOT

    return {**settings.env, "PYTHONPATH": PACKAGE_ROOT}


def check_worker_python(python: str) -> None:
    """Another interpreter for the workers: it must be a Python that can import the workbench and
    what it needs (the package itself comes from this checkout, through PYTHONPATH)."""
    import subprocess

    from workbench.gil.lab import PACKAGE_ROOT, check_python

    check_python(python)
    probe = "import workbench.harness.worker, workbench.models.sync"
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    out = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise UsageError(
            f"--python {python} cannot run the workbench's workers ({tail}); install its "
            f"dependencies there: {python} -m pip install {PACKAGE_ROOT}"
        )


def plan_cells(settings: IoSettings) -> list[Cell]:
    cells: list[Cell] = []
    for workload in settings.workloads:
        if WORKLOAD_PROTOCOLS[workload] == "file":
            cells += _disk_cells(settings, workload)
            continue
        for model in settings.models:
            family = model_class(model).family
            libs = settings.libs if settings.libs is not None else ["raw"]
            for lib in libs:
                if fits(lib, family, workload):
                    cells.append(Cell(model, lib, workload))
            if settings.libs is None:
                for m, lib in DEFAULT_LIBRARY_CELLS:
                    if m == model and fits(lib, family, workload):
                        cells.append(Cell(model, lib, workload))
        if WORKLOAD_PROTOCOLS[workload] == "http":
            from workbench.clients.client_file import check_shape

            for path in settings.client_files:
                cells.append(Cell(check_shape(path), f"{FILE_PREFIX}{path}", workload))
    if not cells:
        raise UsageError("no (model, client, workload) combination fits the selection")
    return cells


def _disk_cells(settings: IoSettings, workload: str) -> list[Cell]:
    cells: list[Cell] = []
    caches: list[str | None] = [None] if workload == "file-write" else list(settings.cache)
    for size in settings.file_sizes:
        for cache in caches:
            for model in settings.models:
                family = model_class(model).family
                if settings.libs is not None:
                    libs = [lib for lib in settings.libs if fits(lib, family, workload)]
                elif settings.every_disk_cell:
                    libs = [lib for lib in CLIENTS if fits(lib, family, workload)]
                else:
                    libs = [lib for m, lib in DEFAULT_DISK_CELLS if m == model]
                for lib in libs:
                    if not fits(lib, family, workload):
                        continue
                    sizes = settings.pool_sizes if model == "threads" else [settings.disk_clients]
                    for n in sizes:
                        cells.append(Cell(model, lib, workload, n, size, cache))
    return cells


def plan_cpus(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """Server on the last CPU, clients on the rest: they never compete for a core."""
    available = sorted(os.sched_getaffinity(0))
    if not pin or len(available) < 2:
        return None, None
    return {available[-1]}, set(available[:-1])


def _sleep_until(
    ns: int, observer: Observer, phase: str, begin_ns: int, check: Callable[[], None]
) -> None:
    span = max(1, ns - begin_ns)
    while (left := ns - time.monotonic_ns()) > 0:
        observer.phase(phase, 1 - left / span)
        check()
        time.sleep(min(0.1, left / 1e9))
    observer.phase(phase, 1.0)


@dataclass
class CellRun:
    recording: Recording
    server_cpu_s: float | None
    window_s: float
    metadata: dict[str, Any]
    ramp_s: float | None  # from `go` until every user had finished one operation; None: never


def run_cell(
    spec: CellSpec,
    settings: IoSettings,
    server: ServerHandle | None,
    client_cpus: set[int] | None,
    observer: Observer,
) -> CellRun:
    with start_worker(
        spec.as_dict(), spec.label, python=spec.python, env=spec.env, cpus=client_cpus
    ) as channel:
        ready = channel.expect("ready", READY_TIMEOUT_S)

        def check() -> None:
            if server is not None and not server.alive():
                raise RunFailed(f"the mock {server.kind} server died during {spec.label}")

        # Ramp-up: the users start with no window; it opens once all have finished an operation
        # (10,000 connections can take seconds), or at the warm limit, flagged `not-warm`.
        go = time.monotonic_ns()
        limit_s = warm_limit(settings)
        limit = go + int(limit_s * 1e9)
        span = limit_s + settings.warmup + settings.duration + settings.grace
        # A bound in count as well as time: no loopback client completes a million ops a second.
        max_ops = int(span * 1_000_000) + 1
        # Open loop: the cell's users share --rate, so each one's operations fall due every N/R.
        interval_ns = int(spec.clients / settings.rate * 1e9) if settings.rate else 0
        channel.send(
            {"warm_deadline_ns": limit + 5 * 10**9, "max_ops": max_ops, "interval_ns": interval_ns}
        )
        ramp_s: float | None = None
        while (left := limit - time.monotonic_ns()) > 0:
            check()
            observer.phase("ramp-up", 1 - left / (limit - go))
            if channel.poll("warm", min(0.1, left / 1e9)) is not None:
                ramp_s = (time.monotonic_ns() - go) / 1e9
                break
        # Warm-up counts from the users' start; once all are warm they settle a little more.
        now = time.monotonic_ns()
        start = max(go + int(settings.warmup * 1e9), now + int(settings.warmup * 0.25e9))
        end = start + int(settings.duration * 1e9)
        stop = end + int(settings.grace * 1e9)
        channel.send({"start_ns": start, "end_ns": end, "stop_ns": stop})
        _sleep_until(start, observer, "warm-up", now, check)
        s0 = server.cpu_seconds() if server is not None else None
        _sleep_until(end, observer, "measuring", start, check)
        s1 = server.cpu_seconds() if server is not None else None
        observer.phase("collecting", 1.0)
        payload = channel.expect("result", (stop - time.monotonic_ns()) / 1e9 + 30.0)
    server_cpu = s1 - s0 if s0 is not None and s1 is not None else None
    rec = Recording.from_dict(payload)
    return CellRun(rec, server_cpu, (end - start) / 1e9, ready["metadata"], ramp_s)


def summarise(
    cell: Cell, runs: list[CellRun], settings: IoSettings, requested: int, client_cpus: int
) -> dict[str, Any]:
    """One result row: the median run's figures, with the spread of all repeats."""
    rates = [r.recording.ops / r.window_s for r in runs]
    order = sorted(range(len(runs)), key=lambda i: rates[i])
    median_run = runs[order[len(order) // 2]]
    rec, window = median_run.recording, median_run.window_s
    median_rate = statistics.median(rates)
    cpu = rec.cpu_user_s + rec.cpu_sys_s
    errors = sum(rec.errors.values())
    row: dict[str, Any] = {
        "model": cell.model,
        "client": cell.client,
        "workload": cell.workload,
        "work": None if cell.is_disk else settings.work,
        "clients": rec.clients,
        "clients_requested": requested,
        "users_warm": rec.users_warm,
        "ramp_s": None if median_run.ramp_s is None else round(median_run.ramp_s, 3),
        "processes": rec.processes,
        "ops": rec.ops,
        "ops_per_s": round(rec.ops / window, 2),
        "errors": errors,
        "error_rate": round(errors / (errors + rec.ops), 5) if errors else 0.0,
        "errors_by_kind": dict(rec.errors),
        "bytes": rec.bytes,
        "mb_per_s": round(rec.bytes / window / 1e6, 3),
        "latency_ms": rec.latency_ms(),
        "cpu_s": round(cpu, 4),
        "cpu_user_s": round(rec.cpu_user_s, 4),
        "cpu_sys_s": round(rec.cpu_sys_s, 4),
        "cpu_us_per_op": round(cpu / rec.ops * 1e6, 2) if rec.ops else None,
        "server_cpu_s": None
        if median_run.server_cpu_s is None
        else round(median_run.server_cpu_s, 4),
        "server_cpu_util": None
        if median_run.server_cpu_s is None
        else round(median_run.server_cpu_s / window, 4),
        "peak_rss_mb": round(rec.peak_rss_kb / 1024, 1),
        "ctx_switches": {"voluntary": rec.ctx_voluntary, "involuntary": rec.ctx_involuntary},
        "minor_faults_per_op": round(rec.minor_faults / rec.ops, 2) if rec.ops else None,
        "window_s": round(window, 4),
        "repeats": {
            "ops_per_s": [round(r, 2) for r in rates],
            "median": round(median_rate, 2),
            "spread": round((max(rates) - min(rates)) / median_rate, 4)
            if len(rates) > 1 and median_rate
            else None,
        },
        "metadata": median_run.metadata,
        "histogram": rec.histogram.encode().decode("ascii"),
    }
    if cell.is_disk:
        row.update(disk_fields(cell, rec, window))
    if settings.rate:
        row["rate_target"] = settings.rate
        row["rate_share"] = round(row["ops_per_s"] / settings.rate, 4)
    bound = None if cell.is_disk else littles_law_bound(rec.clients, settings.latency)
    if bound is not None:
        row["bound_ops_per_s"] = round(bound, 2)
        row["bound_share"] = round(row["ops_per_s"] / bound, 4)
    row["flags"] = flags_for(row, client_cpus)
    return row


def _file_sets(
    settings: IoSettings, cells: list[Cell]
) -> tuple[dict[int, fileset.FileSet], dict[str, Any] | None]:
    """Generate (or reuse) one file set per size the disk cells read."""
    sizes = sorted({c.file_size for c in cells if c.file_size is not None})
    if not sizes:
        return {}, None
    root = Path(settings.file_dir).expanduser() if settings.file_dir else fileset.default_dir()
    sets = {}
    for size in sizes:
        count = max(16, settings.file_set_bytes // size)
        sets[size] = fileset.generate(root, count, (size,), settings.file_content)
    kind = fileset.filesystem_of(root)
    info = {
        "root": str(root),
        "filesystem": kind,
        "in_memory": kind in fileset.MEMORY_FILESYSTEMS,
        "sets": {size_label(s): fs.describe() for s, fs in sets.items()},
        "note": "the disk may be cached by the host underneath this machine: a cold read "
        "here is a read the kernel had to ask the block device for, not necessarily a platter",
    }
    return sets, info


def _run_disk_cell(
    cell: Cell,
    settings: IoSettings,
    filesets: dict[int, fileset.FileSet],
    common: dict[str, Any],
    client_cpus: set[int] | None,
    observer: Observer,
) -> CellRun:
    assert cell.file_size is not None
    fs = filesets[cell.file_size]
    scratch = fileset.scratch_dir(fs.directory.parent) if cell.workload == "file-write" else None
    try:
        options = FileOptions(
            set_dir=str(fs.directory),
            chunk=settings.chunk,
            cache=cell.cache or "warm",
            fsync=settings.fsync,
            scratch=None if scratch is None else str(scratch),
            write_budget=settings.write_budget,
        )
        target = Target("file", "localhost", 0, str(fs.directory))
        workload = WorkloadSettings(cell.workload, target, files=options.as_dict())
        spec = CellSpec(workload=workload, **common)
        return run_cell(spec, settings, None, client_cpus, observer)
    finally:
        if scratch is not None:
            fileset.remove_scratch(scratch)


def disk_fields(cell: Cell, rec: Recording, window: float) -> dict[str, Any]:
    """What a disk row adds: files/s, CPU per GB, the thread-hop figures, the cache evidence."""
    extras = rec.extras
    hops = [e["hop_us"] for e in extras if e.get("hop_us") is not None]
    evicted = [e["evicted"] for e in extras if "evicted" in e]
    cpu = rec.cpu_user_s + rec.cpu_sys_s
    return {
        "file_size": cell.file_size,
        "cache": cell.cache,
        "files_per_s": round(rec.ops / window, 2),
        "cpu_s_per_gb": round(cpu / (rec.bytes / 1e9), 3) if rec.bytes else None,
        "hop_us": round(sum(hops) / len(hops), 2) if hops else None,
        "hops_per_op": next((e["hops_per_op"] for e in extras if "hops_per_op" in e), 0),
        "evicted": None if not evicted or None in evicted else all(evicted),
        "written_files": sum(e.get("written_files", 0) for e in extras),
        "write_budget_spent": any(e.get("budget_spent") for e in extras),
        "in_memory": any(e.get("filesystem") in fileset.MEMORY_FILESYSTEMS for e in extras),
    }


def _target_of(server: ServerHandle) -> Target:
    return Target("http" if server.kind == "http" else "tcp", server.host, server.port, "/")


@contextlib.contextmanager
def _servers(
    settings: IoSettings,
    protocols: set[str],
    server_cpus: set[int] | None,
    running: dict[str, ServerHandle] | None,
) -> Iterator[dict[str, tuple[Target, ServerHandle | None]]]:
    out: dict[str, tuple[Target, ServerHandle | None]] = {}
    with contextlib.ExitStack() as stack:
        if running is not None:
            for protocol in protocols:
                if protocol not in running:
                    raise UsageError(f"no running server was given for {protocol} workloads")
                out[protocol] = (_target_of(running[protocol]), running[protocol])
        elif settings.url is not None:
            target = parse_url(settings.url)
            check_target(target, settings.allow_remote)
            for protocol in protocols:
                out[protocol] = (target, None)
        else:
            for protocol in sorted(protocols):
                kind = "http" if protocol == "http" else "echo"
                options: dict[str, Any] = dict(
                    loop=settings.server_loop,
                    latency=settings.latency,
                    jitter=settings.jitter,
                    faults=settings.faults,
                )
                if kind == "http":
                    options["body_size"] = settings.body_size
                server = stack.enter_context(run_server(kind, cpus=server_cpus, **options))
                out[protocol] = (_target_of(server), server)
        yield out


def run_io(
    settings: IoSettings,
    observer: Observer | None = None,
    servers: dict[str, ServerHandle] | None = None,
) -> dict[str, Any]:
    """Run every planned cell; return the whole result document (schema_version 1).

    `servers` (protocol -> running mock server) lets a caller reuse servers it started itself,
    as the benchmark scripts do to measure a reference tool against the same server.
    """
    observer = observer or Observer()
    validate(settings)
    cells = plan_cells(settings)
    server_cpus, client_cpus = plan_cpus(settings.pin and settings.url is None)
    n_client_cpus = len(client_cpus or os.sched_getaffinity(0))

    def cpus_for(cell: Cell) -> int:
        return len(os.sched_getaffinity(0)) if cell.is_disk else n_client_cpus

    procs = settings.procs or max(2, n_client_cpus)
    protocols = {WORKLOAD_PROTOCOLS[c.workload] for c in cells} - {"file"}
    if settings.url is not None and len(protocols) > 1:
        raise UsageError("--url points at one server: choose workloads of one protocol")
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    runs: dict[Cell, list[CellRun]] = {c: [] for c in cells}
    server_info: dict[str, Any] = {}
    filesets, disk_info = _file_sets(settings, cells)
    observer.start(len(cells) * settings.repeat)
    # Ctrl-C or a dying server/worker stops the run; what was measured is kept and marked.
    stopped: dict[str, Any] | None = None
    try:
        with _servers(settings, protocols, server_cpus, servers) as targets:
            for protocol, (target, handle) in targets.items():
                server_info[protocol] = {"url": target.url, "external": handle is None}
            index = 0
            for round_ in range(settings.repeat):
                for cell in cells:
                    index += 1
                    observer.cell(index, cell, round_)
                    model = model_class(cell.model)()
                    requested = cell.clients or settings.clients
                    common: dict[str, Any] = {
                        "model": cell.model,
                        "client": cell.client,
                        "clients": model.effective_clients(requested),
                        "timeout": settings.timeout,
                        "procs": procs,
                        "python": settings.python,
                        "env": worker_env(settings),
                    }
                    if cell.is_disk:
                        # No server to keep off a core: disk cells may use every CPU.
                        run = _run_disk_cell(cell, settings, filesets, common, None, observer)
                    else:
                        target, handle = targets[WORKLOAD_PROTOCOLS[cell.workload]]
                        workload = WorkloadSettings(
                            cell.workload,
                            target,
                            body_size=None if settings.url else settings.body_size,
                            upload_size=settings.upload_size,
                            message_size=settings.message_size,
                        )
                        spec = CellSpec(workload=workload, work=settings.work, **common)
                        run = run_cell(spec, settings, handle, client_cpus, observer)
                    runs[cell].append(run)
                    if round_ == settings.repeat - 1:
                        row = summarise(cell, runs[cell], settings, requested, cpus_for(cell))
                        observer.done(cell, row)
    except KeyboardInterrupt:
        stopped = {"reason": "interrupted (Ctrl-C)", "exit_code": 130}
    except RunFailed as exc:
        stopped = {"reason": str(exc), "exit_code": 1}
    rows = [
        summarise(c, runs[c], settings, c.clients or settings.clients, cpus_for(c))
        for c in cells
        if runs[c]
    ]
    settings_dict = asdict(settings)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "io",
        "partial": stopped is not None,
        "stopped": stopped,
        "metadata": {
            "tool": f"workbench {__version__}",
            "started_at": started,
            "command": sys.argv,
            "settings": settings_dict,
            "machine": machine(),
            "parent": interpreter(),
            "pinning": {
                "server_cpus": sorted(server_cpus) if server_cpus else None,
                "client_cpus": sorted(client_cpus) if client_cpus else None,
            },
            "processes_per_cell": procs,
            "warm_limit_s": warm_limit(settings),
            "servers": server_info,
            "disk": disk_info,
        },
        "results": rows,
    }
