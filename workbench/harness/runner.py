"""The parent side of a run: plan the cells, start what they need, run every cell in a fresh
worker, and assemble the result document.

Cells run one at a time: on a small machine two cells at once would measure each other. Rounds
are interleaved (asv's lesson): every cell runs once per round, each time in a fresh worker, so
slow drift of the machine spreads over all models instead of landing on whichever ran last, and
the rounds of a cell vary as separate runs do: its interval comes from them (see `rows`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from workbench import __version__
from workbench.errors import RunFailed, UsageError, interrupted
from workbench.harness.cell import Cell, CellRun, Observer, StartAgreement, run_cell
from workbench.harness.cell_kind_base import Pinning, Prepared
from workbench.harness.cell_kinds import kind_of
from workbench.harness.plan import kinds_in, plan_cells, validate
from workbench.harness.rows import summarise
from workbench.harness.settings import IoSettings, warm_limit
from workbench.interpreter_variants import resolve
from workbench.interpreters import Interpreter, child_env, gil_reenabled, label_of
from workbench.metadata import interpreter, machine
from workbench.models import model_class
from workbench.results import SCHEMA_VERSION, ResultDoc, Row, Stopped
from workbench.server_process import ServerHandle


@dataclass
class RunPlan:
    """What a run will do, decided before any cell starts: the same for a local run and a
    cluster's (which runs the cells elsewhere, see `workbench.cluster`)."""

    settings: IoSettings
    variants: list[Interpreter]
    cells: list[Cell]
    skipped: list[dict[str, str]]
    started: str


def plan_run(settings: IoSettings, observer: Observer) -> RunPlan:
    validate(settings)
    variants = resolve(settings.pythons, settings.env, observer.note, settings.allocators)
    cells, unable = on_this_machine(plan_cells(settings))
    cells, skipped = with_interpreters(cells, variants)
    skipped = unable + skipped
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return RunPlan(settings, variants, cells, skipped, started)


def local_pinning(settings: IoSettings) -> tuple[Pinning, int]:
    """This machine's pinning for a run, and the processes a processes model starts per cell."""
    pinning = Pinning.plan(settings.pin and settings.url is None)
    n_client_cpus = len(pinning.client_cpus or os.sched_getaffinity(0))
    return pinning, settings.procs or max(2, n_client_cpus)


def cell_common(plan: RunPlan, cell: Cell, procs: int) -> dict[str, Any]:
    """The spec fields every kind of cell shares."""
    requested = cell.clients or plan.settings.clients
    python = cell.python or plan.variants[0]
    return {
        "model": cell.model,
        "client": cell.client,
        "clients": model_class(cell.model)().effective_clients(requested),
        "timeout": plan.settings.timeout,
        "thread_stack": plan.settings.thread_stack,
        "procs": procs,
        "python": python.executable,
        "env": child_env(python.executable, dict(python.env)),
    }


def row_of(plan: RunPlan, cell: Cell, runs: list[CellRun], trust_cpus: int) -> Row:
    requested = cell.clients or plan.settings.clients
    row = summarise(cell, runs, plan.settings, requested, trust_cpus)
    # The rows of one run share it: their i-th rounds ran in one interleaved pass, so a
    # comparison between them pairs rounds (ranking.paired).
    row["metadata"] = {**row["metadata"], "run_id": plan.started}
    return row


