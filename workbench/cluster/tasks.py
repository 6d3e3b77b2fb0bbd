"""What a Dask worker runs: one cell (or one GIL experiment) on its host, as a fresh process there,
exactly as it runs locally. Functions here are sent by reference, so every worker must have this
same workbench (the engine checks it).

The parent and the tasks talk through the scheduler's metadata store (`Client.set_metadata`),
under the run's id: a stop flag the tasks poll (Ctrl-C), the hosts each task was tried on (a
task lost with its worker is re-run once, then given up), and, for a spread cell, each host's
"warm" and the one start time the parent picks for all of them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from workbench.errors import RunFailed

if TYPE_CHECKING:
    from distributed import Client

    from workbench.harness.cell import Cell, StartAgreement
    from workbench.harness.runner import RunPlan

HALT_POLL_S = 0.25
AGREE_POLL_S = 0.02
MAX_TRIES = 2  # a first run and one re-run after its worker was lost


def _client_and_host() -> tuple[Client, str]:
    from distributed import get_client, get_worker

    return get_client(), str(get_worker().name)


class Halt:
    """Raises once the parent set the run's stop flag; asks the scheduler at most every
    HALT_POLL_S (the cell's timeline calls it every 0.1 s)."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.next = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + HALT_POLL_S
        if self.client.get_metadata([self.run_id, "stop"], default=False):
            raise RunFailed("the run was stopped by its parent")


def wall_offset() -> float:
    """Wall-clock seconds minus monotonic seconds, on this host."""
    return time.time() - time.monotonic()


def _agreement(
    client: Client, run_id: str, group: str, host: str, halt: Halt, wait_s: float
) -> StartAgreement:
    """Say this host is warm (with the earliest start it could take, on its wall clock), then
    wait for the start the parent picks for every host of the group."""
    path = [run_id, "spread", group]

    def agree(earliest_ns: int) -> int:
        client.set_metadata([*path, "warm", host], earliest_ns / 1e9 + wall_offset())
        deadline = time.monotonic() + wait_s
        while (start := client.get_metadata([*path, "start"], default=None)) is None:
            halt()
            if time.monotonic() > deadline:
                raise RunFailed(f"{host} had no common start for {group} within {wait_s:.0f}s")
            time.sleep(AGREE_POLL_S)
        return int((float(start[host]) - wall_offset()) * 1e9)

    return agree


def cell_task(
    plan: RunPlan, cell: Cell, run_id: str, key: str, group: str | None
) -> dict[str, Any]:
    """One run of `cell` on this host; what the parent needs to build its row. `group` names
    the spread cell's round this task is one host of (None: not spread)."""
    from workbench.harness.runner import run_alone
    from workbench.harness.settings import warm_limit
    from workbench.metadata import interpreter, library_versions, machine

    from .engine import machine_id

    client, host = _client_and_host()
    tried: list[str] = list(client.get_metadata([run_id, "tried", key], default=[]))
    # A spread host cannot be re-run into a common window that has already passed.
    if len(tried) >= (1 if group is not None else MAX_TRIES):
        return {"key": key, "host": host, "lost": tried}
    client.set_metadata([run_id, "tried", key], [*tried, host])
    # Say "running" before the first look at the stop flag: a parent that stops the run and then
    # sees no task running can be sure that none will start a cell after it looked.
    client.set_metadata([run_id, "running", key], True)
    try:
        halt = Halt(client, run_id)
        halt()
        agree = None
        if group is not None:
            wait_s = warm_limit(plan.settings) + plan.settings.warmup + 60.0
            agree = _agreement(client, run_id, group, host, halt, wait_s)
        run, kind_metadata, trust_cpus = run_alone(plan, cell, halt, agree)
    finally:
        client.set_metadata([run_id, "running", key], False)
    run.host = host
    return {
        "key": key,
        "host": host,
        "run": run.to_dict(),
        "trust_cpus": trust_cpus,
        "lost_on": tried,
        "host_metadata": {
            "machine": machine(),
            "parent": interpreter(),
            "libraries": library_versions(),
            "machine_id": machine_id(),
            **kind_metadata,
        },
    }


def experiment_task(python: str | None, number: int) -> dict[str, Any]:
    """One GIL experiment on this host (see `workbench.gil.lab.run_experiment`), under `python`
    or, if None, the interpreter this worker runs."""
    import sys

    from workbench.gil.lab import run_experiment
    from workbench.metadata import machine

    _, host = _client_and_host()
    doc = run_experiment(python or sys.executable, number)
    doc["host_machine"] = machine()
    return {"host": host, "doc": doc}
