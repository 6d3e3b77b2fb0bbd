"""The README's databases section and its row in the scripts' table, from compare_databases.py's
figures: its declared pairs, Holm-corrected, with both rows' flags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scripts._figures_text import Figures, and_list, fmt, rows, source, span, wrap

# The flags that say, from the run's own measurements, why a row fell short of its bound.
SHORTFALL_FLAGS = ("server-bound", "client-bound", "timer-late")


def _pairs(f: Figures) -> list[Mapping[str, Any]]:
    return source(f, "compare_databases")["pairs"]  # type: ignore[no-any-return]


def databases(f: Figures) -> str:
    s, t = source(f, "compare_databases"), rows(f, "compare_databases")
    st = s["settings"]
    servers = and_list(f"{v}" for v in s["servers"].values() if v)
    pairs = _pairs(f)
    head = wrap(
        f"What `python -m scripts.compare_databases` measured here ({st['clients']} clients, "
        f"{st['repeat']} rounds of each cell; {servers}, each pinned to the server's core): the "
        f"pairs the script declares before it runs, in every workload and scenario, "
        f"{len(pairs)} in all, each decided under Holm's correction for that many (the interval "
        "is drawn at the level its step of the procedure tested), and none decided where either "
        "row was `server-bound` or its delay proxy `timer-late`. Flags are each row's."
    )
    lines = [
        "| pair | workload · scenario | A ops/s | B ops/s | A/B | interval | decided | flags |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in pairs:
        a, b = t.get(v["a"] or ""), t.get(v["b"] or "")
        lo_hi = v["interval"]
        interval = "-" if lo_hi is None else f"{fmt(lo_hi[0], 'x')}–{fmt(lo_hi[1], 'x')}"
        flags = "; ".join(
            f"{side}: {', '.join(r['flags'])}"
            for side, r in (("A", a), ("B", b))
            if r and r["flags"]
        )
        lines.append(
            f"| {v['pair']} | {v['where']} | {_rate(a)} | {_rate(b)} | "
            f"{fmt(v['ratio'], 'x') if v['ratio'] else '-'} | {interval} | {v['decided']} | "
            f"{flags or '-'} |"
        )
    bound = [r for r in t.values() if r.get("bound_share") is not None]
    tail = []
    if bound:
        server = [r for r in bound if "server-bound" in r["flags"]]
        late = [r for r in bound if "timer-late" in r["flags"]]
        tail.append(
            f"With 1 ms each way the rows reached {span([r['bound_share'] for r in bound], 'share')}"
            f" of their Little's-law bound N / (round trips x 2 ms); {len(server)} of "
            f"{len(bound)} were `server-bound` and {len(late)} `timer-late`. The fastest row of "
            f"each workload, its share, and the flags it carried where it fell short: "
            f"{_best_of_each(bound)}."
        )
    return "\n" + head + "\n\n" + "\n".join(lines) + "\n\n" + wrap(" ".join(tail)) + "\n"


def _rate(row: Mapping[str, Any] | None) -> str:
    return "-" if row is None else fmt(row["ops_per_s"], "int")


def _best_of_each(rows: list[Mapping[str, Any]]) -> str:
    """Per workload, the fastest row's share of its bound and, below 0.9, the flags that say why
    (or that none does)."""
    parts = []
    for workload in dict.fromkeys(r["workload"] for r in rows):
        top = max((r for r in rows if r["workload"] == workload), key=lambda r: r["ops_per_s"])
        why = ", ".join(f"`{x}`" for x in top["flags"] if x in SHORTFALL_FLAGS)
        reason = "" if top["bound_share"] >= 0.9 else f" ({why or 'no flag says why'})"
        parts.append(
            f"{workload} `{top['model']} · {top['client']}` "
            f"{fmt(top['bound_share'], 'share')}{reason}"
        )
    return "; ".join(parts)


def databases_row(f: Figures) -> str:
    pairs = _pairs(f)
    said = [p["decided"] for p in pairs]
    bound = sum(1 for x in said if x.startswith("no verdict"))
    return (
        f"{len(pairs)} declared pairs, Holm-corrected: {said.count('faster')} decided faster, "
        f"{said.count('slower')} slower, {said.count('not told apart')} not told apart, "
        f"{bound} given no verdict (server-bound or the proxy late)"
    )
