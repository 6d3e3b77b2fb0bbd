"""Fault injection plan: which fault (if any) hits a request. Pure logic, no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

HTTP_FAULTS = ("500", "reset", "stall", "slow-body")
ECHO_FAULTS = ("reset", "stall", "slow-body")


class FaultSpecError(ValueError):
    """A `--fault KIND:RATE` value that cannot be used."""


def parse_fault(text: str, allowed: tuple[str, ...]) -> tuple[str, float]:
    """Parse `KIND:RATE` (RATE a probability in [0, 1], or a percentage like `5%`)."""
    kind, sep, rate_text = text.partition(":")
    if not sep:
        raise FaultSpecError(f"fault {text!r} is not KIND:RATE (for example reset:0.01)")
    if kind not in allowed:
        raise FaultSpecError(f"unknown fault kind {kind!r}; choose from {', '.join(allowed)}")
    try:
        rate = float(rate_text[:-1]) / 100 if rate_text.endswith("%") else float(rate_text)
    except ValueError:
        raise FaultSpecError(f"fault rate {rate_text!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"fault rate {rate_text!r} is outside [0, 1]")
    return kind, rate


@dataclass
class FaultPlan:
    """Draws at most one fault per request; seeded, so a run can be replayed."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        total = sum(self.rates.values())
        if total > 1.0 + 1e-9:
            raise FaultSpecError(f"fault rates add up to {total:g}, more than 1")
        self._rng = random.Random(self.seed)
        cumulative = 0.0
        self._table: list[tuple[float, str]] = []
        for kind, rate in self.rates.items():
            cumulative += rate
            self._table.append((cumulative, kind))
        self.active = total > 0

    def draw(self) -> str | None:
        """The fault for the next request, or None."""
        if not self.active:
            return None
        r = self._rng.random()
        for bound, kind in self._table:
            if r < bound:
                return kind
        return None
