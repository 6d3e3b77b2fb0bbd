"""What both mock servers share: options, the event loop, ordered delayed writes, start and stop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import random
import socket
import ssl
import struct
import sys
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from servers.faults import FaultPlan, FaultSpecError, parse_fault
from servers.lifetime import cpu_seconds, die_with_parent, raise_nofile_limit
from servers.timers import Lateness, Timers

CLOSE = object()  # queue marker: close the connection once everything before it is written
RESET = object()  # queue marker: abort the connection with a TCP RST


@dataclass
class ServerStats:
    """Counters a server reports in its final JSON line."""

    requests: int = 0
    connections: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bad_requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "connections": self.connections,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "bad_requests": self.bad_requests,
            "faults": dict(self.faults),
        }


@dataclass
class Timing:
    """Per-response delays: latency +/- uniform jitter, and the fault durations."""

    latency: float
    jitter: float
    stall_seconds: float
    slow_seconds: float
    slow_chunks: int
    rng: random.Random

    def delay(self) -> float:
        if not self.jitter:
            return self.latency
        return max(0.0, self.latency + self.rng.uniform(-self.jitter, self.jitter))


class OrderedWriter:
    """Writes chunks to a transport in order, each at its due time, on the server's `Timers`.

    One timer entry per connection at most (not a task per response): a chunk is due at
    max(now + delay, due time of the chunk before it), which keeps pipelined responses in order.
    Each chunk's lateness (written minus due) goes into the server's `Lateness`.
    """

    __slots__ = ("_last_due", "_late", "_queue", "_timer", "_timers", "_transport", "stats")

    def __init__(self, config: ServerConfig, transport: asyncio.Transport) -> None:
        assert config.timers is not None, "the server's Timers are made before it accepts"
        self._timers = config.timers
        self._transport = transport
        self._queue: deque[tuple[float, object]] = deque()
        self._timer: list[object] | None = None
        self._last_due = 0.0
        self._late = config.late
        self.stats = config.stats

    @property
    def idle(self) -> bool:
        return not self._queue

    def send(self, delay: float, item: object) -> None:
        """Queue `item` (bytes, CLOSE or RESET) to go out `delay` seconds from now, in order."""
        due = max(monotonic() + delay, self._last_due)
        self._last_due = due
        self._queue.append((due, item))
        if self._timer is None:
            self._timer = self._timers.call_at(due, self._flush)

    def _flush(self) -> None:
        self._timer = None
        now = monotonic()
        out: list[bytes] = []
        queue, add = self._queue, self._late.add
        while queue and queue[0][0] <= now:
            due, item = queue.popleft()
            add(now - due)
            if isinstance(item, bytes):
                out.append(item)
                continue
            self._write(out)
            out = []
            if item is RESET:
                abort_with_reset(self._transport)
            else:
                self._transport.close()
            queue.clear()
            return
        self._write(out)
        if queue:
            self._timer = self._timers.call_at(queue[0][0], self._flush)

    def _write(self, chunks: list[bytes]) -> None:
        if chunks and not self._transport.is_closing():
            data = b"".join(chunks)
            self.stats.bytes_out += len(data)
            self._transport.write(data)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timers.cancel(self._timer)
            self._timer = None
        self._queue.clear()


def abort_with_reset(transport: asyncio.Transport) -> None:
    """Close with a TCP RST rather than a FIN, the way a crashed peer looks to a client."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def slow_chunks(data: bytes, head_len: int, timing: Timing) -> list[tuple[float, bytes]]:
    """Split a response into (offset s, chunk): the head at once, the body over slow_seconds."""
    head, body = data[:head_len], data[head_len:]
    n = max(1, min(timing.slow_chunks, len(body)))
    step = timing.slow_seconds / n
    size = -(-len(body) // n) if body else 0
    parts = [(0.0, head)] if head else []
    for i in range(n):
        piece = body[i * size : (i + 1) * size]
        if piece:
            parts.append(((i + 1) * step, piece))
    return parts


def common_parser(prog: str, description: str, faults: tuple[str, ...]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop")
    p.add_argument("--latency", type=float, default=0.0, help="delay before each response, seconds")
    p.add_argument("--jitter", type=float, default=0.0, help="uniform +/- spread on --latency, s")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND:RATE",
        help=f"inject a fault into a fraction of requests; KIND is one of {', '.join(faults)}",
    )
    p.add_argument(
        "--stall-seconds", type=float, default=30.0, help="how long a stall holds a reply"
    )
    p.add_argument("--slow-seconds", type=float, default=1.0, help="how long a slow body takes")
    p.add_argument("--seed", type=int, default=0, help="seed for jitter and fault draws")
    p.add_argument("--backlog", type=int, default=4096, help="listen backlog")
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve TLS; without --tls-cert, with a certificate from a throw-away CA made now "
        "(its certificate's path is on the READY line, as ca=PATH)",
    )
    p.add_argument("--tls-cert", metavar="PEM", help="the server's certificate chain (with --tls)")
    p.add_argument("--tls-key", metavar="PEM", help="the server's private key (with --tls-cert)")
    p.add_argument(
        "--tls-dir",
        metavar="DIR",
        help="where the throw-away CA's files go (default: a temporary directory removed at exit)",
    )
    p.add_argument(
        "--timer-stats",
        metavar="PATH",
        help="keep the delayed writes' lateness histogram in this file (the harness reads it)",
    )
    p.add_argument("--die-with-parent", action="store_true", help=argparse.SUPPRESS)
    return p


