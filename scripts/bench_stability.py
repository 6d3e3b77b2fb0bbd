"""Do the answers hold still? The GIL lab N times and the io cells K times, back to back.

For each GIL claim: the tally of its verdicts over the N runs (stable means one verdict every
time) and how long a run took. For each io cell, run as `io` runs it by default (3 interleaved
rounds, each a fresh worker): how far its rate moved between runs (coefficient of variation of
the runs' medians, and max/min), the same for its CPU µs per operation (the steadier figure, if
either is, is the one a ranking could lean on), and whether each run's interval covered the next
run's rate (goal: at least 90% of them). Across the runs: every ordered claim "A > B" a run made,
and whether another run claimed the opposite (goal: never), and the share of pairs each run
decided.

    python -m scripts.bench_stability [--gil-runs 10] [--io-runs 5] [--clients 500] [--quick]
"""

from __future__ import annotations

import itertools
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from rich.console import Console

from scripts import _script
from workbench.errors import UsageError
from workbench.gil.claims import CLAIM_NUMBERS
from workbench.gil.lab import run_lab
from workbench.harness.settings import IoSettings
from workbench.ranking import decided_pairs
from workbench.report.compare import cell_label
from workbench.report.plots import plot_bars
from workbench.results import Row, half_width
from workbench.units import parse_count

MODELS = ["uvloop", "asyncio", "processes-uvloop", "trio", "threads"]
QUICK_CLAIMS = [5, 6]
COVERAGE_GOAL = 0.90  # share of next runs' rates a run's intervals should hold
DECIDED_GOAL = 0.5  # share of pairs each run should decide


def cv(values: list[float]) -> float | None:
    return statistics.stdev(values) / statistics.fmean(values) if len(values) > 1 else None


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
    # The command line's defaults: 3 rounds of 0.75 s after 0.3 s of warm-up.
    settings = IoSettings(
        models=MODELS, libs=["raw"], clients=clients, repeat=3, duration=0.75, warmup=0.3
    )
    if a.quick:
        gil_runs, io_runs, claims = 2, 2, QUICK_CLAIMS
        settings = replace(_script.quick(settings), models=["uvloop", "threads"], repeat=2)
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

    runs: list[list[Row]] = []
    for i in range(io_runs):
        runs.append(_script.run(settings, f"io cells, run {i + 1} of {io_runs}")["results"])
    io_rows = [cell_figures(key, [_row(rows, key) for rows in runs]) for key in _keys(runs)]
    pairs = pair_figures(runs)

    stable = sum(len(t) == 1 for t in tally.values())
    _script.table(
        f"GIL verdicts over {gil_runs} runs ({stable} of {len(tally)} claims stable; "
        f"a run took {min(seconds):.0f}-{max(seconds):.0f} s)",
        ["claim", "verdicts", "stable"],
        [
            [
                str(n),
                ", ".join(f"{v} {c}x" for v, c in t.most_common()),
                "yes" if len(t) == 1 else "no",
            ]
            for n, t in sorted(tally.items())
        ],
    )
    _script.table(
        f"io cells over {io_runs} runs, {settings.clients} clients, {settings.repeat} rounds each",
        [
            "cell",
            "median ops/s",
            "rate CV",
            "max/min",
            "CPU µs/op CV",
            "one run's ±",
            "next run inside",
        ],
        [
            [
                r["cell"],
                f"{statistics.median(r['ops_per_s']):,.0f}",
                _pct(r["cv_between_runs"]),
                f"{r['max_over_min']:.2f}",
                _pct(r["cpu_cv_between_runs"]),
                _pct(r["half_width"]),
                f"{r['covered']} of {r['next_runs']}",
            ]
            for r in io_rows
        ],
    )
    covered = sum(r["covered"] for r in io_rows)
    tried = sum(r["next_runs"] for r in io_rows)
    coverage = covered / tried if tried else None
    err.print(
        f"intervals covered the next run's rate {covered} of {tried} times"
        + ("" if coverage is None else f" ({coverage:.0%}; goal {COVERAGE_GOAL:.0%})")
        + f"; {len(pairs['contradicted'])} pair(s) ranked both ways; each run decided "
        + ", ".join(f"{d} of {pairs['pairs']}" for d in pairs["decided_per_run"]),
        highlight=False,
    )
    result = {
        "metadata": {
            **_script.run_metadata(),
            "gil_runs": gil_runs,
            "io_runs": io_runs,
            "settings": {
                "clients": settings.clients,
                "models": settings.models,
                "duration": settings.duration,
                "warmup": settings.warmup,
                "rounds": settings.repeat,
            },
        },
        "gil": {
            "tally": {str(n): dict(t) for n, t in sorted(tally.items())},
            "stable_claims": stable,
            "seconds_per_run": seconds,
        },
        "io": io_rows,
        "coverage": {"covered": covered, "tried": tried, "share": coverage, "goal": COVERAGE_GOAL},
        "pairs": pairs,
    }
    groups = {r["cell"]: {"runs": r["ops_per_s"]} for r in io_rows}
    plot = plot_bars(
        groups,
        out / "stability",
        xlabel="ops/s (whiskers: min-max over the runs)",
        title=f"io cells over {io_runs} runs",
    )
    _script.save(out, "stability", result, plot)
    met = coverage is not None and coverage >= COVERAGE_GOAL and not pairs["contradicted"]
    return 0 if met or a.quick else 1  # a quick run is too short to judge its goals


