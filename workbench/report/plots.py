"""Plots of a sweep (matplotlib, no display needed): throughput and p99 latency against the
number of clients, one line per (model, client, workload), log-scaled where the data spans
decades, axes labelled with their units. PNG for the HTML report, SVG for papers."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: never look for a display

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

# Plain numbers on log axes ("1,000", not "10^3"): read by people comparing with the tables.
PLAIN = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")

METRICS = {
    "throughput": ("ops_per_s", "throughput (operations per second)"),
    "p99": ("p99", "p99 latency (ms)"),
}


def series(doc: dict[str, Any]) -> dict[str, list[tuple[int, float, float | None]]]:
    """(clients, ops/s, p99 ms) per (model · client · workload), sorted by clients."""
    out: dict[str, list[tuple[int, float, float | None]]] = defaultdict(list)
    for r in doc["results"]:
        key = f"{r['model']} · {r['client']}" + (
            f" · {r['workload']}" if len({x["workload"] for x in doc["results"]}) > 1 else ""
        )
        out[key].append((r["clients_requested"], r["ops_per_s"], r["latency_ms"]["p99"]))
    return {k: sorted(v) for k, v in out.items()}


def plot_sweep(doc: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write throughput.{png,svg} and p99.{png,svg}; return the paths."""
    data = series(doc)
    written: list[Path] = []
    python = doc["metadata"].get("parent", {}).get("python", "")
    for name, (field, label) in METRICS.items():
        fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
        for key, points in data.items():
            xs = [p[0] for p in points]
            ys = [p[1] if field == "ops_per_s" else p[2] for p in points]
            pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if y]
            if pairs:
                ax.plot(*zip(*pairs, strict=True), marker="o", label=key)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(PLAIN)
        ax.yaxis.set_major_formatter(PLAIN)
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(label)
        ax.set_title(f"{label.split(' (')[0]} against clients · Python {python}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = out_dir / f"{name}.{ext}"
            fig.savefig(path)
            written.append(path)
        plt.close(fig)
    return written


def plot_rows(doc: dict[str, Any], path: Path) -> Path:
    """A bar chart of one run's throughput per row (the HTML report of an io run)."""
    rows = sorted(doc["results"], key=lambda r: r["ops_per_s"])
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.32 * len(rows))), dpi=110)
    labels = [f"{r['model']} · {r['client']} · {r['workload']}" for r in rows]
    ax.barh(labels, [r["ops_per_s"] for r in rows])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(PLAIN)
    ax.set_xlabel("throughput (operations per second, log scale)")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
