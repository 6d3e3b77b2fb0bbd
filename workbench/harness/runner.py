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
from dataclasses import asdict, replace
from typing import Any

from workbench import __version__
from workbench.errors import RunFailed, UsageError
from workbench.harness.cell import Cell, CellRun, Observer, run_cell
from workbench.harness.cell_kinds import Pinning, Prepared, kind_of
from workbench.harness.plan import kinds_in, plan_cells, validate
from workbench.harness.rows import summarise
from workbench.harness.settings import IoSettings, warm_limit
from workbench.interpreters import Interpreter, child_env, resolve
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
    variants = resolve(settings.pythons, settings.env, observer.note)
    cells, skipped = with_interpreters(plan_cells(settings), variants)
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
                    python = cell.python or variants[0]
                    common: dict[str, Any] = {
                        "model": cell.model,
                        "client": cell.client,
                        "clients": model_class(cell.model)().effective_clients(requested),
                        "timeout": settings.timeout,
                        "procs": procs,
                        "python": python.executable,
                        "env": child_env(python.executable, dict(python.env)),
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
            "interpreters": [v.as_dict() for v in variants],
            "skipped": skipped,
            **kind_metadata,
        },
        "results": [row_of(c) for c in cells if runs[c]],
    }


def with_interpreters(
    cells: list[Cell], variants: list[Interpreter]
) -> tuple[list[Cell], list[dict[str, str]]]:
    """Every cell under every interpreter, interleaved (each cell's variants side by side, so
    drift hits them alike), and the ones an interpreter cannot run, each with the reason."""
    if len(variants) == 1 and not variants[0].missing:
        return cells, []
    out, skipped = [], []
    for cell in cells:
        for variant in variants:
            lacking = variant.lacks(needs(cell))
            if lacking:
                skipped.append({"cell": cell.label, "python": variant.name,
                                "reason": f"needs {', '.join(lacking)}"})  # fmt: skip
            else:
                out.append(replace(cell, python=variant) if len(variants) > 1 else cell)
    if not out:
        reasons = "; ".join(f"{s['cell']} under {s['python']}: {s['reason']}" for s in skipped)
        raise UsageError(f"no cell can run under the interpreters given: {reasons}")
    return out, skipped


def needs(cell: Cell) -> list[str]:
    """The modules a cell's worker imports beyond the standard library and the core ones."""
    from workbench.clients import FILE_PREFIX, client_entry

    modules = list(model_class(cell.model).requires)
    if not cell.client.startswith(FILE_PREFIX):
        package = client_entry(cell.client).package
        if package:
            modules.append(package)
    return list(dict.fromkeys(modules))
