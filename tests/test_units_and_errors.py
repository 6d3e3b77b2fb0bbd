"""The small pure pieces every command leans on: numbers as users type them, error kinds as every
library raises them, the workloads' answer checks, and per-request work."""

from __future__ import annotations

import errno
import ssl
from collections import Counter
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servers.payload import body_bytes
from workbench.burn import calibrate
from workbench.clients.base import BlockingClient, BlockingConnection, ClientContext
from workbench.errors import UsageError
from workbench.metrics import (
    HDR_HIGHEST_US,
    HDR_LOWEST_US,
    Recording,
    error_kind,
    hdr_bucket,
    new_histogram,
)
from workbench.protocol.http import ConnectionClosed, ProtocolError
from workbench.units import (
    format_rate,
    parse_count,
    parse_duration,
    parse_rate,
    parse_size,
    size_label,
)
from workbench.work import build_work, parse_work, with_work
from workbench.workloads import Target, WorkloadError
from workbench.workloads.echo import EchoWorkload
from workbench.workloads.http import HttpGet, HttpUpload

TARGET = Target("http", "127.0.0.1", 8080, "/")


@pytest.mark.parametrize(
    ("text", "size"),
    [("64", 64), ("16KiB", 16384), ("1MiB", 1 << 20), ("2k", 2000), ("1.5kib", 1536)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "seconds"), [("3", 3.0), ("500ms", 0.5), ("20us", 20e-6), ("2.5s", 2.5), ("1m", 60)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_size("12XB"), "is not a size"),
        (lambda: parse_size("0.5"), "not a whole number of bytes"),
        (lambda: parse_duration("soon"), "is not a duration"),
        (lambda: parse_count("ten", "--clients"), "is not a whole number"),
        (lambda: parse_rate("fast"), "is not a rate"),
        (lambda: parse_work("python"), "is not KIND:DURATION"),
        (lambda: parse_work("python:0"), "above 0 and at most 1s"),
    ],
)
def test_bad_numbers_say_what_was_expected(call: object, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        call()  # type: ignore[operator]


def test_labels_and_rates() -> None:
    assert parse_count("10_000", "--clients") == 10_000
    assert parse_rate("2.5k") == pytest.approx(2500)
    assert (size_label(16384), size_label(1 << 20), size_label(1000)) == ("16KiB", "1MiB", "1000B")
    assert (format_rate(123456.7), format_rate(12.34)) == ("123,457", "12.3")


class _AiohttpLikeError(Exception):
    pass


class ServerDisconnectedError(Exception):
    pass


class ClientConnectorError(Exception):
    pass


def _wrapped_refusal() -> ClientConnectorError:
    try:
        raise ConnectionRefusedError
    except ConnectionRefusedError as inner:
        outer = ClientConnectorError()
        outer.__cause__ = inner
        return outer


class _Urllib3ProtocolError(Exception):
    """Named as urllib3's is: an HTTPError subclass called ProtocolError."""


_Urllib3ProtocolError.__name__ = "ProtocolError"


def _wrapped_certificate_failure() -> Exception:
    """As trio and httpx raise it: their own error, the verification failure as its cause."""
    outer = RuntimeError("handshake failed")
    outer.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(), "refused"),
        (ConnectionResetError(), "reset"),
        (BrokenPipeError(), "reset"),
        (ProtocolError("bad"), "protocol"),
        # urllib3: the reset rides in the arguments ("Connection aborted.", ConnectionResetError)
        (_Urllib3ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")), "reset"),
        (ConnectionClosed("eof"), "eof"),
        (WorkloadError("short-body", "x"), "short-body"),
        (ServerDisconnectedError(), "eof"),
        (_wrapped_refusal(), "refused"),
        (OSError(), "os-oserror"),
        (OSError(errno.EMFILE, "Too many open files"), "os-EMFILE"),
        (_wrapped_certificate_failure(), "tls-verify"),
        (ssl.SSLError(1, "wrong version number"), "tls"),
        (_AiohttpLikeError(), "other"),
    ],
)
def test_error_kinds_are_stable_whichever_library_raised(exc: BaseException, kind: str) -> None:
    assert error_kind(exc) == kind


def test_http_get_verifies_status_and_body() -> None:
    w = HttpGet(TARGET, 16)
    body = body_bytes(16)
    assert w.check(200, body) == 16
    with pytest.raises(WorkloadError) as info:
        w.check(500, body)
    assert info.value.kind == "status-500"
    with pytest.raises(WorkloadError) as info:
        w.check(200, body[:8])
    assert info.value.kind == "short-body"
    with pytest.raises(WorkloadError) as info:
        w.check(200, bytes(16))
    assert info.value.kind == "corrupt-body"
    unknown = HttpGet(TARGET, None)  # a user's own server: any 2xx, any body
    assert unknown.check(204, b"") == 0


