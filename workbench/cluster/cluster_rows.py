"""What came back from the hosts, as rows (pure): one row per host that ran a cell, or one merged
row for a spread cell, in the plan's order, with the flags only a cluster raises (`worker-lost`,
`shared-machine`, `window-skew`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.cluster.merge import (
    concurrent_on_one_machine,
    hosts_over_rounds,
    merge_spread,
    skewed_hosts,
)
from workbench.harness.cell import Cell, CellRun
from workbench.harness.runner import RunPlan, row_of
from workbench.results import Row


@dataclass
class Job:
    cell: Cell
    round_: int
    key: str


@dataclass
class Received:
    """What came back for one job: each host's run (several for a spread cell)."""

    runs: list[CellRun] = field(default_factory=list)
    trust_cpus: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # hosts lost under this job
    given_up: bool = False
    reruns: list[dict[str, Any]] = field(default_factory=list)  # re-run elsewhere after a loss


def cluster_rows(
    plan: RunPlan,
    jobs: list[Job],
    received: dict[str, Received],
    machine_of: dict[str, str],
    spread: int | None,
) -> tuple[list[Row], list[dict[str, Any]]]:
    """The rows of what came back (pure), in the plan's order, with the flags only a cluster
    raises; and the jobs given up after losing their workers."""
    rows: list[Row] = []
    lost: list[dict[str, Any]] = []
    # Runs measured at once by two workers of one machine.
    flat = [(key, run) for key, got in received.items() for run in got.runs]
    facts = [
        (run.host or "?", machine_of.get(run.host or "?", "?"), run.wall_window) for _, run in flat
    ]
    shared_keys = {flat[i][0] for i in concurrent_on_one_machine(facts)}
    for i, cell in enumerate(plan.cells):
        keys = [j.key for j in jobs if j.key.startswith(f"c{i}-") and j.key in received]
        flags = []
        given_up = [k for k in keys if received[k].given_up]
        if given_up:
            flags.append("worker-lost")
            lost += [{"cell": cell.label, "job": k, "hosts": received[k].lost} for k in given_up]
        if any(k in shared_keys for k in keys):
            flags.append("shared-machine")
        rows += rows_of(plan, cell, [received[k] for k in keys], flags, spread)
    return rows, lost


def rows_of(
    plan: RunPlan, cell: Cell, got: list[Received], flags: list[str], spread: int | None
) -> list[Row]:
    """A spread cell: one row of the merged runs. Otherwise one row per host that ran it (a row
    never mixes machines)."""
    out: list[Row] = []
    if spread is not None:
        merged = [merge_spread(g.runs) for g in got if g.runs]
        if not merged:
            return out
        cpus = max(sum(g.trust_cpus.values()) for g in got if g.runs)
        row = row_of(plan, cell, merged, cpus)
        row["metadata"] = dict(row["metadata"])
        row["metadata"].pop("per_host", None)  # the median round's; every round's follow
        per_host = hosts_over_rounds([m.metadata.get("per_host", []) for m in merged])
        row["per_host"] = per_host
        row["host"] = ",".join(str(h["host"]) for h in per_host)
        if skewed_hosts(per_host):
            row["flags"].append("window-skew")
        row["flags"] += flags
        return [row]
    by_host: dict[str, list[CellRun]] = {}
    host_cpus: dict[str, int] = {}
    for g in got:
        for run in g.runs:
            by_host.setdefault(run.host or "?", []).append(run)
        host_cpus.update(g.trust_cpus)
    for host in sorted(by_host):
        row = row_of(plan, cell, by_host[host], host_cpus.get(host, 1))
        row["host"] = host
        row["flags"] += flags
        out.append(row)
    return out
