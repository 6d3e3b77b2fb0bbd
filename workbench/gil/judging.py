"""How the GIL claims are judged: verdicts from measurements alone (pure functions, no I/O).

A ratio of two repeated timings is judged by its interval over the repeats: from the most
pessimistic pairing (min/max) to the most optimistic (max/min). A claim *holds* when the whole
interval is on its side of the threshold, *does not hold* when the whole interval is on the other
side, and is *inconclusive* when the interval straddles it: noise decides nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

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
class Ratio:
    """a/b from repeated timings: median, and the interval over the repeats.

    Timings taken in interleaved rounds pair up (the i-th of each saw the same machine), so the
    interval is that of the paired ratios; otherwise the most pessimistic min/max pairing.
    """

    median: float
    lo: float
    hi: float

    @classmethod
    def of(cls, a: Sequence[float], b: Sequence[float], paired: bool = True) -> Ratio:
        if paired and len(a) == len(b):
            ratios = [x / y for x, y in zip(a, b, strict=True)]
            return cls(statistics.median(ratios), min(ratios), max(ratios))
        return cls(statistics.median(a) / statistics.median(b), min(a) / max(b), max(a) / min(b))

    def above(self, threshold: float) -> bool:
        return self.lo > threshold

    def below(self, threshold: float) -> bool:
        return self.hi < threshold

    def __str__(self) -> str:
        return f"{self.median:.2f}x [{self.lo:.2f}-{self.hi:.2f}]"
