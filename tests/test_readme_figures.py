"""Every figure the README states comes from one regeneration (scripts/readme_figures.py), kept
in docs/readme_figures.json: each number in a figure section is one of its source's figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import readme_figures as rf  # noqa: E402

README = (ROOT / "README.md").read_text()
FIGURES = json.loads(rf.FIGURES.read_text())


def test_the_figures_come_from_one_full_regeneration() -> None:
    assert FIGURES["kind"] == "readme-figures"
    assert FIGURES["quick"] is False
    assert set(FIGURES["sources"]) == set(rf.SOURCES)
    for source, run in FIGURES["runs"].items():
        assert run["exit_code"] in (0, 1), source  # 1: a benchmark that missed its target
        assert run["command"]
        assert len(run["commit"]) >= 40, source


def test_every_number_in_the_readme_figure_sections_is_a_recorded_figure() -> None:
    sections = rf.SECTION.findall(README)
    named = {n.strip() for names, _ in sections for n in names.split(",")}
    assert {"sample", "suite", "fast_loop", "bench_stability", "bench_servers"} <= named
    assert set(rf.SCRIPTS) <= named  # the scripts table quotes every script
    assert rf.unmatched(README, FIGURES) == []


def test_a_changed_figure_is_caught() -> None:
    body = next(m.group(2) for m in rf.SECTION.finditer(README) if "```" in m.group(2))
    first_row = body.split("```")[1].strip().splitlines()[1]
    rate = first_row.split()[3]  # model, client, clients, ops/s
    wrong = body.replace(first_row, first_row.replace(rate, "987,654,321", 1))
    missing = rf.unmatched(README.replace(body, wrong), FIGURES)
    assert [m.split(" in ")[0] for m in missing] == ["sample: 987,654,321"]
    assert rf.unmatched(README + "\n<!-- figures: sample -->\n123,457 ops/s\n<!-- /figures -->\n",
                        FIGURES) == ["sample: 123,457 in '123,457 ops/s'"]  # fmt: skip
    assert rf.unmatched("<!-- figures: nosuch -->1<!-- /figures -->", FIGURES)[0].startswith(
        "nosuch: no such source"
    )


@pytest.mark.parametrize(
    ("written", "values", "ok"),
    [
        ("61,233", [61233.4], True),
        ("61,233", [61234.6], False),
        ("96.5k", [96512.0], True),
        ("2.39x", [2.3912], True),
        ("11%", [0.113], True),  # a fraction, written as a percentage
        ("11%", [11.2], True),
        ("0.86", [0.8651], False),
        ("34.2", [34.15], True),  # a half rounds either way
    ],
)
def test_numbers_match_as_the_readme_rounds_them(
    written: str, values: list[float], ok: bool
) -> None:
    m = rf.NUMBER.search(written)
    assert m is not None
    value, places = rf.quoted(m)
    assert rf.matches(value, places, values) is ok


def test_names_and_versions_are_not_mistaken_for_figures() -> None:
    text = "p99 -c100 `python3.12` Python 3.11.7 on 2026-11-25 21:33 UTC: 42 ops"
    found = [m.group(0) for m in rf.NUMBER.finditer(rf.VERSION.sub(" ", text))]
    assert found == ["42"]


@pytest.mark.slow
def test_the_script_regenerates_the_figures_of_the_runs_it_is_given(tmp_path: Path) -> None:
    out, figures = tmp_path / "out", tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_figures.py"), "--quick",
         "--only", "sample,bench_overhead", "--out", str(out), "--figures", str(figures)],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(figures.read_text())
    assert set(doc["sources"]) == {"sample", "bench_overhead"}
    assert doc["quick"] is True
    rows = doc["sources"]["sample"]["rows"]
    assert rows
    assert all(r["errors"] == 0 and r["ops_per_s"] > 0 for r in rows.values())
    assert max(r["x_best"] for r in rows.values()) == 1.0
    assert doc["sources"]["bench_overhead"]["worst_share"] > 0
    assert doc["runs"]["sample"]["command"].startswith("python -m workbench io --clients 500")
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_figures.py"), "--only", "nosuch"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "unknown source nosuch" in bad.stderr
    assert "Traceback" not in bad.stderr
