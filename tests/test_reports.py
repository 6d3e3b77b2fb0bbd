"""Sweeps and reports: the files a sweep writes, and the HTML page as a browser renders it."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from functools import partial
from pathlib import Path

import pytest

from tests.helpers import run_cli, skip_unless_ci
from workbench.report.plots import series
from workbench.report.results_file import read_results

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow

cli = partial(run_cli, timeout=120)  # sweeps and templates run servers: 120 s


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    proc = cli(
        "sweep",
        "--clients",
        "1,5",
        "--models",
        "uvloop,threads",
        "--libs",
        "raw",
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
        "--repeat",
        "1",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_sweep_writes_json_csv_and_plots(sweep_dir: Path) -> None:
    names = {p.name for p in sweep_dir.iterdir()}
    assert names >= {
        "sweep.json",
        "sweep.csv",
        "throughput.png",
        "throughput.svg",
        "p99.png",
        "p99.svg",
    }
    doc = read_results(sweep_dir / "sweep.json")
    assert doc["kind"] == "sweep"
    lines = series(doc)
    assert set(lines) == {"uvloop · raw", "threads · raw"}  # one series per model
    assert all([p[0] for p in pts] == [1, 5] for pts in lines.values())
    with open(sweep_dir / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert all(float(r["ops_per_s"]) > 0 for r in rows)
    assert (sweep_dir / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (sweep_dir / "p99.svg").read_bytes()[:500]


def test_html_report_renders_in_a_browser(sweep_dir: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        skip_unless_ci("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    proc = cli("report", str(sweep_dir / "sweep.json"), "--html", str(page))
    assert proc.returncode == 0, proc.stderr
    text = page.read_text()
    # Self-contained: no URL to fetch (metadata quotes the mock server's address, not a fetch).
    assert not re.search(r"(src|href)=[\"']https?:", text)
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    ).stdout
    # Decoded and laid out: throughput and p99 against clients, the spectrum, the cost chart.
    assert 'data-images-rendered="4"' in dom
    assert len(re.findall(r"<tr>", dom)) == 1 + 4  # the header and one row per cell
    assert "uvloop" in dom


@pytest.fixture(scope="module")
def io_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("io") / "run.json"
    proc = cli(
        "io",
        "--only",
        "net",
        "--models",
        "uvloop,threads",
        "--clients",
        "20",
        "--latency",
        "2ms",
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
        "--json",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Findings" in proc.stdout  # the terminal ends with them too
    return out


def test_io_report_in_chromium_shows_findings_and_a_spectrum(io_run: Path, tmp_path: Path) -> None:
    from tests.browser import find_chromium, open_page

    if find_chromium() is None:
        skip_unless_ci("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    proc = cli("report", str(io_run), "--html", str(page))
    assert proc.returncode == 0, proc.stderr
    ops = "Array.prototype.map.call(document.querySelector('table').tBodies[0].rows, "
    ops += "function (r) { return parseFloat(r.cells[5].getAttribute('data-v')); })"
    expressions = [
        "document.querySelector('#findings h2').textContent",
        "document.querySelectorAll('#findings li').length",
        "document.body.getAttribute('data-images-rendered')",
        "Array.prototype.map.call(document.querySelectorAll('h2'), function (h) {"
        " return h.textContent; })",
        ops,
        f"(function () {{ document.querySelectorAll('th')[5].click(); return {ops}; }})()",
        f"(function () {{ /* again */ document.querySelectorAll('th')[5].click(); return {ops};"
        " })()",
        "document.querySelectorAll('td.flags abbr[title]').length",
    ]
    shown = open_page(page.as_uri(), tmp_path / "profile", expressions)
    assert shown.console == []  # no error, no warning
    # Self-contained: the page itself, and images inline; nothing from a network.
    assert all(u.startswith(("file:", "data:")) for u in shown.requests), shown.requests
    v = [shown.values[e] for e in expressions]
    assert v[0] == "Findings"
    assert v[1] >= 2  # at least the fastest model (or the tie) and Little's law
    assert v[2] == "2"  # the spectrum and the cost chart, decoded and laid out
    assert "Latency percentile spectrum (network)" in v[3]
    rates, ascending, descending = v[4], v[5], v[6]
    assert sorted(rates) == ascending
    assert ascending == descending[::-1]
    assert rates != ascending or len(set(rates)) == 1
    flags = sum(len(r["flags"]) for r in read_results(io_run)["results"])
    assert v[7] == flags  # every flag carries its meaning on the page
    assert shown.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "report.png").write_bytes(shown.screenshot)
    import matplotlib.image

    height, width = matplotlib.image.imread(tmp_path / "report.png").shape[:2]
    assert width == 1280
    assert height > 900


def test_report_prints_a_saved_run(sweep_dir: Path) -> None:
    proc = cli("report", str(sweep_dir / "sweep.json"))
    assert proc.returncode == 0, proc.stderr
    assert "uvloop" in proc.stdout
