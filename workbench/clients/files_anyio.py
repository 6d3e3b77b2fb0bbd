"""anyio file APIs (either backend): `anyio-file` (`anyio.open_file`, a hop per call) and
`anyio-path` (`anyio.Path.read_bytes`/`write_bytes`, one hop per file)."""

from __future__ import annotations

import os

import anyio
import anyio.to_thread

from workbench.clients.files_base import AsyncFileClient, noop, read_async


class AnyioFileClient(AsyncFileClient):
    async def hop(self) -> None:
        await anyio.to_thread.run_sync(noop)

    async def read(self, path: str, chunk: int | None) -> bytes:
        async with await anyio.open_file(path, "rb", buffering=0) as f:
            return await read_async(f, chunk)

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        async with await anyio.open_file(path, "xb", buffering=0) as f:
            await f.write(data)
            if fsync:
                await anyio.to_thread.run_sync(os.fsync, f.wrapped.fileno())


class AnyioPathClient(AnyioFileClient):
    opens_file = False

    async def read(self, path: str, chunk: int | None) -> bytes:
        return await anyio.Path(path).read_bytes()

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        await anyio.Path(path).write_bytes(data)  # Path has no fsync: that costs another hop
        if fsync:
            await anyio.to_thread.run_sync(_fsync_path, path)


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
