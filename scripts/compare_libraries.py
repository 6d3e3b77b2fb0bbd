"""Which HTTP client library, at 500 connections?

Every library client on the model it is written for (aiohttp and httpx on asyncio, httpx on
trio, httpx, urllib3 and http.client on a thread per connection), each in a fresh worker, beside
the workbench's raw client on the same model as the floor of what that model costs. No injected
latency: each row is CPU-bound on its core, so CPU per request is the library's price. Libraries
slow to get 500 connections going get up to 15 s (rows that still are not warm say so).
Prints every row, then each library against raw on its model, and writes a bar chart.

    python -m scripts.compare_libraries [--clients 500] [--latency 0] [--quick]
"""

from __future__ import annotations

from dataclasses import replace

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars

LIBS = ["raw", "aiohttp", "httpx", "urllib3", "http.client"]


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--latency", type=float, default=0.0, help="server delay per response, ms")
    p.add_argument("--models", default="asyncio,trio,threads")
    p.add_argument("--repeat", type=int, default=3, help="rounds, interleaved (default 3)")
    a = p.parse_args()
    out = _script.out_dir(a, "libraries")
    settings = IoSettings(
        models=a.models.split(","),
        libs=LIBS,
        clients=a.clients,
        duration=3.0,
        latency=a.latency / 1000,
        warm_limit=15.0,
        repeat=a.repeat,
    )
    if a.quick:
        settings = replace(_script.quick(settings), models=["asyncio", "threads"], warm_limit=5.0)
    doc = _script.run(settings, f"every client library at {settings.clients} connections")
    _script.show(doc)
    rows = sorted(doc["results"], key=lambda r: -r["ops_per_s"])
    raw = {r["model"]: r for r in rows if r["client"] == "raw"}
    summary = []
    for r in rows:
        floor = raw.get(r["model"])
        summary.append(
            [
                f"{r['client']} on {r['model']}",
                f"{r['ops_per_s']:,.0f}",
                f"{r['ops_per_s'] / floor['ops_per_s']:.2f}" if floor else "-",
                f"{r['cpu_us_per_op']:,.1f}",
                f"{r['latency_ms']['p99']:,.1f}",
                f"{r['users_warm']}/{r['clients']}",
                f"{r['error_rate']:.2%}",
                ", ".join(r["flags"]),
            ]
        )
    _script.table(
        f"client libraries at {settings.clients} connections (× raw: against the raw client "
        "on the same model)",
        ["library on model", "ops/s", "× raw", "CPU µs/op", "p99 ms", "warm", "errors", "flags"],
        summary,
    )
    groups = {f"{r['client']} on {r['model']}": {"ops/s": _script.rates(r)} for r in rows}
    plots = plot_bars(
        groups,
        out / "libraries",
        log=True,
        xlabel="throughput (requests per second, log scale)",
        title=f"HTTP client libraries at {settings.clients} connections, mock HTTP server",
    )
    _script.save(out, "libraries", doc, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
