from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest

from workbench.cell_spec import CellSpec
from workbench.clients import CLIENTS, fits, unavailable
from workbench.harness.cell import Cell, Observer, run_cell
from workbench.harness.rows import summarise
from workbench.harness.settings import IoSettings
from workbench.models import MODELS, model_class, runs
from workbench.results import Row
from workbench.server_process import ServerHandle
from workbench.workloads import WorkloadSettings, workloads_of
from workbench.workloads.base import Target

QUICK = IoSettings(duration=0.4, warmup=0.25, grace=1.0, timeout=5.0)


def all_cells(disk: bool = False) -> list[tuple[str, str, str]]:
    """Every (model, client, workload) that fits: network ones, or with `disk` the file ones."""
    out = []
    for workload in workloads_of("disk" if disk else "network"):
        for model in MODELS:
            if not runs(model, workload):
                continue
            family = model_class(model).family
            for client in CLIENTS:
                if fits(client, family, workload):
                    out.append((model, client, workload))
    return out


def skip_if_missing(model: str, client: str) -> None:
    """A missing optional package skips with a reason rather than failing."""
    packages = [*model_class(model).requires, *filter(None, [CLIENTS[client].package])]
    for package in packages:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed (pip install {package})")
    reason = unavailable(client)
    if reason is not None:
        pytest.skip(reason)  # this machine cannot (io_uring where the kernel refuses it)


def run_one(
    model: str, client: str, workload: str, clients: int, server: ServerHandle,
    settings: IoSettings = QUICK, **workload_options: Any,
) -> Row:  # fmt: skip
    scheme = server.url.partition("://")[0]
    if server.kind == "http":
        workload_options.setdefault("body_size", 256)  # what the test servers are started with
    target = Target(scheme, server.host, server.port, ca_file=server.ca_file)
    spec = CellSpec(
        model=model,
        client=client,
        workload=WorkloadSettings(workload, target, **workload_options),
        clients=model_class(model)().effective_clients(clients),
        timeout=settings.timeout,
        procs=2,
        work=settings.work,
    )
    run = run_cell(spec, settings, server, None, Observer())
    return summarise(Cell(model, client, workload), [run], settings, clients, 1)


def run_cli(*args: str, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`python -m workbench ARGS` as a user runs it; output captured, exit code not checked."""
    proc: subprocess.CompletedProcess[str] = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True, text=True, timeout=timeout, check=False, **kwargs,
    )  # fmt: skip
    return proc


def known(value: float | None) -> float:
    """A figure the test needs to be there (a row's percentiles and CPU figures can be None)."""
    assert value is not None
    return value


# Bad input that every command refuses with one line and exit code 2 before starting anything:
# checked in-process (tests/test_plan.py) and through a real process (tests/test_harness.py).
BAD_INPUT: list[tuple[list[str], str]] = [
    (["io", "--models", "fibers"], "unknown model 'fibers'"),
    (["io", "--workloads", "ftp"], "unknown workload 'ftp'"),
    (["io", "--libs", "pycurl"], "unknown client library 'pycurl'"),
    (["io", "--clients", "0"], "--clients must be greater than 0"),
    (["io", "--clients", "ten"], "is not a whole number"),
    (["io", "--duration", "soon"], "is not a duration"),
    (["io", "--body-size", "12XB"], "is not a size"),
    (["io", "--latency", "-1"], "--latency must be >= 0"),
    (["io", "--fault", "boom:0.1"], "unknown fault kind"),
    (["io", "--url", "http://192.0.2.1:80/"], "not loopback"),
    (["io", "--url", "http://127.0.0.1:1/"], "cannot connect"),
    (["io", "--url", "ftp://127.0.0.1/"], "only http://"),
    (["io", "--only", "net", "--url", "https://127.0.0.1:1/"], "choose from: https, https-hand"),
    (["io", "--only", "net", "--url", "http://127.0.0.1:1/", "--ca-file", "x"], "is for an https"),
    (["io", "--clients", "900000", "--models", "uvloop"], "open files"),
    (["frobnicate"], "invalid choice"),
    (["io", "--work", "java:1ms"], "is not KIND:DURATION"),
    (["io", "--rate", "0"], "--rate must be greater than 0"),
    (["io", "--work", "python:5s"], "at most 1s"),
    (["io", "--env", "NOEQUALS"], "is not KEY=VALUE"),
    (["io", "--cache", "lukewarm", "--only", "disk"], "unknown cache state"),
    (["disk", "--file-sizes", "0"], "--file-sizes must be at least 1"),
    (["gil", "--only", "9"], "there is no claim 9"),
    (["compare", "/no/such.json", "/no/such.json"], "cannot read"),
]
