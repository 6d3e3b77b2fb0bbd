"""The shape every script shares: `--quick` and `--out`, runs with a progress display on stderr,
tables on stdout, the JSON and the plots written atomically into one directory, bad input as one
line (exit 2) and Ctrl-C as one line (exit 130)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from workbench.children import sigterm_as_interrupt
from workbench.errors import RunFailed, UsageError, interrupted
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.console import reader_gone, stdout_console
from workbench.report.declared import PairVerdict
from workbench.report.progress import progress_on
from workbench.report.results_file import results_dir, write_json
from workbench.report.table import print_io
from workbench.results import ResultDoc, Row


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="a smoke run of seconds (what CI runs)")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="where the JSON and plots go (default results/NAME-TIME)",
    )
    return p


class Stopped(Exception):
    """A run stopped (Ctrl-C, a dying server or worker): what it measured is kept, marked
    partial, and the script exits with the run's own code (130 Ctrl-C, 1 failure)."""

    def __init__(self, reason: str, exit_code: int) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


# Where this script writes, and every document its runs returned so far: kept on a stop.
_OUT: list[Path] = []
_RUNS: list[dict[str, Any]] = []


def out_dir(a: argparse.Namespace, name: str) -> Path:
    path = results_dir(a.out, name)
    _OUT[:] = [path]
    return path


def stop_if_stopped(what: str, doc: Mapping[str, Any]) -> None:
    """Keep the run's document; if the run stopped, stop the script (raises Stopped)."""
    _RUNS.append({"what": what, **doc})
    stopped = doc.get("stopped")
    if stopped:
        raise Stopped(stopped["reason"], int(stopped["exit_code"]))


def write_partial(reason: str) -> Path | None:
    """Every document so far in partial.json, marked partial with the reason; None if none."""
    if not _OUT or not _RUNS:
        return None
    doc = {"partial": True, "stopped": {"reason": reason}, "command": sys.argv, "runs": _RUNS}
    return write_json(_OUT[0] / "partial.json", doc)


def console() -> Console:
    return stdout_console(160)


def run(settings: IoSettings, what: str, sweep: Sequence[int] = ()) -> ResultDoc:
    """One `io` run (a sweep over client counts if `sweep`), with a progress display when stderr
    is a terminal. A stopped run stops the script: its partial results are no comparison, but
    they are kept (partial.json beside the script's other files)."""
    from workbench.harness.sweep import run_sweep

    err = Console(stderr=True)
    err.print(f"[bold]{what}[/bold]", highlight=False)
    with progress_on(err) as observer:
        doc = run_sweep(settings, list(sweep), observer) if sweep else run_io(settings, observer)
    stop_if_stopped(what, doc)
    return doc


def quick(settings: IoSettings) -> IoSettings:
    """The smoke version of a run: short windows, one round, few clients."""
    return replace(settings, duration=0.3, warmup=0.2, repeat=1, clients=min(settings.clients, 10))


def show(doc: ResultDoc) -> None:
    print_io(doc, console())


def rates(row: Row) -> list[float]:
    """A row's throughput in every repeat (the whiskers of a bar)."""
    return [float(v) for v in row["repeats"]["ops_per_s"]]


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    t = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        t.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*row)
    console().print(t)


def run_metadata(tools: Sequence[str] = ()) -> dict[str, Any]:
    """What a script's JSON records beside its figures: the command, the machine, this
    interpreter with its library versions and allocator settings, the reference tools' versions."""
    from workbench.metadata import machine, process_metadata

    return {
        "command": sys.argv,
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "process": process_metadata(),
        "tools": {name: tool_version(name) for name in tools},
    }


def tool_version(name: str) -> str | None:
    """`wrk -v`, `fio --version`, `nginx -v`: the first line that names a version."""
    import subprocess

    from scripts._bench import find_tool

    path = find_tool(name)
    if path is None:
        return None
    flag = "--version" if name == "fio" else "-v"
    out = subprocess.run([path, flag], capture_output=True, text=True, timeout=10, check=False)
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0] if lines else None


def save(out: Path, name: str, doc: Mapping[str, Any], plots: Sequence[Path]) -> None:
    path = write_json(out / f"{name}.json", doc)
    files = ", ".join(str(p) for p in [path, *plots])
    console().print(f"written: {files}", highlight=False, soft_wrap=True)


def main(fn: Callable[[], int]) -> NoReturn:
    """Run a script's main: its exit code, or one line for bad input, a failure or Ctrl-C."""
    name = Path(sys.argv[0]).name
    try:
        with sigterm_as_interrupt():
            code = fn()
    except UsageError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        code = 2
    except (Stopped, RunFailed, KeyboardInterrupt) as exc:
        if isinstance(exc, Stopped):
            code, reason = exc.exit_code, str(exc)
        elif isinstance(exc, RunFailed):
            code, reason = 1, str(exc)
        else:
            stopped = interrupted(exc)
            code, reason = stopped["exit_code"], stopped["reason"]
        path = write_partial(reason)
        verb = "failed" if code == 1 else "interrupted"
        note = f"; what was measured is in {path}, marked partial" if path else ""
        print(f"{name}: {verb}: {reason}{note}", file=sys.stderr)
    except BrokenPipeError:
        code = reader_gone()
    raise SystemExit(code)


def pair_line(v: PairVerdict) -> list[str]:
    """A declared pair's verdict as a line of the scripts' pair tables."""

    def rate(r: Row | None) -> str:
        return "-" if r is None else f"{r['ops_per_s']:,.0f}"

    interval = "-" if v.lo is None else f"{v.lo:.2f}-{v.hi:.2f} ({v.confidence:.2%})"
    flags = [f"{side}: {', '.join(r['flags'])}" for side, r in (("A", v.a), ("B", v.b))
             if r is not None and r["flags"]]  # fmt: skip
    return [
        v.pair.name, v.where, rate(v.a), rate(v.b),
        "-" if v.ratio is None else f"{v.ratio:.2f}x", interval, v.said, "; ".join(flags) or "-",
    ]  # fmt: skip
