"""trio file APIs: `trio-file` (`trio.open_file`, a hop per call) and `trio-path`
(`trio.Path.read_bytes`/`write_bytes`, one hop per file)."""

from __future__ import annotations

import os

import trio

from workbench.clients.files_anyio import _fsync_path
from workbench.clients.files_base import AsyncFileClient, noop, read_async


class TrioFileClient(AsyncFileClient):
    async def hop(self) -> None:
        await trio.to_thread.run_sync(noop)

    async def read(self, path: str, chunk: int | None) -> bytes:
        async with await trio.open_file(path, "rb", buffering=0) as f:
            return await read_async(f, chunk)

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        async with await trio.open_file(path, "xb", buffering=0) as f:
            await f.write(data)
            if fsync:
                await trio.to_thread.run_sync(os.fsync, f.wrapped.fileno())


class TrioPathClient(TrioFileClient):
    opens_file = False

    async def read(self, path: str, chunk: int | None) -> bytes:
        return await trio.Path(path).read_bytes()

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        await trio.Path(path).write_bytes(data)
        if fsync:
            await trio.to_thread.run_sync(_fsync_path, path)
