"""Whether one row is faster than another, decided only where run-to-run noise cannot have
decided it (pure: rows in, decisions out). The table's ≈ and rank, the findings and `compare` all
ask here, so they never disagree with each other.

A decision needs at least two rounds on each side (one round decides nothing: UNRANKED): each
round is a fresh worker process, so the rounds vary as separate runs vary. Rows of one run are
compared round by round: the runner interleaves the cells, so round i of A and round i of B ran
in the same pass and saw the same machine, and a slowdown of a whole pass cancels in their ratio
(Student's t over the per-round log ratios, the GIL lab's pairing). Rows of two runs are compared
by Welch's t on their log rates. Either interval is 95%, and A is faster only when the whole
interval is above 1 and the ratio of the rows' figures (their medians, the ratio every table
prints) is at least 1 + MIN_EFFECT; otherwise the two are ≈. The interval is widened where need
be to hold that ratio, so what is printed and what was decided on are one number.
Within-window intervals never decide anything: on this kind of machine runs have moved by 12-54%
between each other while one window looked steady.

Rows are ranked by their rate, also where both are client-bound. CPU time per operation could be
the steadier figure there (a VM's stolen time lowers the rate but is not charged as CPU), but
measured here it was not: scripts/bench_stability.py reports the between-run coefficient of
variation of both for every cell (2026-12-05: the same within a point or two on every
client-bound cell), and ranking by whichever looks steadier in a given run would choose the
test after seeing the data.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from workbench.results import Row
from workbench.stats import paired_ratio_interval, ratio_interval

MIN_EFFECT = 0.05  # a gap under 5% is not a ranking, whatever the interval says
FASTER, SLOWER, TIED, UNRANKED = ">", "<", "≈", "?"
# The one vocabulary every table, comparison, finding and figure says a verdict in.
SAID = {FASTER: "faster", SLOWER: "slower", TIED: "not told apart", UNRANKED: "too few rounds"}


@dataclass(frozen=True)
class Decision:
    """A against B: FASTER, SLOWER, TIED (both measured, the interval does not decide) or
    UNRANKED (too few rounds to decide anything); the ratio of A's rate to B's and its 95%
    interval."""

    verdict: str
    ratio: float | None
    lo: float | None
    hi: float | None


def rounds_of(row: Row) -> list[float]:
    """The row's rate in each round, in operations/s (a disk row's MB/s is that times a fixed
    file size, so the ratio of two rows is the same in either unit)."""
    return [float(v) for v in row["repeats"]["ops_per_s"]]


def paired(a: Row, b: Row) -> bool:
    """Whether two rows' rounds pair up: rows of one run, where round i of every cell ran in the
    same pass of the interleaved round-robin (the runner's order), so the i-th rounds saw the
    same machine. Rows of two runs (`compare`) never pair."""
    return a["metadata"].get("run_id") is not None and (
        a["metadata"].get("run_id") == b["metadata"].get("run_id")
        and len(rounds_of(a)) == len(rounds_of(b))
    )


def decide(a: Row, b: Row, confidence: float = 0.95) -> Decision:
    """Is A faster than B, beyond run-to-run noise and by at least MIN_EFFECT? `confidence` is
    the interval's (raise it to correct for several pairs: see report.declared). Rows of one run
    are compared round by round (`paired`); rows of two runs by Welch's t."""
    xs, ys = rounds_of(a), rounds_of(b)
    if paired(a, b):
        found = paired_ratio_interval(xs, ys, confidence)
    else:
        found = ratio_interval(xs, ys, confidence)
    if found is None:
        return Decision(UNRANKED, None, None, None)
    ratio = statistics.median(xs) / statistics.median(ys)  # the rows' own figures' ratio
    lo, hi = min(found[1], ratio), max(found[2], ratio)
    if lo > 1 and ratio >= 1 + MIN_EFFECT:
        verdict = FASTER
    elif hi < 1 and ratio <= 1 / (1 + MIN_EFFECT):
        verdict = SLOWER
    else:
        verdict = TIED
    return Decision(verdict, ratio, lo, hi)


def ranks(rows: Sequence[Row]) -> list[int | None]:
    """Each row's rank among `rows`: 1 + the number of rows decidedly faster than it. Rows that
    cannot be told apart share a rank; None for a row with too few rounds to rank."""
    out: list[int | None] = []
    for r in rows:
        if len(rounds_of(r)) < 2:
            out.append(None)
            continue
        above = sum(1 for o in rows if o is not r and decide(o, r).verdict == FASTER)
        out.append(1 + above)
    return out


def ranks_within(
    rows: Sequence[Row], group: Callable[[Row], Hashable] = lambda _: None
) -> dict[int, int | None]:
    """Each row's rank (`ranks`) among the rows of its group, keyed by the row's id()."""
    out: dict[int, int | None] = {}
    for key in dict.fromkeys(map(group, rows)):
        members = [r for r in rows if group(r) == key]
        out.update(zip(map(id, members), ranks(members), strict=True))
    return out


def decided_pairs(rows: Sequence[Row]) -> list[tuple[Row, Row]]:
    """Every ordered claim a set of rows makes: (A, B) where A was decided faster than B. What
    stays still between runs is what this holds."""
    out: list[tuple[Row, Row]] = []
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            verdict = decide(a, b).verdict
            if verdict == FASTER:
                out.append((a, b))
            elif verdict == SLOWER:
                out.append((b, a))
    return out


def times(value: float) -> str:
    """A ratio as a reader wants it: two decimals, or two significant digits below 0.1."""
    if not math.isfinite(value):
        return "-"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"
