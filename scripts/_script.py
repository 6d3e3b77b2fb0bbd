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

from workbench.errors import RunFailed, UsageError
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.console import reader_gone, stdout_console
from workbench.report.progress import progress_on
from workbench.report.results_file import results_dir, write_json
from workbench.report.table import print_io
from workbench.results import ResultDoc, Row


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="a smoke run of seconds (what CI runs)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where the JSON and plots go (default results/NAME-TIME)")  # fmt: skip
    return p


def out_dir(a: argparse.Namespace, name: str) -> Path:
    return results_dir(a.out, name)


def console() -> Console:
    return stdout_console(160)


def run(settings: IoSettings, what: str, sweep: Sequence[int] = ()) -> ResultDoc:
    """One `io` run (a sweep over client counts if `sweep`), with a progress display when stderr
    is a terminal; a stopped run stops the script (its partial results are not a comparison)."""
    from workbench.harness.sweep import run_sweep

    err = Console(stderr=True)
    err.print(f"[bold]{what}[/bold]", highlight=False)
    with progress_on(err) as observer:
        doc = run_sweep(settings, list(sweep), observer) if sweep else run_io(settings, observer)
    stopped = doc["stopped"]
    if stopped:
        raise KeyboardInterrupt if stopped["exit_code"] == 130 else RunFailed(stopped["reason"])
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

    from _bench import find_tool

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
        code = fn()
    except UsageError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        code = 2
    except RunFailed as exc:
        print(f"{name}: failed: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        code = reader_gone()
    raise SystemExit(code)
