"""Compare two runs cell by cell (pyperf's compare_to): the ratio of medians, and whether it is
significant, from a Mann-Whitney U test over each cell's repeats (asv's choice: no assumption of
normality) plus a minimum effect below which a difference is "not significant" anyway.

Pure functions: no I/O, no third-party statistics package.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from dataclasses import dataclass
from typing import Any

from workbench.errors import UsageError
from workbench.results import ResultDoc, Row, cell_key, pythons_in

ALPHA = 0.05
MIN_EFFECT = 0.05  # differences under 5% are "not significant", whatever the test says
# Per side: with 3 and 3 the exact two-sided test's smallest p is 2/20 = 0.1, so no difference
# could ever reach ALPHA; 4 and 4 allow 2/70 = 0.029.
MIN_REPEATS = 4


def cell_label(row: Row, with_python: bool = True) -> str:
    parts = [row["model"], row["client"], row["workload"], f"{row['clients']} clients"]
    parts += [str(v) for v in (row.get("file_size"), row.get("cache"), row["work"]) if v]
    if with_python and row.get("python"):
        parts.append(str(row.get("python")))
    return " · ".join(parts)


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test: exact (all splits of the pooled ranks) for
    small samples, the normal approximation with tie correction for larger ones."""
    n1, n2 = len(a), len(b)
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    i = 0
    while i < len(pooled):  # average ranks over ties
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    r1 = sum(r for r, (_, side) in zip(ranks, pooled, strict=True) if side == 0)
    u = r1 - n1 * (n1 + 1) / 2
    mean_u = n1 * n2 / 2
    if math.comb(n1 + n2, n1) <= 20_000:
        extreme = abs(u - mean_u)
        count = total = 0
        for chosen in itertools.combinations(range(n1 + n2), n1):
            total += 1
            u_c = sum(ranks[c] for c in chosen) - n1 * (n1 + 1) / 2
            if abs(u_c - mean_u) >= extreme - 1e-9:
                count += 1
        return count / total
    ties = _tie_term(ranks)
    sd = math.sqrt(n1 * n2 / 12 * ((n1 + n2 + 1) - ties / ((n1 + n2) * (n1 + n2 - 1))))
    if sd == 0:
        return 1.0
    z = (abs(u - mean_u) - 0.5) / sd
    return math.erfc(z / math.sqrt(2))


def _tie_term(ranks: list[float]) -> float:
    counts: dict[float, int] = {}
    for r in ranks:
        counts[r] = counts.get(r, 0) + 1
    return sum(t**3 - t for t in counts.values())


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261126  # fixed: the same runs give the same interval every time


def ratio_interval(a: Row, b: Row) -> list[float] | None:
    """A 95% interval of B's rate over A's. With repeats on both sides, a bootstrap of the ratio
    of medians (resampling each side's repeats); with one run each, the ratio of their own
    within-run intervals, low over high and high over low. None when neither is known."""
    xs, ys = a["repeats"]["ops_per_s"], b["repeats"]["ops_per_s"]
    if len(xs) > 1 and len(ys) > 1:
        rng = random.Random(BOOTSTRAP_SEED)
        ratios = []
        for _ in range(BOOTSTRAP_RESAMPLES):
            ma = statistics.median(rng.choices(xs, k=len(xs)))
            mb = statistics.median(rng.choices(ys, k=len(ys)))
            if ma:
                ratios.append(mb / ma)
        if not ratios:
            return None
        ratios.sort()
        lo = ratios[int(0.025 * (len(ratios) - 1))]
        hi = ratios[int(0.975 * (len(ratios) - 1))]
        return [round(lo, 4), round(hi, 4)]
    ca, cb = a["ops_per_s_ci"], b["ops_per_s_ci"]
    if ca is None or cb is None or ca[0] <= 0 or ca[1] <= 0:
        return None
    return [round(cb[0] / ca[1], 4), round(cb[1] / ca[0], 4)]


@dataclass(frozen=True)
class Comparison:
    label: str
    a: float  # median ops/s in A
    b: float  # median ops/s in B
    ratio: float  # b / a
    p: float | None
    verdict: str
    ratio_ci: list[float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "cell": self.label,
            "a_ops_per_s": self.a,
            "b_ops_per_s": self.b,
            "ratio": round(self.ratio, 4),
            "ratio_ci": self.ratio_ci,
            "p_value": None if self.p is None else round(self.p, 4),
            "verdict": self.verdict,
        }


def compare_rows(a: Row, b: Row, with_python: bool = True) -> Comparison:
    xs, ys = a["repeats"]["ops_per_s"], b["repeats"]["ops_per_s"]
    ma, mb = statistics.median(xs), statistics.median(ys)
    ratio = mb / ma if ma else math.inf
    ci = ratio_interval(a, b)
    label = cell_label(a, with_python)
    if len(xs) < MIN_REPEATS or len(ys) < MIN_REPEATS:
        needed = f"too few repeats (run both with --repeat {MIN_REPEATS} or more)"
        return Comparison(label, ma, mb, ratio, None, needed, ci)
    p = mann_whitney_p(xs, ys)
    if p >= ALPHA or abs(ratio - 1) < MIN_EFFECT:
        verdict = "not significant"
    else:
        verdict = "faster" if ratio > 1 else "slower"
    return Comparison(label, ma, mb, ratio, p, verdict, ci)


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
        "alpha": ALPHA,
        "min_effect": MIN_EFFECT,
    }
