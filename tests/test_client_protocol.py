"""The client-side sans-I/O HTTP response parser and the echo framing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servers.echo import EchoFramer, FrameError
from workbench.protocol.echo import build_message
from workbench.protocol.http import ConnectionClosed, ProtocolError, Response, ResponseParser

CL = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
)
INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n" + CL
CLOSE_DELIMITED = b"HTTP/1.1 200 OK\r\n\r\nhello"


def feed_split(data: bytes, cuts: list[int]) -> list[Response]:
    parser = ResponseParser()
    out: list[Response] = []
    prev = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        # A keep-alive client feeds what arrives; several responses may sit in one read.
        chunk = data[prev:cut]
        prev = cut
        resp = parser.feed(chunk)
        while resp is not None:
            out.append(resp)
            resp = parser.feed(b"")
    return out


@given(st.lists(st.integers(0, 2 * len(CL + CHUNKED + INTERIM)), max_size=10))
@settings(max_examples=300)
def test_any_split_of_a_response_stream_gives_the_same_responses(cuts: list[int]) -> None:
    stream = CL + CHUNKED + INTERIM
    got = feed_split(stream, cuts)
    assert [r.body for r in got] == [b"hello"] * 3
    assert all(r.status == 200 and r.keep_alive for r in got)


def test_close_delimited_body_completes_at_eof() -> None:
    parser = ResponseParser()
    assert parser.feed(CLOSE_DELIMITED) is None
    resp = parser.feed_eof()
    assert resp == Response(200, b"hello", False)


def test_eof_mid_response_is_a_connection_closed_error() -> None:
    parser = ResponseParser()
    parser.feed(CL[:-2])
    with pytest.raises(ConnectionClosed):
        parser.feed_eof()


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20000,
    ],
)
def test_malformed_responses_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResponseParser().feed(data)


@given(st.binary(max_size=2048))
@settings(max_examples=500)
def test_random_bytes_give_a_response_or_a_protocol_error(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        ResponseParser().feed(data)


@pytest.mark.parametrize("framing", ["length", "line", "raw"])
@given(size=st.integers(0, 5000), cuts=st.lists(st.integers(0, 5100), max_size=6))
@settings(max_examples=60)
def test_echo_framer_returns_whole_messages(framing: str, size: int, cuts: list[int]) -> None:
    message = build_message(size, framing)
    if not message:
        return
    framer = EchoFramer(framing)
    stream = message * 3
    got: list[bytes] = []
    prev = 0
    for cut in [*sorted(set(c for c in cuts if c <= len(stream))), len(stream)]:
        got += framer.feed(stream[prev:cut])
        prev = cut
    assert b"".join(got) == stream
    if framing != "raw":
        assert got == [message] * 3


def test_echo_framer_refuses_oversized_frames() -> None:
    framer = EchoFramer("length", max_frame=10)
    with pytest.raises(FrameError):
        framer.feed((11).to_bytes(4, "big"))
