"""The GIL claims by number. Each claim is one module holding its text, its experiment
(`measure`, run in a fresh process by the probe) and its judge (`judge`, run in the parent), so a
new claim is one new module and one line here. Standard library only, like every claim module."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, cast

from workbench.gil.judging import Verdict

CLAIM_MODULES: dict[int, str] = {
    1: "one_at_a_time",
    2: "outside_the_gil",
    3: "slower_than_sequential",
    4: "responsiveness",
    5: "needs_a_lock",
    6: "process_cost",
}
CLAIM_NUMBERS = tuple(CLAIM_MODULES)


class Claim(Protocol):
    NUMBER: int
    TEXT: str
    measure: Callable[[], dict[str, Any]]
    judge: Callable[[dict[str, Any]], tuple[str, str, str]]


def claim(number: int) -> Claim:
    """The claim's module, imported on first use."""
    module = importlib.import_module(f"{__name__}.{CLAIM_MODULES[number]}")
    return cast(Claim, module)


def claim_text(number: int) -> str:
    return claim(number).TEXT


def judge(number: int, measurements: dict[str, Any]) -> Verdict:
    c = claim(number)
    verdict, evidence, explanation = c.judge(measurements)
    return Verdict(number, c.TEXT, verdict, evidence, explanation)
