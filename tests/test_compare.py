"""Comparing two runs: the statistics, the verdicts, and the command's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from workbench.report.compare import compare_docs, gate
from workbench.results import ResultDoc, Row
from workbench.stats import ratio_interval
from workbench.testing import make_doc, make_row


def test_welch_ratio_interval_on_the_logs() -> None:
    # Equal spread on both sides, 3 rounds each: Welch's df is 4 (t = 2.776).
    ratio, lo, hi = ratio_interval([100, 110, 90], [50, 55, 45]) or (0, 0, 0)
    assert ratio == pytest.approx(2.0, rel=1e-6)
    assert lo < 2.0 < hi
    assert hi / 2.0 == pytest.approx(2.0 / lo, rel=1e-6)  # symmetric on the log scale
    same = ratio_interval([100, 100], [100, 100])
    assert same == (1.0, 1.0, 1.0)
    assert ratio_interval([100], [50, 50]) is None  # one round says nothing about the next run
    assert ratio_interval([100, 0], [50, 50]) is None


def test_the_ratio_decided_on_is_the_ratio_printed() -> None:
    """Rounds in two modes: the geometric means are 1.2x apart, beyond noise, but the medians,
    which every table prints, only 1.04x: under the 5% minimum, so not "faster"."""
    from workbench.ranking import TIED, decide

    a, b = _row("uvloop", [104.0] * 6 + [140.0] * 5), _row("asyncio", [100.0] * 11)
    geo_ratio, lo, _ = ratio_interval(a["repeats"]["ops_per_s"], b["repeats"]["ops_per_s"]) or (
        0,
        0,
        0,
    )
    assert geo_ratio > 1.05
    assert lo > 1
    d = decide(a, b)
    assert d.ratio == pytest.approx(1.04)
    assert d.verdict == TIED
    assert d.lo is not None
    assert d.ratio is not None
    assert d.lo <= d.ratio


def _row(model: str, rates: list[float]) -> Row:
    return make_row(model=model, repeats={"ops_per_s": rates, "median": 0.0, "spread": None})


def _doc(*rows: Row) -> ResultDoc:
    return make_doc(*rows)


def test_compare_verdicts_follow_the_repeats() -> None:
    a = _doc(
        _row("uvloop", [100, 101, 99, 100, 102]),
        _row("asyncio", [50, 55, 45, 52, 48]),
        _row("trio", [30, 30.1, 29.9, 30, 30.05]),
        _row("threads", [20]),
        _row("sync", [10, 10, 10, 10]),
    )
    b = _doc(
        _row("uvloop", [120, 121, 119, 122, 120]),  # 20% faster, no overlap
        _row("asyncio", [51, 46, 54, 49, 53]),  # the same, noisily
        _row("trio", [30.5, 30.6, 30.4, 30.5, 30.55]),  # consistently 1.7% faster: below 5%
        _row("threads", [40]),  # one round each: no verdict
        _row("processes", [5, 5, 5, 5]),
    )
    got = {c["cell"].split(" · ")[0]: c for c in compare_docs(a, b)["comparisons"]}
    assert got["uvloop"]["verdict"] == "faster"
    assert got["uvloop"]["ratio"] == pytest.approx(1.2, rel=0.01)
    assert got["asyncio"]["verdict"] == "not told apart"
    assert got["trio"]["verdict"] == "not told apart"
    assert got["threads"]["verdict"].startswith("too few rounds")
    assert got["uvloop"]["ratio_ci"][0] > 1.05
    result = compare_docs(a, b)
    assert result["only_in_a"] == ["sync · raw · http · 100 clients"]
    assert result["only_in_b"] == ["processes · raw · http · 100 clients"]
    slower = compare_docs(b, a)["comparisons"][0]
    assert slower["verdict"] == "slower"


def test_the_gate_fails_on_a_decided_slowdown_past_the_minimum() -> None:
    a = _doc(
        _row("uvloop", [100, 101, 99, 100]),
        _row("asyncio", [50, 55, 45, 52]),
        _row("trio", [30, 30.1, 29.9, 30]),
        _row("threads", [20]),
    )
    b = _doc(
        _row("uvloop", [80, 81, 79, 80]),  # 20% slower, decided
        _row("asyncio", [50, 46, 54, 49]),  # noise: not told apart
        _row("trio", [36, 36.1, 35.9, 36]),  # 20% faster
        _row("threads", [5]),  # one round: undecided, whatever the gap
    )
    comparisons = compare_docs(a, b)["comparisons"]
    failed, undecided = gate(comparisons, "slower", 0.05)
    assert [c["cell"].split(" · ")[0] for c in failed] == ["uvloop"]
    assert undecided == 1
    assert gate(comparisons, "slower", 0.3)[0] == []  # 20% is under a 30% minimum
    changed, _ = gate(comparisons, "changed", 0.05)
    assert [c["cell"].split(" · ")[0] for c in changed] == ["uvloop", "trio"]
    assert gate(compare_docs(a, a)["comparisons"], "changed", 0.05)[0] == []


@pytest.mark.slow
def test_compare_command(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_doc(_row("uvloop", [100, 101, 99, 100]))))
    b.write_text(json.dumps(_doc(_row("uvloop", [130, 131, 129, 132]))))
    proc = run_cli("compare", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    assert "faster" in proc.stdout
    # As a CI gate: B faster passes; A against B (1.3x slower, decided) fails, naming the cell,
    # unless the minimum is past it.
    assert run_cli("compare", str(a), str(b), "--fail-on", "slower").returncode == 0
    gated = run_cli("compare", str(b), str(a), "--fail-on", "slower", "--min-change", "10%")
    assert gated.returncode == 1, gated.stderr
    assert "uvloop · raw · http · 100 clients: slower" in gated.stderr
    lax = run_cli("compare", str(b), str(a), "--fail-on", "slower", "--min-change", "40%")
    assert lax.returncode == 0, lax.stderr
    bad = run_cli("compare", str(a), str(b), "--fail-on", "slower", "--min-change", "lots")
    assert bad.returncode == 2
    assert "--min-change 'lots'" in bad.stderr
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**_doc(), "schema_version": 0}))
    proc = run_cli("compare", str(old), str(b))
    assert proc.returncode == 2
    assert "schema version 0" in proc.stderr
    assert "Traceback" not in proc.stderr
    gil = tmp_path / "gil.json"
    gil.write_text(json.dumps({**_doc(), "kind": "gil"}))
    proc = run_cli("compare", str(gil), str(b))
    assert proc.returncode == 2
    assert "GIL lab run" in proc.stderr


def test_rows_of_one_run_compare_round_by_round() -> None:
    """A whole pass of the round-robin ran slow (round 1 of every cell at 40% speed): in
    one run the rounds pair and the slowdown cancels, so a steady 2x is decided; the same figures
    from two runs cannot pair, and Welch's t on them says nothing."""
    from workbench.ranking import FASTER, TIED, decide, paired

    def row(model: str, rates: list[float], run: str) -> Row:
        r = _row(model, rates)
        r["metadata"] = {**r["metadata"], "run_id": run}
        return r

    fast, slow = [40_000.0, 106_000.0, 107_000.0], [20_300.0, 52_000.0, 53_800.0]
    a, b = row("uvloop", fast, "run-1"), row("asyncio", slow, "run-1")
    assert paired(a, b)
    assert decide(a, b).verdict == FASTER
    other = row("asyncio", slow, "run-2")
    assert not paired(a, other)
    assert decide(a, other).verdict == TIED
    assert not paired(a, row("asyncio", slow[:2], "run-1"))  # a collapsed cell's fewer rounds
