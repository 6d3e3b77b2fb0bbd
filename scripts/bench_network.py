"""How close does each model's raw client get to wrk, and to the Little's-law bound?

Part 1 (capacity): the mock HTTP server pinned to one core; `wrk -t1 -cN` and every model's raw
client pinned to the other, against the same server, rounds interleaved. Prints each model's
median ops/s as a ratio to wrk's median. Target: the best model >= 0.85x wrk at c=100.

Part 2 (Little's law): the server waits --latency (default 20 ms) per response; N=500 clients
cannot exceed N/d = 25,000 ops/s. Prints each model's share of that bound (wrk's too).
Target: the best model >= 0.95 of the bound.

    python scripts/bench_network.py [--clients 100] [--rounds 3] [--seconds 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import cpus, fmt, median_spread, require_tool, wrk

from workbench.harness.runner import IoSettings, run_io
from workbench.models import MODEL_NAMES
from workbench.server_process import run_server

CAPACITY_TARGET = 0.85
BOUND_TARGET = 0.95


def measure(
    models: list[str], clients: int, seconds: float, rounds: int, latency: float, body: int
) -> tuple[list[float], dict[str, list[float]], dict[str, float]]:
    server_cpus, load_cpus = cpus()
    ref: list[float] = []
    by_model: dict[str, list[float]] = {m: [] for m in models}
    server_util: dict[str, float] = {}
    settings = IoSettings(
        models=models, libs=["raw"], clients=clients, duration=seconds, warmup=1.0,
        latency=latency, body_size=body,
    )  # fmt: skip
    with run_server("http", cpus=server_cpus, latency=latency, body_size=body) as server:
        for _ in range(rounds):
            ref.append(wrk(server.url, clients, seconds, load_cpus))
            doc = run_io(settings, servers={"http": server})
            for row in doc["results"]:
                by_model[row["model"]].append(row["ops_per_s"])
                server_util[row["model"]] = row["server_cpu_util"]
    return ref, by_model, server_util


def report(title: str, ref: list[float], by_model: dict[str, list[float]],
           util: dict[str, float], bound: float | None) -> float:  # fmt: skip
    ref_med = median_spread(ref)[0]
    print(f"\n{title}")
    print(
        f"  {'wrk':<18} {fmt(ref)} ops/s" + (f"  = {ref_med / bound:.3f} of N/d" if bound else "")
    )
    best = 0.0
    ranked = sorted(by_model.items(), key=lambda kv: -statistics.median(kv[1]))
    for model, rates in ranked:
        med = statistics.median(rates)
        share = med / bound if bound else med / ref_med
        best = max(best, share)
        what = "of N/d" if bound else "x wrk"
        print(f"  {model:<18} {fmt(rates)} ops/s  = {share:.3f} {what}"
              f"  (server CPU {util[model] * 100:.0f}%)")  # fmt: skip
    return best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--bound-clients", type=int, default=500)
    p.add_argument("--latency", type=float, default=0.02)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--models", default=",".join(MODEL_NAMES))
    p.add_argument("--quick", action="store_true", help="1 round of 1 s, three models (smoke)")
    a = p.parse_args()
    models = a.models.split(",")
    if a.quick:
        a.seconds, a.rounds, models = 1.0, 1, ["uvloop", "asyncio", "threads"]
    require_tool("wrk", "wrk")
    ref, by_model, util = measure(models, a.clients, a.seconds, a.rounds, 0.0, 64)
    best_cap = report(
        f"capacity: c={a.clients}, no latency, {a.rounds} rounds of {a.seconds:g}s, medians",
        ref, by_model, util, None,
    )  # fmt: skip
    ref, by_model, util = measure(models, a.bound_clients, a.seconds, a.rounds, a.latency, 64)
    bound = a.bound_clients / a.latency
    best_bound = report(
        f"Little's law: c={a.bound_clients}, latency {a.latency * 1000:g} ms, "
        f"bound N/d = {bound:,.0f} ops/s",
        ref, by_model, util, bound,
    )  # fmt: skip
    ok_cap = best_cap >= CAPACITY_TARGET
    ok_bound = best_bound >= BOUND_TARGET
    print(f"\nbest model vs wrk: {best_cap:.3f}x "
          f"({'meets' if ok_cap else 'MISSES'} the {CAPACITY_TARGET}x target)")  # fmt: skip
    print(f"best model vs N/d: {best_bound:.3f} "
          f"({'meets' if ok_bound else 'MISSES'} the {BOUND_TARGET} target)")  # fmt: skip
    return 0 if a.quick or (ok_cap and ok_bound) else 1


if __name__ == "__main__":
    raise SystemExit(main())
