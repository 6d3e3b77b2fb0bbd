"""The served side in-process: the apps as ASGI and WSGI callables, the configurations and their
command lines, Little's-law bounds, and the flags a served row can carry. The servers themselves
run in tests/test_served_servers.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from workbench.errors import UsageError
from workbench.harness.served_cells import concurrency_limit, littles_bound
from workbench.harness.settings import IoSettings
from workbench.harness.trust import flags_for
from workbench.served import apps, configs
from workbench.testing import fake_interpreter, make_row


def _asgi_get(app_service: apps.Service, path: str = "/") -> tuple[int, bytes]:
    """One GET through the plain ASGI callable, with `app_service` as its service."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    old = apps.ASYNC.service
    apps.ASYNC.service = app_service
    try:
        scope = {"type": "http", "path": path, "method": "GET", "headers": []}
        asyncio.run(apps.asgi(scope, receive, send))
    finally:
        apps.ASYNC.service = old
    start, body = sent
    headers = dict(start["headers"])
    assert int(headers[b"content-length"]) == len(body["body"])
    return start["status"], body["body"]


def test_hello_answers_its_json_on_asgi_and_wsgi() -> None:
    status, body = _asgi_get(apps.Service({"WORKBENCH_SCENARIO": "hello"}))
    assert (status, json.loads(body)) == (200, {"message": "hello, world"})
    started: list[str] = []
    (wsgi_body,) = apps.wsgi({"PATH_INFO": "/"}, lambda s, h: started.append(s))
    assert started == ["200 OK"]
    assert wsgi_body == body


def test_the_info_path_says_which_interpreter_and_gil() -> None:
    status, body = _asgi_get(apps.Service({"WORKBENCH_SCENARIO": "hello"}), apps.INFO_PATH)
    facts = json.loads(body)
    assert status == 200
    assert facts["executable"]
    assert facts["python"].count(".") == 2
    assert facts["gil_enabled"] in (None, True, False)


def test_fail_every_raises_on_exactly_every_nth_request() -> None:
    service = apps.Service({"WORKBENCH_SCENARIO": "hello", "WORKBENCH_FAIL_EVERY": "10"})
    outcomes = []
    for _ in range(30):
        try:
            service.sync_body()
            outcomes.append("ok")
        except RuntimeError:
            outcomes.append("raised")
    assert outcomes.count("raised") == 3
    assert [i for i, o in enumerate(outcomes) if o == "raised"] == [9, 19, 29]


def test_a_scenario_is_checked_when_the_app_loads() -> None:
    with pytest.raises(ValueError, match="WORKBENCH_SCENARIO"):
        apps.Service({"WORKBENCH_SCENARIO": "sleep"})
    with pytest.raises(ValueError, match="needs WORKBENCH_DOWNSTREAM"):
        apps.Service({"WORKBENCH_SCENARIO": "downstream"})


def test_work_is_calibrated_under_the_servers_interpreter() -> None:
    service = apps.Service(
        {
            "WORKBENCH_SCENARIO": "work",
            "WORKBENCH_DOWNSTREAM": "http://x/",
            "WORKBENCH_WORK_US": "200",
        }
    )
    assert service.work_n > 0
    hello = apps.Service({"WORKBENCH_SCENARIO": "hello", "WORKBENCH_WORK_US": "200"})
    assert hello.work_n == 0  # work belongs to the work scenario only


def test_a_server_name_selects_all_its_configurations() -> None:
    names = [c.name for c in configs.select("gunicorn")]
    assert names == [n for n in configs.CONFIGS if n.startswith("gunicorn-")]
    assert [c.name for c in configs.select("waitress,uvicorn-uvloop")] == [
        "waitress",
        "uvicorn-uvloop",
    ]
    assert len(configs.select("all")) == len(configs.CONFIGS)
    with pytest.raises(UsageError, match="unknown server 'nginx'"):
        configs.select("nginx")


