"""Small helpers the figure templates share: finding rows in a source's figures, lists in prose,
a fixed-width table, whether a target was met. Every number still goes through `fmt`."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from scripts._figures_reduce import rate_of
from workbench.units import size_label

Row = Mapping[str, Any]
Figures = Mapping[str, Any]
Template = Callable[[Figures], str]


def fmt(value: float | None, style: str) -> str:
    """A figure as the README writes it. Styles: `int` 61,391; `k` 56.4k; `x` 2.14x; `share`
    0.94; `pct` 4.8% of a fraction; `pct0` 5% of a fraction; `pm` ±10% (<1%) of a percentage;
    `s` seconds (84.6, or 130 from 100 up); `min` minutes from seconds; `ms` and `us` as the
    tables print them (0.064, 16.7; 3.2, 1,155); `f1`, `f2` fixed decimals."""
    if value is None:
        return "-"
    v = float(value)
    if style == "int":
        return f"{round(v):,}"
    if style == "k":
        return f"{v / 1000:.1f}k"
    if style == "x":
        return f"{v:.2f}x" if v < 10 else f"{v:.1f}x"
    if style == "share":
        return f"{v:.2f}"
    if style == "pct":
        return f"{v * 100:.1f}%"
    if style == "pct0":
        return f"{v * 100:.0f}%"
    if style == "pm":
        return "<1%" if v < 1 else f"±{v:.0f}%"
    if style == "s":
        return f"{v:.0f} s" if v >= 100 else f"{v:.1f} s"
    if style == "min":
        return f"{v / 60:.0f} minutes"
    if style == "ms":
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"
    if style == "us":
        return f"{v:.1f}" if v < 100 else f"{round(v):,}"
    if style in ("f1", "f2"):
        return f"{v:.{style[1]}f}"
    raise ValueError(f"unknown figure style {style!r}")


def source(f: Figures, name: str) -> Mapping[str, Any]:
    return f["sources"][name]  # type: ignore[no-any-return]


def rows(f: Figures, name: str) -> dict[str, Row]:
    return dict(source(f, name).get("rows", {}))


def find(table: Mapping[str, Row], **match: Any) -> Row | None:
    """The first row whose fields equal `match`."""
    return next((r for r in table.values() if all(r.get(k) == v for k, v in match.items())), None)


def every(table: Mapping[str, Row], **match: Any) -> list[Row]:
    return [r for r in table.values() if all(r.get(k) == v for k, v in match.items())]


def label(row: Row) -> str:
    return f"{row['model']} · {row['client']}"


def faster(a: Row | None, b: Row | None, table: Mapping[str, Row]) -> bool:
    """Whether the run decided A faster than B (the ranking's decision, kept by the reducer)."""
    if a is None or b is None:
        return False
    key = next(k for k, v in table.items() if v is b)
    return key in a.get("faster_than", [])


def and_list(items: Iterable[str]) -> str:
    got = list(items)
    if len(got) <= 1:
        return "".join(got)
    return ", ".join(got[:-1]) + " and " + got[-1]


def span(values: Iterable[float | None], style: str, sep: str = "-") -> str:
    """'a-b' of the smallest and largest, or one figure when they print alike."""
    got = sorted(v for v in values if v is not None)
    if not got:
        return "-"
    lo, hi = fmt(got[0], style), fmt(got[-1], style)
    return lo if lo == hi else f"{lo}{sep}{hi}"


def target(value: float | None, goal: float, style: str, above: bool = True) -> str:
    """'target 1.5x' with whether it was met: the scripts' own exit code says the same."""
    met = value is not None and (value >= goal if above else value <= goal)
    return f"target {fmt(goal, style)}{'' if met else ', missed'}"


def rate(row: Row) -> str:
    value = rate_of(row)
    return fmt(value, "int") if value >= 100 else fmt(value, "f1")


def size(row: Row) -> str:
    return spaced(size_label(int(row["file_size"])))


def table(
    header: Sequence[str], body: Sequence[Sequence[str]], left: int, flags: bool = False
) -> str:
    """A fixed-width table as the terminal prints one: the first `left` columns flush left, and
    the last one too when it holds the flags."""
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = []
    for r in [header, *body]:
        last = len(r) - 1 if flags else -1
        cells = [
            c.ljust(w) if i < left or i == last else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def ranked(table_rows: Iterable[Row]) -> list[Row]:
    """Decided rank first, then fastest, as the terminal table orders them."""
    got = list(table_rows)
    last = len(got) + 1
    return sorted(
        got, key=lambda r: (r.get("rank") or last, -(r.get("mb_per_s") or r["ops_per_s"]))
    )


def wrap(text: str, width: int = 99) -> str:
    """Prose wrapped as the README wraps it."""
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


def wrap_item(line: str) -> str:
    """A list item wrapped with its continuation lines indented, as the README writes them."""
    indent = "  " if line.startswith("- ") else ""
    return (
        textwrap.fill(
            line.rstrip("\n"),
            width=99,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        + "\n"
    )


def plural(n: int, word: str) -> str:
    """'1 round', '3 rounds'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def spaced(size: str) -> str:
    """'16KiB' as the README writes it: '16 KiB'."""
    return re.sub(r"(\d)([KMG]i?B)\b", r"\1 \2", size)
