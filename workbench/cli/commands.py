"""One function per command: parse what is left of its input, run it, print, return the exit
code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from workbench.cli.options import io_settings, spread_of
from workbench.errors import UsageError
from workbench.report.console import stdout_console
from workbench.results import ResultDoc
from workbench.units import parse_count, parse_size


def cmd_io(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.harness.runner import run_io
    from workbench.report.progress import progress_on
    from workbench.report.results_file import write_json
    from workbench.report.table import print_io

    settings = io_settings(a)
    if a.fault:
        from servers.faults import HTTP_FAULTS, FaultSpecError, parse_fault

        for text in a.fault:
            try:
                parse_fault(text, HTTP_FAULTS)
            except FaultSpecError as exc:
                raise UsageError(str(exc)) from None
    spread = spread_of(a)
    err = Console(stderr=True)
    if getattr(a, "full", False):
        err.print(expected_time(settings), highlight=False)
    with progress_on(err, a.quiet) as observer:
        if a.cluster is not None:
            from workbench.cluster.dispatch import run_io_on_cluster

            doc = run_io_on_cluster(settings, a.cluster, spread, observer)
        else:
            doc = run_io(settings, observer)
    if a.json:
        path = write_json(a.json, doc)
        err.print(f"results written to {path}", highlight=False)
    out = stdout_console(200 if a.wide else 120)
    if doc["results"]:
        print_io(doc, out, a.wide)
    return stopped_exit_code(doc)


# What one round of a cell costs beyond its warm-up and window: a fresh worker's start, its
# imports and its users' ramp (measured from the default `disk` run on 2 cores).
ROUND_OVERHEAD_S = 0.8


def expected_time(settings: Any) -> str:
    """The long run's size and expected time, said before it starts."""
    from workbench.harness.plan import plan_cells

    cells = len(plan_cells(settings))
    each = settings.warmup + settings.duration + ROUND_OVERHEAD_S
    minutes = cells * settings.repeat * each / 60
    return (
        f"the full matrix: {cells} cells, {settings.repeat} rounds each, about "
        f"{minutes:.0f} minutes expected (Ctrl-C keeps what was measured)"
    )


def stopped_exit_code(doc: Mapping[str, Any]) -> int:
    """Exit code of a run: 0, or the stopped run's (130 Ctrl-C, 1 failure), said on stderr."""
    stopped = doc.get("stopped")
    if not stopped:
        return 0
    done = len(doc.get("results") or doc.get("claims") or [])
    print(
        f"workbench: stopped: {stopped['reason']} (partial results: {done} kept)", file=sys.stderr
    )
    return int(stopped["exit_code"])


def cmd_template(a: argparse.Namespace) -> int:

    from workbench.report.results_file import write_atomic
    from workbench.templates import summary, template_names, template_path

    if a.name == "list":
        width = max(map(len, template_names())) + 2
        for name in template_names():
            print(f"{name:<{width}}{summary(name)}")
        return 0
    text = template_path(a.name).read_text()
    if a.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(a.out)
    if out.exists() and not a.force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    print(f"{a.name} written to {write_atomic(out, text)}")
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from workbench.report.results_file import read_json, write_atomic

    doc = read_json(a.run)
    wrote = False
    if a.plots:
        if doc.get("kind") == "gil":
            raise UsageError(f"{a.run} is a GIL lab run: --plots draws io, disk and sweep runs")
        from workbench.report.run_charts import write_run_charts

        written = write_run_charts(cast(ResultDoc, doc), Path(a.plots))
        names = ", ".join(p.name for p in written) or "nothing (the run has no rows)"
        print(f"plots written to {a.plots}: {names}")
        wrote = True
    if a.html:
        from workbench.report.html_report import render

        print(f"report written to {write_atomic(a.html, render(doc))}")
        wrote = True
    if wrote:
        return 0
    out = stdout_console(200 if a.wide else 120)
    if doc.get("kind") == "gil":
        from workbench.report.gil_table import print_gil

        print_gil(doc, out)
    elif any(r.get("served") for r in doc["results"]):  # a `servers` run: its own table
        from workbench.report.servers_table import print_servers

        print_servers(cast(ResultDoc, doc), stdout_console(160))
    elif doc["results"]:
        from workbench.report.table import print_io

        print_io(cast(ResultDoc, doc), out, a.wide)
    return 0