def _keys(runs: list[list[Row]]) -> list[str]:
    """The cells every run measured, in the first run's order."""
    every = [{cell_label(r) for r in rs} for rs in runs]
    return [cell_label(r) for r in runs[0] if all(cell_label(r) in labels for labels in every)]


def _row(rows: list[Row], key: str) -> Row:
    return next(r for r in rows if cell_label(r) == key)


def cell_figures(key: str, rows: list[Row]) -> dict[str, Any]:
    """One cell over the runs: the rates and CPU costs, their spread between runs, and how often
    a run's interval held the next run's rate."""
    rates = [r["ops_per_s"] for r in rows]
    cpus = [r["cpu_us_per_op"] for r in rows if r["cpu_us_per_op"] is not None]
    covered = tried = 0
    for this, nxt in itertools.pairwise(rows):
        ci = this["ops_per_s_ci"]
        if ci is not None:
            tried += 1
            covered += ci[0] <= nxt["ops_per_s"] <= ci[1]
    widths = [w for r in rows if (w := half_width(r["ops_per_s_ci"], r["ops_per_s"])) is not None]
    rate_cv, cpu_cv = cv(rates), cv(cpus)
    return {
        "cell": key,
        "ops_per_s": rates,
        "cpu_us_per_op": cpus,
        "cv_between_runs": None if rate_cv is None else round(rate_cv, 4),
        "cpu_cv_between_runs": None if cpu_cv is None else round(cpu_cv, 4),
        "max_over_min": round(max(rates) / min(rates), 3) if min(rates) else None,
        "half_width": round(statistics.median(widths), 4) if widths else None,
        "covered": covered,
        "next_runs": tried,
    }


def pair_figures(runs: list[list[Row]]) -> dict[str, Any]:
    """Every 'A > B' each run decided, and any pair that one run ranked one way and another run
    the other way."""
    claims = [{(cell_label(a), cell_label(b)) for a, b in decided_pairs(rows)} for rows in runs]
    cells = len(runs[0])
    every = set().union(*claims)
    contradicted = sorted({f"{a} > {b}" for a, b in every if (b, a) in every})
    return {
        "pairs": cells * (cells - 1) // 2,
        "decided_per_run": [len(c) for c in claims],
        "claims": sorted(f"{a} > {b}" for a, b in every),
        "contradicted": contradicted,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


if __name__ == "__main__":
    _script.main(main)
