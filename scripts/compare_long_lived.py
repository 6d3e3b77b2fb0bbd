"""Connections that stay open: what each model pays to hold them, and to serve them.

Three parts, each model with its own sockets (the raw client, or wsproto for WebSocket):
  idle       100, 1,000 and 10,000 connections each sending a small heartbeat once a second:
             memory per connection (resident growth over the worker's baseline before any user
             connected, per connection), CPU per idle connection-second, heartbeat latency; the
             threads model runs a thread per connection, its stack size recorded;
  ws-echo    request and answer over one long-lived WebSocket per user, 1,000 users;
  ws-push    1,000 listeners, the server pushing 10 messages a second to each: delivery
             latency (server send to client receive) and the slowest listener.
Prints a table per part and draws memory per connection against connections, one line per model.

    python -m scripts.compare_long_lived [--counts 100,1000,10000] [--quick]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scripts import _script
from workbench.harness.settings import IoSettings
from workbench.report.plots import save_both
from workbench.results import Row
from workbench.units import parse_count

MODELS = ["uvloop", "asyncio", "trio", "threads"]


def _idle_line(n: int, rows: list[Row], models: list[str]) -> list[str]:
    by = {r["model"]: r for r in rows if r["clients_requested"] == n}
    cells = [f"{n:,}"]
    for m in models:
        r = by.get(m)
        kib, cpu = (None, None) if r is None else (
            r.get("memory_per_connection_kib"), r.get("cpu_us_per_connection_s"))  # fmt: skip
        flags = "" if r is None or not r["flags"] else f" {', '.join(r['flags'])}"
        cells.append("-" if kib is None else f"{kib:.1f} KiB, {cpu:.1f} µs/s{flags}")
    return cells


def _plot(rows: list[Row], out: Any) -> list[Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["clients"])
        xs = [r["clients"] for r in mine]
        ys = [r.get("memory_per_connection_kib") or 0.0 for r in mine]
        ax.plot(xs, ys, marker="o", label=model)
    ax.set_xscale("log")
    ax.set_xlabel("idle connections held open")
    ax.set_ylabel("resident memory per connection (KiB)")
    ax.set_title("memory per idle connection, per model")
    ax.legend()
    return save_both(fig, out / "idle-memory")


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--counts", default="100,1000,10000", help="idle connection counts to sweep")
    p.add_argument("--clients", type=int, default=1000, help="users of ws-echo and ws-push")
    a = p.parse_args()
    out = _script.out_dir(a, "long-lived")
    counts = [parse_count(c, "--counts") for c in a.counts.split(",")]
    base = IoSettings(models=MODELS, duration=2.0, warmup=0.5, heartbeat=1.0, repeat=3)
    clients = a.clients
    if a.quick:
        base, counts, clients = (
            replace(_script.quick(base), models=["asyncio", "threads"]),
            [20],
            10,
        )
    idle = _script.run(replace(base, workloads=["idle"]), f"idle over {counts}", sweep=counts)
    rows = list(idle["results"])
    _script.table(
        "idle: memory per connection and CPU per connection-second",
        ["connections", *base.models],
        [_idle_line(n, rows, base.models) for n in sorted(set(counts))],
    )
    ws = _script.run(
        replace(base, workloads=["ws-echo", "ws-push"], clients=clients),
        f"ws-echo and ws-push, {clients} users",
    )
    _script.show(ws)
    saved: dict[str, Any] = {
        "kind": "long-lived",
        "runs": {"idle": idle, "websocket": ws},
        "metadata": _script.run_metadata(),
    }
    _script.save(out, "long-lived", saved, _plot(rows, out))
    return 0


if __name__ == "__main__":
    _script.main(main)
