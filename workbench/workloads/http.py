"""HTTP workloads: `http` (GET with keep-alive), `http-upload` (POST with a body), and over TLS
`https` (GET with keep-alive) and `https-handshake` (GET on a new connection each time, so every
operation pays a full TLS handshake)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servers.payload import body_bytes
from workbench.protocol.http import ResponseParser, build_request, host_header
from workbench.workloads.base import Exchange, Target, Workload, WorkloadError

if TYPE_CHECKING:
    from workbench.workloads import WorkloadSettings


class HttpExchange(Exchange):
    __slots__ = ("_check", "_known", "_parser", "keep_alive", "request")

    def __init__(self, workload: HttpWorkload) -> None:
        self.request = workload.request_bytes
        self._parser = ResponseParser(head_request=workload.method == "HEAD")
        self._check = workload.check
        self._known = workload.known_reads
        self.keep_alive = True

    def feed(self, data: bytes) -> int | None:
        parser = self._parser
        fresh = parser.idle
        if fresh:
            # A read byte-for-byte equal to a whole response already parsed and checked is
            # verified by that comparison alone; the parser is for everything else.
            n = self._known.get(data)
            if n is not None:
                return n
        resp = parser.feed(data)
        if resp is None:
            return None
        self.keep_alive = resp.keep_alive
        n = self._check(resp.status, resp.body) + len(self.request)
        if fresh and resp.keep_alive and parser.idle and len(self._known) < 16:
            self._known[data] = n
        return n

    def feed_eof(self) -> int:
        resp = self._parser.feed_eof()
        self.keep_alive = False
        return self._check(resp.status, resp.body) + len(self.request)


class HttpWorkload(Workload):
    """A request every client sends the same way, and the answer every client checks the same way.

    Library clients use `method`, `url`, `body` and `check`; raw clients use `exchange()`.
    With `expected` None (a user's own server), any 2xx status passes and the body is not compared.
    """

    method = "GET"
    keep_alive = True  # False: `Connection: close`, a new connection for every operation

    def __init__(self, target: Target, body: bytes | None, expected: bytes | None) -> None:
        super().__init__(target)
        self.body = body
        self.expected = expected
        self.url = target.connect_url  # the checked address, never a second resolution
        # With an address in place of the name, library clients must say the name themselves.
        self.headers = {"Host": host_header(target.host, target.port)} if target.address else {}
        if not self.keep_alive:
            self.headers["Connection"] = "close"
        self.request_bytes = build_request(
            self.method, target.host, target.port, target.path, body, self.keep_alive
        )
        # Whole reads that were exactly one verified keep-alive response -> bytes moved.
        self.known_reads: dict[bytes, int] = {}

    def check(self, status: int, body: bytes) -> int:
        """Verify an answer; returns the body length. Raises WorkloadError."""
        expected = self.expected
        if expected is None:
            if not 200 <= status < 300:
                raise WorkloadError(f"status-{status}", f"HTTP status {status}")
            return len(body)
        if status != 200:
            raise WorkloadError(f"status-{status}", f"HTTP status {status}")
        if body != expected:
            kind = "short-body" if len(body) != len(expected) else "corrupt-body"
            raise WorkloadError(kind, f"body of {len(body)} bytes, expected {len(expected)}")
        return len(body)

    def exchange(self) -> Exchange:
        return HttpExchange(self)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(method=self.method, verify="body" if self.expected is not None else "status")
        d["connection"] = "keep-alive" if self.keep_alive else "new per operation"
        if self.target.tls:
            d["tls"] = {"ca": self.target.ca_file or "system", "verify": True}
        return d


class HttpGet(HttpWorkload):
    """GET the target; the mock server answers `body_size` deterministic bytes."""

    name = "http"

    def __init__(self, target: Target, body_size: int | None) -> None:
        super().__init__(target, None, None if body_size is None else body_bytes(body_size))

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> HttpGet:
        return cls(settings.target, settings.body_size)


class ServedGet(HttpGet):
    """`http` against a server under test (`servers`): any 2xx passes, since each scenario's
    body is its own, and anything else, a 500 from an app that raised among them, is an error."""

    name = "served"

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> HttpGet:
        return cls(settings.target, None)


class H2Get(HttpGet):
    """`http` over HTTP/2 (h2c): the same GET and checks, each request a stream, many streams
    sharing few connections (servers/h2.py answers)."""

    name = "h2"


class HttpsGet(HttpGet):
    """`http` over TLS, on keep-alive connections: the cost of encryption alone."""

    name = "https"


class HttpsHandshake(HttpGet):
    """`http` over TLS on a new connection per operation: each pays a TCP and a TLS handshake."""

    name = "https-handshake"
    keep_alive = False


class HttpUpload(HttpWorkload):
    """POST `upload_size` bytes; the mock server answers the length it received, in decimal."""

    name = "http-upload"
    method = "POST"

    def __init__(self, target: Target, upload_size: int, verify: bool) -> None:
        body = body_bytes(upload_size)
        super().__init__(target, body, b"%d" % upload_size if verify else None)

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> HttpUpload:
        return cls(settings.target, settings.upload_size, settings.body_size is not None)
