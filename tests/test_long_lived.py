"""Connections that stay open: idle fleets with their memory and CPU per connection, and HTTP/2's
streams on few connections beside HTTP/1.1 keep-alive, against the real mock servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli
from workbench.harness.long_lived import idle_figures, push_figures
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.metrics import Recording, hdr_bucket
from workbench.server_process import run_server


def test_idle_figures_are_per_connection() -> None:
    rec = Recording(peak_rss_kb=30_000, baseline_rss_kb=20_000, cpu_user_s=0.3, cpu_sys_s=0.1)
    got = idle_figures(0.4, rec, window_s=2.0, clients=1000)
    assert got["memory_per_connection_kib"] == pytest.approx(10.0)
    assert got["cpu_us_per_connection_s"] == pytest.approx(200.0)  # 0.4 s / 2 s / 1000


def test_push_figures_merge_processes_and_name_the_slowest_listener() -> None:
    one = {"delivery_counts": [(hdr_bucket(100), 10)], "listener_median_us": [100, 120]}
    two = {"delivery_counts": [(hdr_bucket(900), 10)], "listener_median_us": [900]}
    got = push_figures([one, two])
    assert got["delivered"] == 20
    assert got["slowest_listener_ms"] == pytest.approx(0.9)
    assert got["listeners_measured"] == 3


@pytest.mark.slow
def test_idle_connections_report_their_cost_on_every_model() -> None:
    settings = IoSettings(
        models=["threads", "asyncio", "uvloop", "trio"],
        workloads=["idle"],
        clients=300,
        heartbeat=0.25,
        duration=0.6,
        warmup=0.3,
        repeat=1,
        thread_stack=512 * 1024,
    )
    rows = run_io(settings)["results"]
    assert {r["model"] for r in rows} == {"threads", "asyncio", "uvloop", "trio"}
    for r in rows:
        assert r["errors"] == 0, (r["model"], r["errors_by_kind"])
        assert r["ops"] > 0  # heartbeats answered
        memory = r.get("memory_per_connection_kib")
        assert memory is not None
        assert memory > 0, r["model"]
        assert r.get("cpu_us_per_connection_s") is not None
    threads = next(r for r in rows if r["model"] == "threads")
    assert threads.get("thread_stack") == 512 * 1024


@pytest.mark.slow
def test_h2_streams_beside_http_keep_alive() -> None:
    settings = IoSettings(
        models=["asyncio", "trio", "threads"],
        workloads=["h2", "http"],
        clients=50,
        duration=0.5,
        warmup=0.3,
        repeat=1,
    )
    rows = run_io(settings)["results"]
    h2 = [r for r in rows if r["workload"] == "h2"]
    # None on threads: httpx's sync HTTP/2 is not safe to share between them (workbench.clients).
    assert {(r["model"], r["client"]) for r in h2} == {
        ("asyncio", "httpx-h2"),
        ("trio", "httpx-h2"),
    }
    assert any(r["workload"] == "http" for r in rows)
    for r in rows:
        assert r["errors"] == 0, (r["model"], r["client"], r["workload"], r["errors_by_kind"])
        assert r["ops"] > 0


@pytest.mark.slow
def test_a_server_that_is_not_http2_is_one_line(tmp_path: Path) -> None:
    with run_server("http") as http:
        proc = run_cli(
            "io", "--url", f"http://127.0.0.1:{http.port}/", "--workloads", "h2",
            "--models", "asyncio", "--duration", "0.3", "--repeat", "1",
            "--json", str(tmp_path / "r.json"),
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "HTTP/2 preface" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_raw_blocking_user_can_connect_before_its_first_heartbeat() -> None:
    """`open()` connects ahead (a thread per connection connects as its gate opens, not in its
    first heartbeat); a refused connect is not raised there but met again, and counted, by the
    first operation."""
    import socket

    from workbench.clients.base import ClientContext
    from workbench.clients.raw_blocking import RawSocketClient
    from workbench.workloads.base import Target
    from workbench.workloads.echo import IdleWorkload

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        conn = RawSocketClient(
            ClientContext(IdleWorkload(Target("tcp", "127.0.0.1", port), 16), 1, 1.0)
        ).connection()
        conn.open()
        peer, _ = listener.accept()
        peer.close()
        conn.close()
    refused = RawSocketClient(
        ClientContext(IdleWorkload(Target("tcp", "127.0.0.1", port), 16), 1, 1.0)
    ).connection()
    refused.open()
    with pytest.raises(ConnectionRefusedError):
        refused.op()
