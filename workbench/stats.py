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


def median_coverage(n: int, k: int) -> float:
    """How often [x(k), x(n-k+1)] of n independent values contains their distribution's median,
    whatever the distribution (continuous): 1 - 2 P(Binomial(n, 1/2) <= k - 1)."""
    return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / (1 << n)


def median_rank(n: int, confidence: float = 0.95) -> int:
    """The largest k whose [x(k), x(n-k+1)] still covers the median with `confidence` (1 when
    even min..max covers less: few values)."""
    k = 1
    while k + 1 <= (n + 1) // 2 and median_coverage(n, k + 1) >= confidence:
        k += 1
    return k


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """An interval for the median from order statistics, assuming nothing about the distribution:
    [x(k), x(n-k+1)] with k = `median_rank`. With few values that is min..max, which covers less
    than asked (3 values: 75%; 6: 96.9%): callers that judge check what it covers
    (`median_coverage(n, median_rank(n))`) before they trust it."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    k = median_rank(n, confidence)
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


def t_quantile(df: float) -> float:
    """Student's t 95% two-sided quantile at `df` degrees of freedom, rounded down to a whole
    number of them (Welch's df is fractional: rounding down widens the interval, never narrows)."""
    return t95(max(1, math.floor(df)))


def next_run_interval(values: Sequence[float]) -> tuple[float, float] | None:
    """Where the next run's rate should land, from this run's rounds: a 95% prediction interval
    on the log scale (rates are positive and their noise multiplicative), centred on the
    geometric mean. The next run's figure comes from K new rounds, so the half-width is
    t(K-1) * s * sqrt(1/K + 1/K): the uncertainty of this run's mean and of the next one's. Every
    round is a fresh worker process, so the rounds vary as whole runs vary, as far as they can
    see: a drift slower than one run (Kalibera & Jones' upper level) is not in them, and
    scripts/bench_stability.py measures how often the next run really landed inside. None with
    fewer than 2 rounds or a round that measured nothing."""
    if len(values) < 2 or min(values) <= 0:
        return None
    logs = [math.log(v) for v in values]
    centre = statistics.fmean(logs)
    k = len(logs)
    half = t95(k - 1) * statistics.stdev(logs) * math.sqrt(2 / k)
    return math.exp(centre - half), math.exp(centre + half)


def _welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float] | None:
    """Welch's t on the logs of two sets of rounds: (difference of the mean logs, the variance of
    that difference, its degrees of freedom; 0 where the variance is 0). None with fewer than 2
    rounds on either side or a round that measured nothing."""
    if len(a) < 2 or len(b) < 2 or min(a) <= 0 or min(b) <= 0:
        return None
    la, lb = [math.log(v) for v in a], [math.log(v) for v in b]
    va, vb = statistics.variance(la) / len(la), statistics.variance(lb) / len(lb)
    diff = statistics.fmean(la) - statistics.fmean(lb)
    if va + vb == 0:
        return diff, 0.0, 0.0
    df = (va + vb) ** 2 / (va**2 / (len(la) - 1) + vb**2 / (len(lb) - 1))
    return diff, va + vb, df


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, int] | None:
    """Student's t on the per-round log ratios: (their mean, their standard error, the degrees of
    freedom). None with fewer than 2 pairs, unequal counts or a zero."""
    if len(a) != len(b) or len(a) < 2 or min(a) <= 0 or min(b) <= 0:
        return None
    logs = [math.log(x / y) for x, y in zip(a, b, strict=True)]
    return statistics.fmean(logs), statistics.stdev(logs) / math.sqrt(len(logs)), len(logs) - 1


def ratio_interval(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """A over B from each one's rounds: (ratio of geometric means, low, high) at `confidence`, by
    Welch's t on the logs (no equal-variance assumption: a noisy model beside a steady one is the
    common case). None with fewer than 2 rounds on either side or a round that measured
    nothing."""
    found = _welch(a, b)
    if found is None:
        return None
    diff, var, df = found
    if var == 0:
        return math.exp(diff), math.exp(diff), math.exp(diff)
    whole = max(1, math.floor(df))  # rounded down, as t_quantile does: wider, never narrower
    quantile = t_quantile(df) if confidence == 0.95 else t_two_sided(whole, 1 - confidence)
    half = quantile * math.sqrt(var)
    return math.exp(diff), math.exp(diff - half), math.exp(diff + half)


def paired_ratio_interval(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """A over B from rounds that pair up (the i-th of each ran back to back, interleaved, and saw
    the same machine): (geometric mean of the per-round ratios, low, high), Student's t over the
    log ratios. A slowdown that hits a whole round hits both sides of its pair and cancels, as
    the GIL lab's paired ratios do. None with fewer than 2 pairs, unequal counts or a zero."""
    found = _paired(a, b)
    if found is None:
        return None
    centre, se, df = found
    quantile = t95(df) if confidence == 0.95 else t_two_sided(df, 1 - confidence)
    return math.exp(centre), math.exp(centre - quantile * se), math.exp(centre + quantile * se)


def paired_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """The two-sided p-value of `paired_ratio_interval`'s test (None as it is)."""
    found = _paired(a, b)
    if found is None:
        return None
    centre, se, df = found
    return _p_value(centre, se, df)


def ratio_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Welch's two-sided p-value that A's and B's rounds have the same geometric mean (None as
    for `ratio_interval`): what Holm's correction orders a run's declared pairs by."""
    found = _welch(a, b)
    if found is None:
        return None
    diff, var, df = found
    return _p_value(diff, math.sqrt(var), max(1, math.floor(df)))


def _p_value(diff: float, se: float, df: float) -> float:
    """Two-sided p-value of a difference of means over its standard error; a difference with no
    spread at all is certain (0) or nothing (1)."""
    if se == 0:
        return 0.0 if diff else 1.0
    return t_tail(abs(diff) / se, df)


def t_tail(t: float, df: float) -> float:
    """P(|T| >= t) for Student's t with `df` (possibly fractional) degrees of freedom: the
    regularized incomplete beta I_x(df/2, 1/2) at x = df / (df + t^2)."""
    return _betainc(df / 2, 0.5, df / (df + t * t))


def t_two_sided(df: float, alpha: float) -> float:
    """The t with P(|T| >= t) = alpha, by bisection on `t_tail` (which falls as t rises)."""
    lo, hi = 0.0, 1.0
    while t_tail(hi, df) > alpha:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if t_tail(mid, df) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) by its continued fraction (Lentz's method), turned
    around where it converges slowly (Numerical Recipes' betai)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def window_drift(slice_ops: list[int]) -> float | None:
    """How far a window's rate moved: its last third's operations against its first third's, as
    a share of a third's mean. None with too few slices to have thirds."""
    k = len(slice_ops) // 3
    if k < 2:
        return None
    mean = sum(slice_ops) / len(slice_ops) * k
    return round(abs(sum(slice_ops[-k:]) - sum(slice_ops[:k])) / mean, 4) if mean else None
