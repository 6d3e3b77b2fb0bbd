"""Do the answers hold still? The GIL lab N times and a few io cells K times, back to back.

For each GIL claim: the tally of its verdicts over the N runs (stable means one verdict every
time). For each io cell: the median rate, how far the runs moved between each other (coefficient
of variation, and max/min), beside the interval a single run reports for itself (the ± column of
`io`, from its own window). A within-run interval much narrower than the between-run spread means
one run's ± is not the whole story on this machine: use --repeat.

    python scripts/bench_stability.py [--gil-runs 10] [--io-runs 5] [--clients 500] [--quick]
"""

from __future__ import annotations

import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _script
from rich.console import Console

from workbench.errors import UsageError
from workbench.gil.claims import CLAIM_NUMBERS
from workbench.gil.lab import run_lab
from workbench.harness.settings import IoSettings
from workbench.report.plots import plot_bars
from workbench.results import half_width
from workbench.units import parse_count

MODELS = ["uvloop", "asyncio", "threads", "processes-uvloop"]
QUICK_CLAIMS = [5, 6]


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--gil-runs", default="10", help="GIL lab runs (default 10)")
    p.add_argument("--io-runs", default="5", help="runs of the io cells (default 5)")
    p.add_argument("--clients", default="500", help="clients of the io cells (default 500)")
    a = p.parse_args()
    gil_runs = parse_count(a.gil_runs, "--gil-runs")
    io_runs = parse_count(a.io_runs, "--io-runs")
    clients = parse_count(a.clients, "--clients")
    if min(gil_runs, io_runs, clients) < 1:
        raise UsageError("--gil-runs, --io-runs and --clients must be at least 1")
    claims = list(CLAIM_NUMBERS)
    settings = IoSettings(models=MODELS, libs=["raw"], clients=clients)
    if a.quick:
        gil_runs, io_runs, claims = 2, 2, QUICK_CLAIMS
        settings = replace(_script.quick(settings), models=["uvloop", "threads"])
    out = _script.out_dir(a, "stability")
    err = Console(stderr=True)

    tally: dict[int, Counter[str]] = defaultdict(Counter)
    seconds: list[float] = []
    for i in range(gil_runs):
        err.print(f"[bold]GIL lab, run {i + 1} of {gil_runs}[/bold]", highlight=False)
        doc = run_lab(claims, [sys.executable])
        _script.stop_if_stopped(f"GIL lab, run {i + 1}", doc)
        seconds.append(doc["metadata"]["seconds"])
        for claim in doc["claims"]:
            tally[claim["id"]][claim["verdict"]] += 1

    rates: dict[str, list[float]] = defaultdict(list)
    widths: dict[str, list[float]] = defaultdict(list)
    for i in range(io_runs):
        io_doc = _script.run(settings, f"io cells, run {i + 1} of {io_runs}")
        for row in io_doc["results"]:
            key = f"{row['model']} · {row['client']}"
            rates[key].append(row["ops_per_s"])
            width = half_width(row["ops_per_s_ci"], row["ops_per_s"])
            if width is not None:
                widths[key].append(width)

    stable = sum(len(t) == 1 for t in tally.values())
    _script.table(
        f"GIL verdicts over {gil_runs} runs ({stable} of {len(tally)} claims stable; "
        f"a run took {min(seconds):.0f}-{max(seconds):.0f} s)",
        ["claim", "verdicts", "stable"],
        [[str(n), ", ".join(f"{v} {c}x" for v, c in t.most_common()), "yes" if len(t) == 1
          else "no"] for n, t in sorted(tally.items())],
    )  # fmt: skip
    io_rows: list[dict[str, Any]] = []
    for key, values in rates.items():
        cv = statistics.stdev(values) / statistics.fmean(values) if len(values) > 1 else 0.0
        within = statistics.median(widths[key]) if widths[key] else None
        io_rows.append({"cell": key, "ops_per_s": values, "cv_between_runs": round(cv, 4),
                        "max_over_min": round(max(values) / min(values), 3),
                        "within_run_half_width": within})  # fmt: skip
    _script.table(
        f"io cells over {io_runs} runs, {settings.clients} clients",
        ["cell", "median ops/s", "between runs: CV", "max/min", "one run's own ±"],
        [[r["cell"], f"{statistics.median(r['ops_per_s']):,.0f}",
          f"{r['cv_between_runs']:.1%}", f"{r['max_over_min']:.2f}",
          "-" if r["within_run_half_width"] is None else f"±{r['within_run_half_width']:.1%}"]
         for r in io_rows],
    )  # fmt: skip
    result = {
        "metadata": {**_script.run_metadata(), "gil_runs": gil_runs, "io_runs": io_runs,
                     "settings": {"clients": settings.clients, "models": settings.models,
                                  "duration": settings.duration}},
        "gil": {"tally": {str(n): dict(t) for n, t in sorted(tally.items())},
                "stable_claims": stable, "seconds_per_run": seconds},
        "io": io_rows,
    }  # fmt: skip
    groups = {r["cell"]: {"runs": r["ops_per_s"]} for r in io_rows}
    plot = plot_bars(groups, out / "stability", xlabel="ops/s (whiskers: min-max over the runs)",
                     title=f"io cells over {io_runs} runs")  # fmt: skip
    _script.save(out, "stability", result, plot)
    return 0


if __name__ == "__main__":
    _script.main(main)
