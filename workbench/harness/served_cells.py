"""The served cells: one small service under each server configuration (uvicorn, hypercorn,
granian, gunicorn, waitress), loaded by the workbench's own fastest client.

Each round of a cell starts its server afresh, pinned to the server's CPU, from the command line
its users type, and stops it after; the load (uvloop with the raw client, the cheapest per request
the workbench has) and the downstream mock server share the other CPUs. The row is the server's:
its name in the model column, its app in the client column, its CPU per request, peak RSS per
worker and threads, its concurrency bound by Little's law, and its event loop's lag.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from workbench.cell_spec import CellSpec
from workbench.errors import UsageError
from workbench.harness.cell import Cell, CellRun
from workbench.harness.cell_kind_base import CellKind, Pinning, Prepared, require_open_files
from workbench.harness.settings import IoSettings
from workbench.interpreters import python_label
from workbench.results import Row
from workbench.served import configs
from workbench.server_process import ServerHandle, free_port, run_server
from workbench.workloads import Target, WorkloadSettings

if TYPE_CHECKING:
    from workbench.interpreters import Interpreter
    from workbench.served.process import ServedHandle

LOAD_MODEL, LOAD_CLIENT = "uvloop", "raw"
PORT_TRIES = 3
# How the servers say the port was taken (gunicorn: "Can't connect to"; the rest: EADDRINUSE).
PORT_TAKEN = ("address already in use", "can't connect to", "errno 98")


def scenario_of(workload: str) -> str:
    return workload.removeprefix("served-")


class ServedCells(CellKind):
    name = "served"
    metadata_key = "served"

    def __init__(self) -> None:
        # Per cell, a sample of the server's tree after each round (peak RSS, threads, its
        # worker's facts), read by complete_row: the runner keeps only the load's runs.
        self.samples: dict[Cell, list[dict[str, Any]]] = {}

    def validate(self, settings: IoSettings) -> None:
        if settings.downstream_latency <= 0 and any(
            scenario_of(w) != "hello" for w in settings.workloads
        ):
            raise UsageError("--downstream-latency must be greater than 0")
        if settings.server_workers < 1 or settings.server_threads < 1:
            raise UsageError("--workers and --threads must be at least 1")
        require_open_files(settings.clients)

    def plan(self, settings: IoSettings, workload: str) -> list[Cell]:
        from workbench.served.apps import ASYNC_ONLY

        if not settings.pythons:  # this interpreter runs the servers: say what is missing now
            _check_installed([configs.CONFIGS[n] for n in settings.served])

        scenario = scenario_of(workload)
        cells = []
        for name in settings.served:
            config = configs.CONFIGS.get(name)
            interface = config.interface if config else "asgi"
            if scenario in ASYNC_ONLY and interface != "asgi":
                continue  # a WSGI handler has no event loop to block
            cells.append(Cell(LOAD_MODEL, LOAD_CLIENT, workload, server=name))
        return cells

    def needs(self, cell: Cell) -> list[str]:
        """What the server's interpreter must import (the load runs on this one)."""
        return configs.CONFIGS[cell.server or ""].imports

    def refusal(self, cell: Cell, variant: Interpreter) -> str | None:
        config = configs.CONFIGS[cell.server or ""]
        if variant.free_threaded and not variant.gil_expected and config.gil_modules:
            return (
                f"imports {', '.join(config.gil_modules)}, which switch a free-threaded "
                "interpreter's GIL back on: a GIL-off row would measure a GIL build"
            )
        return None

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
        self.samples = {c: [] for c in cells}
        return _Served(self, settings, cells, pinning, stack)

    def complete_row(self, row: Row, cell: Cell, run: CellRun, settings: IoSettings) -> None:
        config = configs.CONFIGS[cell.server or ""]
        scenario = scenario_of(cell.workload)
        samples = self.samples.get(cell, [])
        fields: dict[str, Any] = row  # type: ignore[assignment]  # its keys are Row's own
        fields["load"] = f"{cell.model} · {cell.client} · {row.get('python', '?')}"
        if samples:  # the row's interpreter is the server's; the load ran under this one
            facts = samples[0]["facts"]
            fields["python"] = python_label(
                facts.get("python", "?"), bool(facts.get("free_threaded")), facts.get("gil_enabled")
            )
        fields["model"], fields["client"] = config.name, settings.served_app or config.app_name
        fields["served"] = {
            "server": config.server,
            "family": config.family,
            "interface": config.interface,
            "scenario": scenario,
            "workers": settings.server_workers,
            "threads": settings.server_threads if config.family == "threads" else None,
            "version": samples[0]["version"] if samples else None,
            "python": samples[0]["facts"].get("python") if samples else None,
            "gil_enabled": samples[0]["facts"].get("gil_enabled") if samples else None,
        }
        fields["work"] = settings.served_work if scenario == "work" else None
        server_cpu = row.get("server_cpu_util")
        if server_cpu is not None and row["ops_per_s"]:
            fields["server_cpu_us_per_req"] = round(server_cpu / row["ops_per_s"] * 1e6, 2)
        if samples:
            fields["server_peak_rss_mb"] = round(max(s["peak_rss_kb"] for s in samples) / 1024, 1)
            fields["server_threads"] = max(s["threads"] for s in samples)
            shares = [s["downstream_util"] for s in samples if s.get("downstream_util") is not None]
            if shares:
                fields["downstream_cpu_util"] = round(statistics.median(shares), 4)
        late = fields.pop("timer_late", None)
        fields["loop_lag"] = late  # the app's lag probe, not a delayed write of the mock server
        if scenario != "hello":
            limit, by = concurrency_limit(config, scenario, settings)
            bound, by = littles_bound(row["clients"], limit, by, settings.downstream_latency)
            fields["bound_ops_per_s"] = round(bound, 2)
            fields["bound_share"] = round(row["ops_per_s"] / bound, 4)
            fields["bound_by"] = by


