"""Findings, the run charts and the compare chart, from a recorded run (in-process).

`tests/data/io_run.json` is a real `io` run, kept as it was written:
`python -m workbench io --only net --models uvloop,asyncio,threads --clients 50 --latency 5ms
--duration 1 --json tests/data/io_run.json`. Each test edits a copy of it and checks that the
sentences follow the numbers.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from workbench.cli import main
from workbench.metrics import new_histogram
from workbench.report.compare import compare_docs
from workbench.report.findings import COLLAPSE_CPU, findings
from workbench.report.plots import plot_compare
from workbench.report.run_charts import spectrum_points, write_run_charts
from workbench.results import ResultDoc, Row

RECORDED = Path(__file__).parent / "data" / "io_run.json"


@pytest.fixture
def run() -> ResultDoc:
    doc: ResultDoc = json.loads(RECORDED.read_text())
    return copy.deepcopy(doc)


def _row(doc: ResultDoc, model: str, client: str = "raw") -> Row:
    return next(r for r in doc["results"] if r["model"] == model and r["client"] == client)


def _set_rate(row: Row, rate: float, spread: float, rounds: int = 3) -> None:
    """The row's rate over `rounds` rounds spread by ±`spread` around it."""
    row["ops_per_s"] = rate
    steps = [-spread, 0.0, spread, -spread / 2, spread / 2][:rounds]
    row["repeats"]["ops_per_s"] = [rate * (1 + s) for s in steps]
    row["ops_per_s_ci"] = [rate * (1 - spread), rate * (1 + spread)]
    row["flags"] = [f for f in row["flags"] if f != "no-ops"]


def _about(doc: ResultDoc, words: str) -> list[str]:
    return [f for f in findings(doc) if words in f]


def test_the_recorded_run_is_what_the_tests_assume(run: ResultDoc) -> None:
    rows = run["results"]
    assert {r["model"] for r in rows} == {"uvloop", "asyncio", "threads"}
    assert {"aiohttp", "httpx", "urllib3", "http.client"} <= {r["client"] for r in rows}
    assert run["metadata"]["settings"]["latency"] == pytest.approx(0.005)
    assert all(r.get("bound_ops_per_s") == pytest.approx(10_000) for r in rows)


def test_a_clear_winner_is_named_with_its_margin(run: ResultDoc) -> None:
    _set_rate(_row(run, "uvloop"), 9_000, 0.02)
    _set_rate(_row(run, "asyncio"), 6_000, 0.02)
    _set_rate(_row(run, "threads"), 3_000, 0.02)
    for r in run["results"]:
        if r["client"] != "raw":
            _set_rate(r, 1_000, 0.02)
    (text,) = _about(run, "fastest model")
    assert text.startswith("http at 50 clients: uvloop is the fastest model (uvloop · raw, 9,000")
    assert "1.50x the next, asyncio (asyncio · raw, 6,000 ops/s), 95% interval 1." in text
    assert "over 3 rounds each" in text


def test_noise_is_not_ranked(run: ResultDoc) -> None:
    _set_rate(_row(run, "uvloop"), 9_000, 0.10)
    _set_rate(_row(run, "asyncio"), 8_500, 0.10)  # the rounds cannot tell them apart
    _set_rate(_row(run, "threads"), 3_000, 0.02)
    for r in run["results"]:
        if r["client"] != "raw":
            _set_rate(r, 1_000, 0.02)
    assert not _about(run, "fastest model")
    (text,) = _about(run, "lead together")
    assert "uvloop (9,000), asyncio (8,500) ops/s lead together" in text
    assert "the next, threads, reached 0.33x the top" in text
    # Told apart by the rounds but under 5%: still not a ranking.
    _set_rate(_row(run, "asyncio"), 8_800, 0.001)
    _set_rate(_row(run, "uvloop"), 9_000, 0.001)
    assert _about(run, "lead together")


def test_a_library_that_collapses_is_named(run: ResultDoc) -> None:
    before = _about(run, "httpx on asyncio")
    lib, raw = _row(run, "asyncio", "httpx"), _row(run, "asyncio")
    lib["flags"] = [f for f in lib["flags"] if f not in ("not-warm", "no-ops")]
    assert raw["cpu_us_per_op"] is not None
    lib["cpu_us_per_op"] = raw["cpu_us_per_op"] * 2  # costly, but not a collapse
    assert not _about(run, "httpx on asyncio")
    lib["cpu_us_per_op"] = raw["cpu_us_per_op"] * COLLAPSE_CPU * 4
    (text,) = _about(run, "httpx on asyncio costs")
    assert f"{COLLAPSE_CPU * 4:,.0f}x the raw client on the same model" in text
    lib["flags"].append("not-warm")
    lib["users_warm"] = 7
    (text,) = _about(run, "httpx on asyncio collapsed")
    assert "only 7 of 50 users finished an operation in a round" in text
    assert before != _about(run, "httpx on asyncio")


def test_rows_not_to_trust_are_named_with_the_reason(run: ResultDoc) -> None:
    for r in run["results"]:
        r["flags"] = ["client-bound"]  # informative, not a doubt
    assert not _about(run, "Do not trust")
    _row(run, "threads", "urllib3")["flags"].append("server-bound")
    (text,) = _about(run, "Do not trust")
    assert text.startswith(
        "Do not trust threads · urllib3 as measured: server-bound, the server (the mock"
    )


