"""How the GIL claims are judged: verdicts from measurements alone (pure functions, no I/O).

Every figure is a median over interleaved repeats with an interval that assumes nothing about the
noise (order statistics of the paired values). A claim *holds* when the whole interval is on its
side of the threshold, *does not hold* when the whole interval is on the other side, and is
*inconclusive* when the interval straddles it: noise decides nothing. The experiments sample
until a verdict is clear or their time budget is spent (`timing.adaptive`), and each judges from
two measures where it can: the wall-clock speed-up, and the cores the threads kept busy.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from workbench.stats import median_interval

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
    """A median over repeats with its order-statistics interval (`stats.median_interval`): it
    assumes nothing about the noise, and narrows as repeats are added."""

    median: float
    lo: float
    hi: float
    unit: ClassVar[str] = ""

    @classmethod
    def of(cls, values: Sequence[float]) -> Self:
        lo, hi = median_interval(values)
        return cls(statistics.median(values), lo, hi)

    def above(self, threshold: float) -> bool:
        return self.lo > threshold

    def below(self, threshold: float) -> bool:
        return self.hi < threshold

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
    def of_pairs(cls, a: Sequence[float], b: Sequence[float], paired: bool = True) -> Ratio:
        if paired and len(a) == len(b):
            return cls.of([x / y for x, y in zip(a, b, strict=True)])
        return cls(statistics.median(a) / statistics.median(b), min(a) / max(b), max(a) / min(b))
