"""How close does each model's raw client get to wrk, and to the Little's-law bound?

Part 1 (capacity): the mock HTTP server pinned to one core; `wrk -t1 -cN` and every model's raw
client pinned to the other, against the same server, rounds interleaved. Prints each model's
median ops/s as a ratio to wrk's median. Target: the best model >= 0.85x wrk at c=100.

Part 2 (Little's law): the server waits --latency (default 20 ms) per response; N=500 clients
cannot exceed N/d = 25,000 ops/s. Prints each model's share of that bound (wrk's too).
Target: the best model >= 0.95 of the bound.

    python -m scripts.bench_network [--clients 100] [--rounds 3] [--seconds 3] [--quick] [--out DIR]
"""

from __future__ import annotations

import statistics

from scripts import _script
from scripts._bench import cpus, fmt, median_spread, require_tool, wrk
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.models import MODEL_NAMES
from workbench.report.plots import plot_bars
from workbench.server_process import run_server

CAPACITY_TARGET = 0.85
BOUND_TARGET = 0.95


def measure(
    models: list[str], clients: int, seconds: float, rounds: int, latency: float, warmup: float
) -> tuple[list[float], dict[str, list[float]], dict[str, float], dict[str, float]]:
    server_cpus, load_cpus = cpus()
    ref: list[float] = []
    by_model: dict[str, list[float]] = {m: [] for m in models}
    server_util: dict[str, float] = {}
    bounds: dict[str, float] = {}  # per model: `sync` is one client whatever N says
    settings = IoSettings(
        models=models,
        libs=["raw"],
        clients=clients,
        duration=seconds,
        warmup=warmup,
        latency=latency,
        body_size=64,
        repeat=1,  # the rounds are this script's own, each beside a round of wrk; nothing ranked
    )
    with run_server("http", cpus=server_cpus, latency=latency, body_size=64) as server:
        for _ in range(rounds):
            ref.append(wrk(server.url, clients, seconds, load_cpus))
            doc = run_io(settings, servers={"http": server})
            _script.stop_if_stopped(f"{clients} clients, latency {latency:g}s", doc)
            for row in doc["results"]:
                by_model[row["model"]].append(row["ops_per_s"])
                server_util[row["model"]] = row["server_cpu_util"] or 0.0
                bounds[row["model"]] = row.get("bound_ops_per_s") or 0.0
    return ref, by_model, server_util, bounds


def report(
    title: str,
    ref: list[float],
    by_model: dict[str, list[float]],
    util: dict[str, float],
    bounds: dict[str, float] | None,
    plot: dict[str, dict[str, list[float]]],
    series: str,
) -> float:
    """Print one part as a table, add its per-round ratios to `plot`; return the best ratio.
    Each rate is a multiple of wrk's, or with `bounds` a share of that row's own N/d."""
    ref_med = median_spread(ref)[0]
    what = "of N/d" if bounds else "× wrk"
    scale = max(bounds.values()) if bounds else ref_med  # wrk's: N/d at the full N
    rows = [["wrk", f"{fmt(ref)}", f"{ref_med / scale:.3f}", "-"]]
    plot.setdefault("wrk", {})[series] = [r / scale for r in ref]
    best = 0.0
    for model, rates in sorted(by_model.items(), key=lambda kv: -statistics.median(kv[1])):
        own = bounds[model] if bounds else ref_med
        share = statistics.median(rates) / own
        if own == scale:  # the target is about N clients, not `sync`'s one
            best = max(best, share)
        rows.append([model, fmt(rates), f"{share:.3f}", f"{util[model] * 100:.0f}%"])
        plot.setdefault(model, {})[series] = [r / own for r in rates]
    _script.table(title, ["client", "ops/s: median ±spread (rounds)", what, "server CPU"], rows)
    return best


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--bound-clients", type=int, default=500)
    p.add_argument("--latency", type=float, default=0.02)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--models", default=",".join(MODEL_NAMES))
    a = p.parse_args()
    models = a.models.split(",")
    warmup = 1.0
    if a.quick:  # 1 round of 1 s (wrk's shortest), two models
        a.seconds, a.rounds, models, a.bound_clients, warmup = (
            1.0,
            1,
            ["uvloop", "threads"],
            100,
            0.2,
        )
    out = _script.out_dir(a, "bench-network")
    require_tool("wrk", "wrk")
    plot: dict[str, dict[str, list[float]]] = {}
    ref, by_model, util, _ = measure(models, a.clients, a.seconds, a.rounds, 0.0, warmup)
    capacity = f"c={a.clients}: × wrk"
    best_cap = report(
        f"capacity: c={a.clients}, no latency, {a.rounds} rounds of {a.seconds:g}s, medians",
        ref,
        by_model,
        util,
        None,
        plot,
        capacity,
    )
    figures = {"capacity": {"wrk": ref, **by_model}}
    ref, by_model, util, bounds = measure(
        models, a.bound_clients, a.seconds, a.rounds, a.latency, warmup
    )
    bound = a.bound_clients / a.latency
    best_bound = report(
        f"Little's law: c={a.bound_clients}, latency {a.latency * 1000:g} ms, "
        f"bound N/d = {bound:,.0f} ops/s",
        ref,
        by_model,
        util,
        bounds,
        plot,
        f"c={a.bound_clients}, {a.latency * 1000:g} ms: of N/d",
    )
    figures["littles_law"] = {"wrk": ref, **by_model}
    ok_cap = best_cap >= CAPACITY_TARGET
    ok_bound = best_bound >= BOUND_TARGET
    print(
        f"best model vs wrk: {best_cap:.3f}x "
        f"({'meets' if ok_cap else 'MISSES'} the {CAPACITY_TARGET}x target)"
    )
    print(
        f"best model vs N/d: {best_bound:.3f} "
        f"({'meets' if ok_bound else 'MISSES'} the {BOUND_TARGET} target)"
    )
    plots = plot_bars(
        plot,
        out / "bench-network",
        xlabel="ratio (whiskers: range over rounds)",
        title="raw clients against wrk (capacity) and against N/d (Little's law)",
        lines={
            f"target {CAPACITY_TARGET}x wrk": CAPACITY_TARGET,
            f"target {BOUND_TARGET} of N/d": BOUND_TARGET,
            "wrk / N/d = 1": 1.0,
        },
    )
    doc = {
        "kind": "bench-network",
        "ops_per_s": figures,
        "best_vs_wrk": best_cap,
        "best_vs_bound": best_bound,
        "metadata": _script.run_metadata(["wrk"]),
    }
    _script.save(out, "bench-network", doc, plots)
    return 0 if a.quick or (ok_cap and ok_bound) else 1


if __name__ == "__main__":
    _script.main(main)
