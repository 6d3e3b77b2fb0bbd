"""Turn recorded GIL-lab runs into the rounds the verdicts' error-rate test resamples.

    python -m workbench gil --json run1.json   (several times, on an idle and on a busy machine)
    python -m scripts.gil_rounds run1.json run2.json ... > tests/data/gil_rounds.json

Every series of ROUNDS values a run measured (each phase's wall time and cores busy, each list
of lags or timings) becomes a series of multiplicative residuals: each value over that series'
median. So a residual series keeps what real rounds do that a textbook draw does not: skew, a
stray slow round, drift within a run. Not one run's level against another's: each run calibrates
its own amount of work, so their wall times differ by design, not by noise.
tests/test_verdict_error_rates.py scales such series so that the judged figure's true median
sits on its threshold and counts how often each claim decides wrongly.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.gil.thresholds import ROUNDS


def series_of(measurements: Any, path: str = "") -> Iterator[tuple[str, list[float]]]:
    """(path, values) for every ROUNDS-long series in a claim's measurements."""
    if isinstance(measurements, dict):
        for key, value in measurements.items():
            yield from series_of(value, f"{path}/{key}")
    elif isinstance(measurements, list) and len(measurements) == ROUNDS:
        if all(isinstance(p, dict) and "wall_s" in p for p in measurements):
            yield f"{path}:wall", [float(p["wall_s"]) for p in measurements]
            yield f"{path}:cores", [p["cpu_s"] / p["wall_s"] for p in measurements if p["wall_s"]]
        elif all(isinstance(v, int | float) for v in measurements):
            yield path, [float(v) for v in measurements]


def kind_of(path: str) -> str:
    """Which kind of figure a series is, so that each is resampled only as its own kind varies:
    cores busy, a phase's wall time, a ticker's lag, or a timed call."""
    if path.endswith(":cores"):
        return "cores"
    if path.endswith(":wall"):
        return "wall"
    return "lag" if "lag" in path else "time"


def residuals(docs: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    by_path: dict[str, list[list[float]]] = {}
    for doc in docs:
        for claim in doc["claims"]:
            for path, values in series_of(claim.get("measurements"), f"claim{claim['id']}"):
                if len(values) == ROUNDS and min(values) > 0 and len(set(values)) > 1:
                    by_path.setdefault(path, []).append(values)
    out: dict[str, list[list[float]]] = {}
    for path, runs in by_path.items():
        for run in runs:
            mid = statistics.median(run)
            out.setdefault(kind_of(path), []).append([round(v / mid, 6) for v in run])
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m scripts.gil_rounds GIL_JSON [GIL_JSON ...]", file=sys.stderr)
        return 2
    docs = [json.loads(Path(p).read_text()) for p in argv]
    doc = {
        "what": "multiplicative residuals of recorded GIL-lab rounds (scripts/gil_rounds.py)",
        "runs": [
            {"started_at": d["metadata"].get("started_at"), "command": d["metadata"].get("command")}
            for d in docs
        ],
        "rounds": ROUNDS,
        "series": residuals(docs),
    }
    json.dump(doc, sys.stdout, indent=None, separators=(",", ":"))
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