def document(
    plan: RunPlan, rows: list[Row], stopped: Stopped | None, metadata: dict[str, Any]
) -> ResultDoc:
    """The result document of a run; `metadata` adds what only its executor knows."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "io",
        "partial": stopped is not None,
        "stopped": stopped,
        "metadata": {
            "tool": f"workbench {__version__}",
            "started_at": plan.started,
            "command": sys.argv,
            "settings": asdict(plan.settings),
            "machine": machine(),
            "parent": interpreter(),
            "warm_limit_s": warm_limit(plan.settings),
            "interpreters": [v.as_dict() for v in plan.variants],
            "skipped": plan.skipped,
            **metadata,
        },
        "results": rows,
    }


# Errors that mean the run was set up wrong, not that a model did badly: with every operation of
# the first cell failing so, the run stops with what fixes it instead of measuring failures.
CONFIG_ERRORS = {
    "tls-verify": "the server's certificate did not verify: pass the CA that signed it with "
    "--ca-file PATH",
    "refused": "every connection was refused: is the server up at the address given (--url, "
    "--pg-url, --redis-url)?",
    "auth": "the server refused the credentials: check the user and password in --pg-url or "
    "--redis-url",
}


def refuse_misconfigured(run: CellRun) -> None:
    """Stop (UsageError) if the first cell's round made no operation and failed only with one
    configuration error."""
    errors = run.recording.errors
    if run.recording.ops == 0 and len(errors) == 1:
        (kind,) = errors
        if kind in CONFIG_ERRORS:
            raise UsageError(f"{CONFIG_ERRORS[kind]} ({errors[kind]:,} operations failed: {kind})")


def refuse_gil_reenabled(run: CellRun) -> None:
    """A free-threaded worker whose GIL an import switched back on measured a GIL build: its
    figures would be printed as free-threaded ones. Stop instead (UsageError)."""
    if gil_reenabled(run.metadata):
        raise UsageError(
            f"a {label_of(run.metadata)} worker ran with its GIL switched back on by an extension "
            "it imported (`workbench pythons` names it): a free-threaded figure measured with the "
            "GIL on is refused; --env PYTHON_GIL=1 measures that build with its GIL on on purpose"
        )


def run_io(
    settings: IoSettings,
    observer: Observer | None = None,
    servers: dict[str, ServerHandle] | None = None,
) -> ResultDoc:
    """Run every planned cell on this machine; return the whole result document.

    `servers` (protocol -> running mock server) lets a caller reuse servers it started itself,
    as the benchmark scripts do to measure a reference tool against the same server.
    """
    observer = observer or Observer()
    plan = plan_run(settings, observer)
    cells = plan.cells
    pinning, procs = local_pinning(settings)
    runs: dict[Cell, list[CellRun]] = {c: [] for c in cells}
    kind_metadata: dict[str, Any] = {"servers": {}, "disk": None}
    observer.start(len(cells))  # done() comes once a cell, after its last round

    def row(cell: Cell) -> Row:
        return row_of(plan, cell, runs[cell], kind_of(cell.workload).trust_cpus(pinning))

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
                    if round_ == 0 or not collapsed(runs[cell][0]):
                        observer.cell(index, cell, round_)
                        kind = kind_of(cell.workload)
                        common = cell_common(plan, cell, procs)
                        with prepared[kind.name].cell_spec(cell, common) as (spec, server):
                            cpus = kind.client_cpus(pinning)
                            runs[cell].append(run_cell(spec, settings, server, cpus, observer))
                        if index == 1:
                            refuse_misconfigured(runs[cell][0])
                        if round_ == 0:
                            refuse_gil_reenabled(runs[cell][0])
                    if round_ == settings.repeat - 1:
                        observer.done(cell, row(cell))
    except KeyboardInterrupt as exc:
        stopped = interrupted(exc)
    except RunFailed as exc:
        stopped = {"reason": str(exc), "exit_code": 1}
    return document(
        plan,
        [row(c) for c in cells if runs[c]],
        stopped,
        {
            "pinning": {
                "server_cpus": sorted(pinning.server_cpus) if pinning.server_cpus else None,
                "client_cpus": sorted(pinning.client_cpus) if pinning.client_cpus else None,
            },
            "processes_per_cell": procs,
            **kind_metadata,
        },
    )


def collapsed(first: CellRun) -> bool:
    """Whether a cell's first round never got its users going (some never finished an operation
    in the whole round, or none completed any in the window): its row reports a collapse, not a
    rate to rank, so the later rounds, each as long as the warm-up limit, are not run. Users that
    were slow to warm but then ran are a ramp, not a collapse: their cell keeps its rounds."""
    rec = first.recording
    return rec.ops == 0 or rec.users_started < rec.clients


def run_alone(
    plan: RunPlan,
    cell: Cell,
    halt: Callable[[], None] | None = None,
    agree: StartAgreement | None = None,
) -> tuple[CellRun, dict[str, Any], int]:
    """One run of one cell on this machine, with what its kind needs (its own mock server, its
    file set) started for it and stopped after: how a cluster's host runs each cell it is sent.
    Returns the run, the kind's metadata, and the CPUs the client could use (for trust)."""
    settings = plan.settings
    pinning, procs = local_pinning(settings)
    kind = kind_of(cell.workload)
    with contextlib.ExitStack() as stack:
        prepared = kind.prepare(settings, [cell], pinning, stack, None)
        with prepared.cell_spec(cell, cell_common(plan, cell, procs)) as (spec, server):
            cpus = kind.client_cpus(pinning)
            run = run_cell(spec, settings, server, cpus, Observer(), halt, agree)
    metadata = {kind.metadata_key: prepared.metadata, "processes_per_cell": procs}
    return run, metadata, kind.trust_cpus(pinning)


def on_this_machine(cells: list[Cell]) -> tuple[list[Cell], list[dict[str, str]]]:
    """The cells whose client this machine can run, and the others, each with the reason (io_uring
    where the kernel, its settings or a seccomp filter refuse it)."""
    from workbench.clients import unavailable

    out, skipped = [], []
    for cell in cells:
        reason = unavailable(cell.client)
        if reason is None:
            out.append(cell)
        else:
            skipped.append({"cell": cell.label, "reason": reason})
    if not out:
        reasons = "; ".join(f"{s['cell']}: {s['reason']}" for s in skipped)
        raise UsageError(f"no cell can run on this machine: {reasons}")
    return out, skipped


def with_interpreters(
    cells: list[Cell], variants: list[Interpreter]
) -> tuple[list[Cell], list[dict[str, str]]]:
    """Every cell under every interpreter, interleaved (each cell's variants side by side, so
    drift hits them alike), and the ones an interpreter cannot run, each with the reason."""
    out, skipped = [], []
    for cell in cells:
        for variant in variants:
            lacking = variant.lacks(needs(cell))
            refused = kind_of(cell.workload).refusal(cell, variant)
            if lacking or refused:
                skipped.append(
                    {
                        "cell": cell.label,
                        "python": variant.name,
                        "reason": refused or f"needs {', '.join(lacking)}",
                    }
                )
            else:
                out.append(replace(cell, python=variant) if len(variants) > 1 else cell)
    if not out:
        reasons = "; ".join(f"{s['cell']} under {s['python']}: {s['reason']}" for s in skipped)
        raise UsageError(f"no cell can run under the interpreters given: {reasons}")
    return out, skipped


def needs(cell: Cell) -> list[str]:
    """The modules a cell's worker imports beyond the standard library and the core ones."""
    from workbench.clients import FILE_PREFIX, client_entry

    own = kind_of(cell.workload).needs(cell)
    if own is not None:
        return own
    modules = list(model_class(cell.model).requires)
    if not cell.client.startswith(FILE_PREFIX):
        package = client_entry(cell.client).package
        if package:
            modules.append(package)
    return list(dict.fromkeys(modules))
