"""Sets of files for the disk workloads: generate once, describe in a manifest, reuse.

A set lives in its own directory under the user's `--dir`, named by its settings
(`wb-256x1MiB-random`), with `manifest.json` listing every file's name, size and CRC-32. Running
`generate` again with the same settings reuses the set when the manifest and the files' sizes agree.
The generator writes only inside the set's directory, and deletes only files that carry its marker
and are named in its own manifest: nothing it did not create.

Page-cache helpers live here too: evicting a file's pages without root (POSIX_FADV_DONTNEED), asking
how much of it is resident (`fincore`, from util-linux), and what filesystem holds a directory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import random
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import UsageError
from workbench.units import size_label

MANIFEST = "manifest.json"
MARKER = ".workbench-fileset"  # present only in directories this module created
CONTENTS = ("random", "compressible")
MEMORY_FILESYSTEMS = ("tmpfs", "ramfs", "devtmpfs")


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workbench" / "files"


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    crc32: int


@dataclass(frozen=True)
class FileSet:
    directory: Path
    sizes: tuple[int, ...]
    count: int
    content: str
    files: tuple[FileEntry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def path(self, entry: FileEntry) -> str:
        return str(self.directory / entry.name)

    def describe(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "count": self.count,
            "sizes": list(self.sizes),
            "content": self.content,
            "total_bytes": self.total_bytes,
        }


def set_name(count: int, sizes: tuple[int, ...], content: str) -> str:
    return f"wb-{count}x{'+'.join(size_label(s) for s in sizes)}-{content}"


def file_content(index: int, size: int, content: str) -> bytes:
    """The bytes of file `index`: seeded, so a set can be regenerated identically."""
    rng = random.Random(index * 1_000_003 + size)
    if content == "random":
        return rng.randbytes(size)
    # Compressible: text-like lines with a little variation (zlib gets about 5:1 on it).
    words = [b"alpha", b"bravo", b"charlie", b"delta", b"echo", b"foxtrot", b"golf", b"hotel"]
    out = bytearray()
    line = 0
    while len(out) < size:
        out += b"%08d " % line + b" ".join(rng.choice(words) for _ in range(10)) + b"\n"
        line += 1
    return bytes(out[:size])


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {directory}: {exc.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"directory {directory} is not writable")


def load(directory: Path) -> FileSet | None:
    """The set described by `directory`'s manifest, if every file is there at its size."""
    try:
        doc = json.loads((directory / MANIFEST).read_text())
        files = tuple(FileEntry(f["name"], int(f["size"]), int(f["crc32"])) for f in doc["files"])
        fs = FileSet(directory, tuple(doc["sizes"]), int(doc["count"]), doc["content"], files)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for entry in fs.files:
        try:
            if (directory / entry.name).stat().st_size != entry.size:
                return None
        except OSError:
            return None
    return fs


