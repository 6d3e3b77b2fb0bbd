"""Every model x client x workload, in its own worker process, against the mock servers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import all_cells, run_one, skip_if_missing
from workbench.server_process import ServerHandle

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow

CELLS = all_cells()


def _server(workload: str, request: pytest.FixtureRequest) -> ServerHandle:
    name = "echo_server" if workload == "echo" else "http_server"
    server: ServerHandle = request.getfixturevalue(name)
    return server


@pytest.mark.parametrize("clients", [1, 50])
@pytest.mark.parametrize(("model", "client", "workload"), CELLS, ids=["/".join(c) for c in CELLS])
def test_cell_completes_with_verified_answers(
    model: str, client: str, workload: str, clients: int, request: pytest.FixtureRequest
) -> None:
    skip_if_missing(model, client)
    server = _server(workload, request)
    options: dict[str, Any] = {"body_size": 256} if workload != "echo" else {"message_size": 100}
    row = run_one(model, client, workload, clients, server, **options)
    assert row["errors_by_kind"] == {}
    assert row["ops"] > 0
    # Every answer was verified byte for byte in the worker; bytes moved must add up to that.
    per_op = {"http": 256, "http-upload": 4 + 1024, "echo": 2 * 104}[workload]
    assert row["bytes"] >= row["ops"] * per_op
    assert row["clients"] == (1 if model == "sync" else clients)
    assert row["latency_ms"]["p50"] is not None
    assert row["cpu_s"] > 0
    assert row["peak_rss_mb"] > 5
    ci = row["ops_per_s_ci"]  # every row carries its interval, and it brackets the rate
    assert ci is not None
    assert ci[0] <= row["ops_per_s"] <= ci[1]
