"""The harness around the cells: leaks, results files, trust, errors, the command line."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.conftest import open_fds
from tests.helpers import BAD_INPUT, QUICK, known, run_cli, run_one
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.report.results_file import read_json, write_json
from workbench.report.schema import schema_problems
from workbench.server_process import ServerHandle, run_server

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow


def test_a_cell_leaks_no_fd_thread_or_process(http_server: ServerHandle) -> None:
    run_one("threads", "raw", "http", 20, http_server)  # warm imports and caches first
    fds, threads = open_fds(), threading.active_count()
    for model in ("threads", "uvloop", "processes"):
        run_one(model, "raw", "http", 20, http_server)
    assert open_fds() == fds
    assert threading.active_count() == threads


def test_run_io_document_matches_schema_and_round_trips(tmp_path: Path) -> None:
    settings = IoSettings(
        models=["uvloop", "threads"],
        workloads=["http", "echo"],
        clients=10,
        duration=0.3,
        warmup=0.2,
        repeat=1,
    )
    doc = run_io(settings)
    assert schema_problems(doc) == []
    assert {(r["model"], r["workload"]) for r in doc["results"]} >= {
        ("uvloop", "http"),
        ("threads", "http"),
        ("uvloop", "echo"),
        ("threads", "echo"),
    }
    meta = doc["metadata"]
    assert meta["parent"]["python"]
    row = doc["results"][0]
    assert row["metadata"]["libraries"]["uvloop"]
    assert "allocator_env" in row["metadata"]
    # Each row says what its workload was and how its answers were checked.
    described = {(r["workload"], r["metadata"]["workload"].get("verify")) for r in doc["results"]}
    assert described == {("http", "body"), ("echo", "bytes")}
    assert known(row["server_cpu_s"]) > 0
    path = write_json(tmp_path / "run.json", doc)
    assert read_json(path)["results"] == json.loads(json.dumps(doc["results"]))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_littles_law_share_with_injected_latency() -> None:
    settings = IoSettings(duration=1.0, warmup=0.5, latency=0.02)
    with run_server("http", latency=0.02, body_size=256) as server:
        row = run_one("uvloop", "raw", "http", 50, server, settings, body_size=256)
    assert row["bound_ops_per_s"] == pytest.approx(2500)
    # 50 clients each waiting 20 ms cannot exceed 2500 ops/s, however idle the machine; how close
    # each model comes is a measured figure (bench_network, the sample), not this test's.
    assert 0 < row["bound_share"] <= 1.01
    assert row["bound_share"] == pytest.approx(row["ops_per_s"] / 2500, rel=1e-6)
    assert known(row["latency_ms"]["p50"]) >= 20


def test_window_opens_only_when_every_user_is_warm() -> None:
    # Each first operation takes 0.4 s and there is no warm-up: a window fixed in advance would
    # open before any user had an answer. It must wait for all of them instead.
    settings = IoSettings(duration=0.5, warmup=0.0, timeout=5.0)
    with run_server("http", latency=0.4, body_size=256) as server:
        for model in ("threads", "uvloop", "trio", "anyio-trio", "processes"):
            row = run_one(model, "raw", "http", 30, server, settings, body_size=256)
            assert row["users_warm"] == 30, model
            assert known(row["ramp_s"]) >= 0.4, model
            assert "not-warm" not in row["flags"]


def test_a_cell_that_never_warms_is_flagged_not_hung() -> None:
    settings = IoSettings(duration=0.3, warmup=0.0, warm_limit=0.5, timeout=5.0, grace=0.5)
    with run_server("http", latency=2.0, body_size=256) as server:
        row = run_one("uvloop", "raw", "http", 5, server, settings, body_size=256)
    assert row["ramp_s"] is None
    assert row["users_warm"] == 0
    assert "not-warm" in row["flags"]


def test_work_per_request_bounds_an_event_loop(http_server: ServerHandle) -> None:
    # 1 ms of pure Python per request on one loop thread: about 1,000 requests a second at most,
    # however many clients (without work this loop does tens of thousands). The work is
    # calibrated in the worker, so on a busy machine it comes out short (734 µs in one CI run
    # beside a compiler): the bounds here hold whatever the load. The work shows in the CPU per
    # request (tens of µs without it), and one loop thread spends at most one core on it.
    settings = IoSettings(duration=1.0, warmup=0.3, work="python:1ms")
    row = run_one("uvloop", "raw", "http", 20, http_server, settings)
    cpu = known(row["cpu_us_per_op"])
    assert row["ops_per_s"] > 0
    assert cpu >= 200
    assert row["ops_per_s"] * cpu / 1e6 <= 1.1  # cores: the one loop thread's, at most
    assert row["errors"] == 0


def test_server_and_client_cpu_are_counted_separately(http_server: ServerHandle) -> None:
    row = run_one("uvloop", "raw", "http", 20, http_server)
    assert known(row["server_cpu_s"]) > 0
    assert row["cpu_s"] > 0
    assert row["cpu_us_per_op"] == pytest.approx(row["cpu_s"] / row["ops"] * 1e6, rel=0.01)


def test_errors_are_counted_by_kind() -> None:
    with run_server("http", faults=["500:0.2", "reset:0.1"], body_size=256) as server:
        row = run_one("uvloop", "raw", "http", 10, server, body_size=256)
    assert row["errors_by_kind"].get("status-500", 0) > 0
    assert row["errors_by_kind"].get("reset", 0) + row["errors_by_kind"].get("eof", 0) > 0
    assert "errors" in row["flags"]


def test_stalls_become_timeouts_within_the_window() -> None:
    settings = IoSettings(duration=1.0, warmup=0.2, timeout=0.3, grace=1.0)
    with run_server("http", faults=["stall:0.05"], body_size=256) as server:
        for model in ("uvloop", "threads", "trio", "anyio-asyncio"):
            row = run_one(model, "raw", "http", 10, server, settings, body_size=256)
            assert row["errors_by_kind"].get("timeout", 0) > 0, model
            assert row["ops"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        *BAD_INPUT,
        # These need a process of their own, or pass only through the real command line.
        (["io", "--clients", "-5"], "--clients must be greater than 0"),
        (["io", "--duration", "0"], "--duration must be greater than 0"),
        (["io", "--rate", "fast"], "is not a rate"),
        (["io", "--python", "/bin/true"], "is not a usable Python interpreter"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    short = ["--duration" if "--duration" not in args else "--warmup", "0.1"]  # if it did run
    proc = run_cli(*args, *(short if args[0] in ("io", "disk") else []))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.startswith("workbench ")
    assert "io" in run_cli("--help").stdout
    listing = run_cli("list").stdout
    assert "processes-uvloop" in listing
    assert "http.client" in listing


def test_io_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli(
        "io",
        "--clients",
        "20",
        "--models",
        "uvloop,sync",
        "--duration",
        "0.3",
        "--warmup",
        "0.2",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "uvloop" in proc.stdout
    assert "ops/s" in proc.stdout
    doc = read_json(out)
    assert schema_problems(doc) == []
    assert {r["model"] for r in doc["results"]} == {"uvloop", "sync"}
    for row in doc["results"]:  # the command's 3 rounds: an interval between them on every row
        assert len(row["repeats"]["ops_per_s"]) == 3
        ci = row["ops_per_s_ci"]
        assert ci is not None
        assert ci[0] <= row["ops_per_s"] <= ci[1]
    assert "rank" in proc.stdout
    assert QUICK.duration < 1


def test_open_loop_sees_the_stalls_a_closed_loop_hides() -> None:
    """Coordinated omission: 0.5% of answers stall 200 ms. A closed loop at full speed puts those
    in its top 0.5% and its p99 stays tiny; an open loop at a lower, fixed rate measures from each
    request's intended send time, so the requests queued behind a stall are late too."""
    faults = {"faults": ["stall:0.005"], "extra_args": ["--stall-seconds", "0.2"]}
    with run_server("http", body_size=256, **faults) as server:  # type: ignore[arg-type]
        closed = run_one("uvloop", "raw", "http", 4, server, IoSettings(duration=2, warmup=0.3))
        rate = 0.7 * closed["ops_per_s"]
        opened = run_one(
            "uvloop", "raw", "http", 4, server, IoSettings(duration=2, warmup=0.3, rate=rate)
        )
    # Bounded by the injected stall, not by how fast this machine is today: in the closed loop
    # only the stalled 0.5% wait 200 ms, so its p99 stays under the stall; in the open loop the
    # requests due behind a stall wait too, so its p99 reaches into it.
    assert known(closed["latency_ms"]["p999"]) >= 150  # the stalls happened in both runs
    assert known(closed["latency_ms"]["p99"]) < 150
    assert known(opened["latency_ms"]["p99"]) >= 100
    assert opened["rate_target"] == pytest.approx(rate)
    assert opened["rate_share"] > 0
    assert ("rate-missed" in opened["flags"]) == (opened["rate_share"] < 0.95)


def test_url_is_resolved_once_and_its_address_used_by_every_client(
    http_server: ServerHandle,
) -> None:
    """`--url http://localhost:PORT/`: the parent resolves and checks the name, and every worker
    connects to that address (the raw client and the libraries alike) with the name as Host."""
    settings = IoSettings(
        models=["threads", "asyncio"],
        libs=["raw", "http.client", "urllib3", "aiohttp", "httpx"],
        clients=4,
        duration=0.3,
        warmup=0.2,
        repeat=1,
        url=f"http://localhost:{http_server.port}/",
    )
    doc = run_io(settings)
    assert doc["metadata"]["servers"]["http"]["url"] == f"http://localhost:{http_server.port}/"
    assert len(doc["results"]) == 7
    for row in doc["results"]:
        target = row["metadata"]["workload"]["target"]
        assert (target["host"], target["address"]) == ("localhost", "127.0.0.1"), row["client"]
        assert row["errors"] == 0, (row["client"], row["errors_by_kind"])
        assert row["ops"] > 0
