"""The kinds of cell, behind one seam: what a network cell and a disk cell do differently.

A kind checks its own settings, plans its cells, starts what its cells need for the whole run
(mock servers, file sets), builds each cell's spec, says which CPUs its clients may use, and adds
its own fields to the row. The runner only asks; a third kind is one new class and one entry in
`KINDS` (keyed like `workloads.PROTOCOLS[...].cells`), not an edit in every stage.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from servers.lifetime import raise_nofile_limit
from workbench import fileset
from workbench.cell_spec import CellSpec
from workbench.clients import FILE_PREFIX
from workbench.errors import UsageError
from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kind_base import (
    FD_MARGIN,
    CellKind,
    Pinning,
    Prepared,
    models_and_libs,
)
from workbench.harness.db_cells import DbCells
from workbench.harness.served_cells import ServedCells
from workbench.harness.servers import servers_for
from workbench.harness.settings import IoSettings
from workbench.harness.trust import littles_law_bound
from workbench.results import Row
from workbench.server_process import ServerHandle
from workbench.units import size_label
from workbench.workloads import WORKLOAD_PROTOCOLS, Target, WorkloadSettings, protocol_of
from workbench.workloads.files import CACHE_STATES, FileOptions

# Library clients measured by default, each on the model it is most often used with; `--libs`
# asks for every (model, library) pair that fits.
DEFAULT_LIBRARY_CELLS = (
    ("asyncio", "aiohttp"),
    # Not httpx (`--libs httpx` runs it on every model it fits). On asyncio at 500 clients its
    # pool never got every user a first answer within the warm-up limit: the row was a collapse
    # the limit made (2.7 ops/s, not warm, one round of 12 s), where compare_libraries, with a
    # longer limit, measures the cell warm. On threads its 500 threads ramped up for 2 s every
    # round and its rate moved by ±42% between rounds (nothing to rank). Left out to keep the
    # default run, 3 rounds a cell, under 90 s with no row the run's own limits decide.
    ("threads", "urllib3"),
    ("threads", "http.client"),
    ("asyncio", "websockets"),
    ("asyncio", "aiohttp-ws"),
    ("threads", "websockets"),
    ("trio", "trio-websocket"),
)
# Disk cells `io` runs by default (`disk` runs every file API on every model): the thread pool
# against the async file APIs, on the question users ask most.
DEFAULT_DISK_CELLS = (
    ("threads", "os"),
    ("asyncio", "aiofiles"),
    ("asyncio", "io_uring"),  # skipped, with the reason, where it cannot run
    ("trio", "trio-path"),
)
# `disk` without --full: each file API once, on the model it is usually used with (uvloop,
# anyio-trio and the process models add nothing a file API does differently), so that the default
# run fits in two minutes on 2 cores.
EACH_FILE_API = (
    ("sync", "os"), ("threads", "os"), ("processes", "os"),
    ("asyncio", "aiofiles"), ("asyncio", "to_thread"), ("asyncio", "io_uring"),
    ("trio", "trio-file"), ("trio", "trio-path"),
    ("anyio-asyncio", "anyio-file"), ("anyio-asyncio", "anyio-path"),
)  # fmt: skip


class NetworkCells(CellKind):
    name = "network"
    metadata_key = "servers"

    def validate(self, settings: IoSettings) -> None:
        if settings.work is not None:
            from workbench.work import parse_work

            parse_work(settings.work)
        mine = [w for w in settings.workloads if protocol_of(w).cells == self.name]
        protocols = {WORKLOAD_PROTOCOLS[w] for w in mine}
        if settings.url is not None and len(protocols) > 1:
            raise UsageError("--url points at one server: choose workloads of one protocol")
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

    def plan(self, settings: IoSettings, workload: str) -> list[Cell]:
        # Without --libs: each model's own sockets (raw; for WebSocket workloads wsproto over
        # them), each followed by its default library cells; `fits` keeps the protocol's own.
        own = tuple((m, lib) for m in settings.models for lib in ("raw", "wsproto", "httpx-h2"))
        defaults = own + DEFAULT_LIBRARY_CELLS
        pairs = models_and_libs(settings, workload, defaults, every=False)
        cells = [Cell(model, lib, workload) for model, lib in pairs]
        if protocol_of(workload).server == "http":
            from workbench.harness.client_files import client_file_model

            for path in settings.client_files:
                cells.append(Cell(client_file_model(path), f"{FILE_PREFIX}{path}", workload))
        return cells

    def client_cpus(self, pinning: Pinning) -> set[int] | None:
        return pinning.client_cpus

    def prepare(
        self,
        settings: IoSettings,
        cells: list[Cell],
        pinning: Pinning,
        stack: contextlib.ExitStack,
        running: dict[str, ServerHandle] | None,
    ) -> Prepared:
        protocols = {WORKLOAD_PROTOCOLS[c.workload] for c in cells}
        targets = stack.enter_context(
            servers_for(settings, protocols, pinning.server_cpus, running)
        )
        return _Servers(settings, targets)

    def complete_row(self, row: Row, cell: Cell, run: CellRun, settings: IoSettings) -> None:
        row["work"] = settings.work
        bound = littles_law_bound(row["clients"], settings.latency)
        if bound is not None and cell.workload != "ws-push":  # listeners send nothing to bound
            row["bound_ops_per_s"] = round(bound, 2)
            row["bound_share"] = round(row["ops_per_s"] / bound, 4)
        if cell.workload == "ws-push":
            from workbench.harness.long_lived import push_figures

            row.update(push_figures(run.recording.extras))  # type: ignore[typeddict-item]
            sent = settings.push_rate * row["clients"]  # what the server pushed a second
            row["push_share"] = round(row["ops_per_s"] / sent, 4) if sent else None
        if cell.workload == "idle":
            from workbench.harness.long_lived import idle_figures

            row.update(idle_figures(row["cpu_s"], run.recording, run.window_s, row["clients"]))  # type: ignore[typeddict-item]
            row["thread_stack"] = run.metadata.get("thread_stack")
            row["heartbeat_s"] = settings.heartbeat


class _Servers(Prepared):
    def __init__(
        self,
        settings: IoSettings,
        targets: dict[str, tuple[Target, ServerHandle | None]],
    ) -> None:
        self.settings = settings
        self.targets = targets
        self.metadata = {
            protocol: {"url": target.url, "external": handle is None}
            for protocol, (target, handle) in targets.items()
        }

    @contextlib.contextmanager
    def cell_spec(
        self, cell: Cell, common: dict[str, Any]
    ) -> Iterator[tuple[CellSpec, ServerHandle | None]]:
        s = self.settings
        target, handle = self.targets[WORKLOAD_PROTOCOLS[cell.workload]]
        workload = WorkloadSettings(
            cell.workload,
            target,
            body_size=None if s.url else s.body_size,
            upload_size=s.upload_size,
            message_size=s.message_size,
        )
        yield CellSpec(workload=workload, work=s.work, **common), handle


class DiskCells(CellKind):
    name = "disk"
    metadata_key = "disk"

    def validate(self, settings: IoSettings) -> None:
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

    def plan(self, settings: IoSettings, workload: str) -> list[Cell]:
        cells: list[Cell] = []
        caches: list[str | None] = [None] if workload == "file-write" else list(settings.cache)
        defaults = EACH_FILE_API if settings.disk_cells == "each-api" else DEFAULT_DISK_CELLS
        pairs = list(models_and_libs(settings, workload, defaults, settings.disk_cells == "every"))
        for size in settings.file_sizes:
            for cache in caches:
                for model, lib in pairs:
                    sizes = settings.pool_sizes if model == "threads" else [settings.disk_clients]
                    for n in sizes:
                        cells.append(Cell(model, lib, workload, n, size, cache))
        return cells

    def client_cpus(self, pinning: Pinning) -> set[int] | None:
        return None  # no server to keep off a core: disk cells may use every CPU

    def prepare(
        self,
        settings: IoSettings,
        cells: list[Cell],
        pinning: Pinning,
        stack: contextlib.ExitStack,
        running: dict[str, ServerHandle] | None,
    ) -> Prepared:
        return _FileSets(settings, cells)

    def complete_row(self, row: Row, cell: Cell, run: CellRun, settings: IoSettings) -> None:
        """What a disk row adds: files/s, CPU per GB, the thread-hop figures, the cache evidence."""
        rec, window = run.recording, run.window_s
        extras = rec.extras
        hops = [e["hop_us"] for e in extras if e.get("hop_us") is not None]
        evicted = [e["evicted"] for e in extras if "evicted" in e]
        cpu = rec.cpu_user_s + rec.cpu_sys_s
        row["work"] = None
        row["file_size"] = cell.file_size or 0
        row["cache"] = cell.cache
        row["files_per_s"] = round(rec.ops / window, 2)
        row["cpu_s_per_gb"] = round(cpu / (rec.bytes / 1e9), 3) if rec.bytes else None
        row["hop_us"] = round(sum(hops) / len(hops), 2) if hops else None
        row["hops_per_op"] = next((e["hops_per_op"] for e in extras if "hops_per_op" in e), 0)
        row["evicted"] = None if not evicted or None in evicted else all(evicted)
        row["written_files"] = sum(e.get("written_files", 0) for e in extras)
        row["write_budget_spent"] = any(e.get("budget_spent") for e in extras)
        row["in_memory"] = any(e.get("filesystem") in fileset.MEMORY_FILESYSTEMS for e in extras)


class _FileSets(Prepared):
    """One file set per size the cells read, generated (or reused) once for the run."""

    def __init__(self, settings: IoSettings, cells: list[Cell]) -> None:
        self.settings = settings
        sizes = sorted({c.file_size for c in cells if c.file_size is not None})
        root = Path(settings.file_dir).expanduser() if settings.file_dir else fileset.default_dir()
        self.sets: dict[int, fileset.FileSet] = {}
        for size in sizes:
            count = max(16, settings.file_set_bytes // size)
            self.sets[size] = fileset.generate(root, count, (size,), settings.file_content)
        kind = fileset.filesystem_of(root)
        self.metadata = {
            "root": str(root),
            "filesystem": kind,
            "in_memory": kind in fileset.MEMORY_FILESYSTEMS,
            "sets": {size_label(s): fs.describe() for s, fs in self.sets.items()},
            "note": "the disk may be cached by the host underneath this machine: a cold read "
            "here is a read the kernel had to ask the block device for, not necessarily a "
            "platter",
        }

    @contextlib.contextmanager
    def cell_spec(
        self, cell: Cell, common: dict[str, Any]
    ) -> Iterator[tuple[CellSpec, ServerHandle | None]]:
        assert cell.file_size is not None
        s = self.settings
        fs = self.sets[cell.file_size]
        writes = cell.workload == "file-write"
        scratch = fileset.scratch_dir(fs.directory.parent) if writes else None
        try:
            options = FileOptions(
                set_dir=str(fs.directory),
                chunk=s.chunk,
                cache=cell.cache or "warm",
                fsync=s.fsync,
                scratch=None if scratch is None else str(scratch),
                write_budget=s.write_budget,
            )
            target = Target("file", "localhost", 0, str(fs.directory))
            workload = WorkloadSettings(cell.workload, target, files=options.as_dict())
            yield CellSpec(workload=workload, **common), None
        finally:
            if scratch is not None:
                fileset.remove_scratch(scratch)


KINDS: dict[str, CellKind] = {
    kind.name: kind for kind in (NetworkCells(), DiskCells(), DbCells(), ServedCells())
}


def kind_of(workload: str) -> CellKind:
    return KINDS[protocol_of(workload).cells]