@pytest.mark.parametrize("name", list(configs.CONFIGS))
def test_each_configuration_is_started_as_its_users_start_it(name: str) -> None:
    config = configs.CONFIGS[name]
    cmd = config.command("/py", "m:app", "127.0.0.1", 8001, workers=2, threads=16)
    assert cmd[:3] == ["/py", "-m", config.server]
    assert "m:app" in cmd
    text = " ".join(cmd)
    assert "8001" in text
    assert "127.0.0.1" in text
    if config.server != "waitress":  # one process, its threads: it has no workers
        assert "2" in cmd
    if config.server == "waitress":
        assert config.concurrency(16, 2) == 16
    elif config.family == "threads" and name != "gunicorn-sync":
        assert "16" in cmd
        assert config.concurrency(16, 2) == 32
    elif name == "gunicorn-sync":
        assert config.concurrency(16, 2) == 2
    else:
        assert config.concurrency(16, 2) is None


def test_littles_law_bounds_each_row_by_its_concurrency() -> None:
    s = IoSettings(server_threads=8, server_workers=2, downstream_latency=0.02)
    gthread = configs.CONFIGS["gunicorn-gthread"]
    limit, by = concurrency_limit(gthread, "downstream", s)
    assert (limit, by) == (16, "threads x workers")
    assert littles_bound(200, limit, by, 0.02) == (800.0, "threads x workers")
    assert littles_bound(10, limit, by, 0.02) == (500.0, "clients")  # fewer clients than threads
    uvicorn = configs.CONFIGS["uvicorn-uvloop"]
    assert littles_bound(200, *concurrency_limit(uvicorn, "downstream", s), 0.02) == (
        10_000.0,
        "clients",
    )
    assert concurrency_limit(uvicorn, "blocking", s)[0] == 2  # one blocked loop per worker
    assert concurrency_limit(uvicorn, "offloaded", s)[0] == 80  # anyio's 40 threads each


def _served_row(**overrides: Any) -> Any:
    served = {"server": "uvicorn", "family": "async", "scenario": "downstream"}
    return make_row(served=served, **overrides)


def test_a_served_row_is_the_servers_so_a_busy_server_is_not_a_flaw() -> None:
    row = _served_row(server_cpu_util=0.99, client_cpu_util=0.2)
    assert "server-bound" not in flags_for(row, 1)
    # ... but under its bound with the CPU gone, the CPU set its rate, and it says so.
    row = _served_row(server_cpu_util=0.99, bound_share=0.5, client_cpu_util=0.2)
    assert "server-cpu" in flags_for(row, 1)
    assert "server-cpu" not in flags_for(_served_row(server_cpu_util=0.5, bound_share=0.5), 1)


def test_load_bound_counts_the_downstream_beside_the_load() -> None:
    row = _served_row(client_cpu_util=0.6, downstream_cpu_util=0.35, server_cpu_util=0.5)
    assert "load-bound" in flags_for(row, 1)
    row = _served_row(client_cpu_util=0.6, downstream_cpu_util=0.1, server_cpu_util=0.5)
    assert "load-bound" not in flags_for(row, 1)
    assert "client-bound" not in flags_for(_served_row(client_cpu_util=0.95), 1)


def test_loop_blocked_only_where_the_loop_waited_rather_than_worked() -> None:
    lag = {"delay_ms": 5.0, "p50_ms": 400.0, "p99_ms": 900.0}
    assert "loop-blocked" in flags_for(_served_row(loop_lag=lag, server_cpu_util=0.2), 1)
    assert "loop-blocked" not in flags_for(_served_row(loop_lag=lag, server_cpu_util=0.97), 1)


def test_servers_that_switch_the_gil_back_on_are_refused_on_a_gil_off_build() -> None:
    from workbench.harness.cell import Cell
    from workbench.harness.served_cells import ServedCells

    kind = ServedCells()
    ft = fake_interpreter("3.13.5", free_threaded=True, gil_at_start=False)
    uvloop = Cell("uvloop", "raw", "served-hello", server="uvicorn-uvloop")
    reason = kind.refusal(uvloop, ft)
    assert reason is not None
    assert "uvloop, httptools" in reason
    assert kind.refusal(Cell("uvloop", "raw", "served-hello", server="granian-wsgi"), ft) is None
    assert kind.refusal(uvloop, fake_interpreter("3.11.7")) is None


def test_a_wsgi_server_has_no_loop_to_block() -> None:
    from workbench.harness.served_cells import ServedCells

    s = IoSettings(served=["uvicorn-asyncio", "waitress"])
    planned = ServedCells().plan(s, "served-blocking")
    assert [c.server for c in planned] == ["uvicorn-asyncio"]
    assert len(ServedCells().plan(s, "served-hello")) == 2
