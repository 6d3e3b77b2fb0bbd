"""asyncio or threads for database and cache I/O: asyncpg, psycopg and redis-py under each model.

The db cells of `io --only db` against real servers this script's run starts (PostgreSQL and
Redis, pinned to their own core), every workload (pg-select, pg-insert, redis-get, redis-set), in
two scenarios:
  loopback     100 clients, no added latency: each driver's own cost per query decides;
  1 ms         100 clients, a proxy delays each direction by 1 ms: Little's law bounds every row
               at N / (round trips x 2 ms), and the rows say how close they came, or that the
               server's core was the limit (`server-bound`).
Prints every row with its flags, then the pairs below, declared before anything runs, in every
workload and scenario: each decided under Holm's correction for the number of pairs, and none
decided where either row was bound by the server or kept late time by the delay proxy (the row
says so instead). Writes a bar chart.

    python -m scripts.compare_databases [--repeat 3] [--clients 100] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.declared import Pair, declared_verdicts
from workbench.report.plots import plot_bars
from workbench.results import Row

SCENARIOS = {"loopback": 0.0, "1 ms each way": 0.001}
WORKLOADS = ["pg-select", "pg-insert", "redis-get", "redis-set"]
# Each an event loop against threads on the same server, one driver family or its nearest rival:
# on the plain asyncio loop, but for the pools, where asyncpg's runs on uvloop as its users run it
# (uvloop against asyncio is the loop's own question: compare_asyncio_uvloop).
PAIRS = (
    Pair("asyncpg against psycopg on threads", ("asyncio", "asyncpg"), ("threads", "psycopg")),
    Pair("psycopg async against psycopg sync", ("asyncio", "psycopg"), ("threads", "psycopg")),
    Pair("pool against pool (asyncpg, psycopg_pool)",
         ("uvloop", "asyncpg-pool"), ("threads", "psycopg-pool")),
    Pair("redis.asyncio against redis sync", ("asyncio", "redis"), ("threads", "redis")),
)  # fmt: skip


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
    groups: dict[str, dict[str, list[float]]] = {}
    by_group: dict[str, list[Row]] = {}
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
            by_group[f"{workload} · {scenario}"] = rows
    verdicts = declared_verdicts(by_group, PAIRS)
    _script.table(
        f"declared pairs, Holm-corrected over {len(verdicts)} ({base.clients} clients)",
        [
            *("pair", "workload · scenario", "A ops/s", "B ops/s"),
            "A/B",
            "interval",
            "verdict",
            "flags",
        ],
        [_script.pair_line(v) for v in verdicts],
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