def generate(root: Path, count: int, sizes: tuple[int, ...], content: str = "random") -> FileSet:
    """The set of `count` files cycling through `sizes`, under `root`; reused if already there."""
    if count < 1:
        raise UsageError(f"--count must be at least 1 (got {count})")
    if not sizes or any(s < 1 for s in sizes):
        raise UsageError("file sizes must be at least 1 byte")
    if content not in CONTENTS:
        raise UsageError(f"unknown content {content!r}; choose from {', '.join(CONTENTS)}")
    root = root.expanduser().absolute()
    _check_writable(root)
    directory = root / set_name(count, sizes, content)
    if directory.is_symlink():
        raise UsageError(f"{directory} is a symbolic link; refusing to write through it")
    # One maker at a time: two processes asking for the same set at once (cluster workers on one
    # machine) would otherwise see each other's half-made directory, or move each other's
    # manifest (both seen in the cluster test). The second one waits, then finds the set made.
    with open(root / f".{directory.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _generate(directory, count, sizes, content)


def _generate(directory: Path, count: int, sizes: tuple[int, ...], content: str) -> FileSet:
    existing = load(directory)
    if existing is not None:
        return existing
    if directory.exists() and not (directory / MARKER).exists():
        raise UsageError(f"{directory} exists and was not made by the workbench; not touching it")
    directory.mkdir(exist_ok=True)
    (directory / MARKER).write_text("made by workbench; safe to delete\n")
    entries = []
    try:
        for i in range(count):
            size = sizes[i % len(sizes)]
            data = file_content(i, size, content)
            name = f"f{i:06d}.bin"
            _write_new(directory / name, data)
            entries.append(FileEntry(name, size, zlib.crc32(data)))
    except OSError as exc:
        _remove_own(directory, entries)
        if exc.errno == errno.ENOSPC:
            raise UsageError(f"no space left on the device holding {directory}") from None
        raise UsageError(f"cannot write files in {directory}: {exc.strerror}") from None
    doc = {
        "count": count,
        "sizes": list(sizes),
        "content": content,
        "files": [{"name": e.name, "size": e.size, "crc32": e.crc32} for e in entries],
    }
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, directory / MANIFEST)
    return FileSet(directory, sizes, count, content, tuple(entries))


def _write_new(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _remove_own(directory: Path, entries: list[FileEntry]) -> None:
    """Remove what a failed generation wrote: only the files it named, then the empty directory."""
    for e in entries:
        (directory / e.name).unlink(missing_ok=True)
    for leftover in directory.glob("f*.bin"):
        if leftover.name not in {e.name for e in entries}:
            leftover.unlink(missing_ok=True)  # the half-written file of the failing write
    (directory / MARKER).unlink(missing_ok=True)
    (directory / f".{MANIFEST}.tmp").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        directory.rmdir()


def remove(directory: Path) -> int:
    """Delete a set this module created; refuses any directory without its marker."""
    directory = directory.absolute()
    if not (directory / MARKER).is_file() or directory.is_symlink():
        raise UsageError(f"{directory} is not a file set made by the workbench; not deleting it")
    fs = load(directory)
    names = {e.name for e in fs.files} if fs is not None else set()
    removed = 0
    for name in names:
        (directory / name).unlink(missing_ok=True)
        removed += 1
    for extra in (MANIFEST, MARKER):
        (directory / extra).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        directory.rmdir()  # files someone else put there stay
    directory.with_name(f".{directory.name}.lock").unlink(missing_ok=True)  # generate's
    return removed


def scratch_dir(root: Path) -> Path:
    """A fresh directory for the written files of one cell (removed by `remove_scratch`)."""
    import tempfile

    _check_writable(root)
    path = Path(tempfile.mkdtemp(prefix="wb-write-", dir=root))
    (path / MARKER).write_text("scratch for one cell\n")
    return path


def remove_scratch(path: Path) -> None:
    if (path / MARKER).is_file() and path.name.startswith("wb-write-") and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


# Page cache.


def evict(path: str, flush: bool = False) -> None:
    """Drop a file's pages from the page cache; no root needed. DONTNEED skips dirty pages, so
    `flush` writes them out first (a file just generated is still dirty)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if flush:
            os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm(paths: list[str]) -> None:
    """Read every file once, so its pages are in the page cache."""
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            f.read()


def resident_bytes(paths: list[str]) -> int | None:
    """Bytes of these files in the page cache, from util-linux `fincore`; None if unavailable."""
    exe = shutil.which("fincore")
    if exe is None or not paths:
        return None
    try:
        out = subprocess.run(
            [exe, "--bytes", "--noheadings", "--output", "RES", *paths],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(int(v) for v in out.split())


def filesystem_of(path: Path) -> str:
    """The type of the filesystem holding `path` (longest mount point that contains it)."""
    target = str(path.resolve())
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mount = parts[1].replace("\\040", " ")
                inside = target == mount or target.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best):
                    best, kind = mount, parts[2]
    except OSError:
        pass
    return kind
