"""Comparisons declared before measuring, each decided with Holm's correction for their number,
and none decided between rows that something other than the client decided (pure: no I/O).

A run that reports the best of five event-loop rows against the best of two threads rows, each
at a plain 95%, picks its comparison after seeing the data and tests it as if it were the only
one. Here the pairs are fixed in advance (a script names them), every pair counts in the family
whether or not it can be decided, and Holm's step-down procedure keeps the chance of any false
verdict among them at 5%: the pair with the smallest p-value is tested at 5%/m, the next at
5%/(m-1), and so on until one fails, after which none is decided. A pair whose rows the server
(or its delay proxy) bound, or whose delay proxy kept late time, gets no verdict, whatever the
numbers say: the row measures the server, not the driver or the model.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.ranking import SAID, TIED, UNRANKED, decide, paired, rounds_of
from workbench.results import Row
from workbench.stats import paired_p_value, ratio_p_value

ALPHA = 0.05
# Flags that say a row was decided by something other than its client.
NOT_THE_CLIENT = {
    "server-bound": "the server or its delay proxy was at the limit of its core",
    "timer-late": "the delay proxy's writes went out late",
    "load-bound": "the load generator or the downstream beside it was at the limit of its cores",
}
BOUND = "bound"  # a pair's verdict when a flag above is on either row


@dataclass(frozen=True)
class Pair:
    """A against B, named before any of them ran: (model, client) on each side."""

    name: str
    a: tuple[str, str]
    b: tuple[str, str]


@dataclass
class PairVerdict:
    pair: Pair
    where: str  # the group the rows came from (a workload and scenario)
    a: Row | None
    b: Row | None
    verdict: str = UNRANKED  # FASTER/SLOWER/TIED/UNRANKED, or BOUND
    ratio: float | None = None  # A's median over B's
    lo: float | None = None
    hi: float | None = None
    confidence: float | None = None  # the level the interval was drawn at, after Holm
    p_value: float | None = None
    why: str = ""  # for BOUND and UNRANKED: what stood in the way

    @property
    def said(self) -> str:
        missing = self.a is None or self.b is None  # a side that did not run: nothing to say
        return f"no verdict: {self.why}" if self.verdict == BOUND or missing else SAID[self.verdict]


def _find(rows: Sequence[Row], side: tuple[str, str]) -> Row | None:
    return next((r for r in rows if (r["model"], r["client"]) == side), None)


def _bound_by(a: Row, b: Row) -> str:
    flags = [f for f in NOT_THE_CLIENT if f in a["flags"] or f in b["flags"]]
    return "; ".join(NOT_THE_CLIENT[f] for f in flags)


def declared_verdicts(
    groups: Mapping[str, Sequence[Row]], pairs: Sequence[Pair], alpha: float = ALPHA
) -> list[PairVerdict]:
    """Every declared pair in every group, decided together under Holm's correction."""
    out = [PairVerdict(p, where, _find(rows, p.a), _find(rows, p.b)) for where in groups
           for rows in [groups[where]] for p in pairs]  # fmt: skip
    out = [v for v in out if v.a is not None or v.b is not None]  # a group without the driver
    m = len(out)
    testable: list[PairVerdict] = []
    for v in out:
        if v.a is None or v.b is None:
            v.why = "a row is missing"
            continue
        xs, ys = rounds_of(v.a), rounds_of(v.b)
        v.p_value = paired_p_value(xs, ys) if paired(v.a, v.b) else ratio_p_value(xs, ys)
        if v.p_value is None:
            v.why = "too few rounds"
            continue
        v.ratio = statistics.median(xs) / statistics.median(ys)
        bound = _bound_by(v.a, v.b)
        if bound:
            v.verdict, v.why = BOUND, bound
            continue
        testable.append(v)
    testable.sort(key=lambda v: float(v.p_value or 0.0))
    failed = _first_failure(testable, alpha, m)
    for i, v in enumerate(testable):
        still = i < failed
        # m counts every declared pair, decidable or not; past the first failure, every later
        # pair is drawn at the level that failed.
        v.confidence = 1 - alpha / (m - min(i, failed))
        assert v.a is not None
        assert v.b is not None
        # The one rule every verdict follows (ranking.decide), at the level Holm's step gives.
        d = decide(v.a, v.b, v.confidence)
        v.ratio, v.lo, v.hi = d.ratio, d.lo, d.hi
        v.verdict = d.verdict if still else TIED
    return out


def _first_failure(ordered: Sequence[PairVerdict], alpha: float, m: int) -> int:
    """Holm's step-down: the index of the first pair (by p-value) its level rejects nothing for;
    len(ordered) when every pair passes its level."""
    for i, v in enumerate(ordered):
        if float(v.p_value or 0.0) > alpha / (m - i):
            return i
    return len(ordered)