@dataclass
class ServerConfig:
    args: argparse.Namespace
    timing: Timing
    faults: FaultPlan
    stats: ServerStats
    late: Lateness = field(default_factory=Lateness)
    timers: Timers | None = None  # made once the loop exists (see _serve)
    ca_file: str | None = None  # with --tls: the throw-away CA's certificate


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return 2


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def serve(
    prog: str,
    scheme: str,
    argv: Sequence[str] | None,
    parser: argparse.ArgumentParser,
    fault_kinds: tuple[str, ...],
    protocol_factory: Callable[[ServerConfig], Callable[[], asyncio.Protocol]],
    validate: Callable[[argparse.Namespace], str | None] | None = None,
) -> int:
    """Parse options, start the server, print READY, serve until SIGTERM/SIGINT, print stats."""
    args = parser.parse_args(argv)
    if args.die_with_parent:
        die_with_parent()
    for name in ("latency", "jitter", "stall_seconds", "slow_seconds"):
        if getattr(args, name) < 0:
            return _fail(prog, f"--{name.replace('_', '-')} must be >= 0")
    if not 0 <= args.port <= 65535:
        return _fail(prog, "--port must be in 0..65535")
    problem = validate(args) if validate is not None else None
    if problem:
        return _fail(prog, problem)
    if (args.tls_cert or args.tls_key or args.tls_dir) and not args.tls:
        return _fail(prog, "--tls-cert, --tls-key and --tls-dir need --tls")
    if bool(args.tls_cert) != bool(args.tls_key):
        return _fail(prog, "--tls-cert and --tls-key go together")
    try:
        rates: dict[str, float] = {}
        for text in args.fault:
            kind, rate = parse_fault(text, fault_kinds)
            rates[kind] = rate
        plan = FaultPlan(rates, seed=args.seed)
    except FaultSpecError as exc:
        return _fail(prog, str(exc))
    timing = Timing(
        args.latency,
        args.jitter,
        args.stall_seconds,
        args.slow_seconds,
        16,
        random.Random(args.seed),
    )
    try:
        late = Lateness(args.timer_stats)
    except OSError as exc:
        return _fail(prog, f"cannot write --timer-stats {args.timer_stats}: {exc.strerror}")
    config = ServerConfig(args, timing, plan, ServerStats(), late)
    with contextlib.ExitStack() as stack:  # owns the throw-away CA's directory, if any
        ssl_context = None
        if args.tls:
            try:
                ssl_context, config.ca_file = _tls_setup(args, stack)
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                return _fail(prog, f"cannot set up TLS: {exc}")
            scheme = TLS_SCHEMES[scheme]
        try:
            loop = new_event_loop(args.loop)
        except ImportError:
            return _fail(
                prog, "uvloop is not installed: pip install uvloop, or pass --loop asyncio"
            )
        raise_nofile_limit()
        try:
            return loop.run_until_complete(
                _serve(prog, scheme, loop, config, protocol_factory, ssl_context)
            )
        finally:
            loop.close()


TLS_SCHEMES = {"http": "https", "tcp": "tls", "ws": "wss"}


def _tls_setup(
    args: argparse.Namespace, stack: contextlib.ExitStack
) -> tuple[ssl.SSLContext, str | None]:
    """The server's SSL context, and the path of the CA certificate clients must trust (None when
    the user brought their own certificate)."""
    import tempfile
    from pathlib import Path

    from servers.tls import make_ca, server_context

    if args.tls_cert:
        return server_context(Path(args.tls_cert), Path(args.tls_key)), None
    if args.tls_dir:
        directory = Path(args.tls_dir)
    else:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workbench-ca-")))
    files = make_ca(directory)
    return server_context(files.cert, files.key), str(files.ca)


async def _serve(
    prog: str,
    scheme: str,
    loop: asyncio.AbstractEventLoop,
    config: ServerConfig,
    protocol_factory: Callable[[ServerConfig], Callable[[], asyncio.Protocol]],
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    import signal

    args = config.args
    config.timers = Timers(loop)
    try:
        server = await loop.create_server(
            protocol_factory(config),
            args.host,
            args.port,
            backlog=args.backlog,
            reuse_address=True,
            ssl=ssl_context,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(prog, f"port {args.port} is already in use on {args.host}")
        return _fail(prog, f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    sockname = server.sockets[0].getsockname()
    host = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
    stop: asyncio.Future[int] = loop.create_future()

    def on_signal(signum: int) -> None:
        if not stop.done():
            stop.set_result(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, int(sig))
    ca = f" ca={config.ca_file}" if config.ca_file else ""
    print(f"READY {scheme}://{host}:{sockname[1]}{ca}", flush=True)
    signum = await stop
    server.close()
    report = {"event": "stopped", "signal": signum, "cpu_s": round(cpu_seconds(), 4)}
    report.update(config.stats.as_dict())
    report["timer_late"] = config.late.summary(config.timing.latency)
    print(json.dumps(report), flush=True)
    return 0
