"""HTTP/1.1 request framing for the mock server: bytes in, requests out, no I/O (h11's lesson).

It parses only what a load generator sends: a request line, headers, and an optional body with
Content-Length. Anything else is a `BadRequest` carrying the status the server answers with.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_HEAD = 16 * 1024
MAX_BODY = 1 << 30
_VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")
_TOKEN_BYTES = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


class BadRequest(Exception):
    """Malformed input: the server answers `status` and closes the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Request(NamedTuple):
    method: bytes
    target: bytes
    keep_alive: bool
    body_length: int


def _is_token(value: bytes) -> bool:
    return bool(value) and _TOKEN_BYTES.issuperset(value)


def parse_head(head: bytes) -> tuple[bytes, bytes, bool, int]:
    """Parse a head (without its final blank line): method, target, keep-alive, body length."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in _VERSIONS:
        raise BadRequest(505 if version.startswith(b"HTTP/") else 400, "unsupported HTTP version")
    if not _is_token(method) or not target or any(b <= 32 or b == 127 for b in target):
        raise BadRequest(400, "malformed request line")
    keep_alive = version == b"HTTP/1.1"
    body_length = 0
    seen_length: bytes | None = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _is_token(name):
            raise BadRequest(400, "malformed header line")
        lname = name.lower()
        if lname == b"content-length":
            value = value.strip()
            if not value.isdigit() or (seen_length is not None and seen_length != value):
                raise BadRequest(400, "bad Content-Length")
            seen_length = value
            body_length = int(value)
            if body_length > MAX_BODY:
                raise BadRequest(413, "request body too large")
        elif lname == b"transfer-encoding":
            raise BadRequest(501, "Transfer-Encoding request bodies are not supported")
        elif lname == b"connection":
            tokens = {t.strip() for t in value.lower().split(b",")}
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
    return method, target, keep_alive, body_length


class RequestParser:
    """Incremental request parser; `feed` returns every request completed by the new bytes.

    A request is returned once its whole body has arrived, so a response never overtakes the body of
    its own request. After a `BadRequest` the parser is finished: the connection must be closed.
    """

    # Load generators send the same head again and again: parsed heads are immutable, so a small
    # shared cache makes the common case one dict lookup. Bounded, so hostile input cannot grow it.
    _head_cache: dict[bytes, Request] = {}
    _HEAD_CACHE_MAX = 256

    def __init__(self) -> None:
        self._buf = b""
        self._pending: Request | None = None
        self._body_left = 0
        self.body_bytes = 0

    @property
    def idle(self) -> bool:
        """No partial request is buffered: the next read starts a new request."""
        return not self._buf and self._pending is None

    def feed(self, data: bytes) -> list[Request]:
        buf = self._buf + data if self._buf else data
        pos = 0
        out: list[Request] = []
        end = len(buf)
        while True:
            if self._pending is not None:
                take = min(self._body_left, end - pos)
                pos += take
                self._body_left -= take
                self.body_bytes += take
                if self._body_left:
                    break
                out.append(self._pending)
                self._pending = None
                continue
            # RFC 9112 2.2: a server SHOULD ignore empty lines received before a request line.
            while buf.startswith(b"\r\n", pos):
                pos += 2
            idx = buf.find(b"\r\n\r\n", pos)
            if idx < 0:
                if end - pos > MAX_HEAD:
                    raise BadRequest(431, "request head too large")
                break
            if idx - pos > MAX_HEAD:
                raise BadRequest(431, "request head too large")
            raw = buf[pos:idx]
            pos = idx + 4
            req = self._head_cache.get(raw)
            if req is None:
                req = Request(*parse_head(raw))
                if len(self._head_cache) < self._HEAD_CACHE_MAX:
                    self._head_cache[raw] = req
            if req.body_length:
                self._pending = req
                self._body_left = req.body_length
            else:
                out.append(req)
        self._buf = buf[pos:] if pos < end else b""
        return out
