"""The allocator as a dimension of a run (`--allocator`), and the name a row's allocator goes by.

Under glibc's defaults a read buffer at or past the mmap threshold (128 KiB) is a fresh mmap,
mremap and munmap per read: the stdlib asyncio transport's `recv(256 KiB)` pays it on every
operation (python/cpython#85451), and it halved the default loop's rate here. So a run can name
the allocator its workers get, and every row says which it had:
- `default`: the interpreter's own, as the user's environment leaves it;
- `no-mmap`: glibc's mmap threshold raised to 1 MiB and its trim threshold to 256 MiB, so a
  256 KiB read comes from the heap and stays there;
- `mimalloc`: `PYTHONMALLOC=mimalloc`, built into CPython 3.13 and newer (and the free-threaded
  build's only allocator);
- `pymalloc`: `PYTHONMALLOC=pymalloc`, the GIL build's default, named to set it explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping

from workbench.errors import UsageError

ALLOCATORS: dict[str, dict[str, str]] = {
    "default": {},
    "no-mmap": {"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "268435456"},
    "mimalloc": {"PYTHONMALLOC": "mimalloc"},
    "pymalloc": {"PYTHONMALLOC": "pymalloc"},
}
# What an allocator setting in a worker's environment starts with (recorded with every row).
PREFIXES = ("MALLOC_", "PYTHONMALLOC", "LD_PRELOAD", "GLIBC_TUNABLES")


def parse_allocators(text: str) -> list[str]:
    """`--allocator default,no-mmap`: the names, checked, in order, each once."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in ALLOCATORS]
    if unknown or not names:
        raise UsageError(
            f"--allocator {text!r}: unknown {', '.join(unknown) or 'empty'}; "
            f"choose from {', '.join(ALLOCATORS)}"
        )
    return names


def check_allocator(name: str, version: str, free_threaded: bool, where: str) -> None:
    """Refuse an allocator the interpreter does not have, in one line."""
    major_minor = tuple(int(p) for p in version.split(".")[:2])
    if name == "mimalloc" and major_minor < (3, 13):
        raise UsageError(
            f"--allocator mimalloc needs CPython 3.13 or newer; {where} is {version} "
            "(try --allocator no-mmap, or --python 3.13)"
        )
    if name == "pymalloc" and free_threaded:
        raise UsageError(
            f"--allocator pymalloc: {where} is free-threaded, and its only allocator is mimalloc"
        )


def allocator_name(env: Mapping[str, str]) -> str:
    """What a worker's allocator settings are called: a preset's name, else the settings."""
    mine = {k: v for k, v in env.items() if k.startswith(PREFIXES)}
    for name, preset in ALLOCATORS.items():
        if mine == preset:
            return name
    return " ".join(f"{k}={v}" for k, v in sorted(mine.items()))
