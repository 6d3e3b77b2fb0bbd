"""`os` file API (blocking family): plain open/read/write, in the user's own thread."""

from __future__ import annotations

from workbench.clients.files_base import BlockingFileClient, read_file, write_file


class OsFileClient(BlockingFileClient):
    def read(self, path: str, chunk: int | None) -> bytes:
        return read_file(path, chunk)

    def write(self, path: str, data: bytes, fsync: bool) -> None:
        write_file(path, data, fsync)
