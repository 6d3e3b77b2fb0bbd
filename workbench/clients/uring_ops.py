"""io_uring file operations as small state machines that do no I/O (h11's lesson): each says
which submissions its next round needs (`steps`) and reads their results (`finish`). Each round
is one chain on one fixed-file slot: `open -> read(s) -> close` (or `open -> write -> fsync ->
close`). The ring that submits them is `uring_ring.Ring`; these know nothing of the binding."""

from __future__ import annotations

import errno
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Kernel ABI values (linux/io_uring.h): stable, and the binding keeps them in Cython enums that
# its module does not export.
IOSQE_FIXED_FILE = 1 << 0
IOSQE_IO_LINK = 1 << 2
IOSQE_IO_HARDLINK = 1 << 3
FIRST_READ = 64 * 1024  # a whole-file read's first guess, before any file was read
# Each further round of a read asks for this many times more: 1 MiB in 3 rounds, not 5 (+25%
# on 1 MiB files here, where doubling was measured).
GROWTH = 4
MAX_READS = 32  # reads one round may link


class OpError(OSError):
    """An operation's first failed step, with the kernel's errno."""


# One submission of a round: (what, argument, flags). What: "open" (path, open flags, mode),
# "read" (a writable buffer, file offset), "write" (bytes, file offset), "fsync", "close"; all on
# the round's fixed-file slot. Plain tuples: the ops stay free of the binding, and cheap.
Step = tuple[str, Any, int]


@dataclass(eq=False)
class FileOp(ABC):
    """An operation in rounds. `steps()` gives the next round's chain; `finish(results)` reads
    its results (one per step, a negative errno on failure) and says whether the op is done."""

    result: Any = None
    error: BaseException | None = None
    abandoned: bool = False  # its waiter went away (cancelled): finish the round, then stop
    on_done: Callable[[FileOp], None] | None = field(default=None, repr=False)

    @abstractmethod
    def steps(self) -> list[Step]: ...

    @abstractmethod
    def finish(self, results: list[int]) -> bool: ...

    def fail(self, step: str, res: int) -> bool:
        self.error = OpError(-res, f"{step}: {os.strerror(-res)}")
        return True


class ReadFile(FileOp):
    """A whole file, or `chunk`-sized reads until EOF, into one buffer that becomes the result.

    Each round opens the file, links its reads (a short read ends the chain, as EOF ends a read
    loop) and closes it. The size is not known (asking first, with statx, would cost every file
    a round of its own), so a whole-file read asks for `first` bytes, a guess: the caller's last
    file size plus one, say. A round whose reads were all full is followed by another, from
    where it stopped, asking for GROWTH times more (or making GROWTH times as many reads)."""

    def __init__(self, path: str, chunk: int | None, first: int = FIRST_READ) -> None:
        super().__init__()
        self.path = os.fsencode(path)
        self.chunk = chunk
        self.first = max(1, first)
        self.offset = 0
        self.rounds = 0
        self.buf = bytearray()
        self.reads: list[int] = []

    def steps(self) -> list[Step]:
        if self.chunk:
            self.reads = [self.chunk] * min(MAX_READS, GROWTH**self.rounds)
        else:
            self.reads = [self.first * GROWTH**self.rounds]
        # Grown between rounds only, while the kernel holds no pointer into it.
        need = self.offset + sum(self.reads)
        if self.buf:
            self.buf.extend(bytes(need - len(self.buf)))
        else:
            self.buf = bytearray(need)
        view, at = memoryview(self.buf), self.offset
        steps: list[Step] = [("open", (self.path, os.O_RDONLY, 0), IOSQE_IO_LINK)]
        for i, size in enumerate(self.reads):
            # Soft links: a short read cancels the reads after it. Hard before the close, so
            # that the close runs whatever the last read returned.
            link = IOSQE_IO_HARDLINK if i == len(self.reads) - 1 else IOSQE_IO_LINK
            steps.append(("read", (view[at : at + size], at), link))
            at += size
        steps.append(("close", None, 0))
        return steps

    def finish(self, results: list[int]) -> bool:
        self.rounds += 1
        if results[0] < 0:
            return self.fail("open", results[0])
        got = 0
        for want, res in zip(self.reads, results[1:-1], strict=True):
            if res < 0:
                if res == -errno.ECANCELED:
                    break  # after a short read: the file had ended
                return self.fail("read", res)
            got += res
            if res < want:
                break
        self.offset += got
        if got == sum(self.reads) and not self.abandoned:
            return False  # every read was full: the file may go on
        # The buffer itself, cut to what was read: no copy (a bytearray, which the caller owns).
        del self.buf[self.offset :]
        self.result = self.buf
        return True


class WriteFile(FileOp):
    """Create `path` (it must not exist), write `data`, fsync if asked, close: one hard-linked
    chain, so the close runs even when a step before it fails."""

    def __init__(self, path: str, data: bytes, fsync: bool) -> None:
        super().__init__()
        self.path = os.fsencode(path)
        self.data = data
        self.fsync = fsync

    def steps(self) -> list[Step]:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        steps: list[Step] = [
            ("open", (self.path, flags, 0o644), IOSQE_IO_HARDLINK),
            ("write", (self.data, 0), IOSQE_IO_HARDLINK),
        ]
        if self.fsync:
            steps.append(("fsync", None, IOSQE_IO_HARDLINK))
        steps.append(("close", None, 0))
        return steps

    def finish(self, results: list[int]) -> bool:
        names = [*["open", "write", "fsync"][: len(results) - 1], "close"]
        for name, res in zip(names, results, strict=True):
            if res < 0:
                return self.fail(name, res)
        if results[1] != len(self.data):
            self.error = OpError(errno.EIO, f"short write: {results[1]} of {len(self.data)}")
        self.result = len(self.data)
        return True


class CloseSlot(FileOp):
    """The close a broken chain skipped, on the same slot."""

    def steps(self) -> list[Step]:
        return [("close", None, 0)]

    def finish(self, results: list[int]) -> bool:
        return True
