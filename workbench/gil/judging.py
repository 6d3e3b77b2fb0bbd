"""How the GIL claims are judged: verdicts from measurements alone (pure functions, no I/O).

The stopping rule is a fixed sample, declared before measuring: every experiment runs ROUNDS
interleaved rounds (`timing.interleaved`), never "until it looks decided", which would pick the
first lucky answer. Every figure is the median of its rounds with an interval that assumes
nothing about the noise: the order statistics [x(k), x(n-k+1)] with the largest k that still
covers the true median with probability MIN_COVERAGE or more (`stats.median_coverage`): with 12
rounds, x(3)..x(10), 96.1%. An interval that covers less than MIN_COVERAGE decides nothing.

A claim *holds* when the whole interval of its pre-declared figure is on its side of a threshold
fixed in advance, *does not hold* when it is wholly on the other side, and is *inconclusive*
otherwise. So where the true median sits exactly at the threshold (no effect), "holds" comes out
at most (1 - coverage) / 2 = 1.9% of the time for one figure; a claim that needs several figures
to agree (all must pass: an intersection) is at most as likely as its least likely one.
tests/test_verdict_error_rates.py simulates such no-effect data for every claim and counts.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from workbench.gil.thresholds import MIN_COVERAGE
from workbench.stats import median_coverage, median_interval, median_rank

HOLDS, FAILS, UNSURE = "holds", "does not hold", "inconclusive"


@dataclass(frozen=True)
class Verdict:
    id: int
    claim: str
    verdict: str
    evidence: str
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Interval:
    """A median over rounds with its order-statistics interval (`stats.median_interval`): it
    assumes nothing about the noise. `coverage` is how often such an interval holds the true
    median; below MIN_COVERAGE (fewer than 6 rounds) it can decide nothing."""

    median: float
    lo: float
    hi: float
    coverage: float = 1.0
    unit: ClassVar[str] = ""

    @classmethod
    def of(cls, values: Sequence[float], confidence: float = MIN_COVERAGE) -> Self:
        """`confidence` above MIN_COVERAGE widens the interval: for a verdict that any one of
        several figures can trigger (see `union_confidence`)."""
        lo, hi = median_interval(values, confidence)
        k = median_rank(len(values), confidence)
        return cls(statistics.median(values), lo, hi, median_coverage(len(values), k))

    @property
    def decides(self) -> bool:
        return self.coverage >= MIN_COVERAGE

    def above(self, threshold: float) -> bool:
        return self.decides and self.lo > threshold

    def below(self, threshold: float) -> bool:
        return self.decides and self.hi < threshold

    def __str__(self) -> str:
        return f"{self.median:.2f}{self.unit} [{self.lo:.2f}-{self.hi:.2f}]"


class Cores(Interval):
    """Cores kept busy: CPU time over wall time."""

    unit = " cores"


class Ratio(Interval):
    """a/b from repeated timings. Timings taken in interleaved rounds pair up (the i-th of each
    saw the same machine), so the interval is that of the paired ratios; otherwise the most
    pessimistic min/max pairing."""

    unit = "x"

    @classmethod
    def of_pairs(cls, a: Sequence[float], b: Sequence[float]) -> Ratio:
        """Rounds pair up (the i-th of each saw the same machine), so the interval is that of the
        paired ratios: drift common to both cancels."""
        if len(a) != len(b):
            raise ValueError(f"unpaired rounds: {len(a)} against {len(b)}")
        return cls.of([x / y for x, y in zip(a, b, strict=True)])


def union_confidence(figures: int) -> float:
    """The coverage each of `figures` intervals needs so that a verdict any one of them can
    trigger alone (a union: "does not hold" if any kind fails) is wrong at most 1 - MIN_COVERAGE
    of the time in all (Bonferroni)."""
    return 1 - (1 - MIN_COVERAGE) / max(1, figures)


def coverage_of(rounds: int) -> float:
    """How often the interval `Interval.of` takes from this many rounds holds the true median."""
    return median_coverage(rounds, median_rank(rounds, MIN_COVERAGE))


def coverage_note(rounds: int) -> str:
    """How the evidence's intervals were made, said once per claim."""
    k = median_rank(rounds, MIN_COVERAGE)
    which = "min-max" if k == 1 else f"x({k}) to x({rounds - k + 1}) of the sorted values"
    return (
        f"medians of {rounds} interleaved rounds; [intervals]: {which}, which covers the median "
        f"{coverage_of(rounds):.1%} of the time"
    )
