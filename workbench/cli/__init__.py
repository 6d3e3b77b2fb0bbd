"""Command line: `python -m workbench COMMAND`, with the commands io, net, disk, servers, gil,
sweep, compare, report, template, files, serve, list, pythons and cluster (`workbench --help` says
what each does).

Bad input is one line on stderr and exit code 2, never a traceback; a run that cannot complete
is exit code 1; Ctrl-C is exit code 130 and SIGTERM 143, each with every child process gone and
what was measured kept (marked partial); a reader of stdout that
leaves early (`| head`) ends the command quietly with 141.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from workbench import __version__
from workbench.children import sigterm_as_interrupt
from workbench.cli import commands as c
from workbench.cli import interpreter_commands as ic
from workbench.cli import servers_command as sc
from workbench.cli.options import (
    add_cluster_args,
    add_db_args,
    add_disk_args,
    add_io_args,
    add_output_args,
    add_wide_arg,
)
from workbench.cli.servers_command import add_servers_args
from workbench.errors import RunFailed, UsageError, interrupted
from workbench.report.console import reader_gone
from workbench.workloads import SERVER_KINDS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="workbench",
        description="Measure Python I/O concurrency models on this machine, side by side.",
    )
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    io = sub.add_parser("io", help="every model, network and disk, one table")
    add_io_args(io)
    add_disk_args(io, standalone=False)
    add_db_args(io)
    net = sub.add_parser("net", help="the network cells only (same options as io)")
    add_io_args(net)
    add_disk_args(net, standalone=False)
    net.set_defaults(only="net")
    disk = sub.add_parser("disk", help="every file API, read and written, one table")
    add_io_args(disk)
    add_disk_args(disk, standalone=True)
    # None: the quick default or --full's, whichever was asked for (options.DISK_RUNS).
    disk.set_defaults(workloads=None, clients="8", duration=None, warmup=None)
    gil = sub.add_parser("gil", help="the classic GIL claims, measured here, with verdicts")
    gil.add_argument("--only", default=None, help="claims to run, e.g. 4 or 1,3 (default all)")
    gil.add_argument(
        "--python",
        action="append",
        default=None,
        metavar="PATH",
        help="run under this interpreter (twice: side by side), e.g. a free-threaded python3.13t",
    )
    gil.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE",
        help="environment for the experiments, e.g. PYTHON_GIL=1 to run a free-threaded build "
        "with its GIL on (one value each: run gil once per value)",
    )  # fmt: skip
    add_cluster_args(gil, spread=False)
    add_output_args(gil)
    srv = sub.add_parser(
        "servers", help="one service under uvicorn, hypercorn, granian, gunicorn and waitress"
    )
    add_servers_args(srv)
    sweep = sub.add_parser("sweep", help="the network cells at several client counts, plotted")
    add_io_args(sweep)
    sweep.add_argument("--out", default=None, help="directory for JSON, CSV and plots")
    add_disk_args(sweep, standalone=False)
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
    add_wide_arg(rep)
    rep.add_argument(
        "--plots",
        default=None,
        metavar="DIR",
        help="write the latency spectrum and the cost charts (PNG and SVG) into DIR",
    )
    cmp = sub.add_parser("compare", help="compare two runs cell by cell, with significance")
    cmp.add_argument("a", help="the baseline run (JSON written with --json)")
    cmp.add_argument(
        "b",
        nargs="?",
        default=None,
        help="the run to compare with it (default: A itself, across interpreters)",
    )
    cmp.add_argument(
        "--python-a",
        default=None,
        metavar="PYTHON",
        help="pair across interpreters: A's rows under this one (3.11, 3.14.0t)",
    )
    cmp.add_argument(
        "--python-b", default=None, metavar="PYTHON", help="... with B's rows under this one"
    )
    cmp.add_argument(
        "--fail-on",
        choices=("slower", "changed"),
        default=None,
        help="exit 1 when a cell is decided slower in B (or, with `changed`, slower or faster) "
        "by at least --min-change: a gate for CI",
    )
    cmp.add_argument(
        "--min-change",
        default="5%",
        metavar="PCT",
        help="with --fail-on: the smallest change that fails, e.g. 10%% (default 5%%, the least "
        "any verdict needs)",
    )
    cmp.add_argument(
        "--plots",
        default=None,
        metavar="DIR",
        help="also draw the ratio per cell with its interval (PNG and SVG)",
    )
    add_output_args(cmp)
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
    serve.add_argument("kind", choices=SERVER_KINDS)
    sub.add_parser("list", help="models, clients and workloads")
    py = sub.add_parser("pythons", help="the interpreters found here, or prepare one's environment")
    py.add_argument(
        "action",
        nargs="?",
        choices=("list", "prepare", "build"),
        default="list",
        help="list (default); prepare PYTHON's environment; or build PYTHON (3.13t: a "
        "free-threaded 3.13) into the workbench's cache and prepare it",
    )
    py.add_argument(
        "target",
        nargs="?",
        default=None,
        metavar="PYTHON",
        help="for prepare: a path or a version (3.13, 3.14t); for build: a version (3.13t)",
    )
    py.add_argument(
        "--python", action="append", default=[], metavar="PATH", help="also list this interpreter"
    )
    py.add_argument(
        "--wheels-only",
        action="store_true",
        help="for prepare and build: install only what has a wheel for this interpreter, and "
        "build nothing optional from source (seconds instead of minutes; what has no wheel is "
        "listed as not installed, and the cells that need it are skipped)",
    )
    py.add_argument(
        "--source", default=None, metavar="PATH",
        help="for build: python.org's source tarball (its sha256 is checked)",
    )  # fmt: skip
    cl = sub.add_parser("cluster", help="a Dask scheduler and workers here, to try --cluster")
    cl.add_argument("action", choices=("local",), help="local: start them on 127.0.0.1")
    cl.add_argument("--workers", default="2", help="how many workers (default 2)")
    cl.add_argument("--port", default="0", help="the scheduler's port (default any free one)")
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "io": c.cmd_io, "net": c.cmd_io, "disk": c.cmd_io, "files": c.cmd_files, "gil": ic.cmd_gil,
    "compare": c.cmd_compare, "sweep": c.cmd_sweep, "report": c.cmd_report,
    "template": c.cmd_template, "list": c.cmd_list, "pythons": ic.cmd_pythons,
    "cluster": c.cmd_cluster, "servers": sc.cmd_servers,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if args[:1] == ["serve"] and len(args) > 1 and args[1] not in ("-h", "--help"):
            a, rest = parser.parse_known_args(args)
            return c.cmd_serve(a, rest)
        a = parser.parse_args(args)
        if a.command is None:
            parser.print_help()
            return 2
        command = COMMANDS.get(a.command)
        if command is None:
            raise UsageError(f"unknown command {a.command!r}")
        with sigterm_as_interrupt():
            return command(a)
    except UsageError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"workbench: run failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        stopped = interrupted(exc)
        print(f"workbench: {stopped['reason']}", file=sys.stderr)
        return stopped["exit_code"]
    except BrokenPipeError:
        return reader_gone()
