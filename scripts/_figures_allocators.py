"""The allocator's section of docs/results/network.md and its row in the scripts' table, from
`scripts/compare_allocators.py`: each row under glibc's default and under no-mmap, decided, and
on the 3.13 twins, pymalloc against mimalloc beside the free-threaded build."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from scripts._figures_reduce import REDUCERS, io_figures
from scripts._figures_text import Figures, and_list, fmt, source, table, wrap

PAIR_FIELDS = (
    "cell", "a", "b", "a_ops_per_s", "b_ops_per_s", "ratio", "interval", "verdict",
    "a_faults_per_op", "b_faults_per_op", "a_flags", "b_flags",
)  # fmt: skip


def _pairs(found: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: p.get(k) for k in PAIR_FIELDS} for p in found]


def allocators_figures(doc: Mapping[str, Any]) -> dict[str, Any]:
    twins = doc.get("twins")
    return {
        **io_figures(doc),
        "pairs": _pairs(doc["pairs"]),
        "twins": None
        if not twins
        else {"pairs": _pairs(twins["pairs"]), "pythons": list(twins["pythons"])},
    }


REDUCERS["compare_allocators"] = allocators_figures


def _moved(pairs: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The pairs decided faster under the allocator that does not churn, and the others' cells."""
    moved = [p for p in pairs if p["verdict"] == "faster"]
    still = [p["cell"] for p in pairs if p["verdict"] != "faster"]
    return moved, still


def allocators(f: Figures) -> str:
    s = source(f, "compare_allocators")
    pairs = s["pairs"]
    clients = s["settings"]["clients"]
    lines = [
        [
            p["cell"],
            fmt(p["a_ops_per_s"], "int"),
            fmt(p["b_ops_per_s"], "int"),
            fmt(p["ratio"], "x"),
            p["verdict"],
            f"{fmt(p['a_faults_per_op'], 'f2')} → {fmt(p['b_faults_per_op'], 'f2')}",
        ]
        for p in pairs
    ]
    moved, still = _moved(pairs)
    faulted = [p for p in pairs if (p["a_faults_per_op"] or 0) >= 1]
    text = (
        f"What `python -m scripts.compare_allocators` measured here ({clients} clients, "
        f"{s['settings']['repeat']} rounds of each cell, interleaved): every network row of "
        "the default run, and `raw-buffered`, under glibc's default allocator and under "
        "`--allocator no-mmap`. "
        + (
            f"The allocator, not the model, accounts for {and_list(_gain(p) for p in moved)}: "
            f"{len(moved)} of {len(pairs)} rows decided faster without the churn"
            if moved
            else f"No row of {len(pairs)} was decided faster without the churn"
        )
        + f", and {len(faulted)} paid a page fault or more an operation under the default "
        f"({and_list(p['cell'] for p in faulted) or 'none'}). The other rows "
        f"({and_list(still) or 'none'}) were not decided faster."
    )
    out = (
        "\n"
        + wrap(text)
        + "\n\n"
        + table(
            ["row", "default ops/s", "no-mmap ops/s", "no-mmap / default", "decided", "faults/op"],
            lines,
            1,
        )
    )
    twins = s.get("twins")
    if twins:
        out += "\n" + wrap(_twins(twins["pairs"], twins["pythons"])) + "\n"
    return out


def _gain(p: Mapping[str, Any]) -> str:
    return f"{fmt(p['ratio'], 'x')} on {p['cell']}"


def _twins(pairs: Sequence[Mapping[str, Any]], pythons: Sequence[str]) -> str:
    """The free-threaded build's gain over its GIL twin, and what is left of it once the twin
    allocates with mimalloc too: the share of the gain the allocator explains."""
    parts = []
    for cell in dict.fromkeys(p["cell"] for p in pairs):
        mine = [p for p in pairs if p["cell"] == cell]
        alloc = next((p for p in mine if "t GIL" not in p["b"]), None)
        over_py = next((p for p in mine if "t GIL" in p["b"] and p["a"].endswith("pymalloc")), None)
        over_mi = next((p for p in mine if "t GIL" in p["b"] and p["a"].endswith("mimalloc")), None)
        if not (alloc and over_py and over_mi):
            continue
        part = (
            f"{cell}: mimalloc on the GIL build {fmt(alloc['ratio'], 'x')} pymalloc "
            f"({alloc['verdict']}); the free-threaded build {fmt(over_py['ratio'], 'x')} its "
            f"twin under pymalloc ({over_py['verdict']}), {fmt(over_mi['ratio'], 'x')} under "
            f"mimalloc ({over_mi['verdict']})"
        )
        total, left = over_py["ratio"], over_mi["ratio"]
        if total and left and total > 1 and over_py["verdict"] == "faster":
            if left <= 1:
                part += ": once both allocate alike nothing of that gain is left"
            else:  # on a log scale, so that a gain and its inverse weigh alike
                explained = 1 - math.log(left) / math.log(total)
                part += f": the allocator explains {fmt(explained, 'pct0')} of that gain"
        parts.append(part)
    if not parts:
        return f"On {and_list(pythons)}, no cell ran under every variant."
    return (
        f"On {and_list(pythons)} (100 clients, raw client, each pair decided from its rounds): "
        + "; ".join(parts)
        + "."
    )


def allocators_row(f: Figures) -> str:
    s = source(f, "compare_allocators")
    moved, _ = _moved(s["pairs"])
    return f"{len(s['pairs'])} rows under glibc's default and no-mmap: " + (
        and_list(_gain(p) for p in moved) + " decided faster" if moved else "none moved"
    )
