"""Minimal HTTP/1.1 client framing: build a request, parse a response from bytes. No I/O.

Supports what servers send back to a load generator: Content-Length bodies, chunked bodies,
bodies delimited by connection close, and 1xx interim responses (skipped). Anything else raises
`ProtocolError`, which the harness counts as a client error of kind "protocol".
"""

from __future__ import annotations

from typing import NamedTuple

MAX_HEAD = 64 * 1024


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid HTTP/1.1 response."""

    kind = "protocol"


class Head(NamedTuple):
    status: int
    length: int  # body length; -1 chunked, -2 until connection close
    keep_alive: bool


class Response(NamedTuple):
    status: int
    body: bytes
    keep_alive: bool


def host_header(host: str, port: int) -> str:
    """The Host header's value for a target (RFC 9110: the port unless it is the default)."""
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return host if port in (80, 443) else f"{host}:{port}"


def build_request(
    method: str,
    host: str,
    port: int,
    path: str,
    body: bytes | None = None,
    keep_alive: bool = True,
) -> bytes:
    """One request, with keep-alive semantics (HTTP/1.1's default) or `Connection: close`."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host_header(host, port)}",
        "User-Agent: workbench",
    ]
    if not keep_alive:
        lines.append("Connection: close")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
        lines.append("Content-Type: application/octet-stream")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def parse_head(head: bytes, head_request: bool = False) -> Head:
    """Parse a response head (without the blank line that ends it)."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0][:80]!r}")
    status = int(parts[1])
    keep_alive = parts[0] == b"HTTP/1.1"
    length = -2
    chunked = False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ProtocolError("bad header line")
        lname = name.strip().lower()
        if lname == b"content-length":
            value = value.strip()
            if not value.isdigit():
                raise ProtocolError("bad Content-Length")
            length = int(value)
        elif lname == b"transfer-encoding":
            chunked = value.strip().lower().endswith(b"chunked")
        elif lname == b"connection":
            tokens = value.lower()
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
    if head_request or status in (204, 304) or 100 <= status < 200:
        length = 0
    elif chunked:
        length = -1
    if length == -2:
        keep_alive = False
    return Head(status, length, keep_alive)


class ResponseParser:
    """Incremental parser for one response at a time on a keep-alive connection.

    `feed(data)` returns the completed `Response` or None; bytes after the end of a response are
    kept for the next one. `feed_eof()` completes a close-delimited body or raises ProtocolError.
    """

    # Servers repeat identical heads; a small cache makes parsing them a dict lookup.
    _cache: dict[bytes, Head] = {}
    _CACHE_MAX = 256

    def __init__(self, head_request: bool = False) -> None:
        self.head_request = head_request
        self._buf = b""
        self._head: Head | None = None
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> Response | None:
        buf = self._buf + data if self._buf else data
        while True:
            head = self._head
            if head is None:
                idx = buf.find(b"\r\n\r\n")
                if idx < 0:
                    if len(buf) > MAX_HEAD:
                        raise ProtocolError("response head too large")
                    self._buf = buf
                    return None
                raw = buf[:idx]
                head = self._cache.get(raw)
                if head is None:
                    head = parse_head(raw, self.head_request)
                    if len(self._cache) < self._CACHE_MAX and not self.head_request:
                        self._cache[raw] = head
                buf = buf[idx + 4 :]
                if 100 <= head.status < 200:
                    continue  # interim response: the real one follows
                self._head = head
            if head.length >= 0:
                if len(buf) < head.length:
                    self._buf = buf
                    return None
                body = buf[: head.length]
                self._buf = buf[head.length :]
                self._head = None
                return Response(head.status, body, head.keep_alive)
            if head.length == -2:
                self._chunks.append(buf)
                self._buf = b""
                return None
            return self._feed_chunked(buf, head)

    def _feed_chunked(self, buf: bytes, head: Head) -> Response | None:
        while True:
            idx = buf.find(b"\r\n")
            if idx < 0:
                if len(buf) > 1024:
                    raise ProtocolError("bad chunk size line")
                self._buf = buf
                return None
            size_text = buf[:idx].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError("bad chunk size") from None
            if size == 0:
                end = buf.find(b"\r\n\r\n", idx)  # trailers end with a blank line
                if end < 0:
                    self._buf = buf
                    return None
                self._buf = buf[end + 4 :]
                body = b"".join(self._chunks)
                self._chunks = []
                self._head = None
                return Response(head.status, body, head.keep_alive)
            if len(buf) < idx + 2 + size + 2:
                self._buf = buf
                return None
            self._chunks.append(buf[idx + 2 : idx + 2 + size])
            if buf[idx + 2 + size : idx + 4 + size] != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF")
            buf = buf[idx + 4 + size :]

    def feed_eof(self) -> Response:
        """The peer closed: finish a close-delimited body, or fail."""
        head = self._head
        if head is not None and head.length == -2:
            self._head = None
            body = b"".join(self._chunks) + self._buf
            self._chunks, self._buf = [], b""
            return Response(head.status, body, False)
        raise ConnectionClosed("connection closed before the response was complete")

    @property
    def idle(self) -> bool:
        return self._head is None and not self._buf


class ConnectionClosed(ProtocolError):
    """The server closed the connection in the middle of (or instead of) a response."""

    kind = "eof"
