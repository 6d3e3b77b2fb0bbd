"""Command line: `python -m workbench io|net|serve|list`.

Bad input is one line on stderr and exit code 2, never a traceback; a run that cannot complete
is exit code 1; Ctrl-C is exit code 130 with every child process gone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from workbench import __version__
from workbench.errors import RunFailed, UsageError
from workbench.units import parse_count, parse_duration, parse_rate, parse_size

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _list(text: str, names: Sequence[str], what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if items == ["all"]:
        return list(names)
    for item in items:
        if item not in names:
            raise UsageError(f"unknown {what} {item!r}; choose from {', '.join(names)} (or all)")
    if not items:
        raise UsageError(f"no {what} given")
    return list(dict.fromkeys(items))


def _add_io_args(p: argparse.ArgumentParser) -> None:
    from workbench.clients import CLIENT_NAMES
    from workbench.models import MODEL_NAMES
    from workbench.workloads import WORKLOAD_NAMES

    g = p.add_argument_group("what to run")
    g.add_argument("--clients", default="100", help="concurrent clients (default 100)")
    g.add_argument("--models", default="all", help=f"comma list of: {', '.join(MODEL_NAMES)}")
    g.add_argument(
        "--libs",
        "--clients-lib",
        dest="libs",
        default=None,
        help=f"client libraries, comma list of: {', '.join(CLIENT_NAMES)}, or all; default: raw "
        "for every model plus each library on its usual model",
    )
    g.add_argument(
        "--workloads", default="http", help=f"comma list of: {', '.join(WORKLOAD_NAMES)}"
    )
    g.add_argument("--procs", default=None, help="worker processes for the processes models")
    g.add_argument(
        "--client-file", action="append", default=[], metavar="PATH",
        help="measure your own client (a file in the shape of `workbench template`), repeatable",
    )  # fmt: skip
    g.add_argument(
        "--work", default=None, metavar="KIND:DURATION",
        help="work per request: python:200us (holds the GIL), hashlib:200us or zlib:200us",
    )  # fmt: skip
    g.add_argument(
        "--rate", default=None,
        help="open loop: operations per second in total, spread over the clients; latency is "
        "measured from each operation's intended send time (default: closed loop)",
    )  # fmt: skip
    g = p.add_argument_group("how long")
    g.add_argument("--duration", default="3", help="measuring window per cell (default 3s)")
    g.add_argument(
        "--warmup", default="1", help="warm-up once every client is connected (default 1s)"
    )
    g.add_argument(
        "--warm-limit",
        default=None,
        help="longest ramp-up before measuring anyway (default 5s + 1ms per client)",
    )
    g.add_argument("--repeat", default="1", help="run each cell K times, interleaved; median")
    g.add_argument("--timeout", default="10", help="per-operation timeout (default 10s)")
    g = p.add_argument_group("the server")
    g.add_argument("--latency", default="0", help="server delay per response, e.g. 20ms")
    g.add_argument("--jitter", default="0", help="uniform +/- spread on --latency")
    g.add_argument("--body-size", default="64", help="GET response body (default 64 bytes)")
    g.add_argument("--upload-size", default="1KiB", help="POST body for http-upload")
    g.add_argument("--message-size", default="64", help="echo message payload")
    g.add_argument("--fault", action="append", default=[], metavar="KIND:RATE",
                   help="inject server faults: 500, reset, stall, slow-body")  # fmt: skip
    g.add_argument("--server-loop", choices=("uvloop", "asyncio"), default="uvloop")
    g.add_argument("--url", default=None, help="measure your own HTTP server instead of the mock")
    g.add_argument("--allow-remote", action="store_true", help="allow a --url that is not loopback")
    g.add_argument("--no-pin", action="store_true", help="do not pin server and clients to CPUs")
    g.add_argument("--python", default=None, metavar="PATH",
                   help="interpreter for client workers, e.g. a free-threaded build")  # fmt: skip
    g.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment for client workers, e.g. MALLOC_ARENA_MAX=2")  # fmt: skip
    _add_output_args(p)


def _add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--json", default=None, metavar="PATH", help="write the results as JSON")
    g.add_argument("--quiet", action="store_true", help="no progress display")


def _add_disk_args(p: argparse.ArgumentParser, standalone: bool) -> None:
    g = p.add_argument_group("disk cells")
    if not standalone:
        g.add_argument(
            "--only", choices=("both", "net", "disk"), default="both", help="which cells to run"
        )
        g.add_argument("--disk-workloads", default="file-read", help="disk workloads (file-*)")
        g.add_argument("--disk-clients", default="8", help="disk concurrency (default 8)")
    pools = "8,32" if standalone else "8"
    g.add_argument("--pool-sizes", default=pools, help=f"threads on disk cells (default {pools})")
    g.add_argument("--dir", default=None, help="where file sets live (default ~/.cache/...)")
    sizes = "16KiB,1MiB" if standalone else "1MiB"
    g.add_argument("--file-sizes", default=sizes, help=f"file sizes (default {sizes})")
    g.add_argument("--set-size", default="128MiB", help="bytes per file set (default 128MiB)")
    g.add_argument("--content", choices=("random", "compressible"), default="random")
    g.add_argument("--cache", default="warm", help="warm, cold, or warm,cold")
    g.add_argument("--chunk-size", default="64KiB", help="read size of file-read-chunked")
    g.add_argument("--fsync", action="store_true", help="fsync every file written")
    g.add_argument(
        "--write-budget",
        default="2GiB",
        help="bytes a write cell may write; warm-up gets a quarter, then reuses its own files",
    )


def _env(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not key.replace("_", "").isalnum():
            raise UsageError(f"--env {item!r} is not KEY=VALUE")
        env[key] = value
    return env


def _io_settings(a: argparse.Namespace) -> Any:
    from workbench.clients import CLIENT_NAMES
    from workbench.harness.runner import IoSettings
    from workbench.models import MODEL_NAMES
    from workbench.workloads import WORKLOAD_NAMES, WORKLOAD_PROTOCOLS

    disk_names = [w for w, p in WORKLOAD_PROTOCOLS.items() if p == "file"]
    if a.command == "disk":
        workloads = _list(a.workloads, disk_names, "disk workload")
        disk_clients = a.clients
    else:
        workloads = []
        if a.command == "net" or a.only in ("both", "net"):
            workloads += _list(a.workloads, WORKLOAD_NAMES, "workload")
        if a.command == "io" and a.only in ("both", "disk"):
            workloads += _list(a.disk_workloads, disk_names, "disk workload")
        disk_clients = getattr(a, "disk_clients", "8")
    sizes = a.file_sizes.split(",")
    return IoSettings(
        models=_list(a.models, MODEL_NAMES, "model"),
        libs=None if a.libs is None else _list(a.libs, CLIENT_NAMES, "client library"),
        workloads=list(dict.fromkeys(workloads)),
        clients=parse_count(a.clients, "--clients") if a.command != "disk" else 1,
        disk_clients=parse_count(disk_clients, "--clients"),
        pool_sizes=[parse_count(v, "--pool-sizes") for v in a.pool_sizes.split(",")],
        file_dir=a.dir,
        file_sizes=[parse_size(v, "--file-sizes") for v in sizes],
        file_set_bytes=parse_size(a.set_size, "--set-size"),
        file_content=a.content,
        cache=[c.strip() for c in a.cache.split(",") if c.strip()],
        chunk=parse_size(a.chunk_size, "--chunk-size"),
        fsync=a.fsync,
        write_budget=parse_size(a.write_budget, "--write-budget"),
        every_disk_cell=a.command == "disk",
        duration=parse_duration(a.duration, "--duration"),
        warmup=parse_duration(a.warmup, "--warmup"),
        warm_limit=None if a.warm_limit is None else parse_duration(a.warm_limit, "--warm-limit"),
        repeat=parse_count(a.repeat, "--repeat"),
        timeout=parse_duration(a.timeout, "--timeout"),
        latency=parse_duration(a.latency, "--latency"),
        jitter=parse_duration(a.jitter, "--jitter"),
        body_size=parse_size(a.body_size, "--body-size"),
        upload_size=parse_size(a.upload_size, "--upload-size"),
        message_size=parse_size(a.message_size, "--message-size"),
        faults=list(a.fault),
        server_loop=a.server_loop,
        url=a.url,
        allow_remote=a.allow_remote,
        pin=not a.no_pin,
        procs=None if a.procs is None else parse_count(a.procs, "--procs"),
        env=_env(a.env),
        work=a.work,
        client_files=[os.path.abspath(p) for p in a.client_file],
        rate=None if a.rate is None else parse_rate(a.rate),
        python=a.python or sys.executable,
    )


def cmd_io(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.harness.runner import run_io
    from workbench.report.progress import progress_on
    from workbench.report.results_file import write_json
    from workbench.report.table import print_io

    settings = _io_settings(a)
    if a.fault:
        from servers.faults import HTTP_FAULTS, FaultSpecError, parse_fault

        for text in a.fault:
            try:
                parse_fault(text, HTTP_FAULTS)
            except FaultSpecError as exc:
                raise UsageError(str(exc)) from None
    err = Console(stderr=True)
    with progress_on(err, a.quiet) as observer:
        doc = run_io(settings, observer)
    if a.json:
        path = write_json(a.json, doc)
        err.print(f"results written to {path}", highlight=False)
    out = stdout_console(200)
    if doc["results"]:
        print_io(doc, out)
    return _stopped(doc)


def stdout_console(width: int) -> Console:
    """The terminal as it is; a file or pipe gets `width` columns, not an 80-column squeeze."""
    from rich.console import Console

    out = Console()
    return out if out.is_terminal else Console(width=width)


def _stopped(doc: dict[str, Any]) -> int:
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
    from pathlib import Path

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
    if a.html:
        from workbench.report.html_report import render

        print(f"report written to {write_atomic(a.html, render(doc))}")
        return 0
    out = stdout_console(200)
    if doc.get("kind") == "gil":
        from workbench.report.gil_table import print_gil

        print_gil(doc, out)
    elif doc["results"]:
        from workbench.report.table import print_io

        print_io(doc, out)
    return 0


def cmd_sweep(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.harness.sweep import csv_text, run_sweep
    from workbench.report.progress import progress_on
    from workbench.report.results_file import results_dir, write_atomic, write_json

    counts = [parse_count(v, "--clients") for v in a.clients.split(",") if v.strip()]
    a.clients = str(max(counts) if counts else 1)  # validated per count by run_io
    settings = _io_settings(a)
    out = results_dir(a.out, "sweep")
    err = Console(stderr=True)
    with progress_on(err, a.quiet) as observer:
        doc = run_sweep(settings, counts, observer)
    write_json(a.json or out / "sweep.json", doc)
    write_atomic(out / "sweep.csv", csv_text(doc))
    written = []
    if doc["results"]:
        from workbench.report.plots import plot_sweep

        written = plot_sweep(doc, out)
    print(f"sweep written to {out}: sweep.json, sweep.csv, {', '.join(p.name for p in written)}")
    return _stopped(doc)


def cmd_compare(a: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from workbench.report.compare import compare_docs
    from workbench.report.results_file import read_json, write_json

    docs = [read_json(path) for path in (a.a, a.b)]
    for path, doc in zip((a.a, a.b), docs, strict=True):
        if doc.get("kind") == "gil":
            raise UsageError(f"{path} is a GIL lab run; compare takes two io, disk or sweep runs")
    result = compare_docs(*docs)
    if a.json:
        write_json(a.json, {"schema_version": docs[0]["schema_version"], "kind": "compare",
                            "results": [], **result})  # fmt: skip
    table = Table(title=f"{a.b} against {a.a}", title_justify="left")
    for name in ("cell", "A ops/s", "B ops/s", "B / A", "p", "verdict"):
        table.add_column(name, justify="left" if name in ("cell", "verdict") else "right")
    styles = {"faster": "green", "slower": "red"}
    for c in result["comparisons"]:
        p = "-" if c["p_value"] is None else f"{c['p_value']:.3f}"
        table.add_row(
            c["cell"], f"{c['a_ops_per_s']:,.0f}", f"{c['b_ops_per_s']:,.0f}",
            f"{c['ratio']:.3f}", p, Text(c["verdict"], style=styles.get(c["verdict"], "")),
        )  # fmt: skip
    out = stdout_console(160)
    out.print(table)
    out.print(
        f"  significant: Mann-Whitney U p < {result['alpha']} over the repeats and a difference "
        f"of at least {result['min_effect']:.0%}",
        highlight=False,
    )
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        if result[key]:
            out.print(f"  only in {side}: {', '.join(result[key])}", highlight=False)
    return 0


def cmd_gil(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.gil.lab import run_lab
    from workbench.gil.verdicts import CLAIMS
    from workbench.report.gil_table import print_gil
    from workbench.report.results_file import write_json

    numbers = list(CLAIMS)
    if a.only:
        numbers = [parse_count(v, "--only") for v in a.only.split(",")]
    err = Console(stderr=True)
    show = not a.quiet and err.is_terminal

    def progress(text: str) -> None:
        if show:
            err.print(f"  measuring {text}", highlight=False)

    doc = run_lab(numbers, a.python or [sys.executable], progress)
    if a.json:
        err.print(f"results written to {write_json(a.json, doc)}", highlight=False)
    out = stdout_console(160)
    if doc["claims"]:
        print_gil(doc, out)
    return _stopped(doc)


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
        print(f"{fs.directory}: {fs.count} files of {mix}, {fs.total_bytes / 1e6:,.1f} MB, "
              f"{fs.content}, on {kind}")  # fmt: skip
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
        fit = [c for c, e in CLIENTS.items() if cls.family in e.implementations]
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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="workbench",
        description="Measure Python I/O concurrency models on this machine, side by side.",
    )
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    io = sub.add_parser("io", help="every model, network and disk, one table")
    _add_io_args(io)
    _add_disk_args(io, standalone=False)
    net = sub.add_parser("net", help="the network cells only (same options as io)")
    _add_io_args(net)
    _add_disk_args(net, standalone=False)
    net.set_defaults(only="net")
    disk = sub.add_parser("disk", help="every file API on every model, one table")
    _add_io_args(disk)
    _add_disk_args(disk, standalone=True)
    disk.set_defaults(
        workloads="file-read,file-read-chunked,file-write", clients="8", duration="2", warmup="0.5"
    )
    gil = sub.add_parser("gil", help="the classic GIL claims, measured here, with verdicts")
    gil.add_argument("--only", default=None, help="claims to run, e.g. 4 or 1,3 (default all)")
    gil.add_argument(
        "--python", action="append", default=None, metavar="PATH",
        help="run under this interpreter (twice: side by side), e.g. a free-threaded python3.13t",
    )  # fmt: skip
    _add_output_args(gil)
    sweep = sub.add_parser("sweep", help="the network cells at several client counts, plotted")
    _add_io_args(sweep)
    sweep.add_argument("--out", default=None, help="directory for JSON, CSV and plots")
    _add_disk_args(sweep, standalone=False)
    sweep.set_defaults(
        clients="1,10,100,500,2000", only="net", models="uvloop,asyncio,trio,threads"
    )
    tpl = sub.add_parser("template", help="copy-ready example clients: list, or print/write one")
    tpl.add_argument("name", help="`list`, or a template's name")
    tpl.add_argument("--out", default=None, metavar="FILE", help="write it here instead of stdout")
    tpl.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    rep = sub.add_parser("report", help="show a saved run, or write it as one HTML file")
    rep.add_argument("run", help="a JSON file written with --json")
    rep.add_argument("--html", default=None, metavar="PATH", help="write a self-contained page")
    cmp = sub.add_parser("compare", help="compare two runs cell by cell, with significance")
    cmp.add_argument("a", help="the baseline run (JSON written with --json)")
    cmp.add_argument("b", help="the run to compare with it")
    _add_output_args(cmp)
    files = sub.add_parser("files", help="generate or remove a file set for the disk cells")
    files_sub = files.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    gen = files_sub.add_parser("generate", help="make (or reuse) a set of files")
    gen.add_argument("--dir", default=None, help="where sets live (default ~/.cache/...)")
    gen.add_argument("--count", default="256", help="number of files (default 256)")
    gen.add_argument("--size", default="1MiB", help="file size, or sizes to mix: 16KiB,1MiB")
    gen.add_argument("--content", choices=("random", "compressible"), default="random")
    rm = files_sub.add_parser("remove", help="delete a set the workbench made (nothing else)")
    rm.add_argument("set_dir", help="the set's directory, as `generate` printed it")
    serve = sub.add_parser("serve", help="run a mock server in the foreground", add_help=False)
    serve.add_argument("kind", choices=("http", "echo"))
    sub.add_parser("list", help="models, clients and workloads")
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "io": cmd_io, "net": cmd_io, "disk": cmd_io, "files": cmd_files, "gil": cmd_gil,
    "compare": cmd_compare, "sweep": cmd_sweep, "report": cmd_report, "template": cmd_template,
    "list": cmd_list,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if args[:1] == ["serve"] and len(args) > 1 and args[1] not in ("-h", "--help"):
            a, rest = parser.parse_known_args(args)
            return cmd_serve(a, rest)
        a = parser.parse_args(args)
        if a.command is None:
            parser.print_help()
            return 2
        command = COMMANDS.get(a.command)
        if command is None:
            raise UsageError(f"unknown command {a.command!r}")
        return command(a)
    except UsageError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"workbench: run failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return reader_gone()


def reader_gone() -> int:
    """stdout's reader left (`workbench ... | head`): stop quietly, as Unix tools do. stdout is
    pointed at /dev/null so that the interpreter's final flush cannot fail a second time."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it
