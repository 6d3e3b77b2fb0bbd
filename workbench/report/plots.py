"""Plots of a sweep (matplotlib, no display needed): throughput and p99 latency against the
number of clients, one line per (model, client, workload), log-scaled where the data spans
decades, axes labelled with their units. PNG for the HTML report, SVG for papers."""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: never look for a display

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from workbench.results import ResultDoc, pythons_in

# Plain numbers on log axes ("1,000", not "10^3"): read by people comparing with the tables.
PLAIN = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")

METRICS = {
    "throughput": ("ops_per_s", "throughput (operations per second)"),
    "p99": ("p99", "p99 latency (ms)"),
}


def save(fig: Any, path: Path) -> Path:
    """Write a figure atomically (a temporary file renamed over the target), like the JSON."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=110)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_both(fig: Any, stem: Path) -> list[Path]:
    """`stem`.png (for the HTML report) and `stem`.svg (for papers), then free the figure."""
    written = [save(fig, stem.with_suffix(f".{ext}")) for ext in ("png", "svg")]
    plt.close(fig)
    return written


def series(doc: ResultDoc) -> dict[str, list[tuple[int, float, float | None]]]:
    """(clients, ops/s, p99 ms) per (model · client · workload), sorted by clients."""
    out: dict[str, list[tuple[int, float, float | None]]] = defaultdict(list)
    multi = len(pythons_in(doc["results"])) > 1
    for r in doc["results"]:
        key = f"{r['model']} · {r['client']}" + (
            f" · {r['workload']}" if len({x["workload"] for x in doc["results"]}) > 1 else ""
        )
        if multi:
            key += f" · {r.get('python', '?')}"
        out[key].append((r["clients_requested"], r["ops_per_s"], r["latency_ms"]["p99"]))
    return {k: sorted(v) for k, v in out.items()}


def plot_sweep(doc: ResultDoc, out_dir: Path) -> list[Path]:
    """Write throughput.{png,svg} and p99.{png,svg}; return the paths."""
    data = series(doc)
    written: list[Path] = []
    python = ", ".join(pythons_in(doc["results"])) or doc["metadata"].get("parent", {}).get(
        "python", ""
    )
    for name, (field, label) in METRICS.items():
        fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
        for key, points in data.items():
            xs = [p[0] for p in points]
            ys = [p[1] if field == "ops_per_s" else p[2] for p in points]
            pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if y]
            if pairs:
                ax.plot(*zip(*pairs, strict=True), marker="o", label=key)
        bounds = sorted(
            {
                (r["clients_requested"], r["bound_ops_per_s"])
                for r in doc["results"]
                if "bound_ops_per_s" in r
            }
        )
        if field == "ops_per_s" and bounds:  # with injected latency nothing can pass N/d
            ax.plot(*zip(*bounds, strict=True), "k--", alpha=0.5, label="N/d (Little's law)")
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
        written += save_both(fig, out_dir / name)
    return written


def plot_rows(doc: ResultDoc, path: Path) -> Path:
    """A bar chart of one run's throughput per row (the HTML report of an io run)."""
    rows = sorted(doc["results"], key=lambda r: r["ops_per_s"])
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.32 * len(rows))), dpi=110)
    multi = len(pythons_in(rows)) > 1
    labels = [
        f"{r['model']} · {r['client']} · {r['workload']}"
        + (f" · {r.get('python', '?')}" if multi else "")
        for r in rows
    ]
    ax.barh(labels, [r["ops_per_s"] for r in rows])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(PLAIN)
    ax.set_xlabel("throughput (operations per second, log scale)")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path


def plot_bars(
    groups: Mapping[str, Mapping[str, Sequence[float]]],
    stem: Path,
    *,
    xlabel: str,
    title: str,
    log: bool = False,
    lines: Mapping[str, float] | None = None,
) -> list[Path]:
    """Grouped horizontal bars, written as `stem`.png and .svg (see `bars`)."""
    series = len({s for g in groups.values() for s in g})
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.4 * len(groups) * max(1, series) + 1.2)))
    bars(ax, groups, xlabel=xlabel, title=title, log=log, lines=lines)
    fig.tight_layout()
    return save_both(fig, stem)


def bars(
    ax: Any,
    groups: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    xlabel: str,
    title: str,
    log: bool = False,
    lines: Mapping[str, float] | None = None,
) -> None:
    """One row per group, one colour per series. A bar is the median of its values and its
    whisker their range (the spread over repeats), so a reader sees at once whether two bars
    differ by more than their noise. `lines` draws labelled vertical references (a target, the
    reference tool at 1.0)."""
    names = list(dict.fromkeys(s for series in groups.values() for s in series))
    height = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        ys, meds, lows, highs = [], [], [], []
        for i, series in enumerate(groups.values()):
            values = series.get(name)
            if not values:
                continue
            med = statistics.median(values)
            ys.append(i + (j - (len(names) - 1) / 2) * height)
            meds.append(med)
            lows.append(med - min(values))
            highs.append(max(values) - med)
        ax.barh(ys, meds, height=height, xerr=[lows, highs], capsize=2, label=name)
    for k, (label, x) in enumerate((lines or {}).items()):
        ax.axvline(x, color="k", linestyle=("--", ":", "-.")[k % 3], alpha=0.6, label=label)
    ax.set_yticks(range(len(groups)), list(groups), fontsize=8)
    ax.invert_yaxis()  # the first group on top, as in the printed table
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(PLAIN)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    if len(names) > 1 or lines:
        ax.legend(fontsize=7, loc="best")


def plot_compare(result: Mapping[str, Any], stem: Path, title: str) -> list[Path]:
    """`compare` as a chart: B's rate over A's per cell, a dot with its 95% interval as a
    whisker, and 1.0 (no change) marked; `stem`.png and .svg."""
    rows = list(result["comparisons"])
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.35 * len(rows) + 1.4)), dpi=110)
    colours = {"faster": "tab:green", "slower": "tab:red"}
    for i, c in enumerate(rows):
        ci = c.get("ratio_ci")
        err = None if not ci else [[c["ratio"] - ci[0]], [ci[1] - c["ratio"]]]
        ax.errorbar(
            [c["ratio"]],
            [i],
            xerr=err,
            fmt="o",
            capsize=3,
            color=colours.get(c["verdict"], "tab:gray"),
        )
    ax.axvline(1.0, color="k", linestyle="--", alpha=0.6, label="1.0: no change")
    ax.set_yticks(range(len(rows)), [c["cell"] for c in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(
        "B's rate / A's rate (dot: ratio of medians; whisker: its 95% interval; "
        "green faster, red slower, grey not told apart)",
        fontsize=8,
    )
    ax.set_title(title, fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return save_both(fig, stem)
