"""Regenerate every figure the README quotes, from one run on this machine, and render them.

Runs, one after another and each in its own processes: the README's sample
(`python -m workbench io --clients 500`), every script's default run, the full test suite and the
fast loop, timing each. Then it reduces each run's JSON to the figures a reader is told
(`_figures_reduce.py`), writes them with the commit, the date and the machine to
docs/readme_figures.json (`--figures`), and renders every figure section of the README from that
file (`_figures_sections.py`): a section is `<!-- figures: NAME -->` ... `<!-- /figures -->`, and
its text is exactly what its template makes of the figures. tests/test_readme_figures.py renders
them again and requires the README to be unchanged, and requires every run to be of one commit,
an ancestor of HEAD, with the measured code unchanged since.

    python scripts/readme_figures.py            # everything: about an hour on 2 cores
    python scripts/readme_figures.py --render   # run nothing: render the README from the file
    python scripts/readme_figures.py --check    # run nothing: list the sections that differ

A full regeneration starts only from a clean checkout (commit first), so that its figures belong
to one commit. `--only` reruns some sources and keeps the others' figures (the test then fails on
the mixed commits: it is for trying, not for the README); `--from DIR` reduces an earlier
invocation's runs again. Runs that miss a benchmark target still count (their exit code is
recorded). The suite's run is told it is part of a regeneration (WORKBENCH_REGENERATING=1), since
the README cannot match figures that are still being made.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _script
from _figures_reduce import reduce, setup, suite_figures
from _figures_render import differences, measured_changes, render

from workbench.children import kill_group
from workbench.errors import UsageError
from workbench.report.results_file import write_atomic, write_json

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "readme_figures.json"
# The scripts whose default runs the README reports, in the order they run.
SCRIPTS = (
    "compare_asyncio_uvloop", "compare_threads_asyncio", "compare_libraries", "compare_file_apis",
    "compare_interpreters", "gil_claims", "bench_stability", "bench_network", "bench_disk",
    "bench_servers", "bench_overhead", "bench_cluster", "compare_tls", "compare_databases",
)  # fmt: skip
SOURCES = ("sample", *SCRIPTS, "suite", "fast_loop")
README = ROOT / "README.md"
REGENERATING = "WORKBENCH_REGENERATING"


# --- running -------------------------------------------------------------------------------------


def command(source: str, out: Path, quick: bool) -> list[str]:
    py = sys.executable
    if source == "sample":
        sample = ["--clients", "10", "--duration", "0.3", "--warmup", "0.2"] if quick else []
        return [py, "-m", "workbench", "io", "--clients", "500", *sample, "--json",
                str(out / "sample.json")]  # fmt: skip
    if source == "suite":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if source == "fast_loop":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
    return [py, str(ROOT / "scripts" / f"{source}.py"), "--out", str(out / source)] + (
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
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, REGENERATING: "1"},
                                preexec_fn=_interruptible)  # fmt: skip
        try:
            code = proc.wait()
        except BaseException:
            kill_group(proc)
            proc.wait()
            raise
    return code, round(time.perf_counter() - start, 1)


# --- the script --------------------------------------------------------------------------------


def git_commit() -> str:
    """HEAD, marked `+changes` when the measured code differs from it (the README and the figures
    file may: they are what a regeneration rewrites)."""
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                         check=False)  # fmt: skip
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("+changes" if measured_changes("HEAD") else "")


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument("--only", default=None, help=f"comma-separated sources of {', '.join(SOURCES)}")
    p.add_argument("--no-suite", action="store_true", help="leave out the test suite's timings")
    p.add_argument("--figures", default=str(FIGURES), help="the figures file (default %(default)s)")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="run nothing: reduce the runs left in DIR")  # fmt: skip
    p.add_argument(
        "--render",
        action="store_true",
        help="run nothing: render the README's figure sections from the figures file",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="run nothing: list the figure sections the figures file renders otherwise",
    )
    a = p.parse_args()
    if a.render or a.check:
        return render_readme(Path(a.figures), write=a.render)
    sources = list(SOURCES) if a.only is None else [s.strip() for s in a.only.split(",")]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise UsageError(f"unknown source {', '.join(unknown)} (known: {', '.join(SOURCES)})")
    if a.no_suite or a.quick:  # a quick run is itself run by the suite: never the suite again
        sources = [s for s in sources if s not in ("suite", "fast_loop")]
    if not (a.quick or a.from_dir):
        dirty = measured_changes("HEAD")
        if dirty:
            raise UsageError(f"commit first, so the figures belong to one commit: {dirty[0]}")
    out = Path(a.from_dir) if a.from_dir else _script.out_dir(a, "readme-figures")
    # What each run took and returned, kept beside its output as soon as it is known.
    ledger = out / "runs.json"
    done: dict[str, Any] = json.loads(ledger.read_text()) if a.from_dir else {}
    if a.from_dir:
        sources = [s for s in sources if s in done]
        if not sources:
            raise UsageError(f"{ledger} records none of the sources asked for")
    path = Path(a.figures)
    # A partial regeneration (--only, or --from a run of some sources) keeps the others' figures.
    keep = path.exists() and (a.only or a.from_dir)
    old = json.loads(path.read_text()) if keep else {"sources": {}, "runs": {}}
    from workbench.metadata import machine, process_metadata

    doc: dict[str, Any] = {
        "kind": "readme-figures", "commit": git_commit(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": a.quick, "machine": machine(), "process": process_metadata(),
        "tools": {t: _script.tool_version(t) for t in ("wrk", "fio", "nginx")},
        "sources": dict(old.get("sources", {})), "runs": dict(old.get("runs", {})),
    }  # fmt: skip
    if a.from_dir:  # the figures are that run's: so are its date and commit
        doc["date"], doc["commit"] = done[sources[0]]["date"], done[sources[0]]["commit"]
    rows = []
    for source in sources:
        if a.from_dir:
            doc["runs"][source] = run = done[source]
            code, seconds = run["exit_code"], run["seconds"]
        else:
            print(f"{source} ...", file=sys.stderr, flush=True)
            cmd = command(source, out, a.quick)
            code, seconds = run_one(cmd, out / f"{source}.log")
            shown = ["python" if c == sys.executable else c for c in cmd]
            shown = [c.replace(str(out), "OUT").replace(str(ROOT) + "/", "") for c in shown]
            doc["runs"][source] = done[source] = {
                "command": " ".join(shown), "exit_code": code, "seconds": seconds,
                "date": doc["date"], "commit": doc["commit"],
            }  # fmt: skip
            write_json(ledger, done)
        if source in ("suite", "fast_loop"):
            figures = suite_figures(out / f"{source}.log", seconds)
        elif code not in (0, 1):  # 1 is a missed target: its figures stand, and say so
            raise UsageError(f"{source} exited {code}; see {out / f'{source}.log'}")
        else:
            figures = reduce(source, out)
        figures["seconds_run"] = seconds
        if source not in ("suite", "fast_loop"):
            figures["setup"] = setup(source)
        doc["sources"][source] = figures
        rows.append([source, f"{seconds:.0f}", str(code)])
    _script.table("the runs behind the README's figures", ["source", "seconds", "exit"], rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, doc)
    print(f"written: {path} (raw runs under {out})")
    if path == FIGURES and not a.quick and set(doc["sources"]) == set(SOURCES):
        return render_readme(path, write=True)
    return 0


def render_readme(figures_path: Path, write: bool) -> int:
    """Render the README's figure sections from the figures file (`write`), or list the ones
    that differ from it (exit 1 if any)."""
    if not figures_path.exists():
        raise UsageError(f"no figures file at {figures_path}: run a regeneration first")
    figures = json.loads(figures_path.read_text())
    text = README.read_text()
    if not write:
        found = differences(text, figures)
        for line in found:
            print(line)
        return 1 if found else 0
    try:
        rendered = render(text, figures)
    except KeyError as e:
        raise UsageError(str(e.args[0])) from None
    if rendered != text:
        write_atomic(README, rendered)
    print(f"rendered: {README} from {figures_path}")
    return 0


if __name__ == "__main__":
    _script.main(main)
