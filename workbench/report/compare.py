"""Compare two runs cell by cell (pyperf's compare_to): the ratio of the two rates and whether it
is significant, from the same between-round interval the tables rank by (`ranking.decide`:
Welch's t on the rounds' log rates, 95%, plus a minimum effect below which a difference is "not
significant" anyway). Rounds are fresh worker processes, so the interval is a between-run one;
a side with a single round gives no verdict.

Pure functions: no I/O, no third-party statistics package.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from workbench.errors import UsageError
from workbench.ranking import FASTER, MIN_EFFECT, SAID, SLOWER, UNRANKED, decide
from workbench.results import ResultDoc, Row, cell_key, pythons_in

CONFIDENCE = 0.95
MIN_ROUNDS = 2  # per side: fewer, and nothing can be said about the next run


def cell_label(row: Row, with_python: bool = True) -> str:
    parts = [row["model"], row["client"], row["workload"], f"{row['clients']} clients"]
    parts += [str(v) for v in (row.get("file_size"), row.get("cache"), row["work"]) if v]
    if with_python and row.get("python"):
        parts.append(str(row.get("python")))
    return " · ".join(parts)


@dataclass(frozen=True)
class Comparison:
    label: str
    a: float  # median ops/s in A
    b: float  # median ops/s in B
    ratio: float  # b / a
    verdict: str
    ratio_ci: list[float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "cell": self.label,
            "a_ops_per_s": self.a,
            "b_ops_per_s": self.b,
            "ratio": round(self.ratio, 4),
            "ratio_ci": self.ratio_ci,
            "verdict": self.verdict,
        }


def compare_rows(a: Row, b: Row, with_python: bool = True) -> Comparison:
    xs, ys = a["repeats"]["ops_per_s"], b["repeats"]["ops_per_s"]
    ma, mb = statistics.median(xs), statistics.median(ys)
    ratio = mb / ma if ma else math.inf
    label = cell_label(a, with_python)
    d = decide(b, a)
    # The interval is of the ratio of geometric means; widened if need be to hold the ratio of
    # the medians shown beside it (rounds that split into two modes can part the two).
    ci = (
        None
        if d.lo is None or d.hi is None
        else [round(min(d.lo, ratio), 4), round(max(d.hi, ratio), 4)]
    )
    if d.verdict == UNRANKED:
        needed = f"{SAID[UNRANKED]} (run both with --repeat 3 or more; {MIN_ROUNDS} at the least)"
        return Comparison(label, ma, mb, ratio, needed, ci)
    return Comparison(label, ma, mb, ratio, SAID[d.verdict], ci)


def gate(
    comparisons: list[dict[str, Any]], fail_on: str, min_change: float
) -> tuple[list[dict[str, Any]], int]:
    """`compare --fail-on`: the cells decided slower (with `changed`, or faster) in B by at least
    `min_change` (B / A at most 1 / (1 + min_change), or at least 1 + min_change), and how many
    cells had too few rounds to be decided either way."""
    failing = {SAID[SLOWER]} | ({SAID[FASTER]} if fail_on == "changed" else set())
    failed = [
        c
        for c in comparisons
        if c["verdict"] in failing
        and (c["ratio"] <= 1 / (1 + min_change) or c["ratio"] >= 1 + min_change)
    ]
    undecided = sum(1 for c in comparisons if c["verdict"].startswith(SAID[UNRANKED]))
    return failed, undecided


def on_python(rows: list[Row], python: str | None) -> list[Row]:
    """The rows run under `python` (a label or its start: `3.13`, `3.14.0t GIL off`)."""
    if python is None:
        return rows
    chosen = [r for r in rows if str(r.get("python", "")).startswith(python)]
    if not chosen:
        have = ", ".join(pythons_in(rows)) or "none recorded"
        raise UsageError(f"no rows ran under Python {python} (this run has: {have})")
    return chosen


def compare_docs(
    a: ResultDoc, b: ResultDoc, python_a: str | None = None, python_b: str | None = None
) -> dict[str, Any]:
    """Every cell present in both runs, compared; cells in only one run listed apart. Given
    interpreters, rows pair across them: A's rows under `python_a` with B's under `python_b`
    (A and B may be the same run, measured under both)."""
    across = python_a is not None or python_b is not None
    rows_a = {cell_key(r, not across): r for r in on_python(a["results"], python_a)}
    rows_b = {cell_key(r, not across): r for r in on_python(b["results"], python_b)}
    both = [k for k in rows_a if k in rows_b]
    # Name the interpreter in a cell's label only where the runs hold more than one.
    named = not across and len(set(pythons_in([*a["results"], *b["results"]]))) > 1
    return {
        "comparisons": [compare_rows(rows_a[k], rows_b[k], named).as_dict() for k in both],
        "only_in_a": [cell_label(rows_a[k], named) for k in rows_a if k not in rows_b],
        "only_in_b": [cell_label(rows_b[k], named) for k in rows_b if k not in rows_a],
        "python_a": python_a,
        "python_b": python_b,
        "confidence": CONFIDENCE,
        "min_effect": MIN_EFFECT,
    }
