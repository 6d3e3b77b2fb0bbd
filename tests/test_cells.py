"""Every model x client x workload, in its own worker process, against the mock servers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.helpers import QUICK, all_cells, run_one, skip_if_missing
from workbench.models import model_class
from workbench.server_process import ServerHandle

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow

# One family's client code is the same under each of its models, and the TLS layer of a client is
# the same code on keep-alive and on new connections. So `http` runs every fitting (model,
# client); uploads and TLS run every model with raw and each library on one model of its family;
# handshakes, the raw client of each family; one user, raw on every model.
FAMILY_MODEL = {"blocking": "threads", "asyncio": "asyncio", "trio": "trio", "anyio": "anyio-trio"}


def _checked(model: str, client: str, workload: str) -> bool:
    own_model = FAMILY_MODEL[model_class(model).family] == model
    if workload.startswith("ws-"):  # wsproto on every model, the libraries on one per family
        return client == "wsproto" or own_model
    if workload == "h2":  # one client, the same code on every model of a family
        return own_model
    if workload in ("https", "http-upload"):
        return client == "raw" or FAMILY_MODEL[model_class(model).family] == model
    if workload == "https-handshake":
        return client == "raw" and FAMILY_MODEL[model_class(model).family] == model
    return True


CELLS = [
    (*cell, n)
    for cell in all_cells()
    if _checked(*cell)
    for n in ([1, 50] if cell[1] == "raw" and cell[2] == "http" else [50])
]
SERVERS = {
    "echo": "echo_server",
    "idle": "echo_server",
    "https": "https_server",
    "https-handshake": "https_server",
    "ws-echo": "websocket_server",
    "ws-push": "websocket_server",
    "h2": "h2_server",
}
# Bytes one verified operation moves at least (the rest: the 256-byte bodies of the HTTP ones).
PER_OP = {"http-upload": 4 + 1024, "echo": 2 * 104, "idle": 2 * 104, "ws-echo": 2 * 100}
PER_OP["ws-push"] = 100


def _server(workload: str, request: pytest.FixtureRequest) -> ServerHandle:
    server: ServerHandle = request.getfixturevalue(SERVERS.get(workload, "http_server"))
    return server


@pytest.mark.parametrize(
    ("model", "client", "workload", "clients"),
    CELLS,
    ids=["/".join(map(str, c)) for c in CELLS],
)
def test_cell_completes_with_verified_answers(
    model: str, client: str, workload: str, clients: int, request: pytest.FixtureRequest
) -> None:
    skip_if_missing(model, client)
    server = _server(workload, request)
    echoes = workload in ("echo", "idle") or workload.startswith("ws-")
    options: dict[str, Any] = {"message_size": 100} if echoes else {"body_size": 256}
    # idle: a heartbeat every 50 ms, so that a short window sees some.
    settings = replace(QUICK, heartbeat=0.05) if workload == "idle" else QUICK
    row = run_one(model, client, workload, clients, server, settings, **options)
    assert row["errors_by_kind"] == {}
    assert row["ops"] > 0
    # Every answer was verified byte for byte in the worker; bytes moved must add up to that.
    per_op = PER_OP.get(workload, 256)
    assert row["bytes"] >= row["ops"] * per_op
    assert row["clients"] == (1 if model == "sync" else clients)
    assert row["latency_ms"]["p50"] is not None
    assert row["cpu_s"] > 0
    assert row["peak_rss_mb"] > 5
    # One round: no interval between runs (that takes rounds: tests/test_plan.py), but the
    # round's own window interval is there, and it brackets the rate.
    assert row["ops_per_s_ci"] is None
    ci = row.get("window_ci")
    assert ci is not None
    assert ci[0] - 0.01 <= row["ops_per_s"] <= ci[1] + 0.01