class _Served(Prepared):
    """The downstream mock server for the run, and each round's server under test."""

    def __init__(
        self,
        kind: ServedCells,
        settings: IoSettings,
        cells: list[Cell],
        pinning: Pinning,
        stack: contextlib.ExitStack,
    ) -> None:
        self.kind, self.settings, self.pinning = kind, settings, pinning
        self.downstream: ServerHandle | None = None
        from workbench.served.apps import version_of

        # This interpreter's: each row carries what its server's own interpreter imported.
        self.versions = {
            c.server: version_of(configs.CONFIGS[c.server or ""].server) for c in cells
        }
        if any(scenario_of(c.workload) != "hello" for c in cells):
            self.downstream = stack.enter_context(
                run_server(
                    "http",
                    cpus=pinning.client_cpus,
                    latency=settings.downstream_latency,
                    loop=settings.server_loop,
                )
            )
        self.lag_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="workbench-lag-"))
        self.metadata = {
            "downstream": None
            if self.downstream is None
            else {"url": self.downstream.url, "latency_ms": settings.downstream_latency * 1000},
            "servers": dict(self.versions),
            "workers": settings.server_workers,
            "threads": settings.server_threads,
            "app": settings.served_app,
        }

    @contextlib.contextmanager
    def cell_spec(
        self, cell: Cell, common: dict[str, Any]
    ) -> Iterator[tuple[CellSpec, ServerHandle | None]]:
        with contextlib.ExitStack() as stack:
            server = self._start(stack, cell, common)
            target = Target("http", server.host, server.port, "/")
            workload = WorkloadSettings(cell.workload, target, body_size=None)
            load = {**common, "python": sys.executable, "env": {}}  # the load: always this one
            before = self._downstream_cpu()
            yield CellSpec(workload=workload, **load), server
            sample: dict[str, Any] = {**server.sample(), "facts": server.facts}
            # The version the server's own interpreter imported, not this one's.
            sample["version"] = server.facts.get("versions", {}).get(
                configs.CONFIGS[cell.server or ""].server
            )
            after = self._downstream_cpu()
            if before is not None and after is not None and after[1] > before[1]:
                sample["downstream_util"] = (after[0] - before[0]) / (after[1] - before[1])
            self.kind.samples.setdefault(cell, []).append(sample)

    def _start(
        self, stack: contextlib.ExitStack, cell: Cell, common: dict[str, Any]
    ) -> ServedHandle:
        """The cell's server, under the cell's interpreter, on a free port: a port found free
        can be taken by another process before the server binds it, so a server that could not
        bind is started again on another (with --port, never)."""
        from workbench.served.apps import LAG_PERIOD_S
        from workbench.served.process import ServedStartError, run_served

        config = configs.CONFIGS[cell.server or ""]
        s = self.settings
        host = "127.0.0.1"
        for attempt in range(PORT_TRIES):
            port = free_port(host) if s.server_port == 0 else s.server_port
            lag = os.path.join(self.lag_dir, f"{config.name}-{port}")
            env = {**os.environ, **common["env"]}
            env.update(
                WORKBENCH_SCENARIO=scenario_of(cell.workload),
                WORKBENCH_DOWNSTREAM="" if self.downstream is None else self.downstream.url,
                WORKBENCH_WORK_US=str(_work_us(s.served_work)),
                WORKBENCH_FAIL_EVERY=str(s.fail_every),
                WORKBENCH_LAG_FILE=lag,
            )
            app = s.served_app or configs.APPS[config.app_name]
            cmd = config.command(
                common["python"], app, host, port, s.server_workers, s.server_threads
            )
            try:
                server = stack.enter_context(
                    run_served(config.name, cmd, env, host, port, self.pinning.server_cpus)
                )
            except ServedStartError as exc:
                taken = any(w in str(exc).lower() for w in PORT_TAKEN)
                if not taken or s.server_port or attempt == PORT_TRIES - 1:
                    raise
                continue
            server.timer_stats, server.timer_delay_s = lag, LAG_PERIOD_S
            return server
        raise AssertionError("unreachable")

    def _downstream_cpu(self) -> tuple[float, float] | None:
        import time

        if self.downstream is None:
            return None
        return self.downstream.cpu_seconds(), time.monotonic()