def test_http_exchange_feeds_bytes_to_a_verified_answer() -> None:
    w = HttpGet(TARGET, 5)
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + body_bytes(5)
    ex = w.exchange()
    assert ex.request.startswith(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert ex.feed(answer[:10]) is None
    assert ex.feed(answer[10:]) == 5 + len(ex.request)
    assert ex.keep_alive
    assert w.exchange().feed(answer) == 5 + len(ex.request)  # whole reads are remembered
    assert answer in w.known_reads


def test_http_upload_expects_the_length_back() -> None:
    w = HttpUpload(TARGET, 100, verify=True)
    assert w.body == body_bytes(100)
    assert w.check(200, b"100") == 3
    with pytest.raises(WorkloadError):
        w.check(200, b"99")


def test_echo_exchange_checks_every_byte() -> None:
    w = EchoWorkload(Target("tcp", "127.0.0.1", 9), 32)
    ex = w.exchange()
    assert ex.feed(ex.request[:7]) is None
    assert ex.feed(ex.request[7:]) == 2 * len(ex.request)
    bad = w.exchange()
    with pytest.raises(WorkloadError, match="differs"):
        bad.feed(bytes(len(bad.request)))
    with pytest.raises(ConnectionClosed):
        w.exchange().feed_eof()


def test_calibration_scales_the_work_to_the_time_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a clock the work itself advances (1 µs a step, and 5 ms more the first time, as a cold
    cache would): calibration keeps the fastest timing of the final size, so it asks for exactly
    10,000 steps for 10 ms. On the real clock the answer depends on the machine's load."""
    clock = SimpleNamespace(now=0.0, calls=0)

    def work(n: int) -> None:
        clock.calls += 1
        clock.now += n * 1e-6 + (0.005 if clock.calls == 1 else 0.0)

    monkeypatch.setattr("workbench.burn.time", SimpleNamespace(perf_counter=lambda: clock.now))
    assert calibrate(work, 0.01) == 10_000
    assert calibrate(work, 0.5, start=7) == 500_000


def test_work_wraps_every_operation_of_every_connection() -> None:
    calls: list[str] = []

    class Conn(BlockingConnection):
        def op(self) -> int:
            calls.append("op")
            return 7

    class Client(BlockingClient):
        def connection(self) -> BlockingConnection:
            return Conn()

    worked = with_work(Client, lambda: calls.append("work"))
    client = worked(ClientContext(HttpGet(TARGET, 1), 1, 1.0))
    assert isinstance(client, BlockingClient)
    conn = client.connection()
    assert conn.op() == 7
    assert calls == ["op", "work"]
    for kind in ("python", "hashlib", "zlib"):
        build_work(f"{kind}:100us")()  # each kind builds and runs


def test_what_ci_installed_is_required_under_ci_and_skipped_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.helpers import kernel_allows_io_uring, skip_io_uring, skip_unless_ci

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        skip_unless_ci("chromium is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI=true this must not be missing"):
        skip_unless_ci("chromium is not installed")
    # io_uring: a kernel that refuses it is a skip even in CI; a binding that fails is not.
    if kernel_allows_io_uring():
        with pytest.raises(pytest.fail.Exception, match="the kernel allows io_uring, but"):
            skip_io_uring("liburing is not installed")
    else:
        with pytest.raises(pytest.skip.Exception):
            skip_io_uring("io_uring_setup is refused")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=300))
def test_latencies_counted_by_hdr_bucket_make_the_very_same_histogram(values: list[int]) -> None:
    """Workers count latencies in plain Python (hdrh's C codec would switch a free-threaded
    build's GIL back on); the parent's histogram from those counts is the one that recording
    every value would have made, byte for byte."""
    direct = new_histogram()
    for v in values:
        direct.record_value(min(max(v, HDR_LOWEST_US), HDR_HIGHEST_US))
    counted = Recording(latency_counts=Counter(hdr_bucket(v) for v in values))
    assert counted.histogram.encode() == direct.encode()
    assert counted.histogram.get_max_value() == direct.get_max_value()
    again = Recording.from_dict(counted.to_dict())
    again.merge(counted)
    assert again.histogram.get_total_count() == 2 * len(values)


@pytest.mark.slow  # a child process
def test_peak_memory_is_the_process_own_not_its_parents() -> None:
    """getrusage's ru_maxrss survives exec on Linux: a small child of a large parent would report
    the parent's size. The figure must be the child's own."""
    import subprocess
    import sys

    ballast = bytearray(200 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    code = "from workbench.metrics import peak_rss_kb; print(peak_rss_kb())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=True)  # fmt: skip
    assert int(out.stdout) < 100 * 1024  # the child's own tens of MB, not the parent's 200+
    del ballast
