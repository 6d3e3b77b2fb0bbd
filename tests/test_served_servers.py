"""The servers themselves: every configuration serves every scenario it can in a real process
under real load (short windows: behaviour, not speed), failures count as errors, bad input is one
line, and nothing is left running afterwards."""

from __future__ import annotations

import json
import signal
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import run_cli
from tests.test_reliability import _descendants, _finish, _start, _wait_for_child
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.served import configs
from workbench.served.apps import ASYNC_ONLY, SCENARIOS

pytestmark = pytest.mark.slow


def _settings(**overrides: Any) -> IoSettings:
    base: dict[str, Any] = {
        "models": ["uvloop"], "libs": ["raw"], "clients": 20, "duration": 0.3, "warmup": 0.1,
        "repeat": 1, "downstream_latency": 0.01, "served_work": "python:50us",
        "server_threads": 4, "workloads": ["served-hello"],
    }  # fmt: skip
    base.update(overrides)
    return IoSettings(**base)


def _no_server_left(before: set[int]) -> None:
    names = ("uvicorn", "hypercorn", "granian", "gunicorn", "waitress", "servers.http")
    left = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.pid not in before and any(n in " ".join(p.cmdline()) for n in names):
                left.append(p)
        except psutil.NoSuchProcess:
            continue
    assert not left, [p.cmdline() for p in left]


@pytest.mark.parametrize("name", list(configs.CONFIGS))
def test_every_configuration_serves_every_scenario_it_can(name: str) -> None:
    config = configs.CONFIGS[name]
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    scenarios = [s for s in SCENARIOS if config.interface == "asgi" or s not in ASYNC_ONLY]
    doc = run_io(_settings(served=[name], workloads=[f"served-{s}" for s in scenarios]))
    assert doc["stopped"] is None
    rows = {r["served"]["scenario"]: r for r in doc["results"]}
    assert sorted(rows) == sorted(scenarios)
    for scenario, row in rows.items():
        assert row["model"] == name
        assert row["ops"] > 0, scenario
        assert row["errors"] == 0, (scenario, row["errors_by_kind"])
        assert row["server_cpu_us_per_req"] > 0
        assert row["server_peak_rss_mb"] > 5  # an interpreter, at least
        assert row["server_threads"] >= 1
        assert row["served"]["version"] == doc["metadata"]["served"]["servers"][name]
        if scenario == "hello":
            assert "bound_ops_per_s" not in row
        else:
            assert row["bound_ops_per_s"] > 0
            # Nothing answers faster than the downstream waits: no row passes its bound.
            assert row["bound_share"] <= 1.05
    if config.interface == "asgi":
        assert rows["blocking"]["loop_lag"] is not None  # the probe saw the loop stall
        assert rows["blocking"]["bound_by"] == "one blocked loop per worker"
    _no_server_left(before)


def test_an_app_that_fails_one_request_in_ten_shows_errors_not_throughput() -> None:
    doc = run_io(_settings(served=["uvicorn-asyncio", "waitress"], fail_every=10, duration=0.5))
    for row in doc["results"]:
        assert set(row["errors_by_kind"]) == {"status-500"}
        answered, failed = row["ops"], row["errors"]
        # One in ten raised: per answered request, about a ninth of one failed.
        assert 0.08 < failed / answered < 0.14, (answered, failed)
        assert "errors" in row["flags"]


def test_a_server_that_fails_to_start_says_why_in_one_line(tmp_path: Path) -> None:
    app = tmp_path / "brokenapp.py"
    app.write_text(
        textwrap.dedent(
            """
            import os
            if os.environ.get("WORKBENCH_SCENARIO"):  # under a server, not in the parent's check
                raise RuntimeError("DATABASE_URL is not set")
            async def app(scope, receive, send):
                pass
            """
        )
    )
    proc = run_cli(
        "servers", "--servers", "uvicorn-asyncio", "--app", "brokenapp:app", "--repeat", "1",
        "--quiet", cwd=tmp_path, timeout=120, env=_env_with(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "uvicorn-asyncio did not start" in proc.stderr
    assert "DATABASE_URL is not set" in proc.stderr
    assert "Traceback" not in proc.stderr


def _env_with(path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), *sys.path])}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--servers", "nginx"], "unknown server 'nginx'"),
        (["--scenario", "sleep"], "unknown scenario 'sleep'"),
        (["--app", "no_such_module:app"], "cannot import it (ModuleNotFoundError"),
        (["--app", "json"], "is not MODULE:CALLABLE"),
        (["--workers", "0"], "--workers"),
        (["--work", "zlib:1ms"], "python:DURATION"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], said: str) -> None:
    proc = run_cli("servers", *args, "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert said in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_refused_before_anything_starts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = run_cli("servers", "--port", str(port), "--quiet")
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr


def test_ctrl_c_leaves_no_server_or_worker_behind(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    proc = _start(
        ["servers", "--servers", "gunicorn-gthread,uvicorn-asyncio", "--duration", "2",
         "--quiet", "--json", str(out)]
    )  # fmt: skip
    _wait_for_child(proc.pid, "workbench.harness.worker")
    seen = _descendants(proc.pid)
    assert any("gunicorn" in " ".join(p.cmdline()) for p in seen)
    proc.send_signal(signal.SIGINT)
    err = _finish(proc, seen, within=5.0)
    assert proc.returncode == 130, err
    doc = json.loads(out.read_text())
    assert doc["partial"] is True


@pytest.mark.parametrize("template", ["asgi_service", "wsgi_service"])
def test_the_service_templates_run_under_their_servers(template: str, tmp_path: Path) -> None:
    copy = tmp_path / f"{template}.py"
    assert run_cli("template", template, "--out", str(copy)).returncode == 0
    servers = "uvicorn-asyncio,granian" if template == "asgi_service" else "waitress,granian"
    out = tmp_path / "run.json"
    proc = run_cli(
        "servers", "--app", f"{template}:app", "--servers", servers, "--repeat", "1",
        "--duration", "0.3", "--quiet", "--json", str(out), cwd=tmp_path, timeout=120,
        env=_env_with(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["results"]
    interface = "asgi" if template == "asgi_service" else "wsgi"
    # Only the servers of its interface ran it: granian's other interface is left out.
    assert {r["served"]["interface"] for r in rows} == {interface}
    assert len(rows) == 2
    for row in rows:
        assert row["client"] == f"{template}:app"
        assert row["errors"] == 0
        assert row["ops"] > 0
