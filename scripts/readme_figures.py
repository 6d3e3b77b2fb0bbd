"""Measure the figures the README and docs/ quote, keep every run, and render the pages.

A source is one command whose output figures come from: the README's sample
(`python -m workbench io --clients 500`), each script's default run, the test suite and the fast
loop. Running a source appends one run to its record, docs/figures/SOURCE.json (its command,
commit, time, machine and the figures reduced from its output; `_figures_reduce.py`), and the
pages are then rendered again: a section changes only if it reads that source. The sample also
photographs its own HTML report with headless Chromium (docs/report.png), so the picture and the
figures are of one run.

    python -m scripts.readme_figures --only sample,gil_claims   # rerun two sources
    python -m scripts.readme_figures            # every source: about an hour on 2 cores
    python -m scripts.readme_figures --status   # run nothing: what each section measured, and
                                                # which measured code changed since
    python -m scripts.readme_figures --render   # run nothing: render every page from the record
    python -m scripts.readme_figures --check    # run nothing: list the sections that differ

A run into the record starts only from a clean checkout (commit first), so that its figures
belong to one commit; a `--quick` run is a smoke test and goes only to a `--record` elsewhere.
The suite's run is told it is part of a regeneration (WORKBENCH_REGENERATING=1): the pages
cannot match figures that are still being made.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from scripts import _script
from scripts._figures_record import RECORD, ROOT, append, commit_of, load, measured_changes
from scripts._figures_reduce import reduce, setup, suite_figures
from scripts._figures_render import differences, pages, render, status
from workbench.children import kill_group
from workbench.errors import UsageError
from workbench.report.results_file import write_atomic

# The scripts whose default runs the pages report, in the order they run.
SCRIPTS = (
    "compare_asyncio_uvloop", "compare_threads_asyncio", "compare_libraries", "compare_file_apis",
    "compare_interpreters", "gil_claims", "bench_stability", "bench_network", "bench_disk",
    "bench_servers", "bench_overhead", "bench_cluster", "compare_tls", "compare_databases",
    "compare_free_threaded", "compare_long_lived", "bench_long_lived_servers",
    "compare_allocators", "compare_servers",
)  # fmt: skip
SOURCES = ("sample", *SCRIPTS, "suite", "fast_loop")
PICTURE = ROOT / "docs" / "report.png"
# Sources whose page shows the script's own chart: copied beside the record after each run.
CHARTS = {"compare_servers": "compare-servers.svg"}
REGENERATING = "WORKBENCH_REGENERATING"


def command(source: str, out: Path, quick: bool) -> list[str]:
    py = sys.executable
    if source == "sample":
        sample = ["--clients", "10", "--duration", "0.3", "--warmup", "0.2"] if quick else []
        return [
            py,
            "-m",
            "workbench",
            "io",
            "--clients",
            "500",
            *sample,
            "--json",
            str(out / "sample.json"),
        ]
    if source == "suite":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if source == "fast_loop":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
    return [py, "-m", f"scripts.{source}", "--out", str(out / source)] + (
        ["--quick"] if quick else []
    )


def _interruptible() -> None:
    """In the child: Ctrl-C back to its default. A shell without job control starts background
    commands with SIGINT ignored, and an ignored signal survives exec: the suite's Ctrl-C tests
    would then measure a deaf process."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_one(cmd: Sequence[str], log: Path) -> tuple[int, float]:
    """Run one command with its output in `log`; (exit code, wall seconds). Ctrl-C stops it and
    its children before it propagates."""
    start = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, REGENERATING: "1"},
            preexec_fn=_interruptible,
        )
        try:
            code = proc.wait()
        except BaseException:
            kill_group(proc)
            proc.wait()
            raise
    return code, round(time.perf_counter() - start, 1)


