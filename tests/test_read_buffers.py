"""No raw client allocates a large buffer per operation (in-process, the fast loop).

A read buffer allocated afresh for every operation measures glibc's malloc, not the model: at or
past its mmap threshold (128 KiB by default) every such read is a fresh mmap, mremap and munmap,
two page faults an operation. Two witnesses, over a few hundred exchanges after the first ones
(which may size what a connection keeps):
- the page faults of the client's own thread (the echo peer runs on others): the symptom itself;
- for the blocking client, which allocates nothing of its own per read, tracemalloc's peak: what
  the interpreter allocated at once. (An event loop allocates for itself too, so its peak says
  less: trio's wandered between 70 and 140 KiB with the same client.)
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import platform
import resource
import socket
import socketserver
import threading
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator

import anyio
import pytest
import trio
import uvloop

from workbench.clients.base import AsyncClient, ClientContext
from workbench.clients.raw_anyio import AnyioStreamClient
from workbench.clients.raw_asyncio import BufferedProtocolClient, RawProtocolClient
from workbench.clients.raw_blocking import RawSocketClient, RawSocketConnection
from workbench.clients.raw_trio import TrioStreamClient
from workbench.workloads.base import Target
from workbench.workloads.echo import EchoWorkload

EXCHANGES = 300


# glibc's mallopt: M_MMAP_THRESHOLD, and its default (128 KiB).
_M_MMAP_THRESHOLD = -3
GLIBC_THRESHOLD = 128 * 1024


@pytest.fixture(autouse=True, scope="module")
def glibc_threshold_pinned() -> None:
    """glibc's mmap threshold pinned at its default. Left dynamic, it rises after any large block
    is freed whole, and then a 256 KiB read stops mapping for the rest of the process: whether
    the old reads faulted would depend on which tests ran before. Pinned, the test sees what a
    fresh worker does (`--env MALLOC_MMAP_THRESHOLD_=131072` measured the same)."""
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the page faults counted here are glibc's mmap threshold at work")
    assert ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, GLIBC_THRESHOLD) == 1


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        buf = bytearray(4096)
        while n := sock.recv_into(buf):
            sock.sendall(buf[:n])


@pytest.fixture
def echo_peer() -> Iterator[int]:
    """A TCP echo server on a thread of this process (the fast loop starts no process)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _context(port: int) -> ClientContext:
    return ClientContext(EchoWorkload(Target("tcp", "127.0.0.1", port), 100), 1, 5.0)


@contextlib.contextmanager
def _peak() -> Iterator[list[int]]:
    """The most allocated at once inside the block, over what was allocated when it began."""
    out: list[int] = []
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        yield out
        out.append(tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()


def _blocking_peak(port: int) -> int:
    client = RawSocketClient(_context(port))
    conn = client.connection()
    try:
        conn.op()  # connects
        with _peak() as peak:
            for _ in range(EXCHANGES):
                conn.op()
    finally:
        conn.close()
        client.close()
    return peak[0]


def _thread_faults() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


async def _async_faults(client: AsyncClient) -> int:
    """Minor page faults of this thread (the loop's) over EXCHANGES operations."""
    await client.start()
    conn = client.connection()
    try:
        for _ in range(20):  # connects, and warms what the loop itself sizes once
            await conn.op()
        before = _thread_faults()
        for _ in range(EXCHANGES):
            await conn.op()
        return _thread_faults() - before
    finally:
        await conn.aclose()
        await client.aclose()


def _on(runner: str) -> Callable[[Callable[[], Awaitable[int]]], int]:
    def run(main: Callable[[], Awaitable[int]]) -> int:
        if runner == "trio":
            return trio.run(main)
        if runner == "anyio-trio":
            return anyio.run(main, backend="trio")
        loop = uvloop.new_event_loop() if runner == "uvloop" else asyncio.new_event_loop()
        try:
            return loop.run_until_complete(main())
        finally:
            loop.close()

    return run


ASYNC = [
    ("trio", TrioStreamClient),
    ("anyio-trio", AnyioStreamClient),
    ("uvloop", RawProtocolClient),
    ("asyncio", BufferedProtocolClient),
    ("uvloop", BufferedProtocolClient),
]


def test_the_blocking_raw_client_reads_into_a_buffer_it_keeps(echo_peer: int) -> None:
    # recv(256 KiB) per operation, as this client once read, peaks at 256 KiB here and faults
    # twice an operation.
    before = _thread_faults()
    peak = _blocking_peak(echo_peer)
    assert peak < 8 * 1024
    assert _thread_faults() - before < EXCHANGES / 10


@pytest.mark.parametrize(("runner", "cls"), ASYNC, ids=[f"{r}·{c.__name__}" for r, c in ASYNC])
def test_no_async_raw_client_maps_a_read_buffer_per_operation(
    echo_peer: int, runner: str, cls: type[AsyncClient]
) -> None:
    faults = _on(runner)(lambda: _async_faults(cls(_context(echo_peer))))
    assert faults < EXCHANGES / 10, f"{faults} page faults in {EXCHANGES} operations"


def test_the_kept_buffer_grows_for_large_answers_and_then_stays(echo_peer: int) -> None:
    """A 200 KiB echo fills the first page: the buffer grows to what the reads need, once, and
    later exchanges allocate only the answers they copy out."""
    ctx = ClientContext(EchoWorkload(Target("tcp", "127.0.0.1", echo_peer), 200 * 1024), 1, 5.0)
    conn = RawSocketConnection(ctx)
    try:
        for _ in range(3):
            assert conn.op() == 2 * len(ctx.workload.exchange().request)
        kept = conn.buffer
        assert len(kept) > 4096
        conn.op()
        assert conn.buffer is kept
    finally:
        conn.close()
