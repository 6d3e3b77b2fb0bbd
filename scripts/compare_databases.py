"""asyncio or threads for database and cache I/O: asyncpg, psycopg and redis-py under each model.

The db cells of `io --only db` against real servers this script's run starts (PostgreSQL and
Redis, pinned to their own core), every workload (pg-select, pg-insert, redis-get, redis-set), in
two scenarios:
  loopback     100 clients, no added latency: each driver's own cost per query decides;
  1 ms         100 clients, a proxy delays each direction by 1 ms: Little's law bounds every row
               at N / (round trips x 2 ms), and the rows say how close they came, or that the
               server's core was the limit (`server-bound`).
Prints every row, then, per workload and scenario, the best async row against the best row on
threads (its claim, asyncpg's README's 5x among them, is about this), and writes a bar chart.

    python -m scripts.compare_databases [--repeat 3] [--clients 100] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.models import model_class
from workbench.ranking import FASTER, decide
from workbench.report.plots import plot_bars
from workbench.results import Row

SCENARIOS = {"loopback": 0.0, "1 ms each way": 0.001}
WORKLOADS = ["pg-select", "pg-insert", "redis-get", "redis-set"]


def best(rows: list[Row]) -> Row | None:
    return max(rows, key=lambda r: r["ops_per_s"], default=None)


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    p.add_argument("--clients", type=int, default=100)
    a = p.parse_args()
    out = _script.out_dir(a, "compare-databases")
    base = IoSettings(
        workloads=WORKLOADS, clients=a.clients, duration=1.0, warmup=0.3, repeat=a.repeat
    )
    if a.quick:
        base = replace(_script.quick(base), workloads=["pg-select", "redis-get"])
    results: list[Row] = []
    summary: list[list[str]] = []
    groups: dict[str, dict[str, list[float]]] = {}
    doc = None
    for scenario, latency in SCENARIOS.items():
        doc = _script.run(
            replace(base, db_latency=latency), f"{scenario}: every driver, every model"
        )
        _script.show(doc)
        results += [{**r, "scenario": scenario} for r in doc["results"]]  # type: ignore[typeddict-unknown-key]
        for workload in base.workloads:
            rows = [r for r in doc["results"] if r["workload"] == workload]
            groups[f"{workload} · {scenario}"] = {
                f"{r['model']} · {r['client']}": _script.rates(r) for r in rows
            }
            loop = best([r for r in rows if model_class(r["model"]).family == "asyncio"])
            threads = best([r for r in rows if r["model"] == "threads"])
            if loop is None or threads is None:
                continue
            verdict = decide(loop, threads).verdict
            said = "faster" if verdict == FASTER else "not decided" if verdict != "<" else "slower"
            bound = loop.get("bound_share")
            summary.append(
                [
                    f"{workload} · {scenario}",
                    f"{loop['model']} · {loop['client']}",
                    f"{loop['ops_per_s']:,.0f}",
                    f"{threads['client']}",
                    f"{threads['ops_per_s']:,.0f}",
                    f"{loop['ops_per_s'] / threads['ops_per_s']:.2f}x {said}",
                    "-" if bound is None else f"{bound:.2f}",
                    ", ".join(loop["flags"]) or "-",
                ]
            )
    _script.table(
        f"the best event-loop row against the best threads row ({base.clients} clients)",
        [
            "workload · scenario",
            "event loop",
            "ops/s",
            "threads",
            "ops/s",
            "ratio",
            "loop's N/d share",
            "loop's flags",
        ],
        summary,
    )
    plots = plot_bars(
        groups,
        out / "compare-databases",
        log=True,
        xlabel="operations per second (log scale; whiskers: range over rounds)",
        title=f"database drivers by model, {base.clients} clients, real PostgreSQL and Redis",
    )
    assert doc is not None
    _script.save(out, "compare-databases", {**doc, "results": results}, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
