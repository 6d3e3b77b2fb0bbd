"""Parsing of the numbers users type: sizes (64, 16KiB, 1MiB, 1k) and durations (3, 500ms, 2s)."""

from __future__ import annotations

import re

from workbench.errors import UsageError

_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}  # fmt: skip
_TIME_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "m": 60.0, "min": 60.0}
_NUMBER = re.compile(r"^\s*([+-]?[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-zµ]*)\s*$", re.IGNORECASE)


def parse_size(text: str, what: str = "size") -> int:
    m = _NUMBER.match(text)
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _SIZE_UNITS:
        raise UsageError(f"{what} {text!r} is not a size (examples: 64, 16KiB, 1MiB, 2k)")
    value = float(m.group(1)) * _SIZE_UNITS[unit]
    if value != int(value):
        raise UsageError(f"{what} {text!r} is not a whole number of bytes")
    return int(value)


def parse_duration(text: str, what: str = "duration") -> float:
    m = _NUMBER.match(text)
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _TIME_UNITS:
        raise UsageError(f"{what} {text!r} is not a duration (examples: 3, 2.5s, 500ms, 20us)")
    return float(m.group(1)) * _TIME_UNITS[unit]


def parse_count(text: str, what: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a whole number") from None
    return value


def format_rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def size_label(size: int) -> str:
    """16384 -> 16KiB, 1048576 -> 1MiB; sizes that are not whole units stay in bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def parse_rate(text: str, what: str = "--rate") -> float:
    """Operations per second: 500, 2.5k, 1M."""
    m = _NUMBER.match(text)
    factors = {"": 1.0, "k": 1e3, "m": 1e6}
    unit = m.group(2).lower() if m else None
    if m is None or unit not in factors:
        raise UsageError(f"{what} {text!r} is not a rate (examples: 500, 2.5k, 1M)")
    return float(m.group(1)) * factors[unit]