def cmd_sweep(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.harness.sweep import csv_text, run_sweep
    from workbench.report.progress import progress_on
    from workbench.report.results_file import results_dir, write_atomic, write_json

    counts = [parse_count(v, "--clients") for v in a.clients.split(",") if v.strip()]
    a.clients = str(max(counts) if counts else 1)  # validated per count by run_io
    settings = io_settings(a)
    spread = spread_of(a)
    out = results_dir(a.out, "sweep")
    err = Console(stderr=True)
    with progress_on(err, a.quiet) as observer:
        if a.cluster is not None:
            from workbench.cluster.dispatch import run_io_on_cluster

            address = a.cluster
            doc = run_sweep(
                settings, counts, observer, lambda s, o: run_io_on_cluster(s, address, spread, o)
            )
        else:
            doc = run_sweep(settings, counts, observer)
    write_json(a.json or out / "sweep.json", doc)
    write_atomic(out / "sweep.csv", csv_text(doc))
    written = []
    if doc["results"]:
        from workbench.report.plots import plot_sweep
        from workbench.report.run_charts import write_run_charts

        written = plot_sweep(doc, out)
        # A stopped sweep exits promptly: `report sweep.json --plots DIR` draws the rest later.
        if not doc["partial"]:
            written += write_run_charts(doc, out)
    print(f"sweep written to {out}: sweep.json, sweep.csv, {', '.join(p.name for p in written)}")
    return stopped_exit_code(doc)


def cmd_compare(a: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from workbench.report.compare import compare_docs
    from workbench.report.results_file import read_json, write_json

    b_path = a.b or a.a  # one run: its interpreters compared with each other
    if a.b is None and not (a.python_a and a.python_b):
        raise UsageError("compare takes two runs, or one run with --python-a and --python-b")
    docs = [read_json(path) for path in (a.a, b_path)]
    for path, doc in zip((a.a, b_path), docs, strict=True):
        if doc.get("kind") == "gil":
            raise UsageError(f"{path} is a GIL lab run; compare takes two io, disk or sweep runs")
    doc_a, doc_b = (cast(ResultDoc, doc) for doc in docs)
    min_change = _percent(a.min_change, "--min-change")
    result = compare_docs(doc_a, doc_b, a.python_a, a.python_b)
    if a.json:
        write_json(
            a.json,
            {
                "schema_version": docs[0]["schema_version"],
                "kind": "compare",
                "results": [],
                **result,
            },
        )
    side_a = f"{a.a}" + (f" (Python {a.python_a})" if a.python_a else "")
    side_b = f"{b_path}" + (f" (Python {a.python_b})" if a.python_b else "")
    table = Table(title=f"{side_b} against {side_a}", title_justify="left")
    for name in ("cell", "A ops/s", "B ops/s", "B / A", "95% interval", "verdict"):
        table.add_column(name, justify="left" if name in ("cell", "verdict") else "right")
    styles = {"faster": "green", "slower": "red"}
    for c in result["comparisons"]:
        ci = c["ratio_ci"]
        interval = "-" if ci is None else f"{ci[0]:.3f}-{ci[1]:.3f}"
        table.add_row(
            c["cell"],
            f"{c['a_ops_per_s']:,.0f}",
            f"{c['b_ops_per_s']:,.0f}",
            f"{c['ratio']:.3f}",
            interval,
            Text(c["verdict"], style=styles.get(c["verdict"], "")),
        )
    out = stdout_console(160)
    out.print(table)
    out.print(
        "  significant: the 95% interval of B / A (Welch's t over each side's rounds, on the "
        f"log rates) excludes 1 and the difference is at least {result['min_effect']:.0%}; "
        "rounds are fresh workers, so this is the between-run noise",
        highlight=False,
    )
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        if result[key]:
            out.print(f"  only in {side}: {', '.join(result[key])}", highlight=False)
    if a.plots and result["comparisons"]:
        from workbench.report.plots import plot_compare

        Path(a.plots).mkdir(parents=True, exist_ok=True)
        written = plot_compare(result, Path(a.plots) / "compare", f"{side_b} against {side_a}")
        print(f"plots written to {a.plots}: {', '.join(p.name for p in written)}")
    if a.fail_on is None:
        return 0
    from workbench.report.compare import gate

    failed, undecided = gate(result["comparisons"], a.fail_on, min_change)
    for c in failed:
        print(f"compare: {c['cell']}: {c['verdict']}, B / A {c['ratio']:.3f}", file=sys.stderr)
    if undecided:
        print(
            f"compare: {undecided} cell(s) had too few rounds to decide, and cannot fail the "
            "gate: run both with --repeat 3 or more",
            file=sys.stderr,
        )
    if failed:
        print(
            f"compare: {len(failed)} cell(s) changed ({a.fail_on}) by {min_change:.0%} or more",
            file=sys.stderr,
        )
        return 1
    return 0


def _percent(text: str, option: str) -> float:
    """`10%` or `0.1`: a share, from 0 up."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(f"{option} {text!r}: give a share such as 5% or 0.05") from None
    if not 0 <= value < 10:
        raise UsageError(f"{option} {text!r}: give a share such as 5% or 0.05")
    return value


def cmd_files(a: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench import fileset
    from workbench.units import size_label

    if a.action == "generate":
        root = Path(a.dir) if a.dir else fileset.default_dir()
        sizes = tuple(parse_size(s, "--size") for s in a.size.split(","))
        fs = fileset.generate(root, parse_count(a.count, "--count"), sizes, a.content)
        kind = fileset.filesystem_of(fs.directory)
        mix = "+".join(size_label(s) for s in fs.sizes)
        print(
            f"{fs.directory}: {fs.count} files of {mix}, {fs.total_bytes / 1e6:,.1f} MB, "
            f"{fs.content}, on {kind}"
        )
        if kind in fileset.MEMORY_FILESYSTEMS:
            print("note: that filesystem lives in memory; disk cells there measure memory")
        return 0
    if a.action == "remove":
        removed = fileset.remove(Path(a.set_dir))
        print(f"removed {removed} files and the set's directory")
        return 0
    raise UsageError("files needs an action: generate or remove")


def cmd_serve(a: argparse.Namespace, rest: list[str]) -> int:
    """Run a mock server in the foreground (the same module the harness starts)."""
    module = f"servers.{a.kind}"
    os.execv(sys.executable, [sys.executable, "-m", module, *rest])


def cmd_list(a: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from workbench.clients import CLIENTS
    from workbench.models import MODELS, model_class
    from workbench.workloads import WORKLOAD_PROTOCOLS

    console = Console()
    t = Table(title="models", title_justify="left")
    for col in ("model", "family", "what it runs", "clients that fit"):
        t.add_column(col)
    for name in MODELS:
        try:
            cls = model_class(name)
        except UsageError as exc:
            t.add_row(name, "?", str(exc), "")
            continue
        fit = [
            c
            for c, e in CLIENTS.items()
            if cls.family in e.implementations and set(e.protocols) - set(cls.skips)
        ]
        t.add_row(name, cls.family, cls.summary, ", ".join(fit))
    console.print(t)
    t = Table(title="clients", title_justify="left")
    for col in ("client", "families", "workloads", "what it is"):
        t.add_column(col)
    for e in CLIENTS.values():
        wl = [w for w, proto in WORKLOAD_PROTOCOLS.items() if proto in e.protocols]
        t.add_row(e.name, ", ".join(e.implementations), ", ".join(wl), e.summary)
    console.print(t)
    return 0


def cmd_cluster(a: argparse.Namespace) -> int:
    from workbench.cluster.local import serve

    if a.action != "local":
        raise UsageError("cluster needs an action: local")

    def say(text: str) -> None:
        print(text, flush=True)

    return serve(parse_count(a.workers, "--workers"), parse_count(a.port, "--port"), say)
