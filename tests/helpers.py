from __future__ import annotations

import ctypes
import errno
import importlib.util
import os
import subprocess
import sys
from typing import Any, NoReturn

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


# .ci/run builds the free-threaded CPython at low priority while the suite runs (the build is a
# quarter of a fresh machine's CI time, and nothing it does is measured): the tests that need it
# carry the `free_threaded` mark, run last, and wait for the build whose pid this names.
BUILD_PID = "WORKBENCH_BUILD_PID"
BUILD_WAIT_S = 1200.0
FREE_THREADED_BUILD = "python -m workbench pythons build 3.13t"


def free_threaded_313() -> str:
    """The free-threaded 3.13 `pythons build 3.13t` makes: once a build in progress is done."""
    import time

    import psutil

    from workbench.errors import UsageError
    from workbench.interpreter_discovery import find

    pid = os.environ.get(BUILD_PID)
    deadline = time.monotonic() + BUILD_WAIT_S
    while pid and time.monotonic() < deadline:
        try:
            if psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(1.0)
    try:
        return find("3.13t")
    except UsageError:
        skip_unless_ci(f"no free-threaded 3.13 here: {FREE_THREADED_BUILD} makes one")


def in_ci() -> bool:
    """`.ci/run` runs with CI=true on a machine it set up itself: what it installed is there."""
    return os.environ.get("CI") == "true"


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip with the reason on a developer's machine; fail under CI=true, where .ci/run installed
    everything the suite needs, so something missing is a broken setup, not a choice."""
    if in_ci():
        pytest.fail(f"under CI=true this must not be missing: {reason}")
    pytest.skip(reason)


# io_uring_setup(2): the same number on x86_64, aarch64 and every architecture of the generic table.
IO_URING_SETUP = 425


def kernel_allows_io_uring() -> bool:
    """Whether this kernel and its settings (sysctl, seccomp) let a process set up a ring, asked
    with the raw system call, not through the binding: so a binding that fails is told apart
    from a kernel that refuses."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    fd = libc.syscall(IO_URING_SETUP, 4, params)
    if fd >= 0:
        os.close(fd)
        return True
    return ctypes.get_errno() not in (errno.EPERM, errno.ENOSYS, errno.EACCES)


def skip_io_uring(reason: str) -> NoReturn:
    """io_uring cannot run here: skip where the kernel refuses it; where the kernel allows it, the
    binding is what failed, which under CI=true is a failure (the test extra installs it)."""
    if kernel_allows_io_uring():
        skip_unless_ci(f"the kernel allows io_uring, but: {reason}")
    pytest.skip(reason)


def skip_if_missing(model: str, client: str) -> None:
    """A missing optional package skips with a reason rather than failing (under CI=true, where
    the test extra installed every one, it fails)."""
    packages = [*model_class(model).requires, *filter(None, [CLIENTS[client].package])]
    for package in packages:
        if importlib.util.find_spec(package) is None:
            skip_unless_ci(f"{package} is not installed (pip install {package})")
    reason = unavailable(client)
    if reason is not None:
        skip_io_uring(reason)  # the only client a machine can refuse: io_uring


def run_one(
    model: str,
    client: str,
    workload: str,
    clients: int,
    server: ServerHandle,
    settings: IoSettings = QUICK,
    **workload_options: Any,
) -> Row:
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
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
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
    (["gil", "--env", "PYTHON_GIL=0|1"], "one value per key"),
    (["compare", "/no/such.json", "/no/such.json"], "cannot read"),
    (["io", "--only", "db", "--workloads", "http"], "which --only db does not run"),
    (["io", "--only", "net", "--workloads", "file-read"], "which --only net does not run"),
]
