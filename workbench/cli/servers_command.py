"""`python -m workbench servers`: the same small service under each server configuration, loaded by
the workbench's own fastest client, with the rules `io` follows (a fresh server and load process
each round, warm-up, interleaved rounds, intervals, ranks and flags)."""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys

from workbench.errors import UsageError
from workbench.harness.settings import IoSettings
from workbench.units import parse_count, parse_duration


def add_servers_args(p: argparse.ArgumentParser) -> None:
    from workbench.served.apps import SCENARIOS

    g = p.add_argument_group("what to run")
    g.add_argument(
        "--servers",
        default=None,
        help="comma list of servers (uvicorn, hypercorn, granian, gunicorn, waitress: all of "
        "that server's configurations) or configurations (gunicorn-gthread), or all; --list "
        "names them (default: one of each kind)",
    )
    g.add_argument("--list", action="store_true", help="list the configurations and exit")
    g.add_argument(
        "--scenario",
        default="hello",
        help=f"comma list of: {', '.join(SCENARIOS)} (default hello)",
    )
    g.add_argument("--clients", default="100", help="concurrent clients of the load (default 100)")
    g.add_argument(
        "--downstream-latency",
        default="20ms",
        help="how long the downstream mock server waits before each answer (default 20ms)",
    )
    g.add_argument(
        "--work",
        default="python:200us",
        help="the work scenario's pure-Python work per request (default python:200us)",
    )
    g.add_argument(
        "--app", default=None, metavar="MODULE:CALLABLE",
        help="serve your own ASGI or WSGI app (each server of its interface runs it)",
    )  # fmt: skip
    g.add_argument("--workers", default="1", help="worker processes per server (default 1)")
    g.add_argument(
        "--threads", default="8", help="threads per worker of a threaded server (default 8)"
    )
    g.add_argument("--port", default="0", help="the server's port (default a free one each round)")
    g.add_argument(
        "--fail-every", default="0", metavar="N",
        help="the workbench's app raises on every Nth request (a 500, counted as an error)",
    )  # fmt: skip
    g = p.add_argument_group("how to measure")
    g.add_argument("--duration", default="0.75", help="measuring window per round (default 0.75s)")
    g.add_argument("--warmup", default="0.3", help="warm-up once every client has an answer")
    g.add_argument("--repeat", default="3", help="rounds per configuration (default 3)")
    g.add_argument("--timeout", default="10", help="per-request timeout (default 10s)")
    g.add_argument(
        "--python", action="append", default=[], metavar="PYTHON",
        help="run the servers under this interpreter (twice: side by side), e.g. 3.13t; the "
        "load always runs under this one",
    )  # fmt: skip
    g.add_argument("--no-pin", action="store_true", help="do not pin server and load to CPUs")
    g = p.add_argument_group("output")
    g.add_argument("--json", default=None, metavar="PATH", help="write the results as JSON")
    g.add_argument("--csv", default=None, metavar="PATH", help="write the rows as CSV")
    g.add_argument("--quiet", action="store_true", help="no progress display")


def servers_settings(a: argparse.Namespace) -> IoSettings:
    from workbench.served import configs
    from workbench.served.apps import SCENARIOS

    chosen = configs.select(a.servers)
    scenarios = [s.strip() for s in a.scenario.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            raise UsageError(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    if not scenarios:
        raise UsageError("--scenario names no scenario")
    if a.app is not None:
        if scenarios != ["hello"]:  # the scenarios are the workbench's app's; yours is its own
            raise UsageError("--app runs your app as it is: --scenario takes only hello with it")
        interface = app_interface(a.app)
        chosen = [c for c in chosen if c.interface == interface and not c.app]
        if not chosen:
            raise UsageError(f"--app {a.app} is {interface.upper()}: no server chosen serves it")
    from workbench.work import parse_work

    if parse_work(a.work)[0] != "python":
        raise UsageError("--work takes python:DURATION (pure-Python work per request)")
    port = parse_count(a.port, "--port") if a.port != "0" else 0
    if port > 65535:
        raise UsageError("--port must be at most 65535")
    if port:
        from workbench.served.process import check_port_free

        check_port_free("127.0.0.1", port)
    return IoSettings(
        models=["uvloop"],
        libs=["raw"],
        workloads=[f"served-{s}" for s in scenarios],
        clients=parse_count(a.clients, "--clients"),
        duration=parse_duration(a.duration, "--duration"),
        warmup=parse_duration(a.warmup, "--warmup"),
        repeat=parse_count(a.repeat, "--repeat"),
        timeout=parse_duration(a.timeout, "--timeout"),
        pythons=list(a.python),
        pin=not a.no_pin,
        served=[c.name for c in chosen],
        served_app=a.app,
        served_work=a.work,
        downstream_latency=parse_duration(a.downstream_latency, "--downstream-latency"),
        server_workers=parse_count(a.workers, "--workers"),
        server_threads=parse_count(a.threads, "--threads"),
        server_port=port,
        fail_every=int(a.fail_every) if a.fail_every.isdigit() else _bad_fail(a.fail_every),
    )


def _bad_fail(text: str) -> int:
    raise UsageError(f"--fail-every {text!r} is not a whole number")


def app_interface(spec: str) -> str:
    """Import the user's app here first, so a typo is one line now rather than a server that
    fails to start later; ASGI or WSGI, from how it is called."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--app {spec!r} is not MODULE:CALLABLE")
    sys.path.insert(0, os.getcwd())  # as the servers do: the app is found from where they start
    try:
        module = importlib.import_module(module_name)
        app = getattr(module, attr)
    except Exception as exc:  # anything its import raises is the user's to see, in one line
        raise UsageError(f"--app {spec}: cannot import it ({type(exc).__name__}: {exc})") from None
    finally:
        sys.path.pop(0)
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    if call is None:
        raise UsageError(f"--app {spec}: not callable")
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app):
        return "asgi"
    return "wsgi"


def cmd_servers(a: argparse.Namespace) -> int:
    from rich.console import Console

    from workbench.cli.commands import stopped_exit_code
    from workbench.harness.runner import run_io
    from workbench.report.console import stdout_console
    from workbench.report.progress import progress_on
    from workbench.report.results_file import write_atomic, write_json
    from workbench.report.servers_table import csv_text, print_servers

    if a.list:
        print_configs()
        return 0
    settings = servers_settings(a)
    err = Console(stderr=True)
    with progress_on(err, a.quiet) as observer:
        doc = run_io(settings, observer)
    if a.json:
        err.print(f"results written to {write_json(a.json, doc)}", highlight=False)
    if a.csv:
        err.print(f"rows written to {write_atomic(a.csv, csv_text(doc))}", highlight=False)
    if doc["results"]:
        print_servers(doc, stdout_console(160))
    return stopped_exit_code(doc)


def print_configs() -> None:
    from workbench.served.configs import CONFIGS, DEFAULT_CONFIGS

    for c in CONFIGS.values():
        mark = "*" if c.name in DEFAULT_CONFIGS else " "
        print(f"{mark} {c.name:26} {c.interface} {c.family:7} {c.summary}")
    print("* run by default; a server's name selects all of its configurations")
