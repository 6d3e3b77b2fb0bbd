"""Command line: `python -m workbench io|net|serve|list`.

Bad input is one line on stderr and exit code 2, never a traceback; a run that cannot complete
is exit code 1; Ctrl-C is exit code 130 with every child process gone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from workbench import __version__
from workbench.errors import RunFailed, UsageError
from workbench.units import parse_count, parse_duration, parse_size


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
    g = p.add_argument_group("how long")
    g.add_argument("--duration", default="3", help="measuring window per cell (default 3s)")
    g.add_argument(
        "--warmup", default="1", help="warm-up once every client is connected (default 1s)"
    )
    g.add_argument(
        "--warm-limit", default="30", help="longest ramp-up before measuring anyway (default 30s)"
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
    g = p.add_argument_group("output")
    g.add_argument("--json", default=None, metavar="PATH", help="write the results as JSON")
    g.add_argument("--quiet", action="store_true", help="no progress display")


def _io_settings(a: argparse.Namespace) -> Any:
    from workbench.clients import CLIENT_NAMES
    from workbench.harness.runner import IoSettings
    from workbench.models import MODEL_NAMES
    from workbench.workloads import WORKLOAD_NAMES

    return IoSettings(
        models=_list(a.models, MODEL_NAMES, "model"),
        libs=None if a.libs is None else _list(a.libs, CLIENT_NAMES, "client library"),
        workloads=_list(a.workloads, WORKLOAD_NAMES, "workload"),
        clients=parse_count(a.clients, "--clients"),
        duration=parse_duration(a.duration, "--duration"),
        warmup=parse_duration(a.warmup, "--warmup"),
        warm_limit=parse_duration(a.warm_limit, "--warm-limit"),
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
    )


def cmd_io(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.harness.runner import run_io
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
    if a.quiet or not err.is_terminal:
        doc = run_io(settings)
    else:
        from workbench.report.progress import RichObserver

        with RichObserver(err) as observer:
            doc = run_io(settings, observer)
    if a.json:
        path = write_json(a.json, doc)
        err.print(f"results written to {path}", highlight=False)
    out = Console()
    if not out.is_terminal:
        out = Console(width=200)  # a file or pipe gets the whole table, not an 80-column squeeze
    print_io(doc, out)
    return 0


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
    io = sub.add_parser("io", help="every model against the mock servers, one table")
    _add_io_args(io)
    net = sub.add_parser("net", help="the network cells only (same options as io)")
    _add_io_args(net)
    serve = sub.add_parser("serve", help="run a mock server in the foreground", add_help=False)
    serve.add_argument("kind", choices=("http", "echo"))
    sub.add_parser("list", help="models, clients and workloads")
    return p


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
        if a.command in ("io", "net"):
            return cmd_io(a)
        if a.command == "list":
            return cmd_list(a)
        raise UsageError(f"unknown command {a.command!r}")
    except UsageError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"workbench: run failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
