"""Mock HTTP/1.1 server: keep-alive, pipelining, injected latency and faults, on a raw Protocol.

    python -m servers.http --port 0 [--latency 0.02] [--body-size 1024] [--fault reset:0.01]

Routes: `GET /` answers --body-size bytes, `GET /bytes/N` answers N bytes (both from
`servers.payload.body_bytes`, so clients can verify them); `POST` and `PUT` read a Content-Length
body and answer its length in decimal. `HEAD` answers headers only.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence

from servers._runtime import (
    CLOSE,
    OrderedWriter,
    ServerConfig,
    common_parser,
    serve,
)
from servers.connection import MockProtocol
from servers.faults import HTTP_FAULTS
from servers.http_parser import BadRequest, Request, RequestParser
from servers.payload import body_bytes

MAX_BYTES_ROUTE = 64 * 1024 * 1024
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


def build_response(
    status: int, body: bytes, *, keep_alive: bool = True, head: bool = False
) -> bytes:
    """A complete response; `head` drops the body but keeps its Content-Length."""
    lines = [
        b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Unknown")),
        b"Content-Length: %d" % len(body),
        b"Content-Type: application/octet-stream",
    ]
    if not keep_alive:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head else body)


class Responses:
    """Responses by request, cached: the hot path is a dict lookup, not string formatting."""

    def __init__(self, body_size: int) -> None:
        self.body_size = body_size
        self._cache: dict[tuple[int, bool, bool], bytes] = {}
        self.default = self.sized(body_size, True, False)
        self.error_500 = build_response(500, b"injected server error")
        # Whole reads that were exactly one bodiless keep-alive request, mapped to their answer.
        # A load generator sends the same bytes every time, so the hot path skips the parser.
        self.whole_reads: dict[bytes, bytes] = {}

    def remember(self, data: bytes, resp: bytes) -> None:
        if len(self.whole_reads) < 64 and len(data) <= 4096:
            self.whole_reads[data] = resp

    def sized(self, size: int, keep_alive: bool, head: bool) -> bytes:
        key = (size, keep_alive, head)
        resp = self._cache.get(key)
        if resp is None:
            resp = build_response(200, body_bytes(size), keep_alive=keep_alive, head=head)
            if len(self._cache) < 256:
                self._cache[key] = resp
        return resp

    def for_request(self, req: Request) -> bytes:
        if req.method in (b"POST", b"PUT"):
            return build_response(200, b"%d" % req.body_length, keep_alive=req.keep_alive)
        size = self.body_size
        target = req.target
        if target.startswith(b"/bytes/"):
            digits = target[7:]
            if not digits.isdigit() or int(digits) > MAX_BYTES_ROUTE:
                return build_response(404, b"no such size", keep_alive=req.keep_alive)
            size = int(digits)
        return self.sized(size, req.keep_alive, req.method == b"HEAD")


class HttpServerProtocol(MockProtocol):
    """One connection. Without latency or faults, responses go out in one write per read."""

    def __init__(self, config: ServerConfig, responses: Responses) -> None:
        super().__init__(config)
        self.responses = responses
        self.parser = RequestParser()
        self.closing = False

    def data_received(self, data: bytes) -> None:
        stats = self.stats
        stats.bytes_in += len(data)
        if self.closing:
            return
        fresh = self.parser.idle  # this read starts a request: it may be a whole one
        if fresh and self.writer is None:
            resp = self.responses.whole_reads.get(data)
            if resp is not None:
                stats.requests += 1
                stats.bytes_out += len(resp)
                self.transport.write(resp)  # type: ignore[union-attr]
                return
        try:
            requests = self.parser.feed(data)
        except BadRequest as exc:
            self._reject(exc)
            return
        if not requests:
            return
        self.stats.requests += len(requests)
        if self.writer is None:
            self._respond_now(requests, data if fresh else None)
        else:
            self._respond_later(requests, self.writer)

    def _respond_now(self, requests: list[Request], read: bytes | None) -> None:
        assert self.transport is not None
        responses = self.responses
        default = responses.default
        out = []
        for req in requests:
            if req.target == b"/" and req.method == b"GET" and req.keep_alive:
                out.append(default)
            else:
                out.append(responses.for_request(req))
                if not req.keep_alive:
                    self.closing = True
                    break
        if len(out) == 1:
            data = out[0]
            req = requests[0]
            if read is not None and req.keep_alive and not req.body_length and self.parser.idle:
                responses.remember(read, data)
        else:
            data = b"".join(out)
        self.stats.bytes_out += len(data)
        self.transport.write(data)
        if self.closing:
            self.transport.close()

    def _respond_later(self, requests: list[Request], writer: OrderedWriter) -> None:
        for req in requests:
            delay, fault = self.draw()
            if fault == "reset":
                self.send_later(delay, fault, b"")
                self.closing = True
                return
            resp = self.responses.error_500 if fault == "500" else self.responses.for_request(req)
            # A slow body trickles after the head, which goes out whole.
            head_len = resp.index(b"\r\n\r\n") + 4 if fault == "slow-body" else 0
            self.send_later(delay, fault, resp, head_len)
            if not req.keep_alive:
                writer.send(0.0, CLOSE)
                self.closing = True
                return

    def _reject(self, exc: BadRequest) -> None:
        assert self.transport is not None
        self.stats.bad_requests += 1
        self.closing = True
        resp = build_response(exc.status, exc.reason.encode(), keep_alive=False)
        if self.writer is not None and not self.writer.idle:
            self.writer.send(0.0, resp)
            self.writer.send(0.0, CLOSE)
            return
        self.stats.bytes_out += len(resp)
        self.transport.write(resp)
        self.transport.close()


def protocol_factory(config: ServerConfig) -> Callable[[], asyncio.Protocol]:
    responses = Responses(config.args.body_size)
    return lambda: HttpServerProtocol(config, responses)


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser("python -m servers.http", __doc__.splitlines()[0], HTTP_FAULTS)
    parser.add_argument("--body-size", type=int, default=64, help="bytes in each GET body")
    return serve(
        "python -m servers.http", "http", argv, parser, HTTP_FAULTS, protocol_factory, _validate
    )


def _validate(args: argparse.Namespace) -> str | None:
    if not 0 <= args.body_size <= MAX_BYTES_ROUTE:
        return f"--body-size must be in 0..{MAX_BYTES_ROUTE}"
    return None


if __name__ == "__main__":
    raise SystemExit(main())
