"""asyncio file APIs: `aiofiles` (a hop to the loop's default executor per call) and `to_thread`
(`asyncio.to_thread` around the whole blocking read or write: one hop per file)."""

from __future__ import annotations

import asyncio
import os

import aiofiles
import aiofiles.os

from workbench.clients.files_base import (
    AsyncFileClient,
    noop,
    read_async,
    read_file,
    write_file,
)


class AiofilesClient(AsyncFileClient):
    async def hop(self) -> None:
        # aiofiles runs each call with loop.run_in_executor(None, ...): the same hop.
        await asyncio.get_running_loop().run_in_executor(None, noop)

    async def read(self, path: str, chunk: int | None) -> bytes:
        async with aiofiles.open(path, "rb", buffering=0) as f:
            return await read_async(f, chunk)

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        async with aiofiles.open(path, "xb", buffering=0) as f:
            await f.write(data)
            if fsync:  # aiofiles has no fsync of its own; this is its documented wrap helper
                await aiofiles.os.wrap(os.fsync)(f.fileno())


class ToThreadClient(AsyncFileClient):
    opens_file = False

    async def hop(self) -> None:
        await asyncio.to_thread(noop)

    async def read(self, path: str, chunk: int | None) -> bytes:
        return await asyncio.to_thread(read_file, path, chunk)

    async def write(self, path: str, data: bytes, fsync: bool) -> None:
        await asyncio.to_thread(write_file, path, data, fsync)
