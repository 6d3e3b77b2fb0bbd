"""Every GIL claim's judge on recorded-shape measurements: it holds, does not hold, or says noise
decides nothing, from the numbers alone (claims 1 and 5 also in tests/test_gil.py)."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.gil.claims import CLAIM_NUMBERS, claim, claim_text, judge
from workbench.gil.claims.slower_than_sequential import JUDGED_AT
from workbench.gil.judging import FAILS, HOLDS, UNSURE
from workbench.gil.timing import ROUNDS
from workbench.testing import phases


def rounds(*values: float) -> list[float]:
    """ROUNDS values cycling through `values`: a recorded-shape sample of the fixed size."""
    return [values[i % len(values)] for i in range(ROUNDS)]


def test_every_claim_is_one_module_with_text_experiment_and_judge() -> None:
    assert CLAIM_NUMBERS == (1, 2, 3, 4, 5, 6)
    for n in CLAIM_NUMBERS:
        c = claim(n)
        assert n == c.NUMBER
        assert claim_text(n) == c.TEXT
        assert callable(c.measure)
        assert callable(c.judge)


def _kind(two: list[float], busy: list[float]) -> dict[str, Any]:
    two, busy = rounds(*two), rounds(*busy)
    one = phases([1.0] * len(two), [1.0] * len(two))
    return {"one_thread": one, "threads": phases(two, busy), "k": 2, "units": 10}


def _kinds(two: list[float], busy: list[float], cpus: int = 2) -> dict[str, Any]:
    waiting = {"time.sleep": _kind(two, [0.05] * len(two))}  # waiting keeps no core busy
    cpu = {"zlib.compress": _kind(two, busy)}
    skipped = {"numpy": {"skipped": "numpy is not installed"}}
    return {"kinds": {**waiting, **cpu, **skipped}, "cpus": cpus, "threads": 2}


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (_kinds([0.52, 0.55, 0.5], [1.9, 1.85, 1.95]), HOLDS),
        (_kinds([1.0, 0.98, 1.02], [1.0, 1.0, 1.0]), FAILS),
        (_kinds([0.6, 0.9, 0.7], [1.4, 1.2, 1.7]), UNSURE),
        (_kinds([0.52, 0.55, 0.5], [1.0, 1.0, 1.0], cpus=1), HOLDS),  # CPU kinds not judged
    ],
)
def test_claim_2_scales_only_when_every_kind_does(m: dict[str, Any], expected: str) -> None:
    verdict = judge(2, m)
    assert verdict.verdict == expected
    assert "numpy: skipped" in verdict.evidence


def _intervals(two: list[float], busy: list[float]) -> dict[str, Any]:
    two, busy = rounds(*two), rounds(*busy)
    runs = {
        "sequential": phases([1.0] * len(two), [1.0] * len(two)),
        "two_threads": phases(two, busy),
    }
    return {"by_switch_interval": {"5ms": runs, JUDGED_AT: runs}, "cpus": 2}


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (_intervals([1.2, 1.25, 1.3, 1.2, 1.22], [1.0] * 5), HOLDS),  # threads slower
        (_intervals([0.6, 0.62, 0.58, 0.6, 0.61], [1.9] * 5), FAILS),  # free-threaded
        (_intervals([0.9, 1.1, 1.0, 0.95, 1.05], [1.0] * 5), UNSURE),
    ],
)
def test_claim_3_slower_than_sequential(m: dict[str, Any], expected: str) -> None:
    assert judge(3, m).verdict == expected


def _lags(in_loop_ms: float, off_ms: float) -> dict[str, Any]:
    loop = {"idle": [0.1] * 50, "in the loop": [in_loop_ms] * 50, "process": [off_ms] * 50}
    ui = {"idle": [0.1] * 50}
    worst = {
        "in the loop": rounds(in_loop_ms, in_loop_ms * 1.02, in_loop_ms * 0.98),
        "process": rounds(off_ms, off_ms * 1.1, off_ms * 0.9),
    }
    return {"event_loop_ms": loop, "ui_thread_ms": ui, "worst_lag_ms": worst, "chunk_s": 0.03}


@pytest.mark.parametrize(
    ("m", "expected"),
    [(_lags(50.0, 0.3), HOLDS), (_lags(2.0, 1.0), FAILS), (_lags(20.0, 0.3), UNSURE)],
)
def test_claim_4_event_loop_lag(m: dict[str, Any], expected: str) -> None:
    assert judge(4, m).verdict == expected


def _cost(threads_start: float, procs_start: float, procs_trip: float) -> dict[str, Any]:
    sizes = ("1024", "1048576")
    return {
        "pool_start_s": {"threads": rounds(threads_start, threads_start * 1.1),
                         "processes": rounds(procs_start, procs_start * 1.05)},
        "round_trip_s": {
            "threads": dict.fromkeys(sizes, rounds(50e-6, 55e-6)),
            "processes": dict.fromkeys(sizes, rounds(procs_trip, procs_trip * 1.1)),
            "shared_memory": dict.fromkeys(sizes, rounds(100e-6, 90e-6)),
        },
    }  # fmt: skip


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (_cost(0.0005, 0.02, 300e-6), HOLDS),
        (_cost(0.02, 0.0005, 10e-6), FAILS),
        (_cost(0.001, 0.0015, 300e-6), UNSURE),
    ],
)
def test_claim_6_process_cost(m: dict[str, Any], expected: str) -> None:
    assert judge(6, m).verdict == expected
