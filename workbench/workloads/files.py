"""Disk workloads: `file-read` (a whole file), `file-read-chunked` (fixed-size reads until EOF) and
`file-write` (a new file, optionally fsync'd). Written once: a user asks for its next job, performs
it with its file API (see `workbench.clients.files_base`), and hands the bytes back to be checked.

Checks: the length of every read, and the CRC-32 of every VERIFY_EVERY-th read (a CRC of 1 MiB
costs about five cached reads of it, so checking every read would measure zlib); every file
written is read back and compared after the window. Cache states: `warm` (the set is read once
before the users start) and `cold` (each read is preceded by POSIX_FADV_DONTNEED on its file,
from the user's own thread; eviction is checked with `fincore` before the window).
"""

from __future__ import annotations

import collections
import itertools
import os
import random
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import fileset
from workbench.errors import UsageError
from workbench.workloads.base import Exchange, Target, UserDone, Workload, WorkloadError

if TYPE_CHECKING:
    from workbench.workloads import WorkloadSettings

CACHE_STATES = ("warm", "cold")
VERIFY_EVERY = 64
# Warm-up may spend this share of the write budget on new files; past it, warm-up recycles its
# oldest file, so a fast disk cannot spend the whole budget before the window opens.
WARMUP_BUDGET_SHARE = 0.25
EVICTION_SAMPLE = 32


@dataclass(frozen=True)
class FileOptions:
    """What a worker needs to rebuild a disk workload (travels as JSON)."""

    set_dir: str
    chunk: int = 64 * 1024
    cache: str = "warm"
    fsync: bool = False
    scratch: str | None = None  # where file-write creates its files
    write_budget: int = 2 << 30  # bytes a cell may write, split over its processes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FileWorkload(Workload):
    def __init__(self, name: str, options: FileOptions, share: float = 1.0) -> None:
        # No network target: the "target" is the file set's directory.
        super().__init__(Target("file", "localhost", 0, options.set_dir))
        self.name = name  # type: ignore[misc]
        self.options = options
        fs = fileset.load(Path(options.set_dir))
        if fs is None:
            raise UsageError(f"no file set at {options.set_dir}: run `workbench files generate`")
        self.fileset = fs
        self.paths = [fs.path(e) for e in fs.files]
        self.sizes = [e.size for e in fs.files]
        self.crcs = [e.crc32 for e in fs.files]
        self.writes = name == "file-write"
        self.chunk: int | None = options.chunk if name == "file-read-chunked" else None
        self.cold = options.cache == "cold" and not self.writes
        self.fsync = options.fsync
        # Users share one cursor; each process starts somewhere else in the set.
        self._cursor = itertools.count(random.randrange(len(self.paths))).__next__
        self._checks = itertools.count().__next__
        self._budget = int(options.write_budget * share)
        self._warmup_budget = int(self._budget * WARMUP_BUDGET_SHARE)
        self.written: collections.deque[tuple[str, int]] = collections.deque()
        self.written_bytes = 0
        self.budget_spent = False
        self._data = {s: fileset.file_content(0, s, fs.content) for s in set(self.sizes)}
        self.extras: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, settings: WorkloadSettings) -> FileWorkload:
        if settings.files is None:
            raise UsageError(f"workload {settings.name!r} needs a file set")
        return cls(settings.name, FileOptions(**settings.files), settings.share)

    def exchange(self) -> Exchange:
        raise TypeError("file workloads have no network exchange")

    # The operations' two halves (no I/O of their own).

    def next_read(self) -> int:
        return self._cursor() % len(self.paths)

    def check_read(self, index: int, data: bytes | bytearray) -> int:
        size = self.sizes[index]
        if len(data) != size:
            raise WorkloadError("short-read", f"read {len(data)} bytes of a {size}-byte file")
        if self._checks() % VERIFY_EVERY == 0 and zlib.crc32(data) != self.crcs[index]:
            raise WorkloadError("corrupt-read", f"{self.paths[index]} does not match its CRC-32")
        return size

    def next_write(self) -> tuple[str, bytes]:
        if self.written_bytes >= self._warmup_budget and not self.window_started():
            try:
                path, size = self.written.popleft()  # a deque: no two users get the same file
            except IndexError:
                pass  # every file so far is still being written: make a new one
            else:
                # The one system call in this half: the path must be free for the create-new
                # that every file API performs, and this is warm-up, outside every measurement.
                os.unlink(path)
                return path, self._data[size]
        if self.written_bytes >= self._budget:
            self.budget_spent = True
            raise UserDone
        seq = self._checks()
        data = self._data[self.sizes[seq % len(self.sizes)]]
        self.written_bytes += len(data)  # reserved before the write, so users never overshoot
        return os.path.join(self.options.scratch or "", f"w{os.getpid()}-{seq}.bin"), data

    def wrote(self, path: str, size: int) -> int:
        self.written.append((path, size))
        return size

    # Outside the window.

    def prepare(self) -> None:
        """Before the users start: warm the cache, or evict it and check that eviction took."""
        self.extras["filesystem"] = fileset.filesystem_of(Path(self.options.set_dir))
        if self.writes:
            if not self.options.scratch or not os.path.isdir(self.options.scratch):
                raise UsageError("file-write needs a scratch directory")
            return
        if self.cold:
            for path in self.paths:
                fileset.evict(path, flush=True)
            sample = self.paths[:: max(1, len(self.paths) // EVICTION_SAMPLE)]
            resident = fileset.resident_bytes(sample)
            self.extras["resident_after_evict"] = resident
            self.extras["evicted"] = None if resident is None else resident == 0
        else:
            fileset.warm(self.paths)

    def finish(self) -> tuple[dict[str, Any], dict[str, int]]:
        """After the window: read back every file written. Returns (extras, errors by kind)."""
        errors: dict[str, int] = {}
        bad = 0
        for path, size in self.written:
            try:
                with open(path, "rb", buffering=0) as f:
                    ok = f.read() == self._data[size]
            except OSError:
                ok = False
            bad += not ok
        if bad:
            errors["write-verify"] = bad
        extras = dict(self.extras)
        if self.writes:
            extras.update(written_files=len(self.written), written_bad=bad)
            extras["budget_spent"] = self.budget_spent
        return extras, errors

    def describe(self) -> dict[str, Any]:
        verify = (
            "every file written read back after the window"
            if self.writes
            else f"length of every read; CRC-32 of every {VERIFY_EVERY}th"
        )
        return {
            "name": self.name,
            "files": self.fileset.describe(),
            "chunk": self.chunk,
            "cache": None if self.writes else self.options.cache,
            "fsync": self.fsync if self.writes else None,
            "verify": verify,
        }
