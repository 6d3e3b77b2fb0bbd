"""Deterministic payloads: a client can verify every byte it receives without a side channel."""

from __future__ import annotations

from functools import lru_cache

_PATTERN = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n"


@lru_cache(maxsize=64)
def body_bytes(size: int) -> bytes:
    """The body the mock HTTP server sends for `size` bytes: a repeating 64-byte pattern."""
    if size < 0:
        raise ValueError("size must be >= 0")
    reps, rest = divmod(size, len(_PATTERN))
    return _PATTERN * reps + _PATTERN[:rest]
