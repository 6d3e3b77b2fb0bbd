"""Charts of one run (matplotlib, files only), each with one unit per axis:

- the latency percentile spectrum, from every row's stored HDR histogram (HdrHistogram's plotter
  and wrk2's `--latency` show the same): x is the percentile on a log "nines" axis (0% to
  99.999%), y the latency in ms on a log scale, one line per row. A line stops where the row
  has too few samples to resolve a higher percentile (at 99.9% with a thousand, say): beyond
  that it would only repeat its maximum.
- network cost: throughput against CPU µs per operation, one point per row;
- disk: MB/s and files/s, each in its own chart.

`write_run_charts` writes whichever apply to a run, as PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from hdrh.histogram import HdrHistogram
from matplotlib.ticker import FuncFormatter

from workbench.report.plots import PLAIN, bars, save_both
from workbench.results import ResultDoc, Row, is_disk, pythons_in


def _two_and_five(value: float, _: object) -> str:
    """Minor ticks of a log axis: label the 2s and 5s, plainly (the tables' style, not 2x10^3)."""
    lead = f"{value:.0e}"[0]
    return PLAIN(value, None) if lead in "25" else ""


MINOR = FuncFormatter(_two_and_five)
NINES = 5  # up to 99.999%
STEPS_PER_DECADE = 40
NINES_TICKS = {1: "0%", 10: "90%", 100: "99%", 1000: "99.9%", 10_000: "99.99%", 100_000: "99.999%"}


def row_label(row: Row, multi_python: bool, with_workload: bool) -> str:
    text = f"{row['model']} · {row['client']}"
    if with_workload:
        text += f" · {row['workload']}"
    if is_disk(row):
        from workbench.units import size_label

        text += f" · {size_label(row.get('file_size', 0))}"
        text += f" {row.get('cache')}" if row.get("cache") else ""
        text += f" · {row['clients']}"
    if multi_python and row.get("python"):
        text += f" · {row.get('python')}"
    if row.get("host"):
        text += f" · {row.get('host')}"
    return text


def _labels(rows: Sequence[Row]) -> list[str]:
    multi = len(pythons_in(list(rows))) > 1
    workloads = len({r["workload"] for r in rows}) > 1
    labels = [row_label(r, multi, workloads) for r in rows]
    if len(set(labels)) < len(labels):  # a sweep: the same cell at several client counts
        labels = [f"{t} · c{r['clients_requested']}" for t, r in zip(labels, rows, strict=True)]
    return labels


def spectrum_points(histogram: HdrHistogram) -> tuple[list[float], list[float]]:
    """(1 / (1 - p), latency ms) for percentiles p from 0 to 99.999%, as far as the samples
    resolve them: p is shown only while 1 / (1 - p) is at most the count."""
    count = histogram.get_total_count()
    xs: list[float] = []
    ys: list[float] = []
    for step in range(NINES * STEPS_PER_DECADE + 1):
        x = 10 ** (step / STEPS_PER_DECADE)
        if x > max(1, count):
            break
        p = 100.0 * (1.0 - 1.0 / x)
        xs.append(x)
        ys.append(max(histogram.get_value_at_percentile(p), 1) / 1000)
    return xs, ys


def plot_spectrum(rows: Sequence[Row], stem: Path, title: str) -> list[Path]:
    """The percentile spectrum of `rows`, one line per row; `stem`.png and .svg."""
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=110)
    drawn = 0
    for row, label in zip(rows, _labels(rows), strict=True):
        hist = HdrHistogram.decode(row["histogram"].encode("ascii"))
        if hist.get_total_count() == 0:
            continue
        xs, ys = spectrum_points(hist)
        ax.plot(xs, ys, label=label, linewidth=1.4)
        drawn += 1
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1, 10**NINES)
    ax.set_xticks(list(NINES_TICKS), list(NINES_TICKS.values()))
    ax.yaxis.set_major_formatter(PLAIN)
    ax.yaxis.set_minor_formatter(MINOR)
    ax.set_xlabel("percentile (log scale of 1 / (1 - p): each step is one more nine)")
    ax.set_ylabel("latency (ms, log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if drawn:  # beside the plot: the tails rise to the upper left corner too
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return save_both(fig, stem)


def plot_cost(rows: Sequence[Row], stem: Path, title: str) -> list[Path]:
    """Network rows: throughput against CPU µs per operation, one labelled point per row."""
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    for row, label in zip(rows, _labels(rows), strict=True):
        cpu = row["cpu_us_per_op"]
        if not cpu or not row["ops_per_s"]:
            continue
        ax.scatter([cpu], [row["ops_per_s"]], s=30)
        ax.annotate(
            label, (cpu, row["ops_per_s"]), fontsize=7, xytext=(4, 3), textcoords="offset points"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PLAIN)
        axis.set_minor_formatter(MINOR)
    ax.set_xlabel("client CPU per operation (µs, log scale): further left is cheaper")
    ax.set_ylabel("throughput (operations per second, log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return save_both(fig, stem)


def plot_disk(rows: Sequence[Row], stem: Path, field: str, xlabel: str, title: str) -> list[Path]:
    """Disk rows: one bar per row of `field` (mb_per_s or files_per_s)."""
    values: list[Mapping[str, Any]] = list(rows)
    groups = {
        label: {field: [float(r.get(field) or 0.0)]}
        for label, r in zip(_labels(rows), values, strict=True)
    }
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.32 * len(rows) + 1.2)), dpi=110)
    bars(ax, groups, xlabel=xlabel, title=title, log=True)
    fig.tight_layout()
    return save_both(fig, stem)


def write_run_charts(doc: ResultDoc, out: Path) -> list[Path]:
    """Every chart that applies to the run, in `out`; the paths written (PNG and SVG)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = doc["results"]
    net = [r for r in rows if not is_disk(r)]
    disk = [r for r in rows if is_disk(r)]
    python = ", ".join(pythons_in(rows)) or str(doc["metadata"].get("parent", {}).get("python"))
    written: list[Path] = []
    on = f"Python {python}"
    if net:
        written += plot_spectrum(net, out / "spectrum", f"latency percentile spectrum · {on}")
        written += plot_cost(net, out / "cost", f"throughput against CPU cost · {on}")
    if disk:
        title = f"per-file latency percentile spectrum · disk · {on}"
        written += plot_spectrum(disk, out / "disk-spectrum", title)
        for field, unit in (("mb_per_s", "MB"), ("files_per_s", "files")):
            name = f"disk-{field.replace('_', '-')}"
            written += plot_disk(
                disk,
                out / name,
                field,
                f"{unit} per second (log scale)",
                f"disk throughput in {unit} · {on}",
            )
    return written
