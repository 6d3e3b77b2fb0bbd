"""What does running the cells on a Dask cluster cost, against running them here?

The same 12 cells (uvloop, asyncio, trio and threads, raw clients, on http, http-upload and echo)
run as a local `io` run and through `--cluster` on a local Dask scheduler with ONE worker (so the
cluster also runs one cell at a time, and the difference is the dispatch alone: connecting, the
checks, the clock offsets, Dask's task round trips, each task starting its own mock server, the
results coming back). Rounds alternate local and cluster, so drift hits both alike; the scheduler
and worker are started once, outside the timing, as a user's cluster would be.

The overhead is (cluster wall time - local wall time) / cluster wall time, per round; the table
gives the median and the range. Target: at most 10%.

    python -m scripts.bench_cluster [--rounds 3] [--duration 2] [--quick]
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from scripts import _script
from workbench.cluster.dispatch import run_io_on_cluster
from workbench.cluster.local import local_cluster
from workbench.errors import RunFailed, UsageError
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars

TARGET = 0.10
MODELS = ["uvloop", "asyncio", "trio", "threads"]
WORKLOADS = ["http", "http-upload", "echo"]


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--rounds", type=int, default=3, help="local and cluster runs, alternating")
    p.add_argument("--duration", type=float, default=2.0, help="each cell's window (s)")
    p.add_argument("--clients", type=int, default=100)
    a = p.parse_args()
    # One round a cell: this measures the wall time of a run here against on a cluster, rounds
    # of its own (--rounds), and ranks nothing.
    settings = IoSettings(
        models=MODELS,
        libs=["raw"],
        workloads=WORKLOADS,
        clients=a.clients,
        duration=a.duration,
        repeat=1,
    )
    if a.quick:  # a smoke run: one workload (4 cells), one round
        settings, a.rounds = replace(_script.quick(settings), workloads=["http"]), 1
    if a.rounds < 1:
        raise UsageError("--rounds must be at least 1")
    out = _script.out_dir(a, "bench-cluster")
    walls: dict[str, list[float]] = {"local": [], "cluster": []}
    cells = 0
    with local_cluster(1) as cluster:
        for round_ in range(a.rounds):
            for where in ("local", "cluster") if round_ % 2 == 0 else ("cluster", "local"):
                _script.console().print(f"round {round_ + 1}: {where}", highlight=False)
                t0 = time.monotonic()
                if where == "local":
                    run = run_io(replace(settings))
                else:
                    run = run_io_on_cluster(replace(settings), cluster.address)
                walls[where].append(time.monotonic() - t0)
                _script.stop_if_stopped(f"{where} round {round_ + 1}", run)
                cells = len(run["results"])
                errors = sum(r["errors"] for r in run["results"])
                if errors:
                    raise RunFailed(f"the {where} run had {errors} errors")
    shares = [(c - lo) / c for lo, c in zip(walls["local"], walls["cluster"], strict=True)]
    per_cell = [
        (c - lo) / cells * 1000 for lo, c in zip(walls["local"], walls["cluster"], strict=True)
    ]
    median = statistics.median(shares)

    def spread(values: list[float], fmt: str) -> str:
        low, high = fmt.format(min(values)), fmt.format(max(values))
        return f"{fmt.format(statistics.median(values))} [{low} to {high}]"

    _script.table(
        f"{cells} cells ({', '.join(MODELS)} × {', '.join(WORKLOADS)}, raw clients, "
        f"{settings.clients} clients, {settings.duration:g}s windows), {a.rounds} rounds; "
        "cluster: 1 local Dask worker",
        ["run", "wall s, median (range)", "per cell s", "dispatch overhead"],
        [
            [
                "local",
                spread(walls["local"], "{:.2f}"),
                f"{statistics.median(walls['local']) / cells:.2f}",
                "-",
            ],
            [
                "--cluster",
                spread(walls["cluster"], "{:.2f}"),
                f"{statistics.median(walls['cluster']) / cells:.2f}",
                f"{spread([s * 100 for s in shares], '{:.1f}')} % of wall time, "
                f"{spread(per_cell, '{:.0f}')} ms per cell",
            ],
        ],
    )
    verdict = "meets" if median <= TARGET else "MISSES"
    print(
        f"dispatch overhead: {median * 100:.1f}% of the cluster run's wall time "
        f"({verdict} the {TARGET * 100:.0f}% target)"
    )
    plots = plot_bars(
        {"wall time": {"local": walls["local"], "--cluster": walls["cluster"]}},
        out / "bench-cluster",
        xlabel=f"seconds for the same {cells} cells (whiskers: range over rounds)",
        title="one run here against the same run through a Dask cluster",
    )
    doc = {
        "kind": "bench-cluster",
        "cells": cells,
        "rounds": a.rounds,
        "wall_s": walls,
        "overhead_share": shares,
        "overhead_median": median,
        "overhead_ms_per_cell": per_cell,
        "target": TARGET,
        "metadata": _script.run_metadata(),
    }
    _script.save(out, "bench-cluster", doc, plots)
    return 0 if a.quick or median <= TARGET else 1


if __name__ == "__main__":
    _script.main(main)
