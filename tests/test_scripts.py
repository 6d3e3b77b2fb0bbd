"""Every script under scripts/ runs its `--quick` smoke mode end to end: a measurement, a table
on stdout, and a JSON file and a plot (PNG and SVG) written where `--out` says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import BUILD_WAIT_S, free_threaded_313, skip_unless_ci
from workbench.errors import UsageError
from workbench.interpreter_discovery import find

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# readme_figures runs the others: tests/test_readme_figures.py runs it on a few of them.
# gil_rounds measures nothing (it turns recorded GIL runs into test data): tested on its own in
# tests/test_verdict_error_rates.py.
SCRIPTS = sorted(
    p.stem
    for p in (ROOT / "scripts").glob("*.py")
    if not p.stem.startswith("_") and p.stem not in ("readme_figures", "gil_rounds")
)
# The interpreters a script needs beside this one (`workbench pythons build` makes them).
PYTHONS = {"compare_free_threaded": ["3.13t"]}
# The reference tools a script needs (Debian packages; .ci/run installs them).
TOOLS = {
    "bench_network": ["wrk"],
    "bench_servers": ["wrk", "nginx"],
    "bench_long_lived_servers": ["h2load", "nginx"],
    "bench_disk": ["fio"],
}


def script(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"scripts.{name}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def test_every_script_is_covered() -> None:
    assert len(SCRIPTS) >= 9
    assert set(TOOLS) <= set(SCRIPTS)


def _with_its_pythons(name: str) -> Any:
    """A script that needs the free-threaded build runs last and may wait for it (helpers)."""
    if "3.13t" in PYTHONS.get(name, []):
        marks = [pytest.mark.free_threaded, pytest.mark.timeout(BUILD_WAIT_S + 300)]
        return pytest.param(name, marks=marks)
    return name


@pytest.mark.parametrize("name", [_with_its_pythons(n) for n in SCRIPTS])
def test_script_quick_mode_prints_a_table_and_writes_a_plot(name: str, tmp_path: Path) -> None:
    missing = [t for t in TOOLS.get(name, []) if not shutil.which(t, path="/usr/sbin:/usr/bin")]
    if missing:  # .ci/run installs them: under CI=true a missing tool is a broken setup
        skip_unless_ci(f"{name} needs {', '.join(missing)} (apt-get install)")
    for spec in PYTHONS.get(name, []):  # .ci/run builds it
        if spec == "3.13t":
            free_threaded_313()  # waits for a build in progress
            continue
        try:
            find(spec)
        except UsageError:
            skip_unless_ci(f"{name} needs Python {spec}: python -m workbench pythons build {spec}")
    out = tmp_path / "out"
    proc = script(name, "--quick", "--out", str(out), timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "┏" in proc.stdout, proc.stdout  # a rich table's top border
    (doc_path,) = out.glob("*.json")
    doc = json.loads(doc_path.read_text())
    assert doc.get("results") or doc.get("claims") or doc.get("metadata")
    pngs = sorted(out.glob("*.png"))
    assert pngs, sorted(p.name for p in out.iterdir())
    for png in pngs:
        import matplotlib.image

        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width = matplotlib.image.imread(png).shape[:2]  # decodes: not a truncated file
        assert width > 300
        assert height > 150
        assert png.with_suffix(".svg").read_text().rstrip().endswith("</svg>")
    assert not list(out.glob(".*.tmp"))  # written atomically: no temporary file left behind


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("compare_threads_asyncio", ["--clients", "10,zero"], "--clients"),
        ("gil_claims", ["--only", "9"], "there is no claim 9"),
        ("compare_libraries", ["--models", "fibers"], "fibers"),
        ("compare_file_apis", ["--sizes", "12 parsecs"], "--sizes"),
    ],
)
def test_script_bad_input_is_one_line(
    name: str, args: list[str], message: str, tmp_path: Path
) -> None:
    proc = script(name, *args, "--out", str(tmp_path), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    # One line says what is wrong (a heading of what was about to run may precede it).
    (error,) = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert error.startswith(f"{name}.py: error: ")
    assert message in error


def test_a_stopped_script_keeps_what_it_measured(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a script's runs: exit 130, one line, and the runs so far written
    to partial.json, marked partial (not thrown away)."""
    import signal
    import time

    import psutil

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.compare_libraries", "--quick", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    workers_seen = 0
    while time.monotonic() < deadline and workers_seen < 3:  # a few cells into the run
        children = psutil.Process(proc.pid).children(recursive=True)
        if any("workbench.harness.worker" in " ".join(c.cmdline()) for c in children):
            workers_seen += 1
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "marked partial" in err.strip().splitlines()[-1], err
    doc = json.loads((out / "partial.json").read_text())
    assert doc["partial"] is True
    assert doc["runs"], doc
    assert doc["runs"][-1]["stopped"]["exit_code"] == 130
