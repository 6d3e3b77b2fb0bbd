"""The parent side of a run: plan the cells, start what they need, run every cell in a fresh
worker, and assemble the result document.

Cells run one at a time: on a small machine two cells at once would measure each other. With
`repeat > 1`, rounds are interleaved (asv's lesson): every cell runs once per round, so slow drift
of the machine spreads over all models instead of landing on whichever ran last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from dataclasses import asdict
from typing import Any

from workbench import __version__
from workbench.errors import RunFailed
from workbench.harness.cell import Cell, CellRun, Observer, run_cell
from workbench.harness.cell_kinds import Pinning, Prepared, kind_of
from workbench.harness.plan import kinds_in, plan_cells, validate
from workbench.harness.rows import summarise
from workbench.harness.settings import IoSettings, warm_limit, worker_env
from workbench.metadata import interpreter, machine
from workbench.models import model_class
from workbench.results import SCHEMA_VERSION, ResultDoc, Row, Stopped
from workbench.server_process import ServerHandle


def run_io(
    settings: IoSettings,
    observer: Observer | None = None,
    servers: dict[str, ServerHandle] | None = None,
) -> ResultDoc:
    """Run every planned cell; return the whole result document.

    `servers` (protocol -> running mock server) lets a caller reuse servers it started itself,
    as the benchmark scripts do to measure a reference tool against the same server.
    """
    observer = observer or Observer()
    validate(settings)
    cells = plan_cells(settings)
    pinning = Pinning.plan(settings.pin and settings.url is None)
    n_client_cpus = len(pinning.client_cpus or os.sched_getaffinity(0))
    procs = settings.procs or max(2, n_client_cpus)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    runs: dict[Cell, list[CellRun]] = {c: [] for c in cells}
    kind_metadata: dict[str, Any] = {"servers": {}, "disk": None}
    observer.start(len(cells) * settings.repeat)

    def row_of(cell: Cell) -> Row:
        kind = kind_of(cell.workload)
        requested = cell.clients or settings.clients
        return summarise(cell, runs[cell], settings, requested, kind.trust_cpus(pinning))

    # Ctrl-C or a dying server/worker stops the run; what was measured is kept and marked.
    stopped: Stopped | None = None
    try:
        with contextlib.ExitStack() as stack:
            prepared: dict[str, Prepared] = {}
            for kind in kinds_in(settings):
                mine = [c for c in cells if kind_of(c.workload) is kind]
                prepared[kind.name] = kind.prepare(settings, mine, pinning, stack, servers)
                kind_metadata[kind.metadata_key] = prepared[kind.name].metadata
            index = 0
            for round_ in range(settings.repeat):
                for cell in cells:
                    index += 1
                    observer.cell(index, cell, round_)
                    kind = kind_of(cell.workload)
                    requested = cell.clients or settings.clients
                    common: dict[str, Any] = {
                        "model": cell.model,
                        "client": cell.client,
                        "clients": model_class(cell.model)().effective_clients(requested),
                        "timeout": settings.timeout,
                        "procs": procs,
                        "python": settings.python,
                        "env": worker_env(settings),
                    }
                    with prepared[kind.name].cell_spec(cell, common) as (spec, server):
                        cpus = kind.client_cpus(pinning)
                        runs[cell].append(run_cell(spec, settings, server, cpus, observer))
                    if round_ == settings.repeat - 1:
                        observer.done(cell, row_of(cell))
    except KeyboardInterrupt:
        stopped = {"reason": "interrupted (Ctrl-C)", "exit_code": 130}
    except RunFailed as exc:
        stopped = {"reason": str(exc), "exit_code": 1}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "io",
        "partial": stopped is not None,
        "stopped": stopped,
        "metadata": {
            "tool": f"workbench {__version__}",
            "started_at": started,
            "command": sys.argv,
            "settings": asdict(settings),
            "machine": machine(),
            "parent": interpreter(),
            "pinning": {
                "server_cpus": sorted(pinning.server_cpus) if pinning.server_cpus else None,
                "client_cpus": sorted(pinning.client_cpus) if pinning.client_cpus else None,
            },
            "processes_per_cell": procs,
            "warm_limit_s": warm_limit(settings),
            **kind_metadata,
        },
        "results": [row_of(c) for c in cells if runs[c]],
    }
