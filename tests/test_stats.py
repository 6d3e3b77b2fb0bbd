"""The statistics behind "every row carries its interval" and "noise decides nothing"."""

from __future__ import annotations

import math
import statistics
from array import array
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.harness.rows import between_rounds, rate_interval
from workbench.harness.trust import flags_for
from workbench.metrics import ClientRecorder, Recording, slice_counts
from workbench.report.table import io_table
from workbench.report.table_notes import notes
from workbench.results import Row, half_width
from workbench.stats import (
    SLICES,
    batch_means_interval,
    median_interval,
    next_run_interval,
    percentile,
    window_drift,
)
from workbench.testing import make_doc, make_row


def test_median_interval_narrows_as_values_come() -> None:
    assert median_interval([3.0]) == (3.0, 3.0)
    assert median_interval([5, 1, 3, 2, 4]) == (1, 5)  # few values: min..max

    def relative_width(n: int) -> float:
        lo, hi = median_interval(list(range(n)))
        return (hi - lo) / n

    assert relative_width(40) < relative_width(20) < relative_width(9) < relative_width(5)
    with pytest.raises(ValueError, match="no values"):
        median_interval([])


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=60))
def test_median_interval_contains_the_median(values: list[float]) -> None:
    lo, hi = median_interval(values)
    ordered = sorted(values)
    assert lo <= ordered[len(values) // 2] <= hi
    assert lo <= ordered[(len(values) - 1) // 2] <= hi


@given(st.lists(st.integers(0, 10_000), min_size=SLICES, max_size=SLICES), st.floats(0.1, 10))
def test_batch_means_interval_brackets_the_windows_rate(counts: list[int], window: float) -> None:
    ci = batch_means_interval(counts, window)
    assert ci is not None
    rate = sum(counts) / window
    assert ci[0] - 1e-6 <= rate <= ci[1] + 1e-6


def test_batch_means_interval_widens_with_an_unsteady_rate() -> None:
    steady = batch_means_interval([100] * SLICES, 2.0)
    assert steady is not None
    assert steady[0] == pytest.approx(1000)
    assert steady[1] == pytest.approx(1000)
    stall = batch_means_interval([100] * 10 + [0] * 2 + [100] * 8, 2.0)
    assert stall is not None
    assert stall[0] < 900 < 1100 < stall[1] + 200
    assert batch_means_interval([1, 2, 3], 1.0) is None  # too few slices to say anything


def test_slices_count_each_users_completions_by_bisection() -> None:
    ms = 1_000_000
    users = [array("q", [5 * ms, 15 * ms, 95 * ms]), array("q", [50 * ms, 99 * ms, 100 * ms])]
    counts = slice_counts(users, 0, 100 * ms)
    assert len(counts) == SLICES
    assert sum(counts) == 5  # 100 ms is the end: not in the window
    assert counts[1] == 1 and counts[3] == 1 and counts[10] == 1 and counts[19] == 2  # noqa: PT018


def test_recordings_carry_slices_and_merge_them() -> None:
    ms = 1_000_000
    a, b = ClientRecorder(), ClientRecorder()
    for t in range(0, 100 * ms, ms):
        a.latencies.append(ms)
        a.ends.append(t)
    b.latencies.append(ms)
    b.ends.append(42 * ms)
    one = Recording.from_clients([a], (0, 100 * ms))
    two = Recording.from_clients([b], (0, 100 * ms))
    assert one.slice_ops == [5] * SLICES
    one.merge(Recording.from_dict(two.to_dict()))
    assert sum(one.slice_ops) == 101
    assert one.slice_ops[8] == 6
    assert Recording.from_clients([a]).slice_ops == []  # no window: no slices


def _repeats(*rates: float) -> dict[str, Any]:
    return {"ops_per_s": list(rates), "median": statistics.median(rates), "spread": None}


@pytest.mark.parametrize(
    ("rates", "drift", "noisy"),
    [
        # A spread between rounds is what ± shows: no flag for it alone, however wide.
        ((900.0, 1000.0, 1150.0), 0.05, False),
        ((700.0, 1000.0, 1300.0), None, False),
        ((990.0, 1000.0), None, False),
        ((600.0, 1000.0), None, False),  # two rounds apart: a spread, not two modes
        # Of three rounds one apart is as likely an outlier: the interval's to show.
        ((13_000.0, 25_000.0, 25_500.0), None, False),
        # Two modes: four rounds or more, two or more on each side of one gap over 20% of the
        # median and three times any other (trio's raw row went 13k or 25k by worker).
        ((13_000.0, 13_400.0, 25_000.0, 25_500.0), None, True),
        ((10_000.0, 10_200.0, 14_000.0, 14_100.0, 14_300.0), None, True),
        ((10_000.0, 14_000.0, 14_100.0, 14_300.0), None, False),  # one round apart: an outlier
        ((850.0, 860.0, 1000.0, 1010.0), None, False),  # 140 apart: under 20% of the median
        ((700.0, 720.0, 1000.0, 1150.0), None, False),  # the other gap is half the widest
        # A rate that moved within a window, whatever the rounds did.
        ((1000.0, 1000.0, 1000.0), 0.4, True),
        ((1000.0, 1000.0, 1000.0), 0.25, False),
    ],
)
def test_noisy_is_what_the_interval_does_not_show(
    rates: tuple[float, ...], drift: float | None, noisy: bool
) -> None:
    row = make_row(repeats=_repeats(*rates), window_drift=drift, window_ci=[500.0, 1500.0])
    assert ("noisy" in flags_for(row, client_cpus=2)) is noisy


def test_a_window_drift_compares_its_last_third_with_its_first() -> None:
    assert window_drift([100] * 20) == 0.0
    # 300 operations between the thirds, against a third's mean of 1,700 / 20 * 6 = 510.
    assert window_drift([100] * 6 + [100] * 8 + [50] * 6) == pytest.approx(300 / 510, abs=1e-4)
    assert window_drift([50] * 6 + [100] * 14) == pytest.approx(300 / 510, abs=1e-4)
    assert window_drift([0] * 20) is None
    assert window_drift([1, 2, 3, 4, 5]) is None  # no thirds of two slices


def test_every_row_interval_brackets_its_rate_and_drives_the_noisy_flag() -> None:
    assert rate_interval([0] * SLICES, 0, 1.0) == [0.0, 0.0]
    assert rate_interval([], 10, 1.0) is None
    ci = rate_interval([50] * 10 + [150] * 10, 2000, 2.0)
    assert ci is not None
    assert ci[0] <= 1000 <= ci[1]
    # With one round, its own window decides the noisy flag.
    wobbly = make_row(ops_per_s=1000.0, ops_per_s_ci=None, window_ci=[800.0, 1200.0])
    assert "noisy" in flags_for(wobbly, client_cpus=2)
    calm = make_row(ops_per_s=1000.0, ops_per_s_ci=None, window_ci=[980.0, 1020.0])
    assert "noisy" not in flags_for(calm, client_cpus=2)
    assert half_width([980.0, 1020.0], 1000.0) == pytest.approx(0.02)
    assert half_width(None, 1000.0) is None


def _rounds(model: str, *rates: float) -> Row:
    median = statistics.median(rates)
    ci = between_rounds(list(rates), median)
    repeats = {"ops_per_s": list(rates), "median": median, "spread": None}
    return make_row(model=model, ops_per_s=median, ops_per_s_ci=ci, repeats=repeats)


def test_between_rounds_interval_predicts_the_next_run_on_the_log_scale() -> None:
    rates = [100.0, 110.0, 90.0]
    lo, hi = next_run_interval(rates) or (0.0, 0.0)
    geo = (100.0 * 110.0 * 90.0) ** (1 / 3)
    assert lo < geo < hi
    assert hi / geo == pytest.approx(geo / lo)  # symmetric on the log scale
    # t(2) * s * sqrt(2/3): this run's mean and the next run's, both uncertain.
    s = statistics.stdev(math.log(r) for r in rates)
    assert math.log(hi / geo) == pytest.approx(4.303 * s * math.sqrt(2 / 3), rel=1e-3)
    assert next_run_interval([100.0]) is None  # one round: nothing about the next run
    assert between_rounds([100.0], 100.0) is None
    # The row's figure is the median; the interval always holds it.
    ci = between_rounds([100.0, 100.0, 100.0, 400.0], 100.0)
    assert ci is not None
    assert ci[0] <= 100.0 <= ci[1]


def test_the_table_does_not_rank_rows_it_cannot_tell_apart() -> None:
    doc = make_doc(
        _rounds("uvloop", 10_000.0, 10_400.0, 9_600.0),
        _rounds("asyncio", 9_800.0, 10_100.0, 9_500.0),
        _rounds("threads", 5_000.0, 5_050.0, 4_950.0),
    )
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(io_table({**doc, "metadata": _metadata()}))
    text = console.export_text()
    lines = {line.split()[0]: line for line in text.splitlines() if " raw " in line}
    rank = {model: line.split()[5] for model, line in lines.items()}  # model client N rate ± rank
    assert "≈0.98" in lines["asyncio"]  # the rounds cannot tell it from the best: not ranked
    assert "0.50" in lines["threads"]
    assert "≈0.50" not in lines["threads"]
    assert rank == {"uvloop": "1", "asyncio": "1", "threads": "3"}  # a shared rank
    assert "prediction interval from the 3 rounds" in notes({**doc, "metadata": _metadata()})[0]
    # One round ranks nothing, however steady its window looked.
    one = make_doc(
        make_row(model="uvloop", ops_per_s=10_000.0), make_row(model="threads", ops_per_s=5_000.0)
    )
    console = Console(width=200, record=True)
    console.print(io_table({**one, "metadata": _metadata()}))
    lines = {line.split()[0]: line for line in console.export_text().splitlines() if "raw" in line}
    # Unranked: told apart from nothing, so never marked ≈ (tied) either.
    assert "≈" not in lines["threads"]
    assert lines["threads"].split()[6] == "0.50"
    assert lines["threads"].split()[5] == "-"
    assert notes({**one, "metadata": _metadata()})[0].startswith("one round per cell")
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0


def _metadata() -> dict[str, object]:
    return {
        "settings": {"clients": 100, "duration": 3, "warmup": 1, "latency": 0, "work": None},
        "parent": {"python": "3.11"},
        "pinning": {"server_cpus": None, "client_cpus": None},
        "servers": {"http": {"url": "http://127.0.0.1:1/"}},
    }
