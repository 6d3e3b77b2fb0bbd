from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import NoReturn

import psutil
import pytest

from workbench.server_process import ServerHandle, run_server

# Servers shared by a module's tests: exempt from the per-test check, not from the module one.
_SHARED: set[int] = set()


def _survivors(exempt: set[int]) -> list[psutil.Process]:
    me = psutil.Process()
    leftovers = [p for p in me.children(recursive=True) if p.pid not in exempt]
    _, alive = psutil.wait_procs(leftovers, timeout=3)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:
        p.kill()
    return alive


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the free-threaded build go last: .ci/run builds it while the rest run."""
    items.sort(key=lambda item: item.get_closest_marker("free_threaded") is not None)


@pytest.fixture(autouse=True)
def fast_tests_start_no_process(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast loop (`pytest -m "not slow"`) is in-process by definition: a test that starts a
    process (server, worker, CLI, probe, pool) must say so with the `slow` mark."""
    if request.node.get_closest_marker("slow") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it slow")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    monkeypatch.setattr(os, "fork", refuse)


@pytest.fixture(autouse=True, scope="module")
def no_process_survives_a_module() -> Iterator[None]:
    yield
    alive = _survivors(set())
    assert not alive, f"child processes survived the module: {[p.pid for p in alive]}"


@pytest.fixture(autouse=True)
def no_process_survives() -> Iterator[None]:
    """Every test must leave no child process behind (servers, workers, their workers)."""
    yield
    alive = _survivors(_SHARED)
    assert not alive, f"child processes survived the test: {[p.pid for p in alive]}"


@pytest.fixture(scope="module")
def http_server() -> Iterator[ServerHandle]:
    with run_server("http", body_size=256) as server:
        _SHARED.add(server.pid)
        yield server


@pytest.fixture(scope="module")
def https_server() -> Iterator[ServerHandle]:
    """The HTTP server over TLS, with a certificate from the throw-away CA it made at start-up."""
    with run_server("http", body_size=256, tls=True) as server:
        _SHARED.add(server.pid)
        yield server


@pytest.fixture(scope="module")
def echo_server() -> Iterator[ServerHandle]:
    with run_server("echo") as server:
        _SHARED.add(server.pid)
        yield server


@pytest.fixture(scope="module")
def websocket_server() -> Iterator[ServerHandle]:
    with run_server("websocket", extra_args=["--push-rate", "50", "--message-size", "100"]) as s:
        _SHARED.add(s.pid)
        yield s


@pytest.fixture(scope="module")
def h2_server() -> Iterator[ServerHandle]:
    with run_server("h2", body_size=256) as server:
        _SHARED.add(server.pid)
        yield server


@pytest.fixture(scope="module")
def trickling_server() -> Iterator[ServerHandle]:
    """Every body arrives in 16 pieces over 3 s: each piece well within a 0.5 s per-read timeout,
    the whole far past it."""
    args = ["--slow-seconds", "3"]
    with run_server("http", faults=["slow-body:1"], body_size=3000, extra_args=args) as server:
        _SHARED.add(server.pid)
        yield server


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    """anyio's pytest plugin runs each `@pytest.mark.anyio` test on every event loop the async
    models use."""
    backend: tuple[str, dict[str, object]] = request.param
    return backend


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
