"""The figures of connections that stay open: the idle sweep and the WebSocket rows of
`scripts/compare_long_lived.py`, and the long-lived servers against their references
(`scripts/bench_long_lived_servers.py`). A reducer for the sweep's document, and the sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scripts._figures_reduce import REDUCERS
from scripts._figures_text import Figures, and_list, fmt, source, table, target, wrap


def long_lived_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Each part's rows, with the figures their own table prints (no histograms)."""
    parts: dict[str, list[dict[str, Any]]] = {}
    python = None
    for part, run in doc["runs"].items():
        for r in run["results"]:
            python = python or r.get("python")
            parts.setdefault(part, []).append({
                "model": r["model"], "client": r["client"], "workload": r["workload"],
                "clients": r["clients_requested"], "ops_per_s": r["ops_per_s"],
                "errors": r["errors"], "users_started": r.get("users_started"),
                "kib_per_connection": r.get("memory_per_connection_kib"),
                "cpu_us_per_connection_s": r.get("cpu_us_per_connection_s"),
                "p50_ms": r["latency_ms"].get("p50"), "p99_ms": r["latency_ms"].get("p99"),
                "delivery_ms": r.get("delivery_ms"), "flags": r.get("flags", []),
            })  # fmt: skip
    return {"parts": parts, "python": python}


REDUCERS["compare_long_lived"] = long_lived_figures


def long_lived(f: Figures) -> str:
    s = source(f, "compare_long_lived")
    idle = s["parts"]["idle"]
    models = list(dict.fromkeys(r["model"] for r in idle))
    counts = sorted({r["clients"] for r in idle})
    by = {(r["model"], r["clients"]): r for r in idle}

    def column(key: str, style: str) -> list[list[str]]:
        return [
            [f"{n:,}", *(fmt((by.get((m, n)) or {}).get(key), style) for m in models)]
            for n in counts
        ]

    memory = table(["KiB per connection", *models], column("kib_per_connection", "f1"), 1)
    cpu = table(["CPU µs per connection-s", *models], column("cpu_us_per_connection_s", "us"), 1)
    flagged = [f"{r['model']} at {r['clients']:,} {', '.join(r['flags'])}" for r in idle
               if r["flags"]]  # fmt: skip
    top = max(counts)
    hb = [
        f"{m} {fmt(by[(m, top)]['p50_ms'], 'ms')} / {fmt(by[(m, top)]['p99_ms'], 'ms')} ms"
        for m in models
        if (m, top) in by
    ]
    ws = s["parts"].get("websocket", [])
    failed = [r for r in ws if r["errors"]]
    collapsed = [f"{r['model']} · {r['client']} {r['workload']}" for r in ws
                 if "not-warm" in r["flags"]]  # fmt: skip
    said = (
        f"`python -m scripts.compare_long_lived` (Python {s['python']}): resident memory per "
        "idle connection over the worker's baseline, and CPU per connection-second, each "
        "connection sending a heartbeat a second (the script draws the memory as a plot):"
    )
    out = [wrap(said), "", "```", memory, "", cpu, "```", ""]
    tail = f"Flagged: {and_list(flagged)}. " if flagged else ""
    tail += (
        f"Heartbeat latency at {top:,} connections (p50 / p99): {and_list(hb)}. The "
        f"script's WebSocket part ({len(ws)} rows at {ws[0]['clients']:,} users): "
        if ws
        else f"Heartbeat latency at {top:,} connections (p50 / p99): {and_list(hb)}."
    )
    if ws:
        short = [r for r in ws if "push-short" in r["flags"]]  # fewer received than were sent
        tail += (
            "no row had an error"
            if not failed
            else ("errors in " + and_list(f"{r['model']} · {r['client']}" for r in failed))
        )
        tail += (
            "; the listeners of "
            + and_list(f"{r['model']} · {r['client']}" for r in short)
            + " received under 95% of the pushes sent (`push-short`)"
            if short
            else ", and every push row received at least 95% of what was sent"
        )
        tail += (
            f"; {and_list(collapsed)} never had every user started (`not-warm`)."
            if collapsed
            else "."
        )
    out.append(wrap(tail))
    return "\n" + "\n".join(out) + "\n"


def long_lived_servers(f: Figures) -> str:
    s = source(f, "bench_long_lived_servers")
    cost, rate = s["server_cpu_us"], s["per_s"]
    goal = s["setup"]["constants"]["TARGET"]
    mock_ws, ref_ws = "mock WebSocket (uvloop)", "websockets' server (uvloop)"
    mock_h2, ref_h2 = "mock h2c (uvloop)", "nginx h2c (1 worker)"
    ws_ratio = s["ratio"]["websocket"]
    text = (
        f"`python -m scripts.bench_long_lived_servers`, medians of {len(rate[mock_ws]['runs'])} "
        f"runs: the mock WebSocket server spent {fmt(cost[mock_ws]['median'], 'us')} µs of CPU "
        f"per echoed message at {fmt(rate[mock_ws]['median'], 'int')} messages/s, against "
        f"{fmt(cost[ref_ws]['median'], 'us')} µs for `websockets`' own server "
        f"({fmt(ws_ratio, 'x')}; {target(ws_ratio, goal, 'x', above=False)}). "
        f"The h2c server: {fmt(cost[mock_h2]['median'], 'us')} µs per request at "
        f"{fmt(rate[mock_h2]['median'], 'int')} req/s under h2load, against nginx's "
        f"{fmt(cost[ref_h2]['median'], 'us')} µs at {fmt(rate[ref_h2]['median'], 'int')} "
        f"({fmt(s['ratio']['h2'], 'x')})."
    )
    return "\n" + wrap(text) + "\n"


def long_lived_row(f: Figures) -> str:
    """The scripts table's line for the sweep."""
    s = source(f, "compare_long_lived")
    idle = s["parts"]["idle"]
    top = max(r["clients"] for r in idle)
    return f"idle at {top:,} connections, KiB each: " + and_list(
        f"{r['model']} {fmt(r['kib_per_connection'], 'f1')}" for r in idle if r["clients"] == top
    )


def long_lived_servers_row(f: Figures) -> str:
    s = source(f, "bench_long_lived_servers")
    return (
        f"mock WebSocket server {fmt(s['ratio']['websocket'], 'x')} `websockets`' server's CPU "
        f"per message; mock h2c server {fmt(s['ratio']['h2'], 'x')} nginx's per request"
    )
