"""Declared pairs under Holm's correction, and no verdict between rows the server bound."""

from __future__ import annotations

from workbench.ranking import FASTER, TIED, UNRANKED, decide
from workbench.report.declared import BOUND, Pair, declared_verdicts
from workbench.results import Row
from workbench.testing import make_row


def _row(model: str, client: str, rates: list[float], flags: list[str] | None = None) -> Row:
    repeats = {"ops_per_s": rates, "median": sorted(rates)[len(rates) // 2], "spread": None}
    return make_row(model=model, client=client, repeats=repeats, flags=flags or [])


PAIRS = [
    Pair("clear", ("asyncio", "a"), ("threads", "a")),
    Pair("borderline", ("asyncio", "b"), ("threads", "b")),
    Pair("server", ("asyncio", "c"), ("threads", "c")),
    Pair("one round", ("asyncio", "d"), ("threads", "d")),
]


def test_holm_corrects_for_every_declared_pair_and_bound_rows_get_none() -> None:
    rows = [
        _row("asyncio", "a", [200, 202, 198, 201]), _row("threads", "a", [100, 101, 99, 100]),
        # About 7% apart with some noise: decided at a plain 95%, not at 95% over four pairs.
        _row("asyncio", "b", [106, 112, 104, 110]), _row("threads", "b", [100, 105, 97, 102]),
        _row("asyncio", "c", [300, 301, 299, 300], ["server-bound"]),
        _row("threads", "c", [100, 100, 101, 99]),
        _row("asyncio", "d", [150]), _row("threads", "d", [100, 100, 100]),
    ]  # fmt: skip
    got = {v.pair.name: v for v in declared_verdicts({"pg-select": rows}, PAIRS)}
    assert got["clear"].verdict == FASTER
    assert got["clear"].confidence is not None
    assert got["clear"].confidence > 0.95  # drawn at 1 - 5%/m, not at 95%
    plain = decide(rows[2], rows[3])
    assert plain.verdict == FASTER  # what an uncorrected interval would have said
    assert got["borderline"].verdict == TIED
    assert got["server"].verdict == BOUND
    assert "server" in got["server"].said
    assert got["server"].ratio is not None  # measured and shown, just not judged
    assert got["one round"].verdict == UNRANKED


def test_pairs_missing_from_a_group_are_not_counted_as_decided() -> None:
    rows = [_row("asyncio", "a", [200, 202, 198]), _row("threads", "a", [100, 101, 99])]
    verdicts = declared_verdicts({"redis-get": rows}, PAIRS)
    assert [v.pair.name for v in verdicts] == ["clear"]
    assert verdicts[0].verdict == FASTER
