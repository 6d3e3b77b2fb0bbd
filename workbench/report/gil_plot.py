"""One figure for a GIL lab run: a panel per claim, drawn from the measurements themselves (not
from the verdict text), one colour per interpreter, whiskers over the interleaved repeats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from workbench.gil.timing import cores, walls
from workbench.report.plots import bars, save_both
from workbench.stats import percentile

Groups = dict[str, dict[str, list[float]]]


def _ratios(a: list[float], b: list[float]) -> list[float]:
    """a/b per interleaved round (the i-th of each saw the same machine)."""
    return [x / y for x, y in zip(a, b, strict=False)]


def _one_at_a_time(m: dict[str, Any], py: str, g: Groups) -> None:
    for n in ("2", "4"):
        g.setdefault(f"{n} threads", {})[py] = cores(m["threads"][n])
    g.setdefault("2 processes", {})[py] = cores(m["processes"]["2"])


def _outside_the_gil(m: dict[str, Any], py: str, g: Groups) -> None:
    for kind, r in m["kinds"].items():
        if "skipped" not in r:
            g.setdefault(kind, {})[py] = _ratios(walls(r["one_thread"]), walls(r["threads"]))


def _switch_interval(m: dict[str, Any], py: str, g: Groups) -> None:
    for interval, r in m["by_switch_interval"].items():
        g.setdefault(f"switch every {interval}", {})[py] = _ratios(
            walls(r["sequential"]), walls(r["two_threads"])
        )


def _responsiveness(m: dict[str, Any], py: str, g: Groups) -> None:
    for where, key in (("loop", "event_loop_ms"), ("UI thread", "ui_thread_ms")):
        for condition, lags in m[key].items():
            g.setdefault(f"{where}: {condition}", {})[py] = [max(percentile(lags, 99), 0.01)]


def _needs_a_lock(m: dict[str, Any], py: str, g: Groups) -> None:
    for pattern, lost in m["lost_updates"].items():
        g.setdefault(pattern, {})[py] = [100 * lost / m["expected"]]


def _process_cost(m: dict[str, Any], py: str, g: Groups) -> None:
    trips = m["round_trip_s"]
    largest = list(trips["threads"])[-1]
    for how, by_size in trips.items():
        g.setdefault(f"{how}, {int(largest) >> 20} MiB", {})[py] = [
            v * 1e6 for v in by_size[largest]
        ]
    for how, starts in m["pool_start_s"].items():
        g.setdefault(f"start a pool of {how}", {})[py] = [s * 1e6 for s in starts]


# Per claim: its panel's title, what the bars hold, log scale, the reference lines.
Panel = tuple[str, Callable[[dict[str, Any], str, Groups], None], str, bool, dict[str, float]]
PANELS: dict[int, Panel] = {
    1: ("pure Python, threads vs processes", _one_at_a_time, "cores kept busy", False,
        {"one core": 1.0}),
    2: ("work outside the GIL", _outside_the_gil, "speed-up of a thread per CPU over 1",
        False, {"no gain": 1.0, "2 cores": 2.0}),
    3: ("2 threads vs sequential", _switch_interval, "speed relative to sequential",
        False, {"sequential": 1.0}),
    4: ("5 ms ticker, lag p99", _responsiveness, "ms (log scale)", True, {"one tick": 5.0}),
    5: ("shared updates by 4 threads", _needs_a_lock, "% of updates lost", False, {}),
    6: ("processes vs threads", _process_cost, "µs (log scale)", True, {}),
}  # fmt: skip


def plot_gil(doc: dict[str, Any], stem: Path) -> list[Path]:
    """A panel per claim in `doc`, written as `stem`.png and .svg."""
    runs = doc.get("by_interpreter") or [{"interpreter": {"version": "?"}, "claims": doc["claims"]}]
    ids = [c["id"] for c in doc["claims"]]
    cols = min(3, len(ids))
    rows = -(-len(ids) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    for ax, claim_id in zip(axes.flat, ids, strict=False):
        title, collect, xlabel, log, lines = PANELS[claim_id]
        groups: Groups = {}
        verdicts = []
        for run in runs:
            py = f"Python {run['interpreter']['version']}"
            claim = next(c for c in run["claims"] if c["id"] == claim_id)
            collect(claim["measurements"], py, groups)
            verdicts.append(claim["verdict"])
        verdict = verdicts[0] if len(set(verdicts)) == 1 else " / ".join(verdicts)
        bars(
            ax, groups, xlabel=xlabel, title=f"{claim_id}. {title}: {verdict}", log=log, lines=lines
        )
    for ax in list(axes.flat)[len(ids) :]:
        ax.set_visible(False)
    fig.suptitle("GIL claims, measured on this machine (whiskers: range over the rounds)")
    fig.tight_layout()
    return save_both(fig, stem)
