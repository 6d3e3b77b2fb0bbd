from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest

from workbench.clients import CLIENTS, fits
from workbench.harness.runner import Cell, IoSettings, Observer, run_cell, summarise
from workbench.harness.spec import CellSpec
from workbench.models import MODELS, model_class
from workbench.server_process import ServerHandle
from workbench.workloads import WORKLOAD_PROTOCOLS, WorkloadSettings
from workbench.workloads.base import Target

QUICK = IoSettings(duration=0.4, warmup=0.25, grace=1.0, timeout=5.0)


def all_cells(disk: bool = False) -> list[tuple[str, str, str]]:
    """Every (model, client, workload) that fits: network ones, or with `disk` the file ones."""
    out = []
    for workload, protocol in WORKLOAD_PROTOCOLS.items():
        if (protocol == "file") != disk:
            continue
        for model in MODELS:
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


def run_one(
    model: str, client: str, workload: str, clients: int, server: ServerHandle,
    settings: IoSettings = QUICK, **workload_options: Any,
) -> dict[str, Any]:  # fmt: skip
    scheme = "http" if server.kind == "http" else "tcp"
    if server.kind == "http":
        workload_options.setdefault("body_size", 256)  # what the test servers are started with
    spec = CellSpec(
        model=model,
        client=client,
        workload=WorkloadSettings(
            workload, Target(scheme, server.host, server.port), **workload_options
        ),
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
