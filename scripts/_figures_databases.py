"""The README's databases section and its row in the scripts' table, from compare_databases.py's
figures: the best event-loop row against the best threads row, per workload and scenario."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scripts._figures_text import Figures, and_list, fmt, rows, source, span, wrap


def _versus(f: Figures) -> Mapping[str, Mapping[str, Any]]:
    return source(f, "compare_databases")["loop_vs_threads"]  # type: ignore[no-any-return]


def databases(f: Figures) -> str:
    s, t = source(f, "compare_databases"), rows(f, "compare_databases")
    st = s["settings"]
    servers = and_list(f"{v}" for v in s["servers"].values() if v)
    head = wrap(
        f"What `python -m scripts.compare_databases` measured here ({st['clients']} clients, "
        f"{st['repeat']} rounds of each cell; {servers}, each pinned to the server's core): per "
        "workload and scenario, the fastest row on an event loop against the fastest on threads, "
        "with the ranking's decision between the two."
    )
    lines = [
        "| workload · scenario | event loop | ops/s | threads | ops/s | ratio | decided |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, v in _versus(f).items():
        loop, threads = t[v["loop"]], t[v["threads"]]
        lines.append(
            f"| {key} | {loop['model']} · {loop['client']} | {fmt(loop['ops_per_s'], 'int')} | "
            f"{threads['client']} | {fmt(threads['ops_per_s'], 'int')} | {fmt(v['ratio'], 'x')} "
            f"| {v['decided']} |"
        )
    bound = [r for r in t.values() if r.get("bound_share") is not None]
    tail = []
    if bound:
        server = [r for r in bound if "server-bound" in r["flags"]]
        tail.append(
            f"With 1 ms each way the rows reached {span([r['bound_share'] for r in bound], 'share')}"
            f" of their Little's-law bound N / (round trips x 2 ms); {len(server)} of "
            f"{len(bound)} were `server-bound`. The fastest row of each workload, its share, and "
            f"why it fell short where it did: {_best_of_each(bound)}."
        )
    ratios = [v["ratio"] for v in _versus(f).values() if v["ratio"]]
    if ratios:
        tail.append(
            f"asyncpg's README speaks of 5x: here the fastest event-loop row was "
            f"{span(ratios, 'x')} the fastest threads row."
        )
    return "\n" + head + "\n\n" + "\n".join(lines) + "\n\n" + wrap(" ".join(tail)) + "\n"


def _best_of_each(rows: list[Mapping[str, Any]]) -> str:
    """Per workload, the fastest row's share of its bound and, below 0.9, the flags that say why
    (or that none does)."""
    parts = []
    for workload in dict.fromkeys(r["workload"] for r in rows):
        top = max((r for r in rows if r["workload"] == workload), key=lambda r: r["ops_per_s"])
        why = ", ".join(f"`{x}`" for x in top["flags"] if x in ("server-bound", "client-bound"))
        reason = "" if top["bound_share"] >= 0.9 else f" ({why or 'no flag says why'})"
        parts.append(
            f"{workload} `{top['model']} · {top['client']}` "
            f"{fmt(top['bound_share'], 'share')}{reason}"
        )
    return "; ".join(parts)


def databases_row(f: Figures) -> str:
    v = _versus(f)
    decided = [k for k, x in v.items() if x["decided"] == "faster"]
    return (
        f"the fastest event-loop row over the fastest threads row: "
        f"{span([x['ratio'] for x in v.values()], 'x')}; decided faster in {len(decided)} "
        f"of {len(v)} workload · scenario pairs"
    )
