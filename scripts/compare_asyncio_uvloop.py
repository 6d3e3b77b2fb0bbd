"""asyncio or uvloop: how much does the faster event loop buy, for each client library?

The same cells on both loops, each in a fresh worker, rounds interleaved, in two scenarios:
  CPU-bound  100 clients, no injected latency: the loop's own cost per request decides;
  I/O-bound  100 clients, the server waits 20 ms: both loops should reach N/d = 5,000 ops/s.
Prints every row, then uvloop against asyncio per library (throughput and CPU per request), and
writes a bar chart of the throughput with the spread of the rounds.

    python -m scripts.compare_asyncio_uvloop [--repeat 3] [--libs raw,aiohttp,httpx] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars

SCENARIOS = {"CPU-bound": 0.0, "I/O-bound 20 ms": 0.02}


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    p.add_argument("--libs", default="raw,aiohttp,httpx", help="client libraries to compare")
    p.add_argument("--clients", type=int, default=100)
    a = p.parse_args()
    out = _script.out_dir(a, "asyncio-vs-uvloop")
    base = IoSettings(
        models=["asyncio", "uvloop"],
        libs=a.libs.split(","),
        clients=a.clients,
        duration=2.0,
        repeat=a.repeat,
        workloads=["http"],
    )
    if a.quick:
        base = replace(_script.quick(base), libs=["raw"])
    groups: dict[str, dict[str, list[float]]] = {}
    summary: list[list[str]] = []
    results = []
    settings = {}  # each scenario's own: the saved document's top-level ones are the last's
    for scenario, latency in SCENARIOS.items():
        doc = _script.run(replace(base, latency=latency), f"{scenario}: asyncio and uvloop")
        _script.show(doc)
        results += [{**r, "scenario": scenario} for r in doc["results"]]
        settings[scenario] = doc["metadata"]["settings"]
        by = {(r["client"], r["model"]): r for r in doc["results"]}
        for lib in dict.fromkeys(r["client"] for r in doc["results"]):
            pair = by.get((lib, "asyncio")), by.get((lib, "uvloop"))
            groups[f"{lib} · {scenario}"] = {
                m: _script.rates(r) for m, r in zip(("asyncio", "uvloop"), pair, strict=True) if r
            }
            slow, fast = pair
            if slow and fast and slow["cpu_us_per_op"] and fast["cpu_us_per_op"]:
                summary.append(
                    [
                        f"{lib} · {scenario}",
                        f"{slow['ops_per_s']:,.0f}",
                        f"{fast['ops_per_s']:,.0f}",
                        f"{fast['ops_per_s'] / slow['ops_per_s']:.2f}x",
                        f"{slow['cpu_us_per_op']:.1f}",
                        f"{fast['cpu_us_per_op']:.1f}",
                        f"{slow['cpu_us_per_op'] / fast['cpu_us_per_op']:.2f}x",
                    ]
                )
    _script.table(
        f"uvloop against asyncio ({base.clients} clients, medians of {base.repeat} round(s))",
        [
            "library · scenario",
            "asyncio ops/s",
            "uvloop ops/s",
            "speed-up",
            "asyncio CPU µs/op",
            "uvloop CPU µs/op",
            "CPU ratio",
        ],
        summary,
    )
    plots = plot_bars(
        groups,
        out / "asyncio-vs-uvloop",
        log=True,
        xlabel="throughput (requests per second, log scale; whiskers: range over rounds)",
        title=f"asyncio against uvloop, {base.clients} clients, mock HTTP server",
    )
    metadata = {**doc["metadata"], "scenario_settings": settings}
    _script.save(out, "asyncio-vs-uvloop", {**doc, "metadata": metadata, "results": results}, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
