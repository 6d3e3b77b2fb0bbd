"""Interpreters side by side: does a thread per connection catch up with asyncio on another
interpreter (a free-threaded 3.14t, say), and what does each interpreter cost per request?

Runs threads, processes, asyncio and uvloop (raw client, mock HTTP server) at 100, 500 and 2,000
clients, with no work per request and with 200 µs of pure-Python work (`--work python:200us`,
which holds the GIL), every cell under every interpreter, interleaved; then the GIL lab under
each. Prints one line per interpreter, and writes a bar chart per scenario.

Default interpreters: this one, and the newest of each other Python version found (PATH, pyenv,
uv: see `workbench pythons`); one without the workers' packages gets its environment prepared
first (a minute or so each, once).

    python -m scripts.compare_interpreters [--python 3.13 --python 3.14t ...] [--quick]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from rich.console import Console

from scripts import _script
from workbench.gil.claims import CLAIM_NUMBERS
from workbench.gil.lab import run_lab
from workbench.harness.settings import IoSettings
from workbench.interpreter_discovery import discover, find
from workbench.interpreters import supported, version_tuple
from workbench.ranking import decide
from workbench.report.gil_table import print_gil
from workbench.report.plots import plot_bars
from workbench.results import ResultDoc, Row
from workbench.units import format_rate

MODELS = ["threads", "processes", "asyncio", "uvloop"]
COUNTS = [100, 500, 2000]
WORKS = {"no work": None, "python:200us per request": "python:200us"}


def default_pythons() -> list[str]:
    """This interpreter, and the newest patch release of every other version and build found."""
    newest: dict[tuple[int, int, bool], tuple[tuple[int, ...], str]] = {}
    found = [f for f in discover() if supported(f.info)]
    this = found[0]  # discovery lists the running interpreter first
    for f in found[1:]:
        v = version_tuple(f.info["version"])
        key = (v[0], v[1], bool(f.info["free_threaded_build"]))
        if key == (*version_tuple(this.info["version"])[:2], False):
            continue  # this interpreter's own version: measured as itself
        if key not in newest or v > newest[key][0]:
            newest[key] = (v, f.path)
    return [this.path] + [path for _, path in sorted(newest.values())]


def line(rows: list[Row], python: str, n: int, models: list[str]) -> list[str]:
    """One interpreter at one client count: each model's rate, and threads against asyncio."""
    by = {r["model"]: r for r in rows if r.get("python") == python and r["clients_requested"] == n}
    cells = [f"{n:,}", python]
    for m in models:
        r = by.get(m)
        flagged = r is not None and any(f != "client-bound" for f in r["flags"])
        cells.append("-" if r is None else format_rate(r["ops_per_s"]) + "*" * flagged)
    threads, loop = by.get("threads"), by.get("asyncio")
    if threads is None or loop is None:
        cells.append("-")
    else:
        d = decide(threads, loop)  # the ratio of medians, decided on the rounds
        cells.append("-" if d.ratio is None else f"{d.ratio:.2f} {d.verdict}")
    return cells


def main() -> int:
    p = _script.parser(__doc__ or "")
    p.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PYTHON",
        help="an interpreter to measure, a path or a version (repeatable)",
    )
    p.add_argument("--duration", type=float, default=1.5, help="window per cell (default 1.5s)")
    p.add_argument("--no-gil-lab", action="store_true", help="leave out the GIL lab")
    a = p.parse_args()
    out = _script.out_dir(a, "interpreters")
    pythons = [find(s) for s in a.python] if a.python else default_pythons()
    counts, models, claims = COUNTS, MODELS, list(CLAIM_NUMBERS)
    base = IoSettings(
        models=models,
        libs=["raw"],
        workloads=["http"],
        duration=a.duration,
        warmup=0.5,
        pythons=pythons,
    )
    if a.quick:
        counts, models, claims = [10], ["threads", "asyncio"], [5]
        chosen = [find(s) for s in a.python] if a.python else [sys.executable]
        base = replace(_script.quick(base), models=models, pythons=chosen)
    docs: dict[str, ResultDoc] = {}
    groups: dict[str, dict[str, list[float]]] = {}
    for scenario, work in WORKS.items():
        doc = _script.run(
            replace(base, work=work),
            f"{scenario}: {', '.join(models)} under {len(base.pythons)} interpreter(s)",
            sweep=counts,
        )
        docs[scenario] = doc
        rows = doc["results"]
        names = list(dict.fromkeys(str(r.get("python")) for r in rows))
        columns = ["clients", "python", *models, "threads ÷ asyncio"]
        _script.table(
            f"{scenario}: ops/s per model, per interpreter (* flagged beyond client-bound)",
            columns,
            [line(rows, name, n, models) for n in counts for name in names],
        )
        for r in rows:
            key = f"{r['model']} · {r['clients_requested']} · {scenario}"
            groups.setdefault(key, {})[str(r.get("python"))] = _script.rates(r)
    lab: dict[str, Any] | None = None
    if not a.no_gil_lab:
        err = Console(stderr=True)
        lab = run_lab(
            claims,
            [*dict.fromkeys(base.pythons or [sys.executable])],
            lambda what: err.print(f"  measuring {what}", highlight=False),
        )
        _script.stop_if_stopped("gil", lab)
        print_gil(lab, _script.console())
    tags = ", ".join(
        dict.fromkeys(str(r.get("python")) for d in docs.values() for r in d["results"])
    )
    plots = plot_bars(
        groups,
        out / "interpreters",
        log=True,
        xlabel="throughput (requests per second, log scale; whiskers: range over rounds)",
        title=f"threads, processes, asyncio and uvloop under {tags}",
    )
    saved: dict[str, Any] = {
        "kind": "interpreters", "runs": docs, "gil": lab, "pythons": base.pythons,
        "metadata": _script.run_metadata(),
    }  # fmt: skip
    _script.save(out, "interpreters", saved, plots)
    return 0


if __name__ == "__main__":
    _script.main(main)
