"""WebSocket cells: the sans-I/O session against wsproto's own server side, the listeners' checks,
and every model's clients against the real mock server (servers/websocket.py)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.helpers import run_cli
from workbench.harness.runner import run_io
from workbench.harness.settings import IoSettings
from workbench.protocol.http import ConnectionClosed
from workbench.protocol.websocket import HandshakeError, WsSession
from workbench.server_process import run_server
from workbench.workloads.base import Target, WorkloadError
from workbench.workloads.websocket import PUSH_HEAD, WsEcho, WsPush

TARGET = Target("ws", "127.0.0.1", 9, "/")


def _server_side(opening: bytes) -> tuple[object, bytes]:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request

    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(opening)
    events = list(server.events())
    assert isinstance(events[0], Request)
    return server, server.send(AcceptConnection())


def test_a_session_opens_and_reads_whole_messages_split_anywhere() -> None:
    from wsproto.events import BytesMessage, Ping

    session = WsSession("127.0.0.1", "/echo")
    server, accept = _server_side(session.opening)
    session.feed(accept)
    assert session.open
    frames = server.send(BytesMessage(data=b"x" * 300)) + server.send(Ping(b"hi"))  # type: ignore[attr-defined]
    for i in range(0, len(frames), 7):  # a byte stream cut at every seventh byte
        session.feed(frames[i : i + 7])
    assert list(session.messages) == [b"x" * 300]
    assert session.take_outgoing()  # the pong owed for the ping
    assert session.send(b"abc")  # a masked client frame


def test_a_server_that_does_not_upgrade_is_named() -> None:
    session = WsSession("127.0.0.1", "/")
    with pytest.raises(HandshakeError) as err:
        session.feed(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    assert err.value.kind == "not-upgraded"
    with pytest.raises(ConnectionClosed):
        WsSession("127.0.0.1", "/").feed(b"")


def test_echo_answers_are_checked() -> None:
    w = WsEcho(TARGET, 32)
    assert w.path == "/echo"
    assert w.check(w.message) == 64
    for bad, kind in ((w.message[:-1] + b"?", "corrupt-echo"), (w.message + b"!", "long-echo"),
                      ("text", "text-echo")):  # fmt: skip
        with pytest.raises(WorkloadError) as err:
            w.check(bad)
        assert err.value.kind == kind


def _push(seq: int, size: int = 32, sent_ns: int = 1_000) -> bytes:
    return PUSH_HEAD.pack(seq, sent_ns) + b"p" * (size - PUSH_HEAD.size)


def test_a_listener_counts_in_order_and_names_a_gap() -> None:
    w = WsPush(TARGET, 32)
    w.watch_window(lambda: True)
    one = w.listener()
    assert one.received(_push(7), now_ns=3_000) == 32  # a new connection starts anywhere
    assert one.received(_push(8), now_ns=5_000) == 32
    with pytest.raises(WorkloadError) as err:
        one.received(_push(10))
    assert err.value.kind == "lost-push"
    with pytest.raises(WorkloadError) as err:
        one.received(_push(9))
    assert err.value.kind == "out-of-order"
    with pytest.raises(WorkloadError) as err:
        one.received(_push(11, size=40))
    assert err.value.kind == "bad-push"
    one.reset()
    assert one.received(_push(100)) == 32
    extras, _ = w.finish()
    assert extras["listener_median_us"]  # 2 us and 4 us delivered in the window
    assert struct.calcsize(">QQ") == PUSH_HEAD.size


@pytest.mark.slow
@pytest.mark.parametrize("workload", ["ws-echo", "ws-push"])
def test_every_model_echoes_and_listens_without_a_loss(workload: str) -> None:
    settings = IoSettings(
        models=["sync", "threads", "processes", "asyncio", "uvloop", "trio", "anyio-asyncio"],
        workloads=[workload],
        clients=8,
        duration=0.6,
        warmup=0.3,
        repeat=1,
        push_rate=50.0,
    )
    doc = run_io(settings)
    rows = doc["results"]
    got = {(r["model"], r["client"]) for r in rows}
    assert ("trio", "wsproto") in got
    assert ("threads", "websockets") in got
    assert ("asyncio", "websockets") in got
    assert ("asyncio", "aiohttp-ws") in got
    assert ("trio", "trio-websocket") in got
    for r in rows:
        assert r["errors"] == 0, (r["model"], r["client"], r["errors_by_kind"])
        assert r["ops"] > 0, (r["model"], r["client"])
        if workload == "ws-push":
            assert r.get("delivered", 0) > 0
            delivery = r.get("delivery_ms")
            assert delivery is not None
            assert delivery["p50"] is not None


@pytest.mark.slow
def test_a_url_that_does_not_upgrade_is_one_line(tmp_path: Path) -> None:
    with run_server("http") as http:
        proc = run_cli(
            "io", "--url", f"ws://127.0.0.1:{http.port}/", "--workloads", "ws-echo",
            "--models", "asyncio", "--duration", "0.3", "--repeat", "1",
            "--json", str(tmp_path / "r.json"),
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "did not upgrade to a WebSocket" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_reset_fault_on_echoes_is_counted_and_named_alike_by_every_client() -> None:
    """The server resetting connections is a `reset` whichever client met it: each library
    reports it its own way (trio's BrokenResourceError, trio-websocket's close code 1006,
    aiohttp's error message), and a row that named it otherwise would not compare."""
    settings = IoSettings(
        models=["asyncio", "threads", "trio"],
        libs=["wsproto", "websockets", "aiohttp-ws", "trio-websocket"],
        workloads=["ws-echo"],
        clients=8,
        duration=0.5,
        warmup=0.3,
        repeat=1,
        faults=["reset:0.02"],
    )
    rows = run_io(settings)["results"]
    got = {(r["model"], r["client"]) for r in rows}
    assert got >= {("asyncio", "wsproto"), ("threads", "wsproto"), ("trio", "wsproto")}
    assert got >= {("asyncio", "aiohttp-ws"), ("trio", "trio-websocket")}
    for r in rows:
        assert r["errors"] > 0, (r["model"], r["client"], r["errors_by_kind"])
        assert set(r["errors_by_kind"]) == {"reset"}, (r["model"], r["client"])
        assert r["ops"] > 0
