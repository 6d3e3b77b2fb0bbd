"""Threads or asyncio as the clients grow: where does a thread per connection fall behind?

A sweep over 1, 10, 100, 500 and 2,000 concurrent clients of a thread pool (one thread per
client, blocking sockets), asyncio and uvloop, all with the raw client, against a server that
waits 20 ms per response, so that N clients can reach at most N/d requests per second (Little's
law). Each count is a fresh run, each model a fresh worker. Prints throughput as a share of N/d
and p99 latency per count, and writes throughput and p99 plots against clients (N/d dashed).

    python -m scripts.compare_threads_asyncio [--clients 1,10,100,500,2000] [--latency 20] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_sweep
from workbench.units import parse_count

MODELS = ["threads", "asyncio", "uvloop"]


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--clients", default="1,10,100,500,2000", help="client counts to sweep")
    p.add_argument("--latency", type=float, default=20.0, help="server delay per response, ms")
    p.add_argument("--models", default=",".join(MODELS))
    a = p.parse_args()
    out = _script.out_dir(a, "threads-vs-asyncio")
    counts = [parse_count(c, "--clients") for c in a.clients.split(",")]
    settings = IoSettings(
        models=a.models.split(","), libs=["raw"], duration=2.0, latency=a.latency / 1000
    )
    if a.quick:
        settings, counts = replace(_script.quick(settings), models=["threads", "asyncio"]), [1, 10]
    doc = _script.run(settings, f"sweep over {counts} clients", sweep=counts)
    by = {(r["clients_requested"], r["model"]): r for r in doc["results"]}
    models = list(dict.fromkeys(r["model"] for r in doc["results"]))
    rows = []
    for n in sorted(set(counts)):
        cells = [by.get((n, m)) for m in models]
        rows.append(
            [f"{n:,}"]
            + [
                "-"
                if r is None
                else f"{r['ops_per_s']:,.0f} ({r.get('bound_share', 0):.2f})"
                + (f" {', '.join(r['flags'])}" if r["flags"] else "")
                for r in cells
            ]
            + ["-" if r is None else f"{r['latency_ms']['p99']:.1f}" for r in cells]
        )
    _script.table(
        f"ops/s (share of N/d) and p99 ms, server latency {a.latency:g} ms",
        ["clients", *(f"{m} ops/s" for m in models), *(f"{m} p99" for m in models)],
        rows,
    )
    _script.save(out, "threads-vs-asyncio", doc, plot_sweep(doc, out))
    return 0


if __name__ == "__main__":
    _script.main(main)