# anyio.to_thread's default limiter: the offloaded scenario can have this many calls in flight.
OFFLOAD_THREADS = 40


def concurrency_limit(
    config: configs.ServerConfig, scenario: str, settings: IoSettings
) -> tuple[int | None, str]:
    """How many requests the row can have waiting on the downstream at once, and what sets it
    (None: as many as there are clients)."""
    workers = settings.server_workers
    if scenario == "blocking":  # the loop itself waits: one request at a time per worker
        return workers, "one blocked loop per worker"
    if scenario == "offloaded":
        return OFFLOAD_THREADS * workers, f"anyio's {OFFLOAD_THREADS} threads per worker"
    limit = config.concurrency(settings.server_threads, workers)
    return limit, "threads x workers"


def littles_bound(clients: int, limit: int | None, by: str, wait_s: float) -> tuple[float, str]:
    """Little's law: at most min(clients, limit) requests wait `wait_s` each at once."""
    if limit is None or limit >= clients:
        return clients / wait_s, "clients"
    return limit / wait_s, by


def _check_installed(chosen: list[configs.ServerConfig]) -> None:
    import importlib.util

    for config in chosen:
        missing = [m for m in config.imports if importlib.util.find_spec(m) is None]
        if missing:
            raise UsageError(
                f"{config.name} needs {', '.join(missing)}, not installed: "
                f"pip install 'workbench[{configs.EXTRA}]'"
            )


def _work_us(text: str | None) -> float:
    if not text:
        return 0.0
    from workbench.work import parse_work

    kind, seconds = parse_work(text)
    if kind != "python":
        raise UsageError("servers --work takes python:DURATION (pure-Python work per request)")
    return seconds * 1e6
