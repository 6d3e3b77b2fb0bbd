"""The mock server's sans-I/O request parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servers.http_parser import BadRequest, Request, RequestParser

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
CLOSE = b"GET /bytes/3 HTTP/1.1\r\nConnection: close\r\n\r\n"
HTTP10 = b"GET /a HTTP/1.0\r\n\r\n"
PIPELINE = GET + POST + GET + HTTP10 + CLOSE
EXPECTED = [
    Request(b"GET", b"/", True, 0),
    Request(b"POST", b"/up", True, 5),
    Request(b"GET", b"/", True, 0),
    Request(b"GET", b"/a", False, 0),
    Request(b"GET", b"/bytes/3", False, 0),
]


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[Request]:
    parser = RequestParser()
    out: list[Request] = []
    prev = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        out += parser.feed(data[prev:cut])
        prev = cut
    return out


def test_pipelined_requests_in_one_read() -> None:
    assert RequestParser().feed(PIPELINE) == EXPECTED


def test_every_single_split_gives_the_same_requests() -> None:
    for cut in range(len(PIPELINE) + 1):
        assert feed_in_pieces(PIPELINE, [cut]) == EXPECTED, cut


@given(st.lists(st.integers(0, len(PIPELINE)), max_size=12))
@settings(max_examples=300)
def test_any_split_gives_the_same_requests(cuts: list[int]) -> None:
    assert feed_in_pieces(PIPELINE, cuts) == EXPECTED


def test_body_bytes_are_counted() -> None:
    parser = RequestParser()
    parser.feed(POST + POST)
    assert parser.body_bytes == 10


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / FTP/1.1\r\n\r\n", 400),
        (b"G@T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nNoColonHere\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"GET /" + b"a" * 20000, 431),
    ],
)
def test_malformed_requests_are_rejected_with_a_status(data: bytes, status: int) -> None:
    with pytest.raises(BadRequest) as info:
        RequestParser().feed(data)
    assert info.value.status == status


@given(st.binary(max_size=2048))
@settings(max_examples=500)
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    parser = RequestParser()
    try:
        for req in parser.feed(data):
            assert isinstance(req, Request)
    except BadRequest as exc:  # any input is either parsed or refused with an HTTP error status
        assert 400 <= exc.status < 600  # noqa: PT017