def test_littles_law_shares_follow_the_rows(run: ResultDoc) -> None:
    (text,) = _about(run, "Little's law")
    assert "5 ms injected: Little's law allows N/d = 10,000 ops/s" in text
    _row(run, "uvloop")["bound_share"] = 0.987
    (after,) = _about(run, "Little's law")
    assert "uvloop · raw 0.99" in after
    assert after.index("uvloop · raw") < after.index("threads · raw")  # highest share first
    for r in run["results"]:
        del r["bound_share"]
    assert not _about(run, "Little's law")


def test_the_spectrum_stops_where_the_samples_do() -> None:
    hist = new_histogram()
    for v in range(1, 1001):
        hist.record_value(v * 10)  # 1,000 samples, 10 µs to 10 ms
    xs, ys = spectrum_points(hist)
    assert xs[0] == 1
    assert ys[0] == pytest.approx(0.01, rel=0.01)
    assert max(xs) <= 1000  # 99.9% is as far as 1,000 samples go
    assert ys == sorted(ys)  # latency never falls as the percentile rises
    assert ys[-1] == pytest.approx(10.0, rel=0.01)


def test_report_plots_writes_the_spectrum_and_the_cost_chart(
    run: ResultDoc, tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    assert main(["report", str(path), "--plots", str(tmp_path / "plots")]) == 0
    written = {p.name for p in (tmp_path / "plots").iterdir()}
    assert written == {"spectrum.png", "spectrum.svg", "cost.png", "cost.svg"}
    for name in ("spectrum.png", "cost.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # One line per row: the SVG names every row in its legend.
    svg = (tmp_path / "plots" / "spectrum.svg").read_text()
    assert all(f"{r['model']} · {r['client']}" in svg for r in run["results"])
    # A disk run gets its own charts, one unit each.
    disk = copy.deepcopy(run)
    for r in disk["results"]:
        r["file_size"], r["cache"], r["files_per_s"] = 16384, "warm", r["ops_per_s"]
    names = {p.name for p in write_run_charts(disk, tmp_path / "disk") if p.suffix == ".png"}
    assert names == {"disk-spectrum.png", "disk-mb-per-s.png", "disk-files-per-s.png"}


def test_compare_gives_an_interval_and_a_chart(run: ResultDoc, tmp_path: Path) -> None:
    a, b = copy.deepcopy(run), copy.deepcopy(run)
    for r, speed in zip(b["results"], (1.3, 1.0, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0), strict=False):
        rate = r["ops_per_s"] * speed
        r["repeats"]["ops_per_s"] = [rate * f for f in (0.98, 1.0, 1.01, 1.02)]
    for r in a["results"]:
        r["repeats"]["ops_per_s"] = [r["ops_per_s"] * f for f in (0.99, 1.0, 1.01, 1.02)]
    result = compare_docs(a, b)
    first = result["comparisons"][0]
    lo, hi = first["ratio_ci"]
    assert lo <= first["ratio"] <= hi
    assert lo > 1.2
    assert hi < 1.45
    assert first["verdict"] == "faster"
    assert result == compare_docs(a, b)  # no resampling: the same interval every time
    written = plot_compare(result, tmp_path / "compare", "B against A")
    assert {p.name for p in written} == {"compare.png", "compare.svg"}


def test_one_round_ranks_nothing(run: ResultDoc) -> None:
    """A single round has no between-run interval: however steady its window, it ranks nothing."""
    _set_rate(_row(run, "uvloop"), 9_000, 0.0, rounds=1)
    _set_rate(_row(run, "asyncio"), 3_000, 0.0, rounds=1)
    _set_rate(_row(run, "threads"), 1_000, 0.0, rounds=1)
    for r in run["results"]:
        if r["client"] != "raw":
            _set_rate(r, 500, 0.0, rounds=1)
    assert not _about(run, "fastest model")
    (text,) = _about(run, "ranks nothing")
    assert "one round per cell" in text


def test_the_recorded_histograms_decode(run: ResultDoc) -> None:
    for r in run["results"]:
        hist = HdrHistogram.decode(r["histogram"].encode("ascii"))
        assert hist.get_total_count() == r["ops"]


def test_the_html_page_ranks_as_the_terminal_does(run: ResultDoc) -> None:
    import re

    from workbench.report.html_report import render

    _set_rate(_row(run, "uvloop"), 9_000, 0.02)
    _set_rate(_row(run, "asyncio"), 8_900, 0.02)  # not told apart from uvloop: the same rank
    _set_rate(_row(run, "threads"), 3_000, 0.02)
    for r in run["results"]:
        if r["client"] != "raw":
            _set_rate(r, 1_000, 0.02)
    page = render(dict(run))
    assert ">rank</th>" in page
    rank = {}
    for model in ("uvloop", "asyncio", "threads"):
        # model, client, workload, python, clients, ops/s, ±, then the rank
        cells = r'(?:<td[^>]*>[^<]*</td>){5}<td class="num" data-v="(\d+)">'
        m = re.search(
            f'data-v="{model}">{model}</td><td class="" data-v="raw">raw</td>{cells}', page
        )
        assert m is not None, model
        rank[model] = int(m.group(1))
    assert rank == {"uvloop": 1, "asyncio": 1, "threads": 3}
