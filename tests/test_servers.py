"""The mock servers as real processes, observed by real clients."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servers.payload import body_bytes
from tests.helpers import run_cli
from workbench.errors import UsageError
from workbench.server_process import ServerHandle, run_server

# Every test here starts real processes (servers, workers, the CLI): the full suite only.
pytestmark = pytest.mark.slow


def recv_until_closed(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def test_http_server_binds_loopback_and_says_ready(http_server: ServerHandle) -> None:
    assert http_server.url.startswith("http://127.0.0.1:")
    assert http_server.host == "127.0.0.1"
    assert {c.laddr.ip for c in http_server.process.net_connections("tcp")} == {"127.0.0.1"}


def test_keep_alive_reuses_one_connection(http_server: ServerHandle) -> None:
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=5)
    try:
        for _ in range(5):
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.read() == body_bytes(256)
            assert not resp.will_close
        conn.request("GET", "/bytes/1000")
        assert conn.getresponse().read() == body_bytes(1000)
        conn.request("POST", "/", body=b"x" * 1234)
        assert conn.getresponse().read() == b"1234"
        conn.request("HEAD", "/")
        head = conn.getresponse()
        assert head.getheader("Content-Length") == "256"
        assert head.read() == b""
    finally:
        conn.close()


def test_pipelined_requests_get_ordered_responses(http_server: ServerHandle) -> None:
    reqs = (
        b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in (10, 2000, 5))
        + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((http_server.host, http_server.port), timeout=5) as s:
        s.sendall(reqs)
        data = recv_until_closed(s)
    bodies = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        bodies.append(rest[:length])
        data = rest[length:]
    assert bodies == [body_bytes(10), body_bytes(2000), body_bytes(5), body_bytes(256)]


def test_repeated_whole_reads_answer_like_the_parser(http_server: ServerHandle) -> None:
    """The server answers a read it has seen before from a cache; partial and pipelined reads of
    the same bytes must still get exactly the parser's answers."""
    req = b"GET /bytes/77 HTTP/1.1\r\nHost: x\r\n\r\n"
    one = b"HTTP/1.1 200 OK\r\nContent-Length: 77\r\n"
    with socket.create_connection((http_server.host, http_server.port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for split in (None, None, 10, None, len(req) - 1):
            if split is None:
                s.sendall(req)
            else:  # the tail of a request alone must not be mistaken for a whole one
                s.sendall(req[:split])
                time.sleep(0.05)
                s.sendall(req[split:])
            data = b""
            while not data.endswith(body_bytes(77)):
                data += s.recv(65536)
            assert data.startswith(one)
        s.sendall(req * 3)
        data = b""
        while data.count(body_bytes(77)) < 3:
            data += s.recv(65536)
        assert data.count(one) == 3


@pytest.mark.parametrize(
    "request_bytes",
    [b"BLAH\r\n\r\n", b"GET / HTTP/1.1\r\nbad header\r\n\r\n", b"\x00\xff\r\n\r\n"],
)
def test_malformed_request_gets_400_and_close(
    http_server: ServerHandle, request_bytes: bytes
) -> None:
    with socket.create_connection((http_server.host, http_server.port), timeout=5) as s:
        s.sendall(request_bytes)
        data = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in data
    assert http_server.alive()


def test_latency_delays_each_response() -> None:
    with run_server("http", latency=0.1) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        t0 = time.monotonic()
        for _ in range(3):
            conn.request("GET", "/")
            conn.getresponse().read()
        elapsed = time.monotonic() - t0
        conn.close()
    assert elapsed >= 0.3


def _get(server: ServerHandle, timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_fault_500_is_seen_by_the_client() -> None:
    with run_server("http", faults=["500:1"]) as server:
        assert _get(server)[0] == 500


def test_fault_reset_is_seen_by_the_client() -> None:
    with run_server("http", faults=["reset:1"]) as server, pytest.raises(ConnectionResetError):
        _get(server)


def test_fault_stall_is_seen_as_a_timeout() -> None:
    with run_server("http", faults=["stall:1"]) as server, pytest.raises(TimeoutError):
        _get(server, timeout=0.5)


def test_fault_slow_body_arrives_slowly_but_whole() -> None:
    with run_server(
        "http", faults=["slow-body:1"], body_size=1000, extra_args=["--slow-seconds", "0.5"]
    ) as server:
        t0 = time.monotonic()
        status, body = _get(server)
        elapsed = time.monotonic() - t0
    assert (status, body) == (200, body_bytes(1000))
    assert elapsed >= 0.45


def test_sigterm_prints_final_stats() -> None:
    with run_server("http") as server:
        for _ in range(4):
            _get(server)
    assert server.final is not None
    assert server.final["event"] == "stopped"
    assert server.final["requests"] == 4
    assert server.final["cpu_s"] > 0


def test_port_in_use_is_a_clear_usage_error(http_server: ServerHandle) -> None:
    with pytest.raises(UsageError, match="already in use"):  # noqa: SIM117 - raises wraps the start
        with run_server("http", port=http_server.port):
            pass


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "explode:0.1"], "unknown fault kind"),
        (["--fault", "reset:2"], "outside [0, 1]"),
        (["--latency", "-1"], "--latency must be >= 0"),
        (["--body-size", "-5"], "--body-size"),
    ],
)
def test_bad_server_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "servers.http", *args], capture_output=True, text=True, timeout=20
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@given(payload=st.binary(min_size=1, max_size=4096))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_echo_server_echoes_arbitrary_bytes(echo_server: ServerHandle, payload: bytes) -> None:
    frame = len(payload).to_bytes(4, "big") + payload
    with socket.create_connection((echo_server.host, echo_server.port), timeout=5) as s:
        s.sendall(frame * 2)
        got = b""
        while len(got) < 2 * len(frame):
            chunk = s.recv(65536)
            assert chunk
            got += chunk
    assert got == frame * 2


