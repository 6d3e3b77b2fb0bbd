"""Small statistics the workbench shares, standard library only (no I/O): percentiles, a
distribution-free interval for a median, and a confidence interval for a rate from one run."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# Two-sided 95% quantiles of Student's t by degrees of freedom 1..30 (beyond 30, 1.96 is close).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip

# A window is cut into this many equal slices, counted in pairs: ten batches of two (batch means).
SLICES = 20
BATCHES = 10


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no extrapolation past the largest value)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def t95(df: int) -> float:
    return _T95[df - 1] if df <= len(_T95) else 1.96


def median_interval(values: Sequence[float], confidence: float = 0.9) -> tuple[float, float]:
    """An interval for the median from order statistics, assuming nothing about the distribution:
    [x(k), x(n-k+1)] with the largest k whose coverage, 1 - 2 P(Binomial(n, 1/2) < k), is still
    at least `confidence`. With few values that is min..max (and covers less than asked); each
    value added can only narrow it, which is what adaptive sampling relies on."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    k, tail = 1, 0.0  # tail: P(B <= k - 1)
    while True:
        tail_next = tail + math.comb(n, k) / 2**n  # P(B <= k)
        if 1 - 2 * tail_next < confidence or k + 1 > (n + 1) // 2:
            break
        k, tail = k + 1, tail_next
    return xs[k - 1], xs[n - k]


def batch_means_interval(
    slice_counts: Sequence[int], window_s: float, batches: int = BATCHES
) -> tuple[float, float] | None:
    """A 95% confidence interval for the rate of events counted in equal slices of one window,
    by batch means: consecutive slices are summed into `batches` batches (long enough that one
    batch hardly depends on the next), and Student's t goes over the batch rates. Its centre is
    exactly the window's rate, so the interval always brackets it. None without enough slices."""
    n = len(slice_counts)
    if n < 2 * batches or n % batches or window_s <= 0:
        return None
    per = n // batches
    batch_s = window_s / batches
    rates = [sum(slice_counts[i * per : (i + 1) * per]) / batch_s for i in range(batches)]
    mean = statistics.fmean(rates)
    half = t95(batches - 1) * statistics.stdev(rates) / math.sqrt(batches)
    return max(0.0, mean - half), mean + half
