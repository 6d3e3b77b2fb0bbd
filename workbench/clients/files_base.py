"""The shape of a file API client: how it reads a file and writes one, nothing more.

The operation around it (which file, evict first when cold, check the bytes, count the write) is
written once per function colour here, so every file API of every model performs the same work.
Async APIs that hop to a worker thread also say how many hops an operation takes and what one
costs (measured once per worker, on an empty function, before the users start).
"""

from __future__ import annotations

import os
import statistics
import time
from abc import abstractmethod
from typing import Protocol

from workbench.clients.base import (
    AsyncClient,
    AsyncConnection,
    BlockingClient,
    BlockingConnection,
    ClientContext,
)
from workbench.fileset import evict
from workbench.workloads.files import FileWorkload

HOP_SAMPLES = 200


def hops_per_read(opens_file: bool, size: int, chunk: int | None) -> int:
    """Thread hops of one read of a `size`-byte file: open and close are one each, and every
    read call is one (the last read returns b"" at EOF)."""
    if not opens_file:
        return 1
    reads = 1 if chunk is None else size // chunk + 1
    return 2 + reads


def noop() -> None:
    return None


class BlockingFileClient(BlockingClient):
    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, FileWorkload)
        self.workload = ctx.workload

    def connection(self) -> BlockingConnection:
        return BlockingFileUser(self)

    @abstractmethod
    def read(self, path: str, chunk: int | None) -> bytes:
        """The whole file; in `chunk`-sized reads if chunk is given."""

    @abstractmethod
    def write(self, path: str, data: bytes, fsync: bool) -> None:
        """Create `path` (it must not exist), write `data`, fsync if asked, close."""


class BlockingFileUser(BlockingConnection):
    def __init__(self, client: BlockingFileClient) -> None:
        self.client = client
        self.wl = client.workload

    def op(self) -> int:
        wl = self.wl
        if wl.writes:
            path, data = wl.next_write()
            self.client.write(path, data, wl.fsync)
            return wl.wrote(path, len(data))
        index = wl.next_read()
        path = wl.paths[index]
        if wl.cold:
            evict(path)
        return wl.check_read(index, self.client.read(path, wl.chunk))


class AsyncFileClient(AsyncClient):
    opens_file = True  # False: one hop per operation (the API reads a whole file in one call)
    hops = True  # False: the API never leaves the loop's thread (io_uring)

    def __init__(self, ctx: ClientContext) -> None:
        super().__init__(ctx)
        assert isinstance(ctx.workload, FileWorkload)
        self.workload = ctx.workload

    async def start(self) -> None:
        wl = self.workload
        if not self.hops:
            wl.extras["hops_per_op"] = 0
            return
        costs = []
        for _ in range(HOP_SAMPLES):
            t0 = time.perf_counter_ns()
            await self.hop()
            costs.append(time.perf_counter_ns() - t0)
        wl.extras["hop_us"] = round(statistics.median(costs) / 1000, 2)
        if wl.writes:
            hops = (1 if not self.opens_file else 3) + (1 if wl.fsync else 0)
        else:
            size = max(wl.sizes)
            hops = hops_per_read(self.opens_file, size, wl.chunk)
        wl.extras["hops_per_op"] = hops

    def connection(self) -> AsyncConnection:
        return AsyncFileUser(self)

    async def hop(self) -> None:
        """One round trip to the API's worker thread with nothing to do."""
        raise NotImplementedError

    @abstractmethod
    async def read(self, path: str, chunk: int | None) -> bytes | bytearray:
        """The whole file (in `chunk`-sized reads if given); a bytearray where the API reads
        into a buffer the caller then owns (io_uring)."""

    @abstractmethod
    async def write(self, path: str, data: bytes, fsync: bool) -> None: ...


class AsyncFileUser(AsyncConnection):
    def __init__(self, client: AsyncFileClient) -> None:
        self.client = client
        self.wl = client.workload

    async def op(self) -> int:
        wl = self.wl
        if wl.writes:
            path, data = wl.next_write()
            await self.client.write(path, data, wl.fsync)
            return wl.wrote(path, len(data))
        index = wl.next_read()
        path = wl.paths[index]
        if wl.cold:
            evict(path)  # on the loop's thread: a short system call, the same for every API
        return wl.check_read(index, await self.client.read(path, wl.chunk))


class AsyncReadable(Protocol):
    async def read(self, size: int = -1, /) -> bytes: ...


async def read_async(f: AsyncReadable, chunk: int | None) -> bytes:
    """The whole of an open async file (aiofiles, anyio, trio), in `chunk`-sized reads if given:
    each read is one hop to a worker thread."""
    if chunk is None:
        return await f.read()
    parts = []
    while part := await f.read(chunk):
        parts.append(part)
    return b"".join(parts)


def read_file(path: str, chunk: int | None) -> bytes:
    """The plain blocking read every thread-hopping API ends up doing."""
    with open(path, "rb", buffering=0) as f:
        if chunk is None:
            return f.readall()
        parts = []
        while part := f.read(chunk):
            parts.append(part)
        return b"".join(parts)


def write_file(path: str, data: bytes, fsync: bool) -> None:
    with open(path, "xb", buffering=0) as f:
        f.write(data)
        if fsync:
            os.fsync(f.fileno())