def test_echo_server_latency_and_reset() -> None:
    with (
        run_server("echo", latency=0.05, framing="raw") as server,
        socket.create_connection((server.host, server.port), timeout=5) as s,
    ):
        t0 = time.monotonic()
        s.sendall(b"ping")
        assert s.recv(10) == b"ping"
        assert time.monotonic() - t0 >= 0.05
    with (
        run_server("echo", faults=["reset:1"]) as server,
        socket.create_connection((server.host, server.port), timeout=5) as s,
    ):
        s.sendall((4).to_bytes(4, "big") + b"ping")
        with pytest.raises(ConnectionResetError):
            s.recv(10)
    assert server.final is not None
    assert server.final["faults"] == {"reset": 1}


def test_server_cli_entry_prints_ready_and_json() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "workbench", "serve", "echo", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("READY tcp://127.0.0.1:")
            proc.terminate()
            final = json.loads(proc.stdout.readline())
            assert final["event"] == "stopped"
            assert proc.wait(5) == 0
        finally:
            proc.kill()


@given(junk=st.binary(max_size=512))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_live_server_answers_or_closes_on_any_input(http_server: ServerHandle, junk: bytes) -> None:
    """Random bytes then end of input: an answer (400 for garbage) or a close, never a hang or a
    crash; and the server still serves a good request afterwards."""
    with socket.create_connection((http_server.host, http_server.port), timeout=2) as s:
        s.sendall(junk + b"\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        reply = recv_until_closed(s)  # raises socket.timeout if the server hangs
    if reply:
        assert reply.startswith(b"HTTP/1.1 "), reply[:40]
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=2)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().read() == body_bytes(256)
    finally:
        conn.close()


def test_tls_server_is_verified_with_its_throw_away_ca_and_with_nothing_else() -> None:
    import ssl
    from pathlib import Path

    with run_server("http", body_size=100, tls=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert server.ca_file is not None
        ca_dir = Path(server.ca_file).parent
        trusted = ssl.create_default_context(cafile=server.ca_file)
        for host in ("127.0.0.1", "localhost"):  # the certificate names both
            conn = http.client.HTTPSConnection(host, server.port, timeout=5, context=trusted)
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, body_bytes(100))
            assert conn.sock is not None
            assert conn.sock.version() in ("TLSv1.3", "TLSv1.2")
            conn.close()
        # The system's CAs do not vouch for it: a verifying client refuses it.
        system = http.client.HTTPSConnection(
            server.host, server.port, timeout=5, context=ssl.create_default_context()
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            system.request("GET", "/")
        system.close()
        # Nor for another name, even with the right CA.
        wrong = trusted.wrap_socket(
            socket.create_connection((server.host, server.port), timeout=5),
            server_hostname="example.com",
            do_handshake_on_connect=False,
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            wrong.do_handshake()
        wrong.close()
    assert server.final is not None
    assert server.final["requests"] == 2
    assert not ca_dir.exists()  # the CA's files went with the server


def test_https_handshake_workload_opens_a_connection_per_operation() -> None:
    from tests.helpers import run_one

    with run_server("http", body_size=256, tls=True) as server:
        row = run_one("threads", "raw", "https-handshake", 4, server)
    assert row["errors"] == 0
    assert server.final is not None
    # Warm-up and the window together: every request came on a connection of its own.
    assert server.final["connections"] >= server.final["requests"] >= row["ops"] > 0


def test_tls_server_on_its_own_makes_and_removes_its_ca_and_checks_its_options() -> None:
    """`python -m servers.http --tls` as a user runs it: the CA's path on the READY line, its
    directory gone once the server stops; and TLS options without --tls refused in one line."""
    from pathlib import Path

    proc = subprocess.Popen(
        [sys.executable, "-m", "servers.http", "--tls", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY"
        assert ready[1].startswith("https://127.0.0.1:")
        ca = Path(ready[2].removeprefix("ca="))
        assert ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert not ca.parent.exists()
    refused = subprocess.run(
        [sys.executable, "-m", "servers.http", "--tls-cert", "x.pem"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    assert "need --tls" in refused.stderr


def test_a_certificate_that_does_not_verify_stops_the_run_with_one_line(tmp_path: Path) -> None:
    """`io --url https://...` against a private CA, without --ca-file: one line naming the
    certificate and the flag, exit 2, before any worker starts; with the CA it runs."""
    with run_server("http", tls=True) as server:
        url = f"https://127.0.0.1:{server.port}/"
        proc = run_cli("io", "--url", url, "--workloads", "https", "--models", "asyncio", "--quiet")
        assert proc.returncode == 2, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert "certificate" in line
        assert "--ca-file" in line
        ok = run_cli(
            "io",
            "--url",
            url,
            "--workloads",
            "https",
            "--models",
            "asyncio",
            "--libs",
            "raw",
            "--ca-file",
            str(server.ca_file),
            "--repeat",
            "1",
            "--duration",
            "0.2",
            "--quiet",
            "--json",
            str(tmp_path / "r.json"),
        )
        assert ok.returncode == 0, ok.stderr
        (row,) = json.loads((tmp_path / "r.json").read_text())["results"]
        assert row["errors"] == 0
        assert row["ops"] > 0
