"""The README's databases section and its row in the scripts' table, from compare_databases.py's
figures: the best event-loop row against the best threads row, per workload and scenario."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _figures_render import Figures, fmt
from _figures_text import and_list, rows, source, span, wrap


def _versus(f: Figures) -> Mapping[str, Mapping[str, Any]]:
    return source(f, "compare_databases")["loop_vs_threads"]  # type: ignore[no-any-return]


def databases(f: Figures) -> str:
    s, t = source(f, "compare_databases"), rows(f, "compare_databases")
    st = s["settings"]
    servers = and_list(f"{v}" for v in s["servers"].values() if v)
    head = wrap(
        f"What `python scripts/compare_databases.py` measured here ({st['clients']} clients, "
        f"{st['repeat']} rounds of each cell; {servers}, each pinned to the server's core): per "
        "workload and scenario, the fastest row on an event loop against the fastest on threads, "
        "with the ranking's decision between the two."
    )
    lines = ["| workload · scenario | event loop | ops/s | threads | ops/s | ratio | decided |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
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
        top = max(bound, key=lambda r: r["bound_share"])
        server = [r for r in bound if "server-bound" in r["flags"]]
        tail.append(
            f"With 1 ms each way the rows reached {span([r['bound_share'] for r in bound], 'share')}"
            f" of their Little's-law bound N / (round trips x 2 ms), the best "
            f"`{top['model']} · {top['client']} · {top['workload']}` at "
            f"{fmt(top['bound_share'], 'share')}; {len(server)} of them were `server-bound`."
        )
    ratios = [v["ratio"] for v in _versus(f).values() if v["ratio"]]
    if ratios:
        tail.append(
            f"asyncpg's README speaks of 5x: here the fastest event-loop row was "
            f"{span(ratios, 'x')} the fastest threads row."
        )
    return "\n" + head + "\n\n" + "\n".join(lines) + "\n\n" + wrap(" ".join(tail)) + "\n"


def databases_row(f: Figures) -> str:
    v = _versus(f)
    decided = [k for k, x in v.items() if x["decided"] == "faster"]
    return (f"the fastest event-loop row over the fastest threads row: "
            f"{span([x['ratio'] for x in v.values()], 'x')}; decided faster in {len(decided)} "
            f"of {len(v)} workload · scenario pairs")  # fmt: skip