def photograph(run_json: Path, png: Path) -> None:
    """The run's HTML report, as headless Chromium shows it at 1280 pixels wide."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise UsageError("the sample's picture needs Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        subprocess.run(
            [sys.executable, "-m", "workbench", "report", str(run_json), "--html", str(page)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        shot = Path(tmp) / "shot.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp}/profile",
                "--window-size=1280,1960",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        write_atomic(png, shot.read_bytes())


def measure(source: str, out: Path, quick: bool, record: Path) -> tuple[int, float, int]:
    """Run one source and append its run to the record: (exit code, seconds, runs now kept)."""
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = commit_of()
    cmd = command(source, out, quick)
    code, seconds = run_one(cmd, out / f"{source}.log")
    if source in ("suite", "fast_loop"):
        figures = suite_figures(out / f"{source}.log", seconds)
    elif code not in (0, 1):  # 1 is a missed target: its figures stand, and say so
        raise UsageError(f"{source} exited {code}; see {out / f'{source}.log'}")
    else:
        figures = {**reduce(source, out), "setup": setup(source)}
    from workbench.metadata import machine, process_metadata

    shown = ["python" if c == sys.executable else c for c in cmd]
    shown = [c.replace(str(out), "OUT").replace(str(ROOT) + "/", "") for c in shown]
    run = {
        "command": " ".join(shown),
        "exit_code": code,
        "seconds": seconds,
        "date": date,
        "commit": commit,
        "quick": quick,
        "machine": machine(),
        "process": process_metadata(),
        "tools": {t: _script.tool_version(t) for t in ("wrk", "fio", "nginx")},
        "figures": figures,
    }
    if source == "sample" and record == RECORD:
        photograph(out / "sample.json", PICTURE)
    chart = CHARTS.get(source)
    if chart is not None and record == RECORD:  # the page shows the recorded run's own chart
        write_atomic(RECORD / chart, (out / source / chart).read_bytes())
    return code, seconds, append(source, run, record)


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--only", default=None, help=f"comma-separated sources of {', '.join(SOURCES)}")
    p.add_argument("--no-suite", action="store_true", help="leave out the test suite's timings")
    p.add_argument("--record", default=str(RECORD), help="the record (default %(default)s)")
    for flag, said in (
        ("--render", "render every page's figure sections from the record"),
        ("--check", "list the figure sections the record renders otherwise"),
        ("--status", "list what each section measured and what changed since"),
    ):
        p.add_argument(flag, action="store_true", help=f"run nothing: {said}")
    a = p.parse_args()
    record = Path(a.record).resolve()
    if a.render or a.check or a.status:
        return show(record, a.render, a.status)
    sources = list(SOURCES) if a.only is None else [s.strip() for s in a.only.split(",")]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise UsageError(f"unknown source {', '.join(unknown)} (known: {', '.join(SOURCES)})")
    if a.no_suite or a.quick:  # a quick run is itself run by the suite: never the suite again
        sources = [s for s in sources if s not in ("suite", "fast_loop")]
    if record == RECORD:
        if a.quick:
            raise UsageError("a --quick run is a smoke test, not a result: give it --record DIR")
        dirty = measured_changes("HEAD")
        if dirty:
            raise UsageError(f"commit first, so the figures belong to one commit: {dirty[0]}")
    out = _script.out_dir(a, "readme-figures")
    rows = []
    for source in sources:
        print(f"{source} ...", file=sys.stderr, flush=True)
        code, seconds, kept = measure(source, out, a.quick, record)
        rows.append([source, f"{seconds:.0f}", str(code), str(kept)])
    _script.table("the runs behind the figures", ["source", "seconds", "exit", "runs kept"], rows)
    print(f"recorded in {record} (raw runs under {out})")
    return show(record, write=True, status_only=False) if record == RECORD else 0


def show(record: Path, write: bool, status_only: bool) -> int:
    """Render every page from the record (`write`), list what each section measured
    (`status_only`), or list the sections that differ from the record (exit 1 if any)."""
    runs = load(record)
    if not runs:
        raise UsageError(f"no figures recorded under {record}: run a regeneration first")
    if status_only:
        for line in status(runs):
            print(line)
        return 0
    found = []
    for page in pages():
        text = page.read_text()
        try:
            if write:
                new = render(text, runs)
                if new != text:
                    write_atomic(page, new)
                    print(f"rendered: {page.relative_to(ROOT)}")
            else:
                found += [f"{page.relative_to(ROOT)} {d}" for d in differences(text, runs)]
        except KeyError as e:
            raise UsageError(f"{page.relative_to(ROOT)}: {e.args[0]}") from None
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    _script.main(main)
